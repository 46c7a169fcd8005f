"""The Stress tab's charts: equity and the liquidation level against the size of the shock, and
the BTC x ETH grid of equity minus the liquidation level with its liquidation line and a colour
scale. Each sits in a `ChartFrame` (title, legend and hover read-out above the plot, reset view).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

from workstation.ui.chart_tools import LegendEntry, ThemedPlot, color
from workstation.ui.theme import LIGHT

TICK_ORDER = (0.0, -0.5, 1.0, -0.9, 4.0, 9.0, -0.75, 2.0, -0.25, 0.5, -0.95)  # most telling first


def move_text(move: float) -> str:
    """A relative move as a signed percentage ("+25 %", "−50 %")."""
    pct = 100.0 * move
    if round(pct, 1) == 0:
        return "0 %"
    digits = 0 if abs(pct) >= 10 else 1
    return f"{pct:+.{digits}f} %".replace("-", "−")


class ShockChart(ThemedPlot):
    """Equity, the liquidation level and IM of one scope against the shock size (1 = the
    scenario); the scenario and the multiple that liquidates the scope are marked."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.equity = self.plot([], [])
        self.margin = self.plot([], [])
        self.initial = self.plot([], [])
        self.one = pg.InfiniteLine(1.0, angle=90, movable=False)
        self.breach = pg.InfiniteLine(angle=90, movable=False)
        self.breach.hide()
        for line in (self.one, self.breach):
            self.addItem(line, ignoreBounds=True)
        self.plotItem.setLabel("bottom", "shock size (× the scenario's moves)")
        self.plotItem.getAxis("left").setWidth(62)
        self.curve: dict[str, Any] | None = None
        self.framed("Equity against shock size")
        self.set_theme(LIGHT)

    def legend_entries(self) -> list[LegendEntry]:
        t = self.theme
        return [LegendEntry("equity", t.equity), LegendEntry("liquidation level (MM)", t.margin, dashed=True),
                LegendEntry("IM", t.muted, dashed=True)]

    def set_curve(self, curve: dict[str, Any] | None, scope: str, multiple: float | None = None) -> None:
        self.curve = curve
        self.frame.set_title(f"{scope}: equity against shock size" if scope else "Equity against shock size")
        if not curve:
            for item in (self.equity, self.margin, self.initial):
                item.setData([], [])
            self.breach.hide()
            return
        x = np.asarray(curve["multiple"], dtype=float)
        eq = np.asarray(curve["equity"], dtype=float)
        level = curve.get("liquidation_threshold", 1.0) * np.asarray(curve["maintenance_margin"], dtype=float)
        im = np.asarray(curve["initial_margin"], dtype=float)
        self.equity.setData(x, eq)
        self.margin.setData(x, level)
        self.initial.setData(x, im)
        self.plotItem.setLabel("left", "amount", units=self.fmt.base_currency)  # short: a low chart at 1280 x 760
        if multiple is not None and x[0] <= multiple <= x[-1]:
            self.breach.setPos(multiple)
            self.breach.show()
            self.frame.set_caption(f"liquidated at {multiple:.2f}× the moves")
        else:
            self.breach.hide()
            self.frame.set_caption("safe to 3×" if multiple is None else f"liquidated at {multiple:.2f}×")
        values = np.concatenate([eq, level, im])
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        span = (hi - lo) or max(abs(hi), 1.0)
        self.set_home((float(x[0]), float(x[-1])), (min(lo, 0.0) - 0.04 * span, hi + 0.04 * span))

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        if not self.curve:
            return "", {}
        xs = np.asarray(self.curve["multiple"], dtype=float)
        if not xs[0] <= x <= xs[-1]:
            return "", {}
        thr = self.curve.get("liquidation_threshold", 1.0)
        eq = float(np.interp(x, xs, self.curve["equity"]))
        mm = thr * float(np.interp(x, xs, self.curve["maintenance_margin"]))
        im = float(np.interp(x, xs, self.curve["initial_margin"]))
        money = self.fmt.money
        return f"at {x:.2f}×", {"equity": money(eq), "liquidation level (MM)": money(mm), "IM": money(im)}

    def restyle(self) -> None:
        t = self.theme
        self.equity.setPen(pg.mkPen(t.equity, width=2))
        self.margin.setPen(pg.mkPen(t.margin, width=2, style=Qt.PenStyle.DashLine))
        self.initial.setPen(pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DashLine))
        self.one.setPen(pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DotLine))
        self.breach.setPen(pg.mkPen(t.red, width=1))


