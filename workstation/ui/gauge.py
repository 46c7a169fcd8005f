"""Margin usage gauge: a bar over calm / amber / red bands with the current usage filled in."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from workstation.ui.formatting import USAGE_AMBER, USAGE_RED, usage_level
from workstation.ui.theme import LIGHT, Theme

SCALE_MAX = 1.0  # the bar spans 0 .. 100 % (liquidation); beyond is drawn full


class UsageGauge(QWidget):
    """Maintenance margin / equity as a horizontal bar; ticks at 50 %, 80 % and 100 %."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._usage: float | None = None
        self._past = False
        self._theme: Theme = LIGHT
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Margin usage = maintenance margin / equity; liquidation at 100 %")

    def sizeHint(self) -> QSize:
        return QSize(180, 30)

    def minimumSizeHint(self) -> QSize:
        return QSize(100, 30)

    def usage(self) -> float | None:
        return self._usage

    def past(self) -> bool:
        return self._past

    def set_usage(self, usage: float | None, past: bool = False) -> None:
        """`past`: equity at or below maintenance margin (the engine gives no usage when equity
        is gone); the bar is drawn full and red."""
        self._usage = usage
        self._past = past
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        t = self._theme
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width() - 2
        track = QRectF(1, 2, w, 10)
        # band tints
        bands = ((0.0, USAGE_AMBER, t.calm), (USAGE_AMBER, USAGE_RED, t.amber), (USAGE_RED, 1.0, t.red))
        p.setPen(Qt.PenStyle.NoPen)
        for lo, hi, colour in bands:
            c = QColor(colour)
            c.setAlpha(45)
            p.setBrush(c)
            p.drawRect(QRectF(track.x() + lo * w, track.y(), (hi - lo) * w, track.height()))
        usage = self._usage
        if self._past:
            p.setBrush(QColor(t.red))
            p.drawRoundedRect(track, 2, 2)
        elif usage is not None:
            frac = 1.0 if usage < 0 else max(0.0, min(usage, SCALE_MAX)) / SCALE_MAX
            p.setBrush(t.level(usage_level(usage)))
            p.drawRoundedRect(QRectF(track.x(), track.y(), frac * w, track.height()), 2, 2)
        # ticks, labelled when there is room for them
        p.setPen(QColor(t.muted))
        font = p.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.75))
        p.setFont(font)
        room = w >= 260
        for mark in (USAGE_AMBER, USAGE_RED, 1.0):
            x = track.x() + mark * w
            p.drawLine(int(x), int(track.bottom()), int(x), int(track.bottom()) + 3)
            if room or mark != 1.0:
                label = f"{mark:.0%}".replace("%", " %")
                if mark == 1.0:
                    rect, align = QRectF(x - 60, track.bottom() + 3, 60, 14), Qt.AlignmentFlag.AlignRight
                else:
                    rect, align = QRectF(x - 30, track.bottom() + 3, 60, 14), Qt.AlignmentFlag.AlignHCenter
                p.drawText(rect, int(align | Qt.AlignmentFlag.AlignTop), label)
        p.end()
