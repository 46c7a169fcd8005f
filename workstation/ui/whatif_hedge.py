"""The hedge suggestion form: the instrument (fields follow its kind), the objective, and the
answer with its reasons: the quantity rounded to the venue's lot, its premium or funding carry,
the largest size that still fits free margin, and the curve of initial margin and liquidation
distance against size with the optimum marked."""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimeZone
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workstation.core.model import KINDS, RIGHTS, SETTLEMENTS, Portfolio, Position
from workstation.core.profiles import Profile
from workstation.core.units import quantity_unit, round_to_lot
from workstation.ui.chart_tools import LegendEntry, ThemedPlot, data_range, value_at
from workstation.ui.dialogs import _combo, _qdatetime
from workstation.ui.fields import NumberField, PercentField
from workstation.ui.formatting import NumberFormat
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.whatif_compute import Draft, WhatIfResult
from workstation.ui.whatif_drafts import venue_settlement

HEDGE_HINT = "Pick an instrument and an objective: the engine finds the size (on top of the drafts)."
OBJECTIVES = (
    ("Delta-neutral", "delta", "Size that brings the delta on the underlying to zero"),
    ("Lowest initial margin", "margin", "Size that minimises the initial margin"),
    ("Furthest liquidation", "liquidation", "Size that pushes the nearest liquidation furthest away"),
)


