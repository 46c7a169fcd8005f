"""What-if / hedge panel: draft hypothetical trades for one account and compare its figures
before and after, or let the engine suggest a hedge quantity.

Drafts live in memory (one list per account); the engine runs in a worker (the newest
request wins). "Save…" / "Load…" keep drafts as named scenarios (the store's `scenarios` table
only); the book itself is never written here: "Apply to book…" asks the window to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimeZone, Signal
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workstation.core.model import KINDS, RIGHTS, SETTLEMENTS, Portfolio, Position
from workstation.store.errors import StoreError
from workstation.ui.dialogs import PositionDialog, _combo, _qdatetime
from workstation.ui.errors import show_error
from workstation.ui.fields import NumberField
from workstation.ui.formatting import DASH, MINUS, NumberFormat, distance_level, usage_level
from workstation.ui.table_model import RECORD_ROLE, Column, RecordTableModel
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.views import fit_columns, make_table_view
from workstation.ui.whatif_compute import (
    Draft,
    WhatIfResult,
    comparison_rows,
    draft_rows,
    mark_price,
    run_suggest,
    run_whatif,
)
from workstation.ui.worker import LatestJob

Index = QModelIndex | QPersistentModelIndex

DRAFT_COLUMNS: tuple[Column, ...] = (
    Column("Id", "id", tip="Id the trade would get in the account"),
    Column("Kind", "kind"),
    Column("Underlying", "underlying"),
    Column("Settlement", "settlement"),
    Column("Quantity", "quantity", "qty", "Signed quantity; positive is long", "sign"),
    Column("Entry", "entry_price", "price", "Entry price; 'mark' trades at the engine's mark", blank="mark"),
    Column("Expiry", "expiry"),
    Column("Option", "option", tip="Right and strike"),
)
COMPARISON_COLUMNS: tuple[Column, ...] = (
    Column("Figure", "label", tip="The account's figures, as the engine reports them"),
    Column("Before", "before", "number", "The account as booked"),
    Column("After", "after", "number", "With the drafted trades"),
    Column("Change", "change", "number",
           "After minus before: green when it helps, amber (red in the red band) when it hurts"),
)
HEDGE_HINT = "Pick an instrument and an objective: the engine finds the quantity (on top of the drafts)."
OBJECTIVES = (
    ("Delta-neutral", "delta", "Quantity that brings the account's delta on the underlying to zero"),
    ("Lowest initial margin", "margin", "Quantity that minimises the account's initial margin"),
    ("Furthest liquidation", "liquidation", "Quantity that pushes the nearest liquidation furthest away"),
)


class ComparisonModel(RecordTableModel):
    """Before / after / change rows; each row says how its figures are written (`fmt`)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COMPARISON_COLUMNS, key_field="key", parent=parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
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
        if record["group"] == "liquidation":
            if value is None:
                return QColor(theme.muted)
            level = distance_level(value)
            return None if level == "calm" else theme.level(level)
        return None


def figure_text(record: dict[str, Any], key: str, fmt: NumberFormat) -> str:
    """Before / after / change of one comparison row, written as its `fmt` says."""
    value = record.get(key)
    kind = record["fmt"]
    if value is None:
        if kind == "pct" and key != "change":
            return "none"
        if kind == "pct" and (record.get("before") is None) != (record.get("after") is None):
            return "in range" if record.get("before") is None else "out of range"
        return DASH
    if key == "change":
        if kind in ("ratio", "pct"):
            pp = value * 100.0 if kind == "ratio" else value
            return fmt.percent(pp, 1, signed=True).replace(" %", " pp")
        text = fmt.money(value) if kind == "money" else fmt.greek(value)
        return text if text.startswith(MINUS) or not value or set(text) <= set("0.,") else f"+{text}"
    if kind == "money":
        return fmt.money(value)
    if kind == "ratio":
        return fmt.ratio(value)
    if kind == "pct":
        return fmt.percent(value, signed=True)
    return fmt.greek(value)


