"""Before and after: the figures (cash legs, funding, liquidation as price and move), Greeks by
underlying and expiry, each position's component margin, a pool's members side by side, and the
drafts under each venue's profile. Tables only; every figure is the engine's."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QTableView, QTabWidget, QVBoxLayout, QWidget

from workstation.core.pool_view import Nearest, nearest_liquidation
from workstation.ui.formatting import DASH, MINUS, NumberFormat, distance_level, usage_level
from workstation.ui.table_model import Column, RecordTableModel
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.views import FIT_ROWS, fit_columns_once, make_table_view
from workstation.ui.whatif_rows import (
    comparison_rows,
    greeks_rows,
    instrument_names,
    liquidation_rows,
    position_rows,
)

Index = QModelIndex | QPersistentModelIndex
STRETCH_LAST = ("members", "venues")  # short first column: fitted, the last one stretched

COMPARISON_COLUMNS: tuple[Column, ...] = (
    Column("Figure", "label", tip="The scope's figures, as the engine reports them, with their units"),
    Column("Before", "before", "number", "As booked"),
    Column("After", "after", "number", "With the drafted trades (cash legs paid)"),
    Column("Change", "change", "number",
           "After minus before: green when it helps, amber (red in the red band) when it hurts"),
)
GREEK_COLUMNS: tuple[Column, ...] = (
    Column("Underlying", "underlying"), Column("Expiry", "expiry"),
    Column("Δ before (coins)", "delta_b", "greek", "Delta in coins of the underlying (positions only)"),
    Column("Δ after (coins)", "delta_a", "greek", "Delta in coins after the drafts"),
    Column("Δ after ({base})", "delta_usd_a", "money", "Delta in the base currency: coins × price"),
    Column("Γ after (coins/1 %)", "gamma1_a", "greek", "Delta change (coins) for a 1 % move of the underlying"),
    Column("Vega after ({base}/pt)", "vega_a", "greek", "Value change per vol point, base currency"),
    Column("Θ after ({base}/day)", "theta_a", "greek", "Value change per calendar day, base currency"),
)
POSITION_COLUMNS: tuple[Column, ...] = (
    Column("Instrument", "instrument"), Column("Account", "account"),
    Column("Quantity", "quantity", "qty", colour="sign"), Column("Unit", "unit"),
    Column("IM comp. before ({base})", "component_before", "money", "Component (Euler) initial margin before"),
    Column("IM comp. after ({base})", "component_after", "money", "Component initial margin after", "hedge"),
    Column("Change", "change", "money", "After minus before", "sign"), Column("", "drafted", colour="muted"),
)
MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("Account", "account"), Column("Venue", "venue"),
    Column("IM before ({base})", "im_b", "money"), Column("IM after ({base})", "im_a", "money"),
    Column("Free after ({base})", "free_a", "money", "Free margin (equity − IM) after", colour="negative"),
    Column("Usage", "usage_a", "ratio", "Margin usage after (MM / equity)"),
    Column("Nearest liq. before", "near_b", tip="Nearest liquidation, each account margined on its own"),
    Column("Nearest liq. after", "near_a", tip="Nearest liquidation after, each account margined on its own"),
)
VENUE_COLUMNS: tuple[Column, ...] = (
    Column("Profile", "profile"), Column("Mode", "mode"),
    Column("IM before ({base})", "im_before", "money"), Column("IM after ({base})", "im_after", "money"),
    Column("Change", "im_change", "money", colour="hedge"), Column("MM after ({base})", "mm_after", "money"),
    Column("Taker fees ({base})", "fees", "money"), Column("", "note", colour="muted"),
)


def figure_text(record: dict[str, Any], key: str, fmt: NumberFormat) -> str:
    """Before / after / change of one comparison row, written as its `fmt` says."""
    value = record.get(key)
    kind = record["fmt"]
    if kind == "liq" and key != "change":
        if value is None:
            return "none"
        price = record.get(f"{key}_price")
        move = fmt.percent(value, signed=True)
        return move if price is None else f"{fmt.price(price)} ({move})"
    if value is None:
        if kind == "liq" and (record.get("before") is None) != (record.get("after") is None):
            return "in range" if record.get("before") is None else "out of range"
        return DASH
    if key == "change":
        if kind in ("ratio", "liq"):
            pp = value * 100.0 if kind == "ratio" else value
            return fmt.percent(pp, 1, signed=True).replace(" %", " pp")
        text = fmt.money(value) if kind == "money" else fmt.greek(value)
        return text if text.startswith(MINUS) or not value or set(text) <= set("0.,") else f"+{text}"
    if kind == "money":
        return fmt.money(value)
    if kind == "ratio":
        return fmt.ratio(value)
    return fmt.greek(value)


class ComparisonModel(RecordTableModel):
    """Before / after / change rows; each row says how its figures are written (`fmt`)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COMPARISON_COLUMNS, key_field="key", parent=parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in self._ANSWERED:  # before anything else: Qt asks each painted cell for seven roles
            return None
        if index.isValid() and index.column() > 0 and index.row() < len(self._rows):
            record = self._rows[index.row()]
            key = self.columns[index.column()].key
            if role == Qt.ItemDataRole.DisplayRole:
                return figure_text(record, key, self._fmt)
            if role == Qt.ItemDataRole.ForegroundRole:
                return self._figure_colour(record, key)
        return super().data(index, role)

    def _figure_colour(self, record: dict[str, Any], key: str) -> QColor | None:
        theme: Theme = self._theme
        if key == "change":
            return theme.level(record["level"]) if record.get("level") else QColor(theme.muted)
        value = record.get(key)
        if record["key"] == "margin_usage":
            level = usage_level(value)
            return theme.level(level) if level in ("amber", "red") else None
        if record["key"] in ("equity", "free_margin") and value is not None and value < 0:
            return theme.level("red")
        if record["group"] == "liquidation":
            if value is None:
                return QColor(theme.muted)
            level = distance_level(value)
            return None if level == "calm" else theme.level(level)
        return None


