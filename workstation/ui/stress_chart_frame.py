"""Chart pieces of the Stress tab with the API of the main window's `ui/chart_tools.py` (the
`mainwin` branch): `ChartFrame` (title, legend and read-out above the plot, reset-view button),
`LegendEntry`, `HoverCrosshair`, `ThemedPlot` (a home view to reset to).

Only the names the Stress charts use, with the same signatures, so that when `chart_tools` is
on `main` the charts switch by changing one import in `stress_charts.py` and this module goes.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from workstation.ui.charts import ThemedPlot as _BasePlot
from workstation.ui.theme import LIGHT, Theme


class ThemedPlot(_BasePlot):
    """The app's themed plot with a home view (`set_home`, `reset_view`) and a small minimum."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.home: tuple[tuple[float, float], tuple[float, float]] | None = None
        self.setMinimumSize(200, 110)

    def set_home(self, x: tuple[float, float], y: tuple[float, float]) -> None:
        self.home = (x, y)
        self.reset_view()

    def reset_view(self) -> None:
        if self.home is not None:
            (x0, x1), (y0, y1) = self.home
            self.plotItem.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)


@dataclass(frozen=True)
class LegendEntry:
    name: str
    colour: str
    dashed: bool = False
    shape: str = "line"  # "line" or "box"


def _swatch(entry: LegendEntry) -> str:
    colour = html.escape(entry.colour)
    if entry.shape == "box":
        return f'<span style="color:{colour}">&#9632;</span>'
    glyph = "&#9472;&nbsp;&#9472;" if entry.dashed else "&#9472;&#9472;&#9472;"
    return f'<span style="color:{colour}; font-weight:700">{glyph}</span>'


class ChartFrame(QWidget):
    """`plot` under a title line (with a reset-view button) and a legend line that shows each
    series' value while the cursor is over the plot: nothing is drawn over the curves."""

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
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend = QLabel("")
        self.legend.setObjectName("chartLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend.setContentsMargins(4, 0, 0, 2)
        self.reset_button = QToolButton()
        self.reset_button.setObjectName("chartReset")
        self.reset_button.setText("Reset view")
        self.reset_button.setToolTip("Show the whole chart again (or double-click the chart)")
        self.reset_button.setAutoRaise(True)
        self.reset_button.clicked.connect(self.reset_requested)
        self.reset_button.setVisible(resettable)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 0, 0)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
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
        self._at, self._values = at, dict(values)
        self._render()

    def clear_readout(self) -> None:
        self._at, self._values = "", {}
        self._render()

    def set_caption(self, text: str) -> None:
        self._caption = text
        self._render()

    def legend_text(self) -> str:
        """The legend line as plain text (tests, accessibility)."""
        parts = [f"{e.name} {self._values[e.name]}" if e.name in self._values else e.name for e in self._entries]
        parts += [f"{k} {v}" for k, v in self._values.items() if k not in {e.name for e in self._entries}]
        head = [self._at] if self._at else []
        tail = [self._caption] if self._caption and not self._at else []
        return " · ".join(head + parts + tail)

    def _render(self) -> None:
        t = self._theme
        parts = [f'<span style="color:{t.text}; font-weight:600">{html.escape(self._at)}</span>'] if self._at else []
        for e in self._entries:
            value = self._values.get(e.name)
            if self._values and not value:
                continue
            text = (f'<b style="color:{t.text}">{html.escape(value)}</b>' if value
                    else f'<span style="color:{t.muted}">{html.escape(e.name)}</span>')
            parts.append(f"{_swatch(e)}&nbsp;{text}")
        for name, value in self._values.items():
            if name not in {e.name for e in self._entries}:
                parts.append(f'<span style="color:{t.muted}">{html.escape(name)}</span> '
                             f'<b style="color:{t.text}">{html.escape(value)}</b>')
        if self._caption and not self._at:
            parts.append(f'<span style="color:{t.muted}">{html.escape(self._caption)}</span>')
        self.legend.setText("&nbsp;&nbsp; ".join(parts))
        self.legend.setToolTip(self.legend_text())

    def _on_click(self, event: Any) -> None:
        if event.double() and event.button() == Qt.MouseButton.LeftButton:
            self.reset_requested.emit()


class HoverCrosshair(QObject):
    """Dotted lines that follow the mouse over `plot`; `on_move(x, y)` in data coordinates
    while over the plot area, `on_leave()` when the cursor leaves it."""

    def __init__(self, plot: pg.PlotWidget, on_move: Callable[[float, float], None],
                 on_leave: Callable[[], None], horizontal: bool = True) -> None:
        super().__init__(plot)
        self.plot = plot
        self.on_move = on_move
        self.on_leave = on_leave
        self._horizontal = horizontal
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
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
        self._moved(self.plot.plotItem.vb.mapViewToScene(QPointF(x, y)))

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
