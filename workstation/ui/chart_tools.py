"""Reusable chart pieces (pyqtgraph): `ThemedPlot` (theme, number format, a home view to reset
to, a read-out per chart), a frame whose header holds the title, the legend and a reset-view
button outside the plot area, and a crosshair that reads values out on hover. The What-if risk
chart's series-based helpers (`Series`, `LegendBar`, `Crosshair`, `reset_button`) follow: same
roles, kept for that chart (written in parallel); new charts use the frame.

    frame = ChartFrame(plot, "Title")
    frame.set_legend([LegendEntry("equity", "#3b6fc4"), LegendEntry("MM", "#c62828", dashed=True)])
    HoverCrosshair(plot, lambda x, y: frame.show_readout(f"at {x:,.0f}", {...}), frame.clear_readout)
    frame.reset_requested.connect(plot.reset_view)

The legend doubles as the read-out: on hover each entry shows its curve's value at the cursor,
so nothing is ever drawn over the curves. Imported lazily (it imports pyqtgraph).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from workstation.ui.formatting import NumberFormat
from workstation.ui.theme import LIGHT, Theme

pg.setConfigOptions(antialias=True, foreground=LIGHT.text, background=LIGHT.base)


def color(hex_colour: str, alpha: int = 255) -> QColor:
    c = QColor(hex_colour)
    c.setAlpha(alpha)
    return c


class ThemedPlot(pg.PlotWidget):
    """A PlotWidget that follows the app theme and number format, with a home view to reset to."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent, enableMenu=False)  # no context menus: not built at all (faster)
        self.theme: Theme = LIGHT
        self.fmt = NumberFormat()
        self.home: tuple[tuple[float, float], tuple[float, float]] | None = None  # x and y ranges
        self.plotItem.hideButtons()
        self.plotItem.showGrid(x=True, y=True, alpha=0.12)
        self.setMinimumSize(180, 110)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.base)
        for name in ("left", "bottom", "right", "top"):
            axis = self.plotItem.getAxis(name)
            axis.setPen(pg.mkPen(theme.border))
            axis.setTextPen(pg.mkPen(theme.muted))
        self.restyle()

    def set_number_format(self, fmt: NumberFormat) -> None:
        self.fmt = fmt

    def set_home(self, x: tuple[float, float], y: tuple[float, float]) -> None:
        """The view `reset_view` returns to, shown now."""
        self.home = (x, y)
        self.reset_view()

    def reset_view(self) -> None:
        if self.home is not None:
            (x0, x1), (y0, y1) = self.home
            self.plotItem.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def is_home(self, rel: float = 1e-6) -> bool:
        """Whether the view shows the home ranges (not zoomed or panned away)."""
        if self.home is None:
            return True
        (vx0, vx1), (vy0, vy1) = self.plotItem.vb.viewRange()
        (x0, x1), (y0, y1) = self.home
        span = max(abs(x1 - x0), 1e-300), max(abs(y1 - y0), 1e-300)
        return (abs(vx0 - x0) <= rel * span[0] and abs(vx1 - x1) <= rel * span[0]
                and abs(vy0 - y0) <= rel * span[1] and abs(vy1 - y1) <= rel * span[1])

    def legend_entries(self) -> list[LegendEntry]:
        return []

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        """What the header shows with the cursor at (x, y): a heading and a value per series."""
        return "", {}

    def restyle(self) -> None:
        """Re-apply theme colours to the chart's own items."""


@dataclass(frozen=True)
class LegendEntry:
    """One series in a legend: name, colour, and whether its line is dashed (or a bar/area)."""

    name: str
    colour: str
    dashed: bool = False
    shape: str = "line"  # "line", "box"


def _sample(entry: LegendEntry) -> str:
    """An HTML swatch of the series' line style."""
    colour = html.escape(entry.colour)
    if entry.shape == "box":
        return f'<span style="color:{colour}">&#9632;</span>'
    glyph = "&#9472;&nbsp;&#9472;" if entry.dashed else "&#9472;&#9472;&#9472;"
    return f'<span style="color:{colour}; font-weight:700">{glyph}</span>'


