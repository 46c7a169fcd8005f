"""Charts (pyqtgraph): one PlotWidget subclass per chart, items kept and updated in place.

Imported lazily by the main window (pyqtgraph takes most of the start-up time).
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics

from workstation.ui.formatting import NumberFormat
from workstation.ui.theme import LIGHT, Theme

pg.setConfigOptions(antialias=True, foreground=LIGHT.text, background=LIGHT.base)


def _color(hex_colour: str, alpha: int = 255) -> QColor:
    c = QColor(hex_colour)
    c.setAlpha(alpha)
    return c


class ThemedPlot(pg.PlotWidget):
    """A PlotWidget that follows the app theme and number format."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.theme: Theme = LIGHT
        self.fmt = NumberFormat()
        self.setMenuEnabled(False)
        self.plotItem.hideButtons()
        self.plotItem.showGrid(x=True, y=True, alpha=0.12)
        self.setMinimumSize(260, 200)

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

    def set_title(self, text: str) -> None:
        self.plotItem.setTitle(text or None, color=self.theme.text, size="9pt")

    def restyle(self) -> None:
        """Re-apply theme colours to the chart's own items."""


class ComponentMarginChart(ThemedPlot):
    """Horizontal bars of component margin per position, largest at the top.

    Hedges (negative components: they reduce the requirement) extend left, in the calm colour;
    collateral components are drawn hatched-lighter so they read as the wallet, not a trade.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7)
        self.addItem(self.bars)
        self.zero = pg.InfiniteLine(0, angle=90, movable=False)
        self.addItem(self.zero, ignoreBounds=True)
        self.plotItem.showGrid(x=True, y=False, alpha=0.12)
        self.setMouseEnabled(x=False, y=False)
        self._items: list[tuple[str, float, bool]] = []
        self.set_theme(LIGHT)

    def set_components(self, items: list[tuple[str, float, bool]], unit: str = "") -> None:
        """`items`: (label, component margin, is_collateral); sorted largest first here."""
        self._items = sorted(items, key=lambda it: it[1], reverse=True)
        self._draw()
        self.plotItem.setLabel("bottom", "IM component", units=unit or None)

    def labels(self) -> list[str]:
        return [label for label, _v, _c in self._items]

    def values(self) -> np.ndarray:
        return np.array([v for _l, v, _c in self._items], dtype=float)

    def restyle(self) -> None:
        self.zero.setPen(pg.mkPen(self.theme.muted, width=1))
        self._draw()

    def _draw(self) -> None:
        n = len(self._items)
        values = self.values()
        y = np.arange(n)[::-1].astype(float)
        brushes = []
        for _label, v, is_collateral in self._items:
            colour = self.theme.hedge if v < 0 else self.theme.accent
            brushes.append(pg.mkBrush(_color(colour, 120 if is_collateral else 220)))
        self.bars.setOpts(
            x0=np.minimum(values, 0.0), width=np.abs(values), y=y, height=0.68,
            brushes=brushes, pen=pg.mkPen(None), pens=None,
        )
        axis = self.plotItem.getAxis("left")
        axis.setTicks([[(float(yy), label) for yy, (label, _v, _c) in zip(y, self._items, strict=True)], []])
        metrics = QFontMetrics(QFont())
        widest = max((metrics.horizontalAdvance(label) for label in self.labels()), default=40)
        axis.setWidth(min(260, widest + 14))
        if n:
            lo, hi = float(min(values.min(), 0.0)), float(max(values.max(), 0.0))
            pad = 0.06 * ((hi - lo) or 1.0)
            self.plotItem.setXRange(lo - pad, hi + pad, padding=0)
            self.plotItem.setYRange(-0.6, n - 0.4, padding=0)


class PnlCurveChart(ThemedPlot):
    """Scenario P&L, equity and maintenance margin against the underlying's price.

    The current price and the liquidation prices are InfiniteLines (ignoreBounds=True).
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.legend = self.plotItem.addLegend(offset=(6, 4), labelTextSize="8pt", colCount=3)
        self.equity = self.plot([], [], name="equity")
        self.margin = self.plot([], [], name="maintenance margin")
        self.pnl = self.plot([], [], name="P&L")
        self.spot = pg.InfiniteLine(angle=90, movable=False, label="", labelOpts={"position": 0.1})
        self.liq_down = pg.InfiniteLine(angle=90, movable=False, label="", labelOpts={"position": 0.6})
        self.liq_up = pg.InfiniteLine(angle=90, movable=False, label="", labelOpts={"position": 0.6})
        for line in (self.spot, self.liq_down, self.liq_up):
            self.addItem(line, ignoreBounds=True)
            line.hide()
        self.plotItem.getAxis("left").setWidth(64)
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
        if not curve:
            for item in (self.equity, self.margin, self.pnl):
                item.setData([], [])
            for line in (self.spot, self.liq_down, self.liq_up):
                line.hide()
            self.set_title("")
            return
        prices = np.asarray(curve["prices"], dtype=float)
        self.equity.setData(prices, np.asarray(curve["equity"], dtype=float))
        self.margin.setData(prices, np.asarray(curve["maintenance_margin"], dtype=float))
        self.pnl.setData(prices, np.asarray(curve["pnl"], dtype=float))
        f = self.fmt
        self._mark(self.spot, spot, f"spot {f.price(spot)}")
        liq = liquidation or {}
        down, up = liq.get("down_price"), liq.get("up_price")
        self._mark(self.liq_down, down, f"liq {f.percent(liq.get('down_pct'))}\n{f.price(down)}")
        self._mark(self.liq_up, up, f"liq {f.percent(liq.get('up_pct'), signed=True)}\n{f.price(up)}")
        self.plotItem.setLabel("bottom", f"{underlying} price", units=unit or None)
        self.plotItem.setLabel("left", "", units=unit or None)
        ys = np.concatenate([np.asarray(curve[k], dtype=float)
                             for k in ("equity", "maintenance_margin", "pnl")])
        ys = ys[np.isfinite(ys)]
        if ys.size:
            lo, hi = float(ys.min()), float(ys.max())
            span = (hi - lo) or max(abs(hi), 1.0)
            self.plotItem.setYRange(lo - 0.05 * span, hi + 0.22 * span, padding=0)  # room for legend
        self.plotItem.setXRange(float(prices.min()), float(prices.max()), padding=0.02)

    def _mark(self, line: pg.InfiniteLine, x: float | None, text: str) -> None:
        if x is None:
            line.hide()
            return
        line.show()  # first: a hidden line's label ignores new values and formats
        line.setValue(float(x))
        line.label.setFormat(text.replace("{", "{{").replace("}", "}}"))

    def restyle(self) -> None:
        t = self.theme
        self.equity.setPen(pg.mkPen(t.equity, width=2))
        self.margin.setPen(pg.mkPen(t.margin, width=2, style=Qt.PenStyle.DashLine))
        self.pnl.setPen(pg.mkPen(t.pnl, width=1.5))
        self.spot.setPen(pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DashLine))
        self.spot.label.setColor(t.muted)
        for line in (self.spot, self.liq_down, self.liq_up):
            line.label.fill = pg.mkBrush(_color(t.base, 215))
        for line in (self.liq_down, self.liq_up):
            line.setPen(pg.mkPen(t.red, width=1.5))
            line.label.setColor(t.red)
        self.legend.setLabelTextColor(t.text)
        self.legend.setBrush(pg.mkBrush(_color(t.base, 210)))
        self.legend.setPen(pg.mkPen(t.border))
        for _sample, label in self.legend.items:
            label.setText(label.text, color=t.text)


