"""Saved what-if scenarios: the dialog that lists an account's scenarios, and the panel's
save / load / delete actions (the store's `scenarios` table only; the book is never written)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from workstation.core.model import Position
from workstation.store.errors import StoreError
from workstation.ui.errors import show_error
from workstation.ui.whatif_compute import Draft, resolve_entries


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


class ScenarioActions:
    """Save… / Load… / Delete of the current account's drafts; mixed into the What-if panel,
    which provides `db`, `portfolio`, `account_id()`, `drafts()`, `status`, `run_dialog()`,
    `replace_drafts()`."""

    db: Any
    portfolio: Any
    status: QLabel

    def account_id(self) -> str | None:  # provided by the panel
        raise NotImplementedError

    def drafts(self) -> list[Draft]:
        raise NotImplementedError

    def run_dialog(self, dialog: Any) -> bool:
        raise NotImplementedError

    def replace_drafts(self, account: str, positions: list[Position]) -> None:
        raise NotImplementedError

    def confirm(self, text: str) -> bool:
        """Ask before a destructive step (tests replace this)."""
        answer = QMessageBox.question(self, "Margin Workstation", text)  # type: ignore[call-overload]
        return answer == QMessageBox.StandardButton.Yes

    def scenario_trades(self) -> list[Position]:
        """The drafts as the trades of a scenario: an entry left at the mark is saved at the
        current mark (a scenario holds plain positions)."""
        if self.portfolio is None:
            return []
        return resolve_entries(self.portfolio, self.drafts())

    def save_scenario(self) -> int | None:
        """Save… : ask a name, save the account's drafts as a scenario; its id (None if not saved).
        Writes the scenarios table only, never the book."""
        from workstation.store.repository import save_scenario

        account = self.account_id()
        if self.db is None or account is None or not self.drafts():
            return None
        default = f"{account} {datetime.now(UTC):%Y-%m-%d %H:%M}"
        name, ok = QInputDialog.getText(self, "Save scenario",  # type: ignore[call-overload]
                                        f"Name of the scenario (account {account}):",
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
        dialog = ScenarioDialog(account, self.scenarios(), self.delete_scenario, parent=self)  # type: ignore[arg-type]
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
        self.replace_drafts(account, scenario["trades"])

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