class DraftDialog(PositionDialog):
    """The position dialog, for a drafted trade: account fixed, entry optional (the mark)."""

    def __init__(self, portfolio: Portfolio, account_id: str, ident: str, parent: QWidget | None = None):
        super().__init__(portfolio, account_id, parent=parent)
        self.setWindowTitle("Draft a trade (not saved)")
        self.account.setEnabled(False)
        self.ident.setText(ident)
        self.entry.optional = True
        self.entry.setPlaceholderText("the mark if empty")

    def result_value(self) -> Draft:  # type: ignore[override]
        pos = super().result_value()
        if pos.underlying not in self.portfolio.market:
            raise ValueError(f"Underlying: no market price for {pos.underlying}")
        if not pos.quantity:
            raise ValueError("Quantity: must not be zero")
        at_mark = pos.entry_price is None
        return Draft("", replace(pos, entry_price=0.0) if at_mark else pos, at_mark)


class HedgeForm(QFrame):
    """The hedge instrument (fields follow the kind, like the position dialog), the objective,
    the suggested quantity and a button that adds it to the drafts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.portfolio: Portfolio | None = None
        self.account_id: str | None = None
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
        self.vol = NumberField(optional=True, placeholder="market vol if empty")
        self.objective = QComboBox()
        for label, key, tip in OBJECTIVES:
            self.objective.addItem(label, key)
            self.objective.setItemData(self.objective.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.suggest_button = QPushButton("Suggest")
        self.suggest_button.setDefault(False)
        self.add_button = QPushButton("Add to drafts")
        self.add_button.setEnabled(False)
        self.result = QLabel(HEDGE_HINT)
        self.result.setObjectName("muted")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        left, right = QFormLayout(), QFormLayout()
        for form in (left, right):
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            form.setHorizontalSpacing(10)
            form.setVerticalSpacing(6)
        left.addRow("Instrument", self.kind)
        left.addRow("Underlying", self.underlying)
        left.addRow("Settlement", self.settlement)
        left.addRow("Entry price", self.entry)
        right.addRow("Expiry", self.expiry)
        right.addRow("Right", self.right)
        right.addRow("Strike", self.strike)
        right.addRow("Implied vol", self.vol)
        self.forms = (left, right)
        fields = QHBoxLayout()
        fields.setSpacing(16)
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
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(8)
        layout.addLayout(fields)
        layout.addLayout(actions)
        layout.addWidget(self.result)
        self.kind.currentTextChanged.connect(self._follow_kind)
        self._follow_kind()

    def set_context(self, portfolio: Portfolio | None, account_id: str | None) -> None:
        """New book or account: default to the account's main underlying and its perpetual."""
        self.portfolio, self.account_id = portfolio, account_id
        if portfolio is None or account_id is None:
            return
        assets = sorted(portfolio.market)
        current = self.underlying.currentText()
        self.underlying.blockSignals(True)
        self.underlying.clear()
        self.underlying.addItems(assets)
        self.underlying.blockSignals(False)
        positions = portfolio.account(account_id).positions
        counts: dict[str, int] = {}
        for p in positions:
            counts[p.underlying] = counts.get(p.underlying, 0) + 1
        main = max(counts, key=lambda u: counts[u]) if counts else (current or (assets[0] if assets else ""))
        self.underlying.setCurrentText(main)
        perp = next((p for p in positions if p.underlying == main and p.kind in ("perpetual", "future")), None)
        self.settlement.setCurrentText(perp.settlement if perp else "linear")
        self.expiry.setDateTime(_qdatetime(portfolio.as_of + timedelta(days=30)))
        price = portfolio.market[main].price if main in portfolio.market else None
        if price and not self.strike.text():
            self.strike.set_value(float(f"{price:.2g}"))
        self._follow_kind()

    def _follow_kind(self) -> None:
        kind = self.kind.currentText()
        shown = {
            self.settlement: kind != "spot",
            self.expiry: kind in ("future", "option"),
            self.right: kind == "option",
            self.strike: kind == "option",
            self.vol: kind == "option",
        }
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
            id=f"hedge-{underlying.lower()}-{kind}",
            kind=kind,
            underlying=underlying,
            quantity=1.0,
            entry_price=entry if entry is not None else 0.0,
            settlement="linear" if kind == "spot" else self.settlement.currentText(),
            expiry=expiry,
            right=self.right.currentText() if option else None,
            strike=self.strike.value("Strike") if option else None,
            vol=self.vol.value("Implied vol") if option else None,
        )
        return Draft("", pos, at_mark=entry is None)