class ChartFrame(QWidget):
    """`plot` under a one-line header: title, legend (values on hover) and a reset-view button."""

    reset_requested = Signal()

    def __init__(self, plot: pg.PlotWidget, title: str = "", resettable: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = plot
        self._theme: Theme = LIGHT
        self._entries: list[LegendEntry] = []
        self._values: dict[str, str] = {}
        self._at = ""
        self._caption = ""
        self.title = QLabel(title)
        self.title.setObjectName("chartTitle")
        self.legend = QLabel("")
        self.legend.setObjectName("chartLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.reset_button = QToolButton()
        self.reset_button.setObjectName("chartReset")
        self.reset_button.setText("Reset view")
        self.reset_button.setToolTip("Show the whole chart again (or double-click the chart)")
        self.reset_button.setAutoRaise(True)
        self.reset_button.clicked.connect(self.reset_requested)
        self.reset_button.setVisible(resettable)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 0, 0)
        bar.setSpacing(8)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        self.legend.setContentsMargins(4, 0, 0, 2)
        layout.addWidget(self.legend)
        layout.addWidget(plot, 1)
        if resettable:
            plot.scene().sigMouseClicked.connect(self._on_click)

    def set_title(self, text: str) -> None:
        self.title.setText(text)
        self.title.setToolTip(text)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._render()

    def set_legend(self, entries: Sequence[LegendEntry]) -> None:
        self._entries = list(entries)
        self._render()

    def show_readout(self, at: str, values: dict[str, str]) -> None:
        """On hover: `at` (e.g. the price under the cursor) and each series' value there."""
        self._at, self._values = at, dict(values)
        self._render()

    def clear_readout(self) -> None:
        self._at, self._values = "", {}
        self._render()

    def set_caption(self, text: str) -> None:
        """A line of context shown after the legend while the cursor is not over the chart."""
        self._caption = text
        self._render()

    def legend_text(self) -> str:
        """The legend as plain text (tests, accessibility)."""
        parts = [f"{e.name} {self._values[e.name]}" if e.name in self._values else e.name for e in self._entries]
        known = {e.name for e in self._entries}
        parts += [f"{k} {v}" for k, v in self._values.items() if k not in known]
        head = [self._at] if self._at else []
        tail = [self._caption] if self._caption and not self._at else []
        return " · ".join(head + parts + tail)

    def _render(self) -> None:
        t = self._theme
        parts = []
        if self._at:
            parts.append(f'<span style="color:{t.text}; font-weight:600">{html.escape(self._at)}</span>')
        for e in self._entries:  # while hovering, the swatch alone names the series: values fit
            value = self._values.get(e.name)
            text = (f'<b style="color:{t.text}">{html.escape(value)}</b>' if value
                    else f'<span style="color:{t.muted}">{html.escape(e.name)}</span>')
            if self._values and not value:
                continue
            parts.append(f"{_sample(e)}&nbsp;{text}")
        known = {e.name for e in self._entries}
        for name, value in self._values.items():
            if name not in known:
                parts.append(f'<span style="color:{t.muted}">{html.escape(name)}</span> '
                             f'<b style="color:{t.text}">{html.escape(value)}</b>')
        if self._caption and not self._at:
            parts.append(f'<span style="color:{t.muted}">{html.escape(self._caption)}</span>')
        self.legend.setText("&nbsp;&nbsp; ".join(parts))
        self.legend.setToolTip(self.legend_text())

    def _on_click(self, event) -> None:
        if event.double() and event.button() == Qt.MouseButton.LeftButton:
            self.reset_requested.emit()


class HoverCrosshair(QObject):
    """Vertical and horizontal lines that follow the mouse over `plot`; calls `on_move(x, y)` in
    data coordinates while the cursor is over the plot area and `on_leave()` when it leaves."""

    def __init__(self, plot: pg.PlotWidget, on_move: Callable[[float, float], None],
                 on_leave: Callable[[], None], horizontal: bool = True) -> None:
        super().__init__(plot)
        self.plot = plot
        self.on_move = on_move
        self.on_leave = on_leave
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
        self._horizontal = horizontal
        for line in (self.vline, self.hline):
            plot.addItem(line, ignoreBounds=True)
            line.hide()
        self.set_colour(LIGHT.muted)
        plot.scene().sigMouseMoved.connect(self._moved)
        plot.installEventFilter(self)

    def set_colour(self, colour: str) -> None:
        pen = pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine)
        self.vline.setPen(pen)
        self.hline.setPen(pen)

    def move_to(self, x: float, y: float) -> None:
        """Put the crosshair at data point (x, y), as the mouse does (tests use it)."""
        vb = self.plot.plotItem.vb
        self._moved(vb.mapViewToScene(QPointF(x, y)))

    def hide(self) -> None:
        self.vline.hide()
        self.hline.hide()
        self.on_leave()

    def _moved(self, pos: QPointF) -> None:
        vb = self.plot.plotItem.vb
        if not vb.sceneBoundingRect().contains(pos):
            self.hide()
            return
        point = vb.mapSceneToView(pos)
        x, y = float(point.x()), float(point.y())
        self.vline.setPos(x)
        self.hline.setPos(y)
        self.vline.show()
        self.hline.setVisible(self._horizontal)
        self.on_move(x, y)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.hide()
        return False


