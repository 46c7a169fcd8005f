"""The drafted trades of the What-if tab: one-line entry, the Add dialog, the drafts table and a
size slider. Drafts live in memory, one list per account; `changed(dragging)` asks for a
recompute (`dragging`: the size slider is still moving)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from workstation.core.model import Account, Portfolio, Position
from workstation.core.profiles import Profile, get_profile, load_profiles
from workstation.core.units import UNITS, quantity_unit, round_to_lot
from workstation.ui.dialogs import PositionDialog
from workstation.ui.formatting import significant
from workstation.ui.table_model import RECORD_ROLE, Column, RecordTableModel
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.trade_line import parse_line, size_position, ticket_position
from workstation.ui.views import fit_columns, make_table_view
from workstation.ui.whatif_compute import Draft, draft_rows

UNIT_LABELS = {"coin": "Coins", "usd": "USD", "contracts": "Contracts"}
FEES = (("Taker fee", "taker"), ("Maker fee", "maker"), ("No fee", None))
LINE_HINT = "-3 BTC-PERPETUAL   ·   +5 BTC-27DEC26-80000-P   ·   sell 2 ETH/USDT:USDT   (Enter adds)"
DRAFT_COLUMNS: tuple[Column, ...] = (
    Column("Trade", "symbol", tip="The instrument as typed, else its name"),
    Column("Entered", "entered", tip="The size as entered, in the unit chosen"),
    Column("Quantity", "quantity", "qty", "The engine's quantity, rounded to the venue's lot", "sign"),
    Column("Unit", "unit", tip="Unit of the quantity: USD for inverse perpetuals and futures, else the coin"),
    Column("≈ Coins", "coins", "qty", "Coin equivalent at the mark"),
    Column("Entry", "entry", tip="Entry price per unit and its currency (the coin for inverse options); "
           "'mark': the engine's mark"),
    Column("Cash", "cash", "money", "Premium and fee paid (−) or received, base currency", "sign"),
)


def venue_settlement(account: Account) -> str:
    """The settlement an account's venue uses: what its derivatives mostly settle in, else the
    venue's convention (Deribit: inverse; the others: linear)."""
    counts: dict[str, int] = {}
    for p in account.positions:
        if p.kind != "spot":
            counts[p.settlement] = counts.get(p.settlement, 0) + 1
    if counts:
        return max(counts, key=lambda s: counts[s])
    return "inverse" if (account.venue or "").lower() == "deribit" else "linear"


class DraftDialog(PositionDialog):
    """The position dialog, for a drafted trade: account fixed, size in a chosen unit, entry
    optional (the mark), settlement defaulting to the account's venue convention."""

    def __init__(self, portfolio: Portfolio, account_id: str, ident: str, profile: Profile, unit: str = "coin",
                 parent: QWidget | None = None):
        super().__init__(portfolio, account_id, parent=parent)
        self.setWindowTitle("Draft a trade (not saved)")
        self.profile = profile
        self.account.setEnabled(False)
        self.ident.setText(ident)
        self.entry.optional = True
        self.entry.setPlaceholderText("the mark if empty")
        self.settlement.setCurrentText(venue_settlement(portfolio.account(account_id)))
        self.unit = QComboBox()
        for key in UNITS:
            self.unit.addItem(UNIT_LABELS[key], key)
        self.unit.setCurrentIndex(UNITS.index(unit))
        self.unit.setToolTip("Coins of the underlying, USD notional, or the venue's contracts")
        self.form.insertRow(self.form.getWidgetPosition(self.quantity)[0] + 1, "Size in", self.unit)
        self.form.labelForField(self.quantity).setText("Size")

    def result_value(self) -> Draft:  # type: ignore[override]
        pos = super().result_value()
        if pos.underlying not in self.portfolio.market:
            raise ValueError(f"Underlying: no market price for {pos.underlying}")
        if not pos.quantity:
            raise ValueError("Size: must not be zero")
        unit = self.unit.currentData()
        sized, _sizing, at_mark = size_position(self.portfolio, self.profile, pos, pos.quantity, unit,
                                                pos.entry_price)
        return Draft("", replace(sized, vol=pos.vol, isolated_margin=pos.isolated_margin), at_mark,
                     pos.quantity, unit)


