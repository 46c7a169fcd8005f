"""The one set of chart pieces (pyqtgraph) every chart uses: the main window's, the risk profile,
the What-if's suggestion curve and the Stress tab's.

- `ThemedPlot`: theme, number format, a home view to reset to (`set_home`, `reset_view`), and
  what the chart says at a point (`legend_entries`, `readout`).
- `ChartFrame`: the plot under a header that holds the title, controls, a reset-view button and
  the legend line, all outside the plot area. The legend doubles as the read-out: on hover each
  entry shows its curve's value at the cursor, so nothing is ever drawn over the curves.
- `HoverCrosshair`: lines that follow the mouse and report the point under it.

    class MyChart(ThemedPlot):  # legend_entries(), readout(x, y), restyle() say what it shows
        ...
    chart = MyChart()
    layout.addWidget(chart.framed("Title"))  # frame, crosshair, Reset view; follows set_theme
    chart.set_home((x0, x1), (y0, y1))  # after new data
    chart.refresh_legend()

Imported lazily (it imports pyqtgraph).
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
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from workstation.ui.formatting import NumberFormat
from workstation.ui.theme import LIGHT, Theme

pg.setConfigOptions(antialias=True, foreground=LIGHT.text, background=LIGHT.base)


def color(hex_colour: str, alpha: int = 255) -> QColor:
    c = QColor(hex_colour)
    c.setAlpha(alpha)
    return c


class ThemedPlot(pg.PlotWidget):
    """A PlotWidget that follows the app theme and number format, with a home view to reset to;
    `framed()` puts it in a `ChartFrame` with a crosshair reading `readout()` out on hover."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent, enableMenu=False)  # no context menus: not built at all (faster)
        self.theme: Theme = LIGHT
        self.fmt = NumberFormat()
        self.home: tuple[tuple[float, float], tuple[float, float]] | None = None  # x and y ranges
        self.plotItem.hideButtons()
        self.plotItem.showGrid(x=True, y=True, alpha=0.12)
        self.setMinimumSize(180, 110)
        self.frame: ChartFrame | None = None
        self.crosshair: HoverCrosshair | None = None

    def framed(self, title: str = "", resettable: bool = True, horizontal: bool = True) -> ChartFrame:
        """This plot in a `ChartFrame` (kept as `frame`): Reset view (and a double click) return to
        the home view, and a `crosshair` (a horizontal line too unless not `horizontal`) shows
        `readout()` in the legend while the cursor is over the plot."""
        frame = self.frame = ChartFrame(self, title, resettable)
        frame.reset_requested.connect(self.reset_view)
        self.crosshair = HoverCrosshair(self, lambda x, y: frame.show_readout(*self.readout(x, y)),
                                        frame.clear_readout, horizontal)
        return frame

    def refresh_legend(self) -> None:
        """Show `legend_entries()` in the frame's legend (after the data or the theme changed)."""
        if self.frame is not None:
            self.frame.set_legend(self.legend_entries())

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.base)
        for name in ("left", "bottom", "right", "top"):
            axis = self.plotItem.getAxis(name)
            axis.setPen(pg.mkPen(theme.border))
            axis.setTextPen(pg.mkPen(theme.muted))
        self.restyle()
        if self.frame is not None and self.crosshair is not None:
            self.frame.set_theme(theme)
            self.crosshair.set_colour(theme.muted)
            self.refresh_legend()

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
        """What the header shows with the cursor at (x, y): a heading and a value per series
        (nothing: the legend shows the names)."""
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


class LegendLine(QLabel):
    """The legend line of a `ChartFrame` (rich text); `texts()` gives its entries as plain text."""

    def __init__(self, frame: ChartFrame) -> None:
        super().__init__("")
        self._frame = frame

    def texts(self) -> list[str]:
        """One plain text per entry shown: its name, or its name and value while hovering."""
        return self._frame.legend_parts()


class ChartFrame(QWidget):
    """`plot` under a header: title, controls (`add_control`) and a reset-view button on one line,
    the legend (values on hover, a caption otherwise) on the next."""

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
        self.legend = LegendLine(self)
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
        self._bar = bar
        self._left = 0  # controls placed right after the title
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

    def add_control(self, widget: QWidget, after_title: bool = False) -> None:
        """Put `widget` in the header: before the reset button, or (`after_title`) right after the
        title, which then keeps its own width and the free space goes between the two groups."""
        if after_title:
            if self._left == 0:
                self.title.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
                self._bar.setStretchFactor(self.title, 0)
                self._bar.insertStretch(1, 1)
            self._left += 1
            self._bar.insertWidget(self._left, widget)
        else:
            self._bar.insertWidget(self._bar.indexOf(self.reset_button), widget)

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

    def legend_parts(self) -> list[str]:
        """The legend's entries as plain text: names, with their values while hovering."""
        parts = [f"{e.name} {self._values[e.name]}" if e.name in self._values else e.name for e in self._entries]
        known = {e.name for e in self._entries}
        return parts + [f"{k} {v}" for k, v in self._values.items() if k not in known]

    def legend_text(self) -> str:
        """The legend line as plain text (tests, accessibility)."""
        head = [self._at] if self._at else []
        tail = [self._caption] if self._caption and not self._at else []
        return " · ".join(head + self.legend_parts() + tail)

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

    def show_at(self, x: float) -> None:
        """Put the crosshair at x, halfway up the view."""
        (y0, y1) = self.plot.plotItem.vb.viewRange()[1]
        self.move_to(x, (y0 + y1) / 2.0)

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


def curve_values(curves: dict[str, pg.PlotDataItem], at: float) -> dict[str, float]:
    """Each visible curve's value at x = `at` (interpolated; curves that do not reach it are left
    out), by name."""
    out = {}
    for name, item in curves.items():
        if not item.isVisible():
            continue
        xs, ys = item.getData()
        if xs is None or len(xs) < 2:
            continue
        value = value_at(xs, ys, at)
        if value is not None:
            out[name] = value
    return out


def data_range(values: Sequence[np.ndarray], margin: float = 0.0) -> tuple[float, float] | None:
    """(lo, hi) of the finite values of every array, widened by `margin` of the span on each side;
    None when there is none."""
    finite = [v[np.isfinite(v)] for v in (np.asarray(a, dtype=float) for a in values) if v.size]
    finite = [v for v in finite if v.size]
    if not finite:
        return None
    lo = float(min(v.min() for v in finite))
    hi = float(max(v.max() for v in finite))
    span = (hi - lo) or max(abs(hi), 1.0)
    return lo - margin * span, hi + margin * span


__all__ = ["ChartFrame", "HoverCrosshair", "LegendEntry", "ThemedPlot", "color", "curve_values", "data_range",
           "nearest_index", "value_at"]
