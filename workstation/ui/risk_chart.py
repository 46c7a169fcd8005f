"""The risk profile chart: P&L (or equity and maintenance margin) of the book against one
underlying's price, before and after the drafts, today or at a date, with a vol shift.

The widget only draws `ProfileResult`s (ui/whatif_compute.py) and asks for new ones through its
signals: `horizon_changed(Horizon, dragging)` while the date or vol slider moves, and
`underlying_changed(str)`. Liquidation prices are marked for both states: today's are the
engine's search results, at a later date where equity meets MM on the curve (marked "≈").
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QLabel,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from workstation.core.risk_profile import Horizon
from workstation.ui.chart_tools import (
    LegendEntry,
    ThemedPlot,
    color,
    curve_values,
    data_range,
)
from workstation.ui.formatting import MINUS, NumberFormat
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.whatif_compute import ProfileResult
from workstation.ui.wording_label import WordingLabel

SNAP_HOURS = 18.0  # the date slider snaps to an expiry this close
MIN_DAYS = 30  # the date slider reaches at least this far (a book without expiries still ages)
VOL_RANGE = 30  # vol shift slider: +/- this many vol points


class _ProfilePlot(ThemedPlot):
    """The risk profile's plot: its legend and read-out are the chart's."""

    def __init__(self, chart: RiskProfileChart) -> None:
        super().__init__()
        self.chart = chart

    def legend_entries(self) -> list[LegendEntry]:
        return self.chart.legend_entries()

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        return self.chart.readout(x)


# curve key -> (name in the legend and read-out, theme colour, drawn after the drafts)
_CURVES = {"pnl_b": ("P&L before", "pnl", False), "pnl_a": ("P&L after", "accent", True),
           "eq_b": ("equity before", "equity", False), "eq_a": ("equity after", "equity", True),
           "mm_b": ("maint. margin before", "margin", False), "mm_a": ("maint. margin after", "margin", True)}


class RiskProfileChart(QWidget):
    """A `ChartFrame` (title, underlying, P&L or levels, reset view; legend and hover read-out)
    over the date and vol sliders (see the module docstring). `legend` and `reset` are the
    frame's."""

    horizon_changed = Signal(object, bool)  # Horizon, still dragging
    underlying_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None, title: str = "Risk profile") -> None:
        super().__init__(parent)
        self.setObjectName("riskProfile")
        self.theme: Theme = LIGHT
        self.fmt = NumberFormat()
        self.result: ProfileResult | None = None
        self.stops: list[tuple[float, str]] = [(0.0, "today")]
        self._dragging = False

        self.underlying = QComboBox()
        self.underlying.setMinimumContentsLength(5)
        self.underlying.setToolTip("The underlying whose price is on the horizontal axis")
        self.underlying.activated.connect(lambda _i: self.underlying_changed.emit(self.underlying.currentText()))
        self.show_pnl = QRadioButton("P&&L")  # && : a literal ampersand, not a shortcut
        self.show_levels = QRadioButton("Equity, MM")
        self.show_levels.setToolTip("Equity and maintenance margin (liquidation where they cross), before and after")
        self.show_pnl.setChecked(True)
        self.mode = QButtonGroup(self)
        for b in (self.show_pnl, self.show_levels):
            self.mode.addButton(b)
        self.show_pnl.toggled.connect(lambda _c: (self._draw(), self._home()))
        self.plot = _ProfilePlot(self)
        self.plot.setObjectName("riskPlot")
        self.plot.setMinimumSize(300, 140)
        self.plot.plotItem.getAxis("left").setWidth(62)
        self.frame = self.plot.framed(title, horizontal=False)
        self.frame.title.setObjectName("sectionTitle")
        self.frame.add_control(self.underlying, after_title=True)
        self.frame.add_control(self.show_pnl)
        self.frame.add_control(self.show_levels)
        self.crosshair = self.plot.crosshair
        self.legend, self.reset = self.frame.legend, self.frame.reset_button

        self.date = QSlider(Qt.Orientation.Horizontal)
        self.date.setObjectName("dateSlider")
        self.date.setRange(0, 24)
        self.date.setToolTip("Days ahead: options and futures age, those expiring settle at the price on the axis")
        self.date_label = WordingLabel("today")  # "+2 d · Fri 27 Nov (weekly expiry)", shorter if narrow
        self.jump = QComboBox()
        self.jump.setToolTip("Jump to today, the next weekly expiry or an expiry of the book")
        self.jump.activated.connect(self._jump)
        self.vol = QSlider(Qt.Orientation.Horizontal)
        self.vol.setObjectName("volSlider")
        self.vol.setRange(-VOL_RANGE, VOL_RANGE)
        self.vol.setToolTip(f"Shift the implied vols of the underlying's options, in vol points (±{VOL_RANGE})")
        self.vol_label = QLabel("vol ±0 pts")
        self.vol_label.setMinimumWidth(80)
        for slider in (self.date, self.vol):
            slider.valueChanged.connect(lambda _v: self._slid())
            slider.sliderPressed.connect(self._pressed)
            slider.sliderReleased.connect(self._released)

        self._items()
        controls = QGridLayout()
        controls.setHorizontalSpacing(8)
        controls.setVerticalSpacing(2)
        controls.addWidget(QLabel("Date"), 0, 0)
        controls.addWidget(self.date, 0, 1)
        controls.addWidget(self.date_label, 0, 2)
        controls.addWidget(self.jump, 0, 3)
        controls.addWidget(QLabel("Vol"), 1, 0)
        controls.addWidget(self.vol, 1, 1)
        controls.addWidget(self.vol_label, 1, 2)
        controls.setColumnStretch(1, 3)
        controls.setColumnStretch(2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.frame, 1)
        layout.addLayout(controls)
        self.set_theme(LIGHT)
        self.set_stops(self.stops)

    # -------------------------------------------------------------- items
    def _items(self) -> None:
        p = self.plot
        self.curves: dict[str, pg.PlotDataItem] = {
            name: p.plot([], []) for name in ("pnl_b", "pnl_a", "eq_b", "eq_a", "mm_b", "mm_a")}
        self.spot = pg.InfiniteLine(angle=90, movable=False, label="", labelOpts={"position": 0.95})
        self.liq: dict[str, pg.InfiniteLine] = {
            k: pg.InfiniteLine(angle=90, movable=False, label="",
                               labelOpts={"position": 0.82 if k.endswith("_b") else 0.62})
            for k in ("down_b", "up_b", "down_a", "up_a")}
        self.zero = pg.InfiniteLine(angle=0, movable=False)
        for line in (self.spot, self.zero, *self.liq.values()):
            p.addItem(line, ignoreBounds=True)
            line.hide()

    def legend_entries(self) -> list[LegendEntry]:
        """The visible curves, as the legend shows them (before: dashed)."""
        return [LegendEntry(name, getattr(self.theme, colour), dashed=not after)
                for key, (name, colour, after) in _CURVES.items() if self.curves[key].isVisible()]

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for key, (_name, colour, after) in _CURVES.items():
            self.curves[key].setPen(pg.mkPen(getattr(theme, colour), width=2.2 if after else 1.6,
                                             style=Qt.PenStyle.SolidLine if after else Qt.PenStyle.DashLine))
        self.spot.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DashLine))
        self.spot.label.setColor(theme.muted)
        self.zero.setPen(pg.mkPen(theme.border, width=1))
        for k, line in self.liq.items():
            before = k.endswith("_b")
            line.setPen(pg.mkPen(theme.red, width=1.2 if before else 1.8,
                                 style=Qt.PenStyle.DashLine if before else Qt.PenStyle.SolidLine))
            line.label.setColor(theme.red)
        for line in (self.spot, *self.liq.values()):
            line.label.fill = pg.mkBrush(color(theme.base, 215))
        self.plot.set_theme(theme)  # the frame, legend and crosshair follow

    def set_number_format(self, fmt: NumberFormat) -> None:
        self.fmt = fmt
        self.plot.set_number_format(fmt)
        self._draw()

    # -------------------------------------------------------------- controls
    def set_underlyings(self, names: list[str], current: str | None) -> None:
        self.underlying.blockSignals(True)
        self.underlying.clear()
        self.underlying.addItems(names)
        if current:
            self.underlying.setCurrentText(current)
        self.underlying.blockSignals(False)

    def set_stops(self, stops: list[tuple[float, str]]) -> None:
        """Dates the slider snaps to (days ahead, label); the slider reaches the last one."""
        self.stops = stops or [(0.0, "today")]
        last = max(d for d, _ in self.stops)
        self.date.blockSignals(True)
        self.date.setRange(0, int(np.ceil(max(last, MIN_DAYS) * 24.0)))
        self.date.setPageStep(24)
        self.date.setSingleStep(24)
        self.date.blockSignals(False)
        self.jump.blockSignals(True)
        self.jump.clear()
        self.jump.addItem("Jump to…", None)
        for days, label in self.stops:
            self.jump.addItem(label if days == 0 else f"{label} (+{days:.0f} d)", days)
        self.jump.blockSignals(False)
        self._update_labels()

    def horizon(self) -> Horizon:
        return Horizon(days=self.days(), vol_shift=self.vol.value() / 100.0)

    def days(self) -> float:
        hours = float(self.date.value())
        for days, _ in self.stops:
            if abs(days * 24.0 - hours) <= SNAP_HOURS:
                return days
        return hours / 24.0

    def set_days(self, days: float) -> None:
        self.date.setValue(round(days * 24.0))

    def _jump(self, index: int) -> None:
        days = self.jump.itemData(index)
        if days is not None:
            self.set_days(float(days))
        self.jump.setCurrentIndex(0)

    def _label_of(self, days: float) -> tuple[str, ...]:
        """The date's wordings, longest first: "+2 d · Fri 27 Nov (weekly expiry)", "+2 d · Fri 27 Nov",
        "+2 d"."""
        ahead = f"+{days:.1f} d" if days % 1 else f"+{days:.0f} d"
        for d, label in self.stops:
            if d == days:
                if d == 0:
                    return (label,)
                short = label.split(" (")[0].removesuffix(" expiry")
                return f"{ahead} · {label}", f"{ahead} · {short}", ahead
        return (ahead,)

    def _update_labels(self) -> None:
        self.date_label.set_texts(*self._label_of(self.days()))
        v = self.vol.value()
        self.vol_label.setText(f"vol {'+' if v > 0 else MINUS if v < 0 else '±'}{abs(v)} pts")

    def _pressed(self) -> None:
        self._dragging = True

    def _released(self) -> None:
        self._dragging = False
        self.horizon_changed.emit(self.horizon(), False)

    def _slid(self) -> None:
        self._update_labels()
        self.horizon_changed.emit(self.horizon(), self._dragging)

    # -------------------------------------------------------------- drawing
    def set_profile(self, result: ProfileResult | None) -> None:
        self.result = result
        self._draw()
        self._home()
        self.frame.set_caption(self.off_chart().strip())

    def _draw(self) -> None:
        r = self.result
        pnl = self.show_pnl.isChecked()
        data: dict[str, tuple[Any, Any]] = {}
        if r is not None:
            for side, prof in (("b", r.before), ("a", r.after)):
                if prof is None:
                    continue
                data[f"pnl_{side}"] = (prof["prices"], prof["pnl"])
                data[f"eq_{side}"] = (prof["prices"], prof["equity"])
                data[f"mm_{side}"] = (prof["mm_prices"], prof["maintenance_margin"])
        for name, item in self.curves.items():
            wanted = name in data and (name.startswith("pnl") == pnl)
            if wanted:
                item.setData(np.asarray(data[name][0]), np.asarray(data[name][1]))
            else:
                item.setData([], [])
            item.setVisible(wanted)
        self.zero.setVisible(r is not None and pnl)
        self.zero.setValue(0.0)
        self._marks()
        self.plot.refresh_legend()
        unit = self.fmt.unit_label()
        und = r.underlying if r else ""
        self.plot.plotItem.setLabel("bottom", f"{und} price", units=unit or None)
        self.plot.plotItem.setLabel("left", "P&L" if pnl else "amount", units=unit or None)

    def _marks(self) -> None:
        r = self.result
        f = self.fmt
        if r is None:
            for line in (self.spot, *self.liq.values()):
                line.hide()
            return
        self._mark(self.spot, r.spot, f"spot {f.price(r.spot)}")
        today = r.horizon.today
        for side, key in (("b", "before"), ("a", "after")):
            prof = r.before if side == "b" else r.after
            liq = r.liquidation_today.get(key, {}) if prof is not None else {}
            for direction in ("down", "up"):
                line = self.liq[f"{direction}_{side}"]
                if prof is None:
                    line.hide()
                    continue
                if today:
                    price = liq.get(f"{direction}_price")
                    pct = liq.get(f"{direction}_pct")
                    approx = ""
                else:
                    price = prof.get(f"liquidation_{direction}")
                    pct = None if price is None else 100.0 * (price / r.spot - 1.0)
                    approx = "≈"
                text = f"liq {key}\n{approx}{f.price(price)} ({f.percent(pct, signed=True)})"
                self._mark(line, price, text)

    def off_chart(self) -> str:
        """Today's liquidation prices that lie beyond the drawn range (far moves)."""
        r = self.result
        if r is None or r.before is None:
            return " "
        lo, hi = float(r.before["prices"][0]), float(r.before["prices"][-1])
        notes = []
        for key, liq in r.liquidation_today.items():
            for direction in ("down", "up"):
                price = (liq or {}).get(f"{direction}_price")
                if price is not None and not lo <= price <= hi:
                    pct = liq.get(f"{direction}_pct")
                    notes.append(f"liquidation {key} today at {self.fmt.price(price)} "
                                 f"({self.fmt.percent(pct, signed=True)}), off the chart")
        return "  ·  ".join(notes) or " "

    def _mark(self, line: pg.InfiniteLine, x: float | None, text: str) -> None:
        if x is None:
            line.hide()
            return
        line.show()
        line.setValue(float(x))
        line.label.setFormat(text.replace("{", "{{").replace("}", "}}"))

    def _home(self) -> None:
        """The whole of the drawn curves (1 % more on each side of the prices, 6 % above and below
        the values) is the view Reset view returns to."""
        shown = [item.getData() for item in self.curves.values() if item.isVisible()]
        x = data_range([d[0] for d in shown if d[0] is not None], 0.01)
        y = data_range([d[1] for d in shown if d[1] is not None], 0.06)
        if x is None or y is None:
            self.plot.home = None
            self.plot.plotItem.enableAutoRange()
            return
        self.plot.set_home(x, y)

    def readout(self, x: float) -> tuple[str, dict[str, str]]:
        """The price at x (and its move from spot) and every visible curve's value there."""
        r = self.result
        if r is None:
            return "", {}
        f = self.fmt
        move = 100.0 * (x / r.spot - 1.0) if r.spot else 0.0
        values = curve_values({_CURVES[k][0]: item for k, item in self.curves.items()}, x)
        return (f"{r.underlying} {f.price(x)} ({f.percent(move, signed=True)})",
                {name: f.money(v) for name, v in values.items()})