def value_at(x: np.ndarray, y: np.ndarray, at: float) -> float | None:
    """y interpolated at `at` on a curve sampled at increasing `x`; None outside it."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size == 0 or not (x[0] <= at <= x[-1]):
        return None
    value = float(np.interp(at, x, y))
    return value if np.isfinite(value) else None


def nearest_index(values: np.ndarray, at: float) -> int | None:
    """Index of the entry of `values` nearest to `at` (None when empty)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return None
    return int(np.argmin(np.abs(values - at)))


# -- series-based helpers (the What-if risk-profile chart) --------------------------------------
_DASH = {Qt.PenStyle.SolidLine: "━━", Qt.PenStyle.DashLine: "╍╍", Qt.PenStyle.DotLine: "┅┅"}


@dataclass
class Series:
    """One curve the legend and the read-out know: its name, colour, style and item."""

    name: str
    colour: str
    item: pg.PlotDataItem
    style: Qt.PenStyle = Qt.PenStyle.SolidLine


class LegendBar(QWidget):
    """A legend as a row of labels above the plot (never on the curves)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartLegend")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(4, 0, 4, 0)
        self.row.setSpacing(14)
        self.labels: list[QLabel] = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_series(self, series: list[Series], theme: Theme = LIGHT) -> None:
        while self.row.count():
            item = self.row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.labels = []
        for s in series:
            if not s.item.isVisible():
                continue
            label = QLabel(f"<span style='color:{s.colour}'>{_DASH.get(s.style, '━━')}</span> "
                           f"<span style='color:{theme.text}'>{s.name}</span>")
            label.setObjectName("legendEntry")
            self.row.addWidget(label)
            self.labels.append(label)
        self.row.addStretch(1)

    def texts(self) -> list[str]:
        return [label.text() for label in self.labels]


class Crosshair:
    """A vertical line following the mouse and a read-out of every visible series at that x
    (interpolated), written by `describe(x, values)` into `label`."""

    def __init__(self, plot: pg.PlotWidget, label: QLabel, describe: Callable[[float, dict[str, float]], str]):
        self.plot = plot
        self.label = label
        self.describe = describe
        self.series: list[Series] = []
        self.line = pg.InfiniteLine(angle=90, movable=False)
        self.line.hide()
        plot.addItem(self.line, ignoreBounds=True)
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=60, slot=self._moved)

    def set_theme(self, theme: Theme) -> None:
        self.line.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))

    def values_at(self, x: float) -> dict[str, float]:
        out = {}
        for s in self.series:
            if not s.item.isVisible():
                continue
            xs, ys = s.item.getData()
            if xs is None or len(xs) < 2:
                continue
            value = value_at(xs, ys, x)
            if value is not None:
                out[s.name] = value
        return out

    def show_at(self, x: float) -> None:
        self.line.setValue(x)
        self.line.show()
        self.label.setText(self.describe(x, self.values_at(x)))

    def _moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        vb = self.plot.plotItem.vb
        if not self.plot.plotItem.sceneBoundingRect().contains(pos):
            self.line.hide()
            return
        self.show_at(vb.mapSceneToView(pos).x())


def reset_button(plot: pg.PlotWidget, reset: Callable[[], None] | None = None) -> QPushButton:
    """A small "Reset view" button: `reset()` (default: auto-range) after any zoom or pan."""
    button = QPushButton("Reset view")
    button.setObjectName("resetView")
    button.setToolTip("Back to the whole curve after zooming (wheel) or panning (drag)")
    button.clicked.connect(reset or (lambda: plot.plotItem.enableAutoRange()))
    return button


__all__ = ["ChartFrame", "Crosshair", "HoverCrosshair", "LegendBar", "LegendEntry", "Series", "ThemedPlot", "color",
           "nearest_index", "reset_button", "value_at"]