def _near_text(near: tuple[str, float, float | None] | None, fmt: NumberFormat) -> str:
    if near is None:
        return "none in range"
    und, pct, price = near
    return f"{und} {fmt.price(price) if price is not None else ''} ({fmt.percent(pct, signed=True)})".replace("  ", " ")


def member_rows(members: dict[str, dict[str, Any]], venues: dict[str, str], fmt: NumberFormat) -> list[dict[str, Any]]:
    rows = []
    for account, pair in members.items():
        b, a = pair["before"], pair["after"]
        rows.append({"key": account, "account": account, "venue": venues.get(account, ""),
                     "im_b": b.get("initial_margin"), "im_a": a.get("initial_margin"),
                     "free_a": (a.get("equity") or 0.0) - (a.get("initial_margin") or 0.0),
                     "usage_a": a.get("margin_usage"),
                     "near_b": _near_text(nearest_liquidation(b), fmt),
                     "near_a": _near_text(nearest_liquidation(a), fmt),
                     "_tip": f"{account} margined on its own (its venue's view)"})
    return rows


def first_text(first: dict[str, Nearest | None], fmt: NumberFormat) -> str:
    parts = []
    for side in ("before", "after"):
        n = first.get(side)
        if n is None:
            parts.append(f"{side}: no member liquidates within −99 % .. +500 %")
        else:
            label = "all together" if n.underlying == "all" else n.underlying
            price = f" at {fmt.price(n.price)}" if n.price is not None else ""
            parts.append(f"{side}: <b>{n.account}</b> first, {label} {fmt.percent(n.pct, signed=True)}{price}")
    return "Which account liquidates first · " + " · ".join(parts)


