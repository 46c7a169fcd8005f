"""Charts (pyqtgraph): one PlotWidget subclass per chart, items kept and updated in place.

Nothing is written over the data: legends and hover read-outs live in the `ChartFrame` header
(`chart_tools.py`), the spot and liquidation markers are labelled on the top axis. Imported lazily
by the main window (pyqtgraph takes most of the start-up time).
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent

from workstation.ui.chart_tools import LegendEntry, ThemedPlot, color, nearest_index, value_at
from workstation.ui.theme import LIGHT

ROW_PX = 15  # vertical room per bar label in the component chart
__all__ = ["ComponentMarginChart", "PnlCurveChart", "ScenarioHeatmap"]


class ComponentMarginChart(ThemedPlot):
    """Horizontal bars of component margin per position, largest at the top.

    Hedges (negative components: they reduce the requirement) extend left, in the calm colour;
    collateral components are lighter so they read as the wallet, not a trade. Only as many bars
    as have room for a readable label are drawn (the largest by size); the rest are summed into
    one "others" bar. Kept as arrays: a 10,000-position book is a few numpy calls.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7)
        self.addItem(self.bars)
        self.zero = pg.InfiniteLine(0, angle=90, movable=False)
        self.addItem(self.zero, ignoreBounds=True)
        self.plotItem.showGrid(x=True, y=False, alpha=0.12)
        self.setMouseEnabled(x=False, y=False)
        self._labels = np.zeros(0, dtype=object)  # sorted by value, largest first
        self._values = np.zeros(0)
        self._collateral = np.zeros(0, dtype=bool)
        self._shown: list[tuple[str, float, bool]] = []
        self.plotItem.vb.sigResized.connect(lambda *_: self._resized())  # the plot area, laid out
        self.set_theme(LIGHT)

    def set_components(self, items: Any, unit: str = "") -> None:
        """`items`: (labels, values, is_collateral) arrays, or a list of (label, value,
        is_collateral) tuples; sorted largest first here."""
        if isinstance(items, tuple) and len(items) == 3 and isinstance(items[1], np.ndarray):
            labels, values, coll = items
        else:
            labels = np.array([it[0] for it in items], dtype=object)
            values = np.array([it[1] for it in items], dtype=float)
            coll = np.array([it[2] for it in items], dtype=bool)
        order = np.argsort(-np.asarray(values, dtype=float), kind="stable")
        self._labels = np.asarray(labels, dtype=object)[order]
        self._values = np.asarray(values, dtype=float)[order]
        self._collateral = np.asarray(coll, dtype=bool)[order]
        self._draw()
        self.plotItem.setLabel("bottom", "IM component", units=unit or None)

    def labels(self) -> list[str]:
        return [str(label) for label in self._labels]

    def values(self) -> np.ndarray:
        return self._values.copy()

    def shown(self) -> list[tuple[str, float, bool]]:
        """The bars drawn: the largest by size, then 'N others' when they do not all fit."""
        return list(self._shown)

    def capacity(self) -> int:
        """How many bars have room for a label at the current height."""
        height = self.plotItem.vb.height() or self.height() - 50
        return max(3, int(height // ROW_PX))

    def legend_entries(self) -> list[LegendEntry]:
        t = self.theme
        return [LegendEntry("adds margin", t.accent, shape="box"), LegendEntry("hedge", t.hedge, shape="box")]

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        n = len(self._shown)
        row = n - 1 - round(y)
        if not 0 <= row < n:
            return "", {}
        label, value, _c = self._shown[row]
        return f"{label}: {self.fmt.money(value, unit=True)}", {}

    def restyle(self) -> None:
        self.zero.setPen(pg.mkPen(self.theme.muted, width=1))
        self._draw()

    def _resized(self) -> None:
        """The plot area changed size: redraw when the number of bars that fit changed."""
        shown = self._shown
        if self._values.size and self.capacity() != len(shown) and (
                len(shown) < self._values.size or self.capacity() < len(shown)):
            self._draw()

    def _fit(self) -> list[tuple[str, float, bool]]:
        room, n = self.capacity(), self._values.size
        # the largest by size; sorted indices keep the order by value
        keep = np.arange(n) if n <= room else np.sort(np.argpartition(-np.abs(self._values), room - 2)[: room - 1])
        bars = [(str(self._labels[i]), float(self._values[i]), bool(self._collateral[i])) for i in keep]
        if n > room:
            rest = np.ones(n, dtype=bool)
            rest[keep] = False
            bars.append((f"{n - keep.size:,} others", float(self._values[rest].sum()), False))
        return bars

    def _draw(self) -> None:
        self._shown = self._fit()
        n = len(self._shown)
        values = np.array([v for _l, v, _c in self._shown], dtype=float)
        y = np.arange(n)[::-1].astype(float)
        brushes = []
        for _label, v, is_collateral in self._shown:
            colour = self.theme.hedge if v < 0 else self.theme.accent
            brushes.append(pg.mkBrush(color(colour, 120 if is_collateral else 220)))
        self.bars.setOpts(
            x0=np.minimum(values, 0.0), width=np.abs(values), y=y, height=0.68,
            brushes=brushes, pen=pg.mkPen(None), pens=None,
        )
        axis = self.plotItem.getAxis("left")
        axis.setTicks([[(float(yy), label) for yy, (label, _v, _c) in zip(y, self._shown, strict=True)], []])
        metrics = QFontMetrics(QFont())
        widest = max((metrics.horizontalAdvance(label) for label, _v, _c in self._shown), default=40)
        axis.setWidth(min(220, widest + 14))
        if n:
            lo, hi = float(min(values.min(), 0.0)), float(max(values.max(), 0.0))
            pad = 0.06 * ((hi - lo) or 1.0)
            self.set_home((lo - pad, hi + pad), (-0.6, n - 0.4))


class PnlCurveChart(ThemedPlot):
    """Scenario P&L, equity and maintenance margin against the underlying's price.

    The current price and the liquidation prices are InfiniteLines (ignoreBounds=True), labelled
    on the top axis; values under the cursor go to the frame's legend.
    """

    SERIES = ("equity", "maintenance margin", "P&L")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.equity = self.plot([], [])
        self.margin = self.plot([], [])
        self.pnl = self.plot([], [])
        self.spot = pg.InfiniteLine(angle=90, movable=False)
        self.liq_down = pg.InfiniteLine(angle=90, movable=False)
        self.liq_up = pg.InfiniteLine(angle=90, movable=False)
        for line in (self.spot, self.liq_down, self.liq_up):
            self.addItem(line, ignoreBounds=True)
            line.hide()
        self.plotItem.showAxis("top")
        self.top = self.plotItem.getAxis("top")
        self.top.setStyle(tickLength=4, tickTextOffset=3)
        self.top.setHeight(22)
        self.plotItem.getAxis("left").setWidth(60)
        self._curve: dict[str, np.ndarray] | None = None
        self._underlying = ""
        self._markers: list[tuple[float, str]] = []  # (price, label), liquidation first
        self.plotItem.vb.sigXRangeChanged.connect(lambda *_: self._place_markers())
        self.set_theme(LIGHT)

    def set_curve(
        self,
        curve: dict[str, Any] | None,
        underlying: str,
        spot: float | None,
        liquidation: dict[str, Any] | None,
        unit: str = "",
    ) -> None:
        """Draw `curve` (prices, pnl, equity, maintenance_margin) and mark spot / liquidation."""
        self._underlying = underlying
        if not curve:
            self._curve = None
            for item in (self.equity, self.margin, self.pnl):
                item.setData([], [])
            for line in (self.spot, self.liq_down, self.liq_up):
                line.hide()
            self._markers = []
            self.top.setTicks([[], []])
            return
        prices = np.asarray(curve["prices"], dtype=float)
        self._curve = {"prices": prices, **{k: np.asarray(curve[k], dtype=float)
                                            for k in ("equity", "maintenance_margin", "pnl")}}
        self.equity.setData(prices, self._curve["equity"])
        self.margin.setData(prices, self._curve["maintenance_margin"])
        self.pnl.setData(prices, self._curve["pnl"])
        f = self.fmt
        liq = liquidation or {}
        down, up = liq.get("down_price"), liq.get("up_price")
        self._markers = []
        for line, x, label in ((self.liq_down, down, f"liq {f.percent(liq.get('down_pct'), 0)}"),
                               (self.liq_up, up, f"liq {f.percent(liq.get('up_pct'), 0, signed=True)}"),
                               (self.spot, spot, "spot")):
            if x is None:
                line.hide()
                continue
            line.setValue(float(x))
            line.show()
            self._markers.append((float(x), label))
        self.plotItem.setLabel("bottom", f"{underlying} price", units=unit or None)
        self.plotItem.setLabel("left", "amount", units=unit or None)  # equity, margin and P&L alike
        ys = np.concatenate([self._curve[k] for k in ("equity", "maintenance_margin", "pnl")])
        ys = ys[np.isfinite(ys)]
        lo, hi = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
        span = (hi - lo) or max(abs(hi), 1.0)
        x_span = float(prices.max() - prices.min()) or 1.0
        self.set_home((float(prices.min()) - 0.02 * x_span, float(prices.max()) + 0.02 * x_span),
                      (lo - 0.06 * span, hi + 0.06 * span))
        self._place_markers()

    def _place_markers(self) -> None:
        """Label the markers on the top axis, liquidation first; a label that would overlap one
        already placed is dropped (the line stays), or joined to it when both mark one price."""
        (x0, x1), width = self.plotItem.vb.viewRange()[0], self.plotItem.vb.width() or 300.0
        scale = width / ((x1 - x0) or 1.0)
        metrics = QFontMetrics(self.top.style.get("tickFont") or QFont())
        placed: list[list] = []  # [x, label, left px, right px]
        for x, label in self._markers:
            half = metrics.horizontalAdvance(label) / 2 + 6
            px = (x - x0) * scale
            clash = next((p for p in placed if px - half < p[3] and px + half > p[2]), None)
            if clash is None:
                placed.append([x, label, px - half, px + half])
            elif abs(clash[0] - x) <= 1e-9 * max(abs(x), 1.0) and label not in clash[1].split(" = "):
                clash[1] = f"{clash[1]} = {label}"
        self.top.setTicks([[(x, label) for x, label, _l, _r in placed], []])

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        if getattr(self, "_markers", None):
            self._place_markers()

    def markers(self) -> dict[str, float]:
        """The marked prices by label (spot, liquidation), as on the top axis."""
        levels = self.top._tickLevels or [[]]
        return {label: x for x, label in levels[0]}

    def legend_entries(self) -> list[LegendEntry]:
        t = self.theme
        return [LegendEntry("equity", t.equity), LegendEntry("maintenance margin", t.margin, dashed=True),
                LegendEntry("P&L", t.pnl)]

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        c = self._curve
        if c is None:
            return "", {}
        values = {}
        for name, key in zip(self.SERIES, ("equity", "maintenance_margin", "pnl"), strict=True):
            v = value_at(c["prices"], c[key], x)
            if v is not None:
                values[name] = self.fmt.money(v)
        if not values:
            return "", {}
        return f"{self._underlying} {self.fmt.price(x)}", values

    def restyle(self) -> None:
        t = self.theme
        self.equity.setPen(pg.mkPen(t.equity, width=2))
        self.margin.setPen(pg.mkPen(t.margin, width=2, style=Qt.PenStyle.DashLine))
        self.pnl.setPen(pg.mkPen(t.pnl, width=1.5))
        self.spot.setPen(pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DashLine))
        for line in (self.liq_down, self.liq_up):
            line.setPen(pg.mkPen(t.red, width=1.5))


class ScenarioHeatmap(ThemedPlot):
    """Scenario P&L over spot move (x, %) and vol move (y): red losses, green gains."""

    def __init__(self, parent: Any = None, colour_bar: bool = True) -> None:
        """`colour_bar=False` leaves the colour bar to `add_colour_bar` (the staged build adds it
        in a turn of the event loop of its own: it is a second plot, half the chart's cost)."""
        super().__init__(parent)
        self.image = pg.ImageItem()
        self.addItem(self.image)
        self.bar: pg.ColorBarItem | None = None
        self._bar_suffix = ""
        self.message = pg.TextItem("", anchor=(0.5, 0.5))
        self.addItem(self.message, ignoreBounds=True)
        self.setMouseEnabled(x=False, y=False)
        self.plotItem.showGrid(x=False, y=False)
        self.plotItem.getAxis("left").setWidth(44)
        self._pnl: np.ndarray | None = None
        self._axes: tuple[np.ndarray, np.ndarray] | None = None
        self.worst = ""
        self.set_theme(LIGHT)
        if colour_bar:
            self.add_colour_bar()

    def add_colour_bar(self) -> None:
        """The colour bar beside the plot (once), styled by the current theme."""
        if self.bar is not None:
            return
        self.bar = pg.ColorBarItem(values=(-1, 1), interactive=False, width=12, colorMapMenu=False)
        self.bar.setImageItem(self.image, insert_in=self.plotItem)
        plain_ticks = self.bar.axis.tickStrings
        self.bar.axis.tickStrings = lambda values, scale, spacing: [  # "-20k": short enough to fit
            f"{text}{self._bar_suffix}" if text.strip("0.-−") else text
            for text in plain_ticks(values, scale, spacing)
        ]
        self.restyle()

    def set_heatmap(self, heatmap: dict[str, Any] | None, underlying: str, note: str = "") -> None:
        """Show `heatmap` (spot_moves, vol_moves, pnl[vol, spot]); `None` shows `note` instead."""
        self.add_colour_bar()  # a heatmap made without its bar (`colour_bar=False`) gets it now
        assert self.bar is not None
        if not heatmap:
            self._pnl = None
            self._axes = None
            self.worst = ""
            self.image.clear()
            self.image.hide()
            self.bar.setOpacity(0.0)  # hide() would drop it from the plot layout for good
            for axis in ("left", "bottom"):
                self.plotItem.hideAxis(axis)
            self.message.setText(note or "No scenario grid for this selection")
            self.message.setPos(0, 0)
            self.plotItem.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
            self.message.show()
            return
        spot = np.asarray(heatmap["spot_moves"], dtype=float)
        vol = np.asarray(heatmap["vol_moves"], dtype=float)
        pnl = np.asarray(heatmap["pnl"], dtype=float)
        self._pnl = pnl
        spot_pct = spot * 100.0 if np.nanmax(np.abs(spot)) <= 5 else spot
        vol_pct = vol * 100.0 if np.nanmax(np.abs(vol)) <= 5 else vol
        self._axes = (spot_pct, vol_pct)
        dx = _step(spot_pct)
        dy = _step(vol_pct)
        m = float(np.nanmax(np.abs(pnl))) or 1.0
        scale = 1000.0 if m >= 10_000 else 1.0  # colour-bar labels in thousands when large
        self._bar_suffix = "k" if scale > 1 else ""
        self.image.setImage(pnl.T / scale, autoLevels=False)  # image[x, y]: x = spot, y = vol
        self.image.setRect(QRectF(
            spot_pct[0] - dx / 2, vol_pct[0] - dy / 2, spot_pct[-1] - spot_pct[0] + dx,
            vol_pct[-1] - vol_pct[0] + dy,
        ))
        self.bar.setLevels((-m / scale, m / scale))
        self.image.show()
        self.bar.setOpacity(1.0)
        for axis in ("left", "bottom"):
            self.plotItem.showAxis(axis)
        self.message.hide()
        worst = np.unravel_index(int(np.nanargmin(pnl)), pnl.shape)
        self.worst = (
            f"worst {self.fmt.money(float(pnl[worst]), unit=True)} at spot "
            f"{self.fmt.percent(spot_pct[worst[1]], 0, signed=True)}, "
            f"vol {self.fmt.percent(vol_pct[worst[0]], 0, signed=True)}"
        )
        self.plotItem.setLabel("bottom", f"{underlying} spot move (%)")
        self.plotItem.setLabel("left", "vol move (%)")
        self.plotItem.autoRange(padding=0)

    def pnl(self) -> np.ndarray | None:
        return self._pnl

    def legend_entries(self) -> list[LegendEntry]:
        return []  # the colour bar says it

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        if self._pnl is None or self._axes is None:
            return "", {}
        spot_pct, vol_pct = self._axes
        i, j = nearest_index(vol_pct, y), nearest_index(spot_pct, x)
        if i is None or j is None:
            return "", {}
        f = self.fmt
        return (f"spot {f.percent(spot_pct[j], 0, signed=True)}, vol {f.percent(vol_pct[i], 0, signed=True)}",
                {"P&L": f.money(float(self._pnl[i, j]), unit=True)})

    def restyle(self) -> None:
        t = self.theme
        self.message.setColor(t.muted)
        if self.bar is None:
            return
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [color(t.red), color(t.base), color(t.calm)])
        self.bar.setColorMap(cmap)
        bar_axis = self.bar.axis  # the colour bar's scale follows the theme like the plot's axes
        bar_axis.setPen(pg.mkPen(t.border))
        bar_axis.setTextPen(pg.mkPen(t.muted))


def _step(values: np.ndarray) -> float:
    return float(np.min(np.diff(values))) if values.size > 1 else 1.0