class SuggestionChart(ThemedPlot):
    """Initial margin (left axis) and liquidation distance (right axis, %) against hedge size,
    the suggested size marked; sits in a `ChartFrame` (`frame`) whose legend reads both curves
    out on hover."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("suggestionChart")
        self.setMouseEnabled(x=False, y=False)
        self.setMinimumHeight(120)
        self.im = self.plot([], [])
        self.right = pg.ViewBox()
        self.plotItem.showAxis("right")
        self.plotItem.scene().addItem(self.right)
        self.plotItem.getAxis("right").linkToView(self.right)
        self.right.setXLink(self.plotItem)
        self.dist = pg.PlotDataItem([], [])
        self.right.addItem(self.dist)
        self.best = pg.InfiniteLine(angle=90, movable=False, label="", labelOpts={"position": 0.9})
        self.addItem(self.best, ignoreBounds=True)
        self.best.hide()
        self.plotItem.vb.sigResized.connect(self._sync)
        self.plotItem.getAxis("left").setWidth(56)
        self.plotItem.getAxis("right").setWidth(40)
        self.curve: dict[str, Any] | None = None
        self.unit = ""
        self.framed("Initial margin and liquidation distance by size", resettable=False, horizontal=False)
        self.set_theme(LIGHT)

    def _sync(self) -> None:
        self.right.setGeometry(self.plotItem.vb.sceneBoundingRect())

    def legend_entries(self) -> list[LegendEntry]:
        t = self.theme
        return [LegendEntry("initial margin (left)", t.accent),
                LegendEntry("nearest liquidation distance, % (right)", t.red, dashed=True),
                LegendEntry("the suggested size", t.calm)]

    def readout(self, x: float, y: float) -> tuple[str, dict[str, str]]:
        c = self.curve
        if not c:
            return "", {}
        sizes = np.asarray(c["sizes"], dtype=float)
        im = value_at(sizes, np.asarray(c["initial_margin"], dtype=float), x)
        dist = value_at(sizes, np.asarray(c["distance_pct"], dtype=float), x)
        values = {}
        if im is not None:
            values["initial margin (left)"] = self.fmt.money(im)
        if dist is not None:
            values["nearest liquidation distance, % (right)"] = self.fmt.percent(dist)
        return f"size {self.fmt.quantity(x)} {self.unit}".rstrip(), values

    def restyle(self) -> None:
        t = self.theme
        self.im.setPen(pg.mkPen(t.accent, width=2))
        self.dist.setPen(pg.mkPen(t.red, width=1.6, style=Qt.PenStyle.DashLine))
        self.best.setPen(pg.mkPen(t.calm, width=1.5))
        self.best.label.setColor(t.calm)

    def set_curve(self, curve: dict[str, Any] | None, best: float | None, fmt: NumberFormat, unit: str) -> None:
        self.curve, self.unit = curve, unit
        self.set_number_format(fmt)
        if not curve:
            self.im.setData([], [])
            self.dist.setData([], [])
            self.best.hide()
            return
        sizes = np.asarray(curve["sizes"], dtype=float)
        im = np.asarray(curve["initial_margin"], dtype=float)
        self.im.setData(sizes, im)
        dist = np.asarray(curve["distance_pct"], dtype=float)
        self.dist.setData(sizes[np.isfinite(dist)], dist[np.isfinite(dist)])
        self.plotItem.setLabel("bottom", f"hedge size ({unit})")
        self.plotItem.setLabel("left", "IM", units=fmt.unit_label() or None)
        self.plotItem.setLabel("right", "liq. distance %")
        if best is not None:
            self.best.setValue(best)
            self.best.label.setFormat(f"best {fmt.quantity(best)}")
            self.best.show()
        # explicit ranges for both axes: auto-range on a hidden or resizing chart can keep a stale view
        x, y = data_range([sizes], 0.02), data_range([im], 0.05)
        if x is not None and y is not None:
            self.set_home(x, y)
        right = data_range([dist], 0.05)
        if right is not None:
            self.right.setYRange(*right, padding=0)
        self._sync()


class HedgeForm(QFrame):
    """The hedge instrument, the objective, Suggest, the answer and Add to drafts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.portfolio: Portfolio | None = None
        self.account_id: str | None = None
        self.profile: Profile | None = None
        self.kind = _combo(KINDS, "perpetual")
        self.underlying = _combo([], None, editable=True)
        self.settlement = _combo(SETTLEMENTS, "linear")
        self.entry = NumberField(optional=True, placeholder="the mark if empty")
        self.expiry = QDateTimeEdit()
        self.expiry.setTimeZone(QTimeZone.utc())
        self.expiry.setDisplayFormat("yyyy-MM-dd HH:mm 'UTC'")
        self.expiry.setCalendarPopup(True)
        self.right = _combo(RIGHTS, "put")
        self.strike = NumberField()
        self.vol = PercentField(optional=True, placeholder="in %; market vol if empty")
        self.objective = QComboBox()
        for label, key, tip in OBJECTIVES:
            self.objective.addItem(label, key)
            self.objective.setItemData(self.objective.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.suggest_button = QPushButton("Suggest")
        self.add_button = QPushButton("Add to drafts")
        self.add_button.setEnabled(False)
        self.result = QLabel(HEDGE_HINT)
        self.result.setObjectName("muted")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.chart = SuggestionChart()
        self.chart.frame.hide()

        left, right = QFormLayout(), QFormLayout()
        for form in (left, right):
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            form.setHorizontalSpacing(8)
            form.setVerticalSpacing(4)
        left.addRow("Instrument", self.kind)
        left.addRow("Underlying", self.underlying)
        left.addRow("Settlement", self.settlement)
        left.addRow("Entry price", self.entry)
        right.addRow("Expiry", self.expiry)
        right.addRow("Right", self.right)
        right.addRow("Strike", self.strike)
        right.addRow("Vol (%)", self.vol)
        self.forms = (left, right)
        fields = QHBoxLayout()
        fields.setSpacing(12)
        fields.addLayout(left, 1)
        fields.addLayout(right, 1)
        actions = QHBoxLayout()
        actions.setSpacing(8)
        actions.addWidget(QLabel("Objective"))
        actions.addWidget(self.objective)
        actions.addWidget(self.suggest_button)
        actions.addStretch(1)
        actions.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(fields)
        layout.addLayout(actions)
        layout.addWidget(self.result)
        layout.addWidget(self.chart.frame, 1)
        self.kind.currentTextChanged.connect(self._follow_kind)
        self._follow_kind()
        self.set_theme(LIGHT)

    def set_theme(self, theme: Theme) -> None:
        self.chart.set_theme(theme)

    def set_context(self, portfolio: Portfolio | None, account_id: str | None, profile: Profile | None = None) -> None:
        """New book or account: default to the account's main underlying and its perpetual."""
        self.portfolio, self.account_id, self.profile = portfolio, account_id, profile
        if portfolio is None or account_id is None:
            return
        assets = sorted(portfolio.market)
        current = self.underlying.currentText()
        self.underlying.blockSignals(True)
        self.underlying.clear()
        self.underlying.addItems(assets)
        self.underlying.blockSignals(False)
        account = portfolio.account(account_id)
        counts: dict[str, int] = {}
        for p in account.positions:
            counts[p.underlying] = counts.get(p.underlying, 0) + 1
        main = max(counts, key=lambda u: counts[u]) if counts else (current or (assets[0] if assets else ""))
        self.underlying.setCurrentText(main)
        self.settlement.setCurrentText(venue_settlement(account))
        self.expiry.setDateTime(_qdatetime(portfolio.as_of + timedelta(days=30)))
        price = portfolio.market[main].price if main in portfolio.market else None
        if price and not self.strike.text():
            self.strike.set_value(float(f"{price:.2g}"))
        self._follow_kind()

    def _follow_kind(self) -> None:
        kind = self.kind.currentText()
        shown = {self.settlement: kind != "spot", self.expiry: kind in ("future", "option"),
                 self.right: kind == "option", self.strike: kind == "option", self.vol: kind == "option"}
        for widget, visible in shown.items():
            for form in self.forms:
                if form.indexOf(widget) >= 0:
                    form.setRowVisible(widget, visible)

    def objective_key(self) -> str:
        return self.objective.currentData()

    def instrument(self) -> Draft:
        """The hedge instrument (quantity 1, ignored by the engine); ValueError on bad input."""
        kind = self.kind.currentText()
        underlying = self.underlying.currentText().strip().upper()
        if self.portfolio is None or underlying not in self.portfolio.market:
            raise ValueError(f"Underlying: no market price for {underlying or '(empty)'}")
        option = kind == "option"
        expiry = None
        if kind in ("future", "option"):
            expiry = datetime.fromtimestamp(self.expiry.dateTime().toSecsSinceEpoch(), UTC)
        entry = self.entry.value("Entry price")
        pos = Position(
            id=f"hedge-{underlying.lower()}-{kind}", kind=kind, underlying=underlying, quantity=1.0,
            entry_price=entry if entry is not None else 0.0,
            settlement="linear" if kind == "spot" else self.settlement.currentText(), expiry=expiry,
            right=self.right.currentText() if option else None,
            strike=self.strike.value("Strike") if option else None,
            vol=self.vol.value("Implied vol") if option else None,
        )
        return Draft("", pos, at_mark=entry is None)

    def rounded(self, hedge: Position) -> tuple[float, float | None]:
        """(quantity rounded to the venue's lot, the lot step or None)."""
        if self.profile is None:
            return hedge.quantity, None
        spec = self.profile.trading.contract(hedge.underlying, hedge.kind, hedge.settlement)
        return round_to_lot(hedge.quantity, spec), spec.step

    def show_result(self, result: WhatIfResult | None, fmt: NumberFormat, message: str | None = None) -> None:
        """The answer and its reasons (or `message`)."""
        self.add_button.setEnabled(result is not None and result.hedge is not None and bool(result.hedge.quantity))
        if result is None or result.suggestion is None or result.hedge is None:
            self.result.setText(message or HEDGE_HINT)
            self.chart.set_curve(None, None, fmt, "")
            self.chart.frame.setVisible(False)
            return
        s, h = result.suggestion, result.hedge
        base = self.portfolio.base_currency if self.portfolio else "USD"
        unit = quantity_unit(h.kind, h.settlement, h.underlying, base)
        q, step = self.rounded(h)
        und = s["underlying"]
        d0 = result.before.get("greeks", {}).get(und, {}).get("delta", 0.0)
        d1 = result.after.get("greeks", {}).get(und, {}).get("delta", 0.0)
        side = "buy" if q > 0 else "sell"
        lot = f" (lots of {step:g} {unit}; exact {fmt.quantity(s['quantity'])})" if step else ""
        coins = ""
        if unit != h.underlying and self.portfolio is not None and h.underlying in self.portfolio.market:
            coins = f" ≈ {fmt.quantity(round(abs(q) / self.portfolio.market[h.underlying].price, 6))} {h.underlying}"
        lines = [f"<b>{side} {fmt.quantity(abs(q))} {unit}</b>{coins} {h.id}{lot}" if q
                 else "<b>no trade helps</b>: the best size is 0",
                 f"delta {und} {fmt.greek(d0)} → {fmt.greek(d1)} {und} · initial margin "
                 f"{fmt.money(result.before.get('initial_margin'))} → {fmt.money(result.after.get('initial_margin'))}"]
        if "distance_after_pct" in s:
            lines.append(f"nearest liquidation on {und} {s['distance_before_pct']:.1f} % → "
                         f"{s['distance_after_pct']:.1f} % away (500 % = none in range)")
        cost = []
        if s.get("premium_base"):
            cost.append(f"premium {fmt.money(-s['premium_base'], unit=True)}")
        if s.get("fee_base"):
            cost.append(f"fee {fmt.money(-s['fee_base'], unit=True)}")
        if s.get("funding_per_day"):
            cost.append(f"funding {fmt.money(s['funding_per_day'], unit=True)} a day")
        if cost:
            lines.append(" · ".join(cost))
        largest = s.get("largest")
        if largest is None:
            lines.append("fits free margin at any size up to the search limit")
        elif largest == 0:
            lines.append("<span style='color:#c62828'>no size of it fits free margin</span>")
        else:
            spec = self.profile.trading.contract(h.underlying, h.kind, h.settlement) if self.profile else None
            fit = largest
            if spec is not None and spec.step:
                fit = np.copysign(np.floor(abs(largest) / spec.step) * spec.step, largest)
            lines.append(f"largest size of it that still fits free margin: {fmt.quantity(float(fit))} {unit}")
        self.result.setText("<br>".join(lines))
        self.chart.frame.setVisible(bool(result.extra.get("curve")))
        self.chart.set_curve(result.extra.get("curve"), s["quantity"], fmt, unit)