class CompareTabs(QTabWidget):
    """The tabs of the before / after side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareTabs")
        self.setDocumentMode(True)
        self.figures = ComparisonModel(self)
        self.greeks = RecordTableModel(GREEK_COLUMNS, key_field="key", parent=self)
        self.positions = RecordTableModel(POSITION_COLUMNS, key_field="key", parent=self)
        self.members = RecordTableModel(MEMBER_COLUMNS, key_field="key", parent=self)
        self.venues = RecordTableModel(VENUE_COLUMNS, key_field="profile", parent=self)
        self.views: dict[str, QTableView] = {}
        self._page_names: dict[QWidget, str] = {}
        for name, model, title in (("figures", self.figures, "Before / after"), ("greeks", self.greeks, "Greeks"),
                                   ("positions", self.positions, "Positions"), ("members", self.members, "Members"),
                                   ("venues", self.venues, "Venues")):
            view = make_table_view(model, f"{name}Table")
            view.setSortingEnabled(False)
            fit_columns_once(view, stretch_last=name in STRETCH_LAST)  # no ResizeToContents columns: see `fit`
            self.views[name] = view
            page = QWidget()
            self._page_names[page] = name
            layout = QVBoxLayout(page)
            layout.setContentsMargins(0, 4, 0, 0)
            layout.setSpacing(4)
            if name == "members":
                self.margining = QLabel("")
                self.margining.setObjectName("muted")
                self.margining.setWordWrap(True)
                self.first = QLabel("")
                self.first.setWordWrap(True)
                layout.addWidget(self.margining)
                layout.addWidget(self.first)
            if name == "venues":
                self.venue_note = QLabel("The account and its drafts under each shipped venue profile, in the "
                                         "mode that venue uses; cheapest initial margin first.")
                self.venue_note.setObjectName("muted")
                self.venue_note.setWordWrap(True)
                layout.addWidget(self.venue_note)
            layout.addWidget(view, 1)
            self.addTab(page, title)
        self._result: tuple[Any, Any, bool, float, NumberFormat] | None = None  # shown by `show_result`
        self._unfilled: set[str] = set()  # tables filled from it when next shown
        self._unfitted: set[str] = set()  # tables whose columns are measured when next shown
        self.currentChanged.connect(lambda _i: self._shown())
        self.set_number_format(NumberFormat())
        self.setTabToolTip(3, "A pool: each member account side by side, and which liquidates first")
        self.setTabToolTip(4, "Which venue margins this account and its drafts cheapest")

    def show_result(self, r: Any, portfolio: Any, pool: bool, horizon_days: float, fmt: NumberFormat,
                    quick: bool = False) -> None:
        """Fill every tab from a `WhatIfResult` of `portfolio` (`pool`: a pool's, with its members;
        funding carried over `horizon_days`). `quick` (a slider is being dragged): the shown table
        only, the hidden ones when shown (a 500-position account's Greeks and positions rows
        cost the GUI thread about 10 ms at each update); see also `fit`."""
        self._result = (r, portfolio, pool, horizon_days, fmt)
        self._unfilled = {"figures", "greeks", "positions", "members"}
        self.setTabEnabled(3, pool)
        for name in [self._page_names.get(self.currentWidget(), "")] if quick else sorted(self._unfilled):
            self._fill(name)
        self.fit(quick)

    def _fill(self, name: str) -> None:
        """Fill the table `name` from the last result, if it was not yet."""
        if name not in self._unfilled or self._result is None:
            return
        self._unfilled.discard(name)
        r, portfolio, pool, horizon_days, fmt = self._result
        if name == "figures":
            rows = comparison_rows(r.before, r.after, cash=r.cash if r.trades else None, funding=r.funding,
                                   horizon_days=horizon_days)
            head = [x for x in rows if x["group"] == "headline" and x["key"] not in ("offset", "pooling")]
            rest = [x for x in rows if x not in head]
            self.figures.set_records(head + liquidation_rows(r.before, r.after) + rest)
        elif name in ("greeks", "positions"):
            names = instrument_names(portfolio, [(r.account, t) for t in r.trades])
            if name == "greeks":
                prices = {a: q.price for a, q in portfolio.market.items()}
                self.greeks.set_records(greeks_rows(r.before, r.after, names, prices))
            else:
                drafted = {(r.account, t.id) for t in r.trades}
                self.positions.set_records(position_rows(r.before, r.after, names, drafted, portfolio.base_currency))
        elif name == "members" and pool:
            venues = {a.id: a.venue or "" for a in portfolio.accounts}
            self.members.set_records(member_rows(r.members, venues, fmt))
            self.margining.setText(r.margining.text if r.margining else "")
            self.first.setText(first_text(r.first, fmt))
        elif name == "members":
            self.members.clear()

    def fit(self, quick: bool = False) -> None:
        """Fit the shown table's columns to the new contents now, the hidden tables' when shown.

        Measured once (`fit_columns_once`), not left to ResizeToContents columns: Qt 6 re-measures
        those at every change of the data, every row of a hidden table too, and the positions and
        Greeks tables of a 500-position account then cost the GUI thread about 100 ms at every
        update of a dragged slider. `quick` (while dragging): the visible rows only; the
        release's result fits them all.
        """
        self._unfitted = set(self.views)
        self._fit_shown(quick)

    def _shown(self) -> None:
        """Another tab is shown: filled and fitted if it was left for later."""
        self._fill(self._page_names.get(self.currentWidget(), ""))
        self._fit_shown()

    def _fit_shown(self, quick: bool = False) -> None:
        name = self._page_names.get(self.currentWidget())
        if name not in self._unfitted:
            return
        fit_columns_once(self.views[name], 0 if quick else FIT_ROWS, stretch_last=name in STRETCH_LAST)
        if not quick:
            self._unfitted.discard(name)

    def set_number_format(self, fmt: NumberFormat) -> None:
        """Write every table in `fmt`. The columns are measured again (the shown table's now, the
        others' when shown): they are fitted once, not ResizeToContents (see `fit`), and two more
        decimals would otherwise cut every figure ("810,0…"). A pool's members are written again:
        their distances and the "first" line hold text written in the format of their result."""
        for model, spec in ((self.greeks, GREEK_COLUMNS), (self.positions, POSITION_COLUMNS),
                            (self.members, MEMBER_COLUMNS), (self.venues, VENUE_COLUMNS)):
            model.columns = [replace(c, header=c.header.replace("{base}", fmt.base_currency)) for c in spec]
            model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(spec) - 1)
        for model in (self.figures, self.greeks, self.positions, self.members, self.venues):
            model.set_number_format(fmt)
        if self._result is not None:
            r, portfolio, pool, horizon_days, _old = self._result
            self._result = (r, portfolio, pool, horizon_days, fmt)
            if pool:
                self._unfilled.add("members")
                self._fill(self._page_names.get(self.currentWidget(), ""))
        self.fit()

    def set_theme(self, theme: Theme = LIGHT) -> None:
        for model in (self.figures, self.greeks, self.positions, self.members, self.venues):
            model.set_theme(theme)
