"""Margin history charts (pyqtgraph): equity, initial and maintenance margin over time, and margin
usage with its bands, on one time axis. Figures hold from one record to the next (steps), as
recorded. Imported lazily, like the other charts."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from workstation.ui.chart_tools import LegendEntry, ThemedPlot, nearest_index
from workstation.ui.formatting import USAGE_AMBER, USAGE_RED, NumberFormat, margin_state
from workstation.ui.history_data import HistorySeries
from workstation.ui.theme import LIGHT, Theme

PAST_Y = 1.0  # past liquidation (no usage from the engine) is drawn at 100 %


def _when(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M")


def time_span(times: np.ndarray) -> str:
    """The time axis's title: "time, UTC (18 Nov – 30 Nov 2026)"."""
    if not len(times):
        return "time, UTC"
    first, last = (dt.datetime.fromtimestamp(float(t), dt.UTC) for t in (times[0], times[-1]))
    start = f"{first:%d %b}" if first.year == last.year else f"{first:%d %b %Y}"
    return f"time, UTC ({start} – {last:%d %b %Y})"


class _TimePlot(ThemedPlot):
    """A plot over time (UTC date axis) whose read-out is the nearest recorded point."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setAxisItems({"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)})
        self.series: HistorySeries | None = None
        self.setMinimumSize(240, 120)

    def _nearest(self, x: float) -> int | None:
        return None if self.series is None else nearest_index(self.series.times, x)

    def _home(self, ys: np.ndarray, lo_floor: float | None = None) -> None:
        s = self.series
        if s is None or not len(s):
            return
        t0, t1 = float(s.times[0]), float(s.times[-1])
        pad = 0.02 * ((t1 - t0) or 3600.0)
        ys = ys[np.isfinite(ys)]
        lo, hi = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
        if lo_floor is not None:
            lo = min(lo, lo_floor)
        span = (hi - lo) or max(abs(hi), 1.0)
        self.set_home((t0 - pad, t1 + pad), (lo - 0.06 * span, hi + 0.06 * span))


class FiguresPlot(_TimePlot):
    """Equity, initial margin and maintenance margin against time."""

    NAMES: ClassVar[dict[str, str]] = {
        "equity": "equity", "initial_margin": "initial margin", "maintenance_margin": "maintenance margin"}

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.lines = {key: self.plot([], []) for key in self.NAMES}
        self.plotItem.getAxis("left").setWidth(60)
        self.set_theme(LIGHT)

    def set_series(self, series: HistorySeries) -> None:
        self.series = series
        for key, line in self.lines.items():
            line.setData(series.times, series.figures.get(key, np.zeros(0)), connect="finite", stepMode="left")
        self.plotItem.setLabel("left", "equity, margin", units=series.base_currency)
        self._home(np.concatenate([series.figures.get(k, np.zeros(0)) for k in self.NAMES]))

    def legend_entries(self) -> list[LegendEntry]:
        t = self.theme
        return [LegendEntry("equity", t.equity), LegendEntry("initial margin", t.amber),
                LegendEntry("maintenance margin", t.margin, dashed=True)]

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        i = self._nearest(x)
        if i is None:
            return "", {}
        s = self.series
        return _when(s.times[i]), {name: self.fmt.money(float(s.figures[key][i]))
                                   for key, name in self.NAMES.items()}

    def restyle(self) -> None:
        t = self.theme
        self.lines["equity"].setPen(pg.mkPen(t.equity, width=2))
        self.lines["initial_margin"].setPen(pg.mkPen(t.amber, width=1.5))
        self.lines["maintenance_margin"].setPen(pg.mkPen(t.margin, width=2, style=Qt.PenStyle.DashLine))


class UsagePlot(_TimePlot):
    """Margin usage (maintenance margin / equity) in percent, with the 50 / 80 / 100 % bands;
    records past liquidation are red points at 100 %."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.usage = self.plot([], [])
        self.past = pg.ScatterPlotItem(size=7)
        self.addItem(self.past)
        self.bands = [pg.InfiniteLine(pos=100 * level, angle=0, movable=False)
                      for level in (USAGE_AMBER, USAGE_RED, 1.0)]
        for line in self.bands:
            self.addItem(line, ignoreBounds=True)
        self.plotItem.getAxis("left").setWidth(60)
        self.plotItem.setLabel("left", "usage (%)")
        self._past_mask = np.zeros(0, dtype=bool)
        self.set_theme(LIGHT)

    def set_series(self, series: HistorySeries) -> None:
        self.series = series
        f = series.figures
        usage = f.get("margin_usage", np.zeros(0))
        past = np.array([margin_state(e, m, u) == "past" for e, m, u in
                         zip(f.get("equity", []), f.get("maintenance_margin", []), usage, strict=True)], dtype=bool)
        self._past_mask = past
        pct = np.where(past, np.nan, 100.0 * usage)
        self.usage.setData(series.times, pct, connect="finite", stepMode="left")
        self.past.setData(series.times[past], np.full(int(past.sum()), 100.0 * PAST_Y))
        self._home(np.concatenate([pct, [100.0 * PAST_Y] if past.any() else []]), lo_floor=0.0)
        # the date ticks show days or hours alone: the axis says the month and year and the zone
        self.plotItem.setLabel("bottom", time_span(series.times))

    def past_count(self) -> int:
        return int(self._past_mask.sum())

    def legend_entries(self) -> list[LegendEntry]:
        t = self.theme
        return [LegendEntry("usage", t.accent), LegendEntry("past liquidation", t.red, shape="box")]

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        i = self._nearest(x)
        if i is None:
            return "", {}
        value = "past liquidation" if self._past_mask[i] else self.fmt.ratio(
            float(self.series.figures["margin_usage"][i]), 1)
        return _when(self.series.times[i]), {"usage": value}

    def restyle(self) -> None:
        t = self.theme
        self.usage.setPen(pg.mkPen(t.accent, width=2))
        self.past.setBrush(pg.mkBrush(t.red))
        self.past.setPen(pg.mkPen(None))
        for line, colour in zip(self.bands, (t.amber, t.red, t.red), strict=True):
            line.setPen(pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine))


class HistoryCharts(QWidget):
    """The two history plots, stacked, their time axes linked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figures = FiguresPlot()
        self.usage = UsagePlot()
        self.usage.setXLink(self.figures)
        self.frames = [self.figures.framed("Equity and margin"), self.usage.framed("Margin usage")]
        self.crosshairs = [self.figures.crosshair, self.usage.crosshair]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for frame, stretch in zip(self.frames, (3, 2), strict=True):
            frame.reset_requested.connect(self.reset_view)  # both: their time axes are linked
            layout.addWidget(frame, stretch)

    def reset_view(self) -> None:
        self.figures.reset_view()
        self.usage.reset_view()

    def set_series(self, series: HistorySeries) -> None:
        self.figures.set_series(series)
        self.usage.set_series(series)

    def set_theme(self, theme: Theme) -> None:
        self.figures.set_theme(theme)  # each frame, legend and crosshair follows its plot
        self.usage.set_theme(theme)

    def set_number_format(self, fmt: NumberFormat) -> None:
        self.figures.set_number_format(fmt)
        self.usage.set_number_format(fmt)