class MoveAxis(pg.AxisItem):
    """An axis in log10(1 + move) coordinates labelled with the moves in percent; ticks are
    taken in order of importance (today first) while they keep their labels apart."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        gap = 52.0 if self.orientation in ("bottom", "top") else 22.0  # pixels between labels
        per_unit = size / max(maxVal - minVal, 1e-12)
        chosen: list[float] = []
        for m in TICK_ORDER:
            u = math.log10(1.0 + m)
            if minVal <= u <= maxVal and all(abs(u - c) * per_unit >= gap for c in chosen):
                chosen.append(u)
        return [(1.0, sorted(chosen))]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [move_text(10.0 ** v - 1.0) for v in values]


class JointGridChart(ThemedPlot):
    """Equity − the liquidation level over BTC (x) x ETH (y) moves, on log price axes: red where
    the scope is liquidated, the liquidation line in dots, a colour scale at the right, today
    and the selected scenario's day marked."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setAxisItems({"bottom": MoveAxis("bottom"), "left": MoveAxis("left")})
        self.image = pg.ImageItem()
        self.addItem(self.image)
        self.line = pg.ScatterPlotItem(size=5)
        self.addItem(self.line)
        self.points = pg.ScatterPlotItem(size=9)
        self.addItem(self.points)
        self.bar = pg.ColorBarItem(values=(-1.0, 1.0), interactive=False, width=12)
        self.bar.setImageItem(self.image, insert_in=self.plotItem)
        self.setMouseEnabled(x=False, y=False)
        self.plotItem.showGrid(x=False, y=False)
        self.grid: dict[str, Any] | None = None
        self.marker: tuple[float, float, str] | None = None
        self.framed("BTC × ETH moves")
        self.set_theme(LIGHT)

    def legend_entries(self) -> list[LegendEntry]:
        t = self.theme
        return [LegendEntry("liquidated", t.red, shape="box"), LegendEntry("safe", t.calm, shape="box"),
                LegendEntry("liquidation line", t.text, shape="box")]

    def set_grid(self, grid: dict[str, Any] | None, scope: str,
                 marker: tuple[float, float, str] | None = None) -> None:
        self.grid = grid
        self.marker = marker
        if not grid:
            self.image.clear()
            self.line.setData([], [])
            self.points.setData([], [])
            self.frame.set_title("BTC × ETH moves (the book has no BTC or ETH price)")
            return
        self.frame.set_title(f"{scope}: equity − liquidation level, {grid['x_asset']} × {grid['y_asset']} moves")
        u = np.log10(1.0 + np.asarray(grid["x_moves"], dtype=float))
        v = np.log10(1.0 + np.asarray(grid["y_moves"], dtype=float))
        h = np.asarray(grid["headroom"], dtype=float)
        m = float(np.nanmax(np.abs(h))) or 1.0
        self.image.setImage(h.T, autoLevels=False)
        self.bar.setLevels((-m, m))
        du, dv = u[1] - u[0], v[1] - v[0]
        rect = QRectF(u[0] - du / 2, v[0] - dv / 2, u[-1] - u[0] + du, v[-1] - v[0] + dv)
        self.image.setRect(rect)
        pts = grid["line"]
        self.line.setData([math.log10(1 + p[0]) for p in pts], [math.log10(1 + p[1]) for p in pts])
        self.plotItem.setLabel("bottom", f"{grid['x_asset']} move")
        self.plotItem.setLabel("left", f"{grid['y_asset']} move")
        self.bar.axis.setLabel("equity − liquidation level", units=self.fmt.base_currency)
        self.frame.set_caption(f"{len(pts)} points on the liquidation line" if pts else
                               "no liquidation on this grid")
        self._points()
        self.restyle()
        self.set_home((rect.left(), rect.right()), (rect.top(), rect.bottom()))

    def _points(self) -> None:
        spots = [{"pos": (0.0, 0.0), "symbol": "+", "size": 12}]
        if self.marker is not None:
            x, y, _ = self.marker
            spots.append({"pos": (math.log10(1 + max(x, -0.99)), math.log10(1 + max(y, -0.99))), "symbol": "o"})
        self.points.setData(spots)

    def readout(self, u: float, v: float) -> tuple[str, dict[str, str]]:
        g = self.grid
        if not g:
            return "", {}
        x, y = 10.0 ** u - 1.0, 10.0 ** v - 1.0
        xs, ys = np.asarray(g["x_moves"]), np.asarray(g["y_moves"])
        j = int(np.argmin(np.abs(np.log1p(xs) - math.log1p(x))))
        i = int(np.argmin(np.abs(np.log1p(ys) - math.log1p(y))))
        h = float(np.asarray(g["headroom"])[i, j])
        return (f"{g['x_asset']} {move_text(xs[j])} · {g['y_asset']} {move_text(ys[i])}",
                {"equity − liquidation level": self.fmt.money(h)})

    def restyle(self) -> None:
        t = self.theme
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [color(t.red), color(t.base), color(t.calm)])
        self.bar.setColorMap(cmap)
        self.bar.axis.setPen(pg.mkPen(t.border))
        self.bar.axis.setTextPen(pg.mkPen(t.muted))
        self.line.setBrush(pg.mkBrush(t.text))
        self.line.setPen(pg.mkPen(t.base))
        self.points.setBrush(pg.mkBrush(t.accent))
        self.points.setPen(pg.mkPen(t.text, width=1.5))
