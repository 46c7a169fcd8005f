"""Collateral table of the selected scope: per asset amount, price, haircut and value."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workstation.ui.table_model import RECORD_ROLE, Column, RecordTableModel
from workstation.ui.views import fit_columns, make_table_view

COLLATERAL_COLUMNS: tuple[Column, ...] = (
    Column("Asset", "asset", tip="Collateral asset"),
    Column("Account", "account", tip="Account holding it"),
    Column("Amount", "amount", "qty", "Amount held; negative when borrowed"),
    Column("Price", "price", "price", "Price in base currency"),
    Column("Haircut", "haircut", "ratio", "Haircut applied to the value"),
    Column("Value", "value", "money", "Value after haircut, in base currency", "negative"),
)


def collateral_rows(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows keyed by account and asset (the engine's lines, unchanged otherwise)."""
    rows = []
    for line in lines:
        row = dict(line)
        row["key"] = f"{line.get('account', '')}/{line['asset']}"
        rows.append(row)
    return rows


class CollateralPanel(QWidget):
    """The collateral table with add / edit / delete buttons."""

    add_requested = Signal()
    edit_requested = Signal(dict)
    delete_requested = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RecordTableModel(COLLATERAL_COLUMNS, key_field="key", parent=self)
        self.view = make_table_view(self.model, "collateralTable")
        self.total = QLabel("")
        self.total.setObjectName("muted")
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Edit…")
        self.delete_button = QPushButton("Delete")
        self.add_button.clicked.connect(self.add_requested)
        self.edit_button.clicked.connect(self._edit)
        self.delete_button.clicked.connect(self._delete)
        self.view.doubleClicked.connect(lambda _i: self._edit())
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._editable = True

        bar = QHBoxLayout()
        title = QLabel("Collateral")
        title.setObjectName("sectionTitle")
        bar.addWidget(title)
        bar.addWidget(self.total)
        bar.addStretch(1)
        for button in (self.add_button, self.edit_button, self.delete_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self._update_buttons()

    def set_lines(self, lines: list[dict[str, Any]], show_account: bool, total: str = "") -> None:
        self.model.set_records(collateral_rows(lines))
        self.view.setColumnHidden(self.model.column_index("account"), not show_account)
        self.total.setText(total)
        fit_columns(self.view)

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        self._update_buttons()

    def current_record(self) -> dict[str, Any] | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(RECORD_ROLE) if rows else None

    def _update_buttons(self) -> None:
        has = self.current_record() is not None
        self.add_button.setEnabled(self._editable)
        self.edit_button.setEnabled(self._editable and has)
        self.delete_button.setEnabled(self._editable and has)

    def _edit(self) -> None:
        record = self.current_record()
        if record is not None and self._editable:
            self.edit_requested.emit(record)

    def _delete(self) -> None:
        record = self.current_record()
        if record is not None and self._editable:
            self.delete_requested.emit(record)