class ScenarioHeatmap(ThemedPlot):
    """Scenario P&L over spot move (x, %) and vol move (y): red losses, green gains."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.image = pg.ImageItem()
        self.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(-1, 1), interactive=False, width=14)
        self.bar.setImageItem(self.image, insert_in=self.plotItem)
        self._bar_suffix = ""
        plain_ticks = self.bar.axis.tickStrings
        self.bar.axis.tickStrings = lambda values, scale, spacing: [  # "-20k": short enough to fit
            f"{text}{self._bar_suffix}" if text.strip("0.-−") else text
            for text in plain_ticks(values, scale, spacing)
        ]
        self.message = pg.TextItem("", anchor=(0.5, 0.5))
        self.addItem(self.message, ignoreBounds=True)
        self.setMouseEnabled(x=False, y=False)
        self.plotItem.showGrid(x=False, y=False)
        self.plotItem.getAxis("left").setWidth(48)
        self._pnl: np.ndarray | None = None
        self.set_theme(LIGHT)

    def set_heatmap(self, heatmap: dict[str, Any] | None, underlying: str, note: str = "") -> None:
        """Show `heatmap` (spot_moves, vol_moves, pnl[vol, spot]); `None` shows `note` instead."""
        if not heatmap:
            self._pnl = None
            self.image.clear()
            self.image.hide()
            self.bar.setOpacity(0.0)  # hide() would drop it from the plot layout for good
            for axis in ("left", "bottom"):
                self.plotItem.hideAxis(axis)
            self.message.setText(note or "No scenario grid for this selection")
            self.message.setPos(0, 0)
            self.plotItem.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
            self.message.show()
            self.set_title("")
            return
        spot = np.asarray(heatmap["spot_moves"], dtype=float)
        vol = np.asarray(heatmap["vol_moves"], dtype=float)
        pnl = np.asarray(heatmap["pnl"], dtype=float)
        self._pnl = pnl
        spot_pct = spot * 100.0 if np.nanmax(np.abs(spot)) <= 5 else spot
        vol_pct = vol * 100.0 if np.nanmax(np.abs(vol)) <= 5 else vol
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
        self.set_title(
            f"worst {self.fmt.money(float(pnl[worst]), unit=True)}: spot "
            f"{self.fmt.percent(spot_pct[worst[1]], 0, signed=True)}, "
            f"vol {self.fmt.percent(vol_pct[worst[0]], 0, signed=True)}"
        )
        self.plotItem.setLabel("bottom", f"{underlying} spot move (%)")
        self.plotItem.setLabel("left", "vol move (%)")
        self.plotItem.autoRange(padding=0)

    def pnl(self) -> np.ndarray | None:
        return self._pnl

    def restyle(self) -> None:
        t = self.theme
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [_color(t.red), _color(t.base), _color(t.calm)])
        self.bar.setColorMap(cmap)
        bar_axis = self.bar.axis  # the colour bar's scale follows the theme like the plot's axes
        bar_axis.setPen(pg.mkPen(t.border))
        bar_axis.setTextPen(pg.mkPen(t.muted))
        self.message.setColor(t.muted)


def _step(values: np.ndarray) -> float:
    return float(np.min(np.diff(values))) if values.size > 1 else 1.0