class ScenarioDialog(QDialog):
    """The account's saved scenarios (name, date, trade count). "Load" accepts with the chosen
    one; "Delete…" calls `on_delete(id)` and drops the row when it returns True."""

    def __init__(self, account_id: str, scenarios: list[dict[str, Any]], on_delete: Callable[[int], bool],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Saved scenarios · {account_id}")
        self.on_delete = on_delete
        self.list = QListWidget()
        self.list.setObjectName("scenarioList")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for sc in reversed(scenarios):  # newest first
            n = sc.get("trade_count") or 0
            when = sc["created_at"].astimezone(UTC)
            item = QListWidgetItem(f"{sc['name']}  ·  {when:%Y-%m-%d %H:%M} UTC  ·  {n} trade{'' if n == 1 else 's'}")
            item.setData(Qt.ItemDataRole.UserRole, sc["id"])
            self.list.addItem(item)
        self.empty = QLabel(f"No saved scenarios for account {account_id}.")
        self.empty.setObjectName("muted")
        note = QLabel("Loading replaces the current drafts of the account.")
        note.setObjectName("muted")
        self.buttons = QDialogButtonBox()
        self.load_button = self.buttons.addButton("Load", QDialogButtonBox.ButtonRole.AcceptRole)
        self.delete_button = self.buttons.addButton("Delete…", QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.load_button.clicked.connect(self.accept)
        self.delete_button.clicked.connect(self.delete_selected)
        self.buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.currentRowChanged.connect(lambda _row: self._update())
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.resize(460, 300)
        if self.list.count():
            self.list.setCurrentRow(0)
        self._update()

    def chosen(self) -> int | None:
        """The id of the selected scenario, if any."""
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def select_id(self, scenario_id: int) -> bool:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == scenario_id:
                self.list.setCurrentRow(row)
                return True
        return False

    def delete_selected(self) -> None:
        chosen = self.chosen()
        if chosen is not None and self.on_delete(chosen):
            self.list.takeItem(self.list.currentRow())
        self._update()

    def _update(self) -> None:
        has = self.chosen() is not None
        self.load_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.empty.setVisible(self.list.count() == 0)


class WhatIfPanel(QWidget):
    """Drafts, hedge suggestion and the before / after / change table of one account."""

    apply_requested = Signal(str, list)  # account id, [Position]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("whatIfPanel")
        self.portfolio: Portfolio | None = None
        self.scope: str | None = None
        self.read_only = True
        self.db: Any = None  # the store's database (None for a portfolio file): scenarios live there
        self.result: WhatIfResult | None = None  # of the newest request, once delivered
        self.suggestion: WhatIfResult | None = None
        self._drafts: dict[str, list[Draft]] = {}
        self._counter = 0
        self._dirty = False
        self._stale = True  # the shown result is not that of the current drafts
        self._fmt = NumberFormat()
        self.job = LatestJob(self._on_result, self._on_error, parent=self)
        self.suggest_job = LatestJob(self._on_suggestion, self._on_suggest_error, parent=self)
        self.job.busy_changed.connect(lambda _b: self._update_status())

        title = QLabel("What-if")
        title.setObjectName("sectionTitle")
        self.target = QLabel("")
        self.account_box = QComboBox()
        self.account_box.setToolTip("Trades go into one account: pick a member account of the pool")
        self.account_box.hide()
        self.account_box.currentIndexChanged.connect(lambda _i: self._account_changed())
        note = QLabel("Drafts stay in memory; only “Apply to book…” changes the book.")
        note.setObjectName("muted")
        head = QHBoxLayout()
        head.setSpacing(10)
        head.addWidget(title)
        head.addSpacing(6)
        head.addWidget(self.target)
        head.addWidget(self.account_box)
        head.addStretch(1)
        head.addWidget(note)

        self.drafts_model = RecordTableModel(DRAFT_COLUMNS, key_field="key", parent=self)
        self.drafts_view = make_table_view(self.drafts_model, "draftsTable")
        self.drafts_view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.add_button = QPushButton("Add…")
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear")
        self.save_button = QPushButton("Save…")
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Replace the drafts with a saved scenario of this account (or delete one)")
        self.apply_button = QPushButton("Apply to book…")
        self.apply_button.setToolTip("Save the drafted trades to the account in the database (asks first)")
        self.add_button.clicked.connect(self.add_trade)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(lambda: self.clear_drafts())
        self.save_button.clicked.connect(lambda: self.save_scenario())
        self.load_button.clicked.connect(self.open_scenarios)
        self.apply_button.clicked.connect(self.apply)
        drafts_bar = QHBoxLayout()
        drafts_bar.setSpacing(8)
        drafts_title = QLabel("Drafted trades")
        drafts_title.setObjectName("sectionTitle")
        drafts_bar.addWidget(drafts_title)
        drafts_bar.addStretch(1)
        for button in (self.add_button, self.remove_button, self.clear_button, self.save_button,
                       self.load_button, self.apply_button):
            drafts_bar.addWidget(button)

        self.hedge = HedgeForm()
        self.hedge.suggest_button.clicked.connect(self.suggest)
        self.hedge.add_button.clicked.connect(self.add_suggestion)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(6)
        left_layout.addLayout(drafts_bar)
        left_layout.addWidget(self.drafts_view, 1)
        left_layout.addSpacing(6)
        hedge_title = QLabel("Suggest a hedge")
        hedge_title.setObjectName("sectionTitle")
        left_layout.addWidget(hedge_title)
        left_layout.addWidget(self.hedge)

        self.compare_model = ComparisonModel(self)
        self.compare_view = make_table_view(self.compare_model, "whatIfTable")
        self.compare_view.setSortingEnabled(False)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.compare_title = compare_title = QLabel("Before and after")
        compare_title.setObjectName("sectionTitle")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(6)
        right_layout.addWidget(compare_title)
        right_layout.addWidget(self.compare_view, 1)
        right_layout.addWidget(self.status)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("whatIfSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([640, 560])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.splitter, 1)
        self.setEnabled(False)
        self._update_buttons()

    # -- context ----------------------------------------------------------------------------
    def set_context(self, portfolio: Portfolio | None, scope: str | None, read_only: bool, db: Any = None) -> None:
        """The book, the selected scope, whether the book can be written and the database (for
        saved scenarios; None for a portfolio file); recompute if needed."""
        if db is not self.db:
            self.db = db
            self._update_buttons()
        if portfolio is self.portfolio and scope == self.scope and read_only == self.read_only:
            return
        new_book = portfolio is not self.portfolio
        self.portfolio, self.scope, self.read_only = portfolio, scope, read_only
        if new_book and portfolio is not None:
            ids = {a.id for a in portfolio.accounts}
            self._drafts = {k: v for k, v in self._drafts.items() if k in ids}
        kind, _, ident = (scope or "").partition(":")
        self.account_box.blockSignals(True)
        previous = self.account_box.currentText()
        self.account_box.clear()
        if portfolio is not None and kind == "pool":
            pool = portfolio.pool(ident)
            for acc_id in pool.accounts:
                acc = portfolio.account(acc_id)
                self.account_box.addItem(acc.name or acc.id, acc.id)
            idx = self.account_box.findText(previous)
            self.account_box.setCurrentIndex(max(0, idx))
            self.target.setText(f"Pool {pool.name or pool.id}: trades go into one account")
        elif portfolio is not None and kind == "account":
            acc = portfolio.account(ident)
            self.target.setText(f"Trades for {acc.name or acc.id} ({acc.id})")
        else:
            self.target.setText("Select an account or a pool")
        self.account_box.setVisible(kind == "pool")
        self.account_box.blockSignals(False)
        self.setEnabled(self.account_id() is not None)
        self._account_changed()

    def account_id(self) -> str | None:
        """The account the drafts go into (the selected account, or the pool member picked)."""
        if self.portfolio is None:
            return None
        kind, _, ident = (self.scope or "").partition(":")
        if kind == "account":
            return ident
        if kind == "pool":
            return self.account_box.currentData()
        return None

    def _account_changed(self) -> None:
        self.hedge.set_context(self.portfolio, self.account_id())
        self._drafts_changed()

    # -- drafts -----------------------------------------------------------------------------
    def drafts(self) -> list[Draft]:
        account = self.account_id()
        return list(self._drafts.get(account, [])) if account else []

    def add_draft(self, draft: Draft | Position) -> Draft:
        """Add a hypothetical trade to the current account's drafts (memory only)."""
        account = self.account_id()
        if account is None:
            raise ValueError("Select an account first")
        if isinstance(draft, Position):
            draft = Draft("", draft)
        self._counter += 1
        draft = replace(draft, key=f"draft-{self._counter}")
        self._drafts.setdefault(account, []).append(draft)
        self._drafts_changed()
        return draft

    def next_id(self) -> str:
        taken = {d.position.id for d in self.drafts()}
        n = len(taken) + 1
        while f"trade-{n}" in taken:
            n += 1
        return f"trade-{n}"

    def add_trade(self) -> None:
        """Add… : the position dialog, drafting instead of saving."""
        account = self.account_id()
        if self.portfolio is None or account is None:
            return
        dialog = DraftDialog(self.portfolio, account, self.next_id(), parent=self)
        dialog.on_submit = self.add_draft
        self.run_dialog(dialog)

    def run_dialog(self, dialog: Any) -> bool:
        """Show a modal dialog (tests replace this); True when accepted."""
        return bool(dialog.exec())

    def remove_selected(self) -> None:
        rows = self.drafts_view.selectionModel().selectedRows()
        account = self.account_id()
        if not rows or account is None:
            return
        key = rows[0].data(RECORD_ROLE)["key"]
        self._drafts[account] = [d for d in self._drafts.get(account, []) if d.key != key]
        self._drafts_changed()

    def clear_drafts(self, account: str | None = None) -> None:
        account = account or self.account_id()
        if account is not None and self._drafts.pop(account, None) is not None:
            self._drafts_changed()

    def _drafts_changed(self) -> None:
        self.drafts_model.set_records(draft_rows(self.drafts()))
        fit_columns(self.drafts_view)
        self._set_suggestion(None)
        self._stale = True
        self._dirty = True
        if self.isVisible():
            self.request()
        self._update_buttons()

    # -- engine -----------------------------------------------------------------------------
    def request(self) -> None:
        """Recompute before / after in a worker (a newer request supersedes this one)."""
        account = self.account_id()
        self._dirty = False
        if self.portfolio is None or account is None:
            self.compare_model.clear()
            return
        self._stale = True
        self.job.submit(run_whatif, self.portfolio, account, self.drafts())
        self._update_status()

    def is_busy(self) -> bool:
        return self.job.is_busy() or self.suggest_job.is_busy()

    def is_current(self) -> bool:
        """The shown result is that of the current book, account and drafts."""
        return self.result is not None and not self._stale and not self._dirty

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.request()

    def _on_result(self, result: WhatIfResult) -> None:
        self.result = result
        self._stale = False
        self.compare_title.setText(f"Before and after · account {result.account}")
        self.compare_model.set_records(comparison_rows(result.before, result.after))
        fit_columns(self.compare_view)
        self._update_buttons()
        self._update_status()

    def _on_error(self, exc: BaseException) -> None:
        self._stale = True
        self.status.setText(f"Could not compute the what-if: {exc}")
        self._update_buttons()

    def _update_status(self) -> None:
        if self.job.is_busy():
            self.status.setText("computing…")
        elif self.result is not None and not self._stale:
            n = len(self.result.trades)
            what = f"{n} drafted trade{'' if n == 1 else 's'}" if n else "no drafted trades yet"
            self.status.setText(f"Account {self.result.account} with {what} · computed in "
                                f"{self.result.elapsed_ms:.0f} ms · delta per 1 {self._fmt.base_currency} move")

    # -- hedge suggestion -------------------------------------------------------------------
    def suggest(self) -> None:
        account = self.account_id()
        if self.portfolio is None or account is None:
            return
        try:
            hedge = self.hedge.instrument()
        except ValueError as exc:
            self._set_suggestion(None, str(exc))
            return
        self._set_suggestion(None, "searching…")
        self.suggest_job.submit(run_suggest, self.portfolio, account, self.drafts(), hedge,
                                self.hedge.objective_key())

    def _on_suggestion(self, result: WhatIfResult) -> None:
        self._set_suggestion(result)

    def _on_suggest_error(self, exc: BaseException) -> None:
        self._set_suggestion(None, f"No suggestion: {exc}")

    def _set_suggestion(self, result: WhatIfResult | None, message: str | None = None) -> None:
        self.suggestion = result
        self.hedge.add_button.setEnabled(result is not None and bool(result.suggestion["quantity"]))
        if result is None:
            self.hedge.result.setText(message or HEDGE_HINT)
            return
        s, fmt = result.suggestion, self._fmt
        q = s["quantity"]
        side = "buy" if q > 0 else "sell"
        und = s["underlying"]
        before, after = result.before, result.after
        d0 = before.get("greeks", {}).get(und, {}).get("delta", 0.0)
        d1 = after.get("greeks", {}).get(und, {}).get("delta", 0.0)
        lines = [f"<b>{side} {fmt.quantity(abs(q))}</b> {result.hedge.id if result.hedge else ''}"
                 if q else "<b>no trade helps</b>: the best quantity is 0",
                 f"delta {und} {fmt.greek(d0)} → {fmt.greek(d1)} · initial margin "
                 f"{fmt.money(before.get('initial_margin'))} → {fmt.money(after.get('initial_margin'))}"]
        if "distance_after_pct" in s:
            lines.append(f"nearest liquidation on {und} {s['distance_before_pct']:.1f} % → "
                         f"{s['distance_after_pct']:.1f} % away (500 % = none in range)")
        self.hedge.result.setText("<br>".join(lines))

    def add_suggestion(self) -> Draft | None:
        """Add the suggested hedge (its quantity) to the drafts, in one click."""
        result = self.suggestion
        if result is None or result.hedge is None or not result.hedge.quantity:
            return None
        at_mark = self.hedge.entry.text().strip() == ""
        shown = self.hedge.result.text()
        draft = self.add_draft(Draft("", result.hedge, at_mark=at_mark))
        self.hedge.result.setText(f"{shown}<br><i>added to the drafts as {draft.position.id}</i>")
        return draft

    # -- scenarios --------------------------------------------------------------------------
    def confirm(self, text: str) -> bool:
        """Ask before a destructive step (tests replace this)."""
        answer = QMessageBox.question(self, "Margin Workstation", text)
        return answer == QMessageBox.StandardButton.Yes

    def scenario_trades(self) -> list[Position]:
        """The drafts as the trades of a scenario: an entry left at the mark is saved at the
        current mark (a scenario holds plain positions)."""
        if self.portfolio is None:
            return []
        return [replace(d.position, entry_price=mark_price(self.portfolio, d.position)) if d.at_mark
                else d.position for d in self.drafts()]

    def save_scenario(self) -> int | None:
        """Save… : ask a name, save the account's drafts as a scenario; its id (None if not saved).
        Writes the scenarios table only, never the book."""
        from workstation.store.repository import save_scenario

        account = self.account_id()
        if self.db is None or account is None or not self.drafts():
            return None
        default = f"{account} {datetime.now(UTC):%Y-%m-%d %H:%M}"
        name, ok = QInputDialog.getText(self, "Save scenario", f"Name of the scenario (account {account}):",
                                        QLineEdit.EchoMode.Normal, default)
        name = name.strip()
        if not ok or not name:
            return None
        try:
            trades = self.scenario_trades()
            scenario_id = save_scenario(self.db, name, account, trades)
        except (ValueError, StoreError) as exc:
            show_error(self, "Save scenario", exc)
            return None
        n = len(trades)
        self.status.setText(f"Saved scenario “{name}” ({n} trade{'' if n == 1 else 's'}) for account {account}.")
        return scenario_id

    def scenarios(self) -> list[dict[str, Any]]:
        """The current account's saved scenarios, oldest first (empty without a database)."""
        from workstation.store.repository import list_scenarios

        account = self.account_id()
        if self.db is None or account is None:
            return []
        return list_scenarios(self.db, account)

    def open_scenarios(self) -> None:
        """Load… : the account's saved scenarios; the one chosen replaces the drafts."""
        account = self.account_id()
        if self.db is None or account is None:
            return
        dialog = ScenarioDialog(account, self.scenarios(), self.delete_scenario, parent=self)
        if self.run_dialog(dialog) and dialog.chosen() is not None:
            self.load_scenario(dialog.chosen())

    def load_scenario(self, scenario_id: int) -> None:
        """Replace the current account's drafts with the scenario's trades, and recompute."""
        from workstation.store.repository import load_scenario

        account = self.account_id()
        if self.db is None or account is None:
            return
        try:
            scenario = load_scenario(self.db, scenario_id)
        except StoreError as exc:
            show_error(self, "Load scenario", exc)
            return
        drafts: list[Draft] = []
        taken = {p.id for p in scenario["trades"] if p.id}
        n = 0
        for pos in scenario["trades"]:
            if not pos.id:  # scenarios may hold trades without ids
                n += 1
                while f"trade-{n}" in taken:
                    n += 1
                taken.add(f"trade-{n}")
                pos = replace(pos, id=f"trade-{n}")
            self._counter += 1
            drafts.append(Draft(f"draft-{self._counter}", pos))
        self._drafts[account] = drafts
        self._drafts_changed()

    def delete_scenario(self, scenario_id: int) -> bool:
        """Delete a saved scenario after asking; True when deleted."""
        from workstation.store.repository import delete_scenario

        if self.db is None or not self.confirm("Delete this saved scenario? The book is not affected."):
            return False
        try:
            delete_scenario(self.db, scenario_id)
        except StoreError as exc:
            show_error(self, "Delete scenario", exc)
            return False
        return True

    # -- apply ------------------------------------------------------------------------------
    def apply(self) -> None:
        """Ask the window to save the drafted trades (as last computed) to the account."""
        if self.read_only or not self.is_current() or not self.result or not self.result.trades:
            return
        self.apply_requested.emit(self.result.account, list(self.result.trades))

    def _update_buttons(self) -> None:
        has_account = self.account_id() is not None
        has_drafts = bool(self.drafts())
        selected = bool(self.drafts_view.selectionModel().selectedRows())
        self.add_button.setEnabled(has_account)
        self.remove_button.setEnabled(has_drafts and selected)
        self.clear_button.setEnabled(has_drafts)
        store = self.db is not None
        self.save_button.setEnabled(has_drafts and store)
        self.load_button.setEnabled(has_account and store)
        self.save_button.setToolTip(
            "Saved scenarios need the database (the source is a read-only portfolio file)" if not store
            else "Save the drafts as a named scenario of this account (the book is not changed)")
        self.apply_button.setEnabled(has_drafts and not self.read_only and self.is_current())
        self.apply_button.setToolTip(
            "The book is read-only (a portfolio file)" if self.read_only
            else "Save the drafted trades to the account in the database (asks first)")

    # -- display ----------------------------------------------------------------------------
    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        self.drafts_model.set_number_format(fmt)
        self.compare_model.set_number_format(fmt)
        if self.suggestion is not None:
            self._set_suggestion(self.suggestion)

    def set_theme(self, theme: Theme = LIGHT) -> None:
        self.drafts_model.set_theme(theme)
        self.compare_model.set_theme(theme)