class DraftsBox(QWidget):
    """Trade line, unit and fee choice, drafts table and the selected draft's size slider."""

    changed = Signal(bool)  # still dragging
    horizon_changed = Signal()  # the funding horizon (days)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.portfolio: Portfolio | None = None
        self.account: str | None = None
        self._profiles: dict[str, Profile] = {}
        self._drafts: dict[str, list[Draft]] = {}
        self._counter = 0
        self._base: tuple[str, float] | None = None  # (draft key, amount at 100 %) of the slider
        self.run_dialog: Callable[[Any], bool] = lambda dialog: bool(dialog.exec())

        self.line = QLineEdit()
        self.line.setObjectName("tradeLine")
        self.line.setPlaceholderText(LINE_HINT)
        self.line.setToolTip("A size and a symbol in the venue's or ccxt's name; optional unit word "
                             "(usd, contracts) and @ price. Enter adds it to the drafts.")
        self.line.returnPressed.connect(self.add_line)
        self.units = QButtonGroup(self)
        unit_row = QHBoxLayout()
        unit_row.setSpacing(0)
        for i, key in enumerate(UNITS):
            button = QPushButton(UNIT_LABELS[key])
            button.setCheckable(True)
            button.setObjectName("segment")
            button.setProperty("unit", key)
            button.setToolTip(f"Sizes typed without a unit are in {UNIT_LABELS[key].lower()}")
            self.units.addButton(button, i)
            unit_row.addWidget(button)
        self.units.button(0).setChecked(True)
        self.fee = QComboBox()
        for label, key in FEES:
            self.fee.addItem(label, key)
        self.fee.setToolTip("The venue's fee (from the profile) paid on the drafts, or none")
        self.fee.currentIndexChanged.connect(lambda _i: self.changed.emit(False))
        self.horizon = QDoubleSpinBox()
        self.horizon.setRange(0.125, 365.0)
        self.horizon.setDecimals(2)
        self.horizon.setValue(1.0)
        self.horizon.setSuffix(" d")
        self.horizon.setToolTip("Funding carry of the perpetuals over this many days, at today's rate per 8 hours")
        self.horizon.valueChanged.connect(lambda _v: self.horizon_changed.emit())
        self.add_line_button = QPushButton("Add")
        self.add_line_button.clicked.connect(self.add_line)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()

        self.model = RecordTableModel(DRAFT_COLUMNS, key_field="key", parent=self)
        self.view = make_table_view(self.model, "draftsTable")
        self.view.setSortingEnabled(False)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.size = QSlider(Qt.Orientation.Horizontal)
        self.size.setObjectName("sizeSlider")
        self.size.setRange(0, 200)
        self.size.setValue(100)
        self.size.setEnabled(False)
        self.size.setToolTip("Scale the selected draft from 0 to twice its size; the figures follow")
        self.size.valueChanged.connect(self._resize)
        self.size.sliderReleased.connect(lambda: self.changed.emit(False))
        self.size_label = QLabel("Select a draft to size it")
        self.size_label.setObjectName("muted")
        self.fit_button = QPushButton("Largest that fits")
        self.fit_button.setEnabled(False)
        self.fit_button.setToolTip("The largest size of the selected trade, in its direction, that still fits "
                                   "free margin (equity − IM ≥ 0, premiums and fees paid)")
        self.fit_label = QLabel("")

        entry = QHBoxLayout()
        entry.setSpacing(6)
        entry.addWidget(self.line, 1)
        entry.addWidget(self.add_line_button)
        options = QHBoxLayout()
        options.setSpacing(6)
        options.addWidget(QLabel("Sizes in"))
        options.addLayout(unit_row)
        options.addStretch(1)
        options.addWidget(QLabel("Fees"))
        options.addWidget(self.fee)
        funding = QLabel("Funding")  # short: the row must fit the what-if's half of a 1280 px window
        funding.setToolTip(self.horizon.toolTip())
        options.addWidget(funding)
        options.addWidget(self.horizon)
        slider = QHBoxLayout()
        slider.addWidget(QLabel("Size"))
        slider.addWidget(self.size, 1)
        slider.addWidget(self.size_label, 2)
        fit = QHBoxLayout()
        fit.addWidget(self.fit_button)
        fit.addWidget(self.fit_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(5)
        layout.addLayout(entry)
        layout.addLayout(options)
        layout.addWidget(self.error)
        layout.addWidget(self.view, 1)
        layout.addLayout(slider)
        layout.addLayout(fit)
        self.set_theme(LIGHT)

    def set_theme(self, theme: Theme) -> None:
        """The checked unit reads as selected in either theme."""
        for button in self.units.buttons():
            button.setStyleSheet(
                f"QPushButton:checked {{ background: {theme.highlight}; color: {theme.highlight_text}; "
                f"border: 1px solid {theme.highlight}; }}")

    # -------------------------------------------------------------- context
    def set_context(self, portfolio: Portfolio | None, account: str | None) -> None:
        if portfolio is not self.portfolio:
            self._profiles = (load_profiles(portfolio.profiles or None, as_of=portfolio.as_of)
                              if portfolio is not None else {})
            if portfolio is not None:
                ids = {a.id for a in portfolio.accounts}
                self._drafts = {k: v for k, v in self._drafts.items() if k in ids}
        self.portfolio, self.account = portfolio, account
        self.refresh()

    def profile(self) -> Profile:
        assert self.portfolio is not None and self.account is not None
        return get_profile(self.portfolio.account(self.account).profile, self._profiles)

    def unit(self) -> str:
        return self.units.checkedButton().property("unit")

    def liquidity(self) -> str | None:
        return self.fee.currentData()

    # -------------------------------------------------------------- drafts
    def drafts(self) -> list[Draft]:
        return list(self._drafts.get(self.account, [])) if self.account else []

    def next_id(self) -> str:
        taken = {d.position.id for d in self.drafts()}
        n = len(taken) + 1
        while f"trade-{n}" in taken:
            n += 1
        return f"trade-{n}"

    def add_draft(self, draft: Draft | Position) -> Draft:
        if self.account is None:
            raise ValueError("Select an account first")
        if isinstance(draft, Position):
            draft = Draft("", draft)
        self._counter += 1
        draft = replace(draft, key=f"draft-{self._counter}")
        self._drafts.setdefault(self.account, []).append(draft)
        self.refresh(select=draft.key)
        self.changed.emit(False)
        return draft

    def add_line(self) -> Draft | None:
        """Parse the trade line and add it; the reason is shown when it is refused."""
        if self.portfolio is None or self.account is None:
            return None
        venue = self.portfolio.account(self.account).venue
        try:
            ticket = parse_line(self.line.text(), default_unit=self.unit(), venue=venue)
            sized = ticket_position(ticket, self.portfolio, self.profile(), self.next_id())
        except ValueError as exc:
            self.show_error(str(exc))
            return None
        self.show_error("")
        self.line.clear()
        return self.add_draft(Draft("", sized.position, sized.at_mark, ticket.amount, ticket.unit, sized.settle,
                                    ticket.symbol))

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def open_dialog(self) -> None:
        if self.portfolio is None or self.account is None:
            return
        dialog = DraftDialog(self.portfolio, self.account, self.next_id(), self.profile(), self.unit(), parent=self)
        dialog.on_submit = self.add_draft
        self.run_dialog(dialog)

    def remove_selected(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        if not rows or self.account is None:
            return
        key = rows[0].data(RECORD_ROLE)["key"]
        self._drafts[self.account] = [d for d in self._drafts.get(self.account, []) if d.key != key]
        self.refresh()
        self.changed.emit(False)

    def clear(self, account: str | None = None) -> None:
        account = account or self.account
        if account is not None and self._drafts.pop(account, None) is not None:
            self.refresh()
            self.changed.emit(False)

    def replace_drafts(self, account: str, positions: list[Position]) -> None:
        """The account's drafts become `positions` (a loaded scenario), ids made present."""
        drafts: list[Draft] = []
        taken = {p.id for p in positions if p.id}
        n = 0
        for pos in positions:
            if not pos.id:
                n += 1
                while f"trade-{n}" in taken:
                    n += 1
                taken.add(f"trade-{n}")
                pos = replace(pos, id=f"trade-{n}")
            self._counter += 1
            drafts.append(Draft(f"draft-{self._counter}", pos))
        self._drafts[account] = drafts
        self.refresh()
        self.changed.emit(False)

    def refresh(self, legs: list[Any] | None = None, select: str | None = None) -> None:
        self.model.set_records(draft_rows(self.drafts(), self.portfolio, legs or []))
        fit_columns(self.view)
        if select is not None:
            row = self.model.row_of(select)
            if row >= 0:
                self.view.selectRow(row)
        self._selected()

    # -------------------------------------------------------------- size slider
    def selected(self) -> Draft | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        key = rows[0].data(RECORD_ROLE)["key"]
        return next((d for d in self.drafts() if d.key == key), None)

    def _selected(self) -> None:
        draft = self.selected()
        self.size.setEnabled(draft is not None)
        self.fit_button.setEnabled(draft is not None)
        if draft is None or (self._base is not None and self._base[0] != draft.key):
            self.fit_label.setText("")
        if draft is None:
            self._base = None
            self.size_label.setText("Select a draft to size it")
            return
        amount = draft.amount if draft.amount is not None else draft.position.quantity
        if self._base is None or self._base[0] != draft.key:
            self._base = (draft.key, amount)
            self.size.blockSignals(True)
            self.size.setValue(100)
            self.size.blockSignals(False)
        self._size_text(draft)

    def _size_text(self, draft: Draft) -> None:
        p = draft.position
        base = self.portfolio.base_currency if self.portfolio else "USD"
        unit = quantity_unit(p.kind, p.settlement, p.underlying, base)
        spec = self.profile().trading.contract(p.underlying, p.kind, p.settlement) if self.account else None
        contracts = f" = {significant(p.quantity / spec.size)} contracts" if spec is not None and spec.listed else ""
        self.size_label.setText(f"{self.size.value()} % · {significant(p.quantity)} {unit}{contracts}")

    def show_fit(self, key: str, quantity: float | None) -> None:
        """The answer of a "largest that fits" job for the draft `key`."""
        draft = next((d for d in self.drafts() if d.key == key), None)
        if draft is None or self.portfolio is None:
            return
        p = draft.position
        base = self.portfolio.base_currency
        unit = quantity_unit(p.kind, p.settlement, p.underlying, base)
        if quantity is None:
            self.fit_label.setText("fits free margin at any size up to the search limit")
        elif quantity == 0:
            self.fit_label.setText("no size of it fits free margin")
        else:
            spec = self.profile().trading.contract(p.underlying, p.kind, p.settlement)
            step = spec.step
            q = quantity if not step else (abs(quantity) // step) * step * (1 if quantity > 0 else -1)
            self.fit_label.setText(f"largest that fits: {q:,.10g} {unit}"
                                   + (f" ({q / spec.size:,.10g} contracts)" if spec.listed else ""))

    def _resize(self, value: int) -> None:
        draft = self.selected()
        if draft is None or self._base is None or self.portfolio is None:
            return
        amount = self._base[1] * value / 100.0
        pos = draft.position
        if draft.amount is not None and draft.unit is not None and amount:
            try:
                sized, _s, _m = size_position(self.portfolio, self.profile(), pos, amount, draft.unit,
                                              None if draft.at_mark else pos.entry_price)
                new = replace(draft, position=replace(sized, vol=pos.vol, isolated_margin=pos.isolated_margin),
                              amount=amount)
            except ValueError:
                new = replace(draft, position=replace(pos, quantity=0.0), amount=amount)
        else:
            spec = self.profile().trading.contract(pos.underlying, pos.kind, pos.settlement)
            new = replace(draft, position=replace(pos, quantity=round_to_lot(amount, spec)),
                          amount=None if draft.amount is None else amount)
        items = self._drafts[self.account]  # type: ignore[index]
        items[[d.key for d in items].index(draft.key)] = new
        self.model.set_records(draft_rows(self.drafts(), self.portfolio))
        self._size_text(new)
        self.changed.emit(self.size.isSliderDown())

