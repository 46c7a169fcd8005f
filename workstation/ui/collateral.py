"""Collateral table of the selected scope: per asset amount, price, haircut and value."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from workstation.ui.record_panel import RecordPanel
from workstation.ui.table_model import Column, RecordTableModel
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


class CollateralPanel(RecordPanel):
    """The collateral table with add / edit / delete buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RecordTableModel(COLLATERAL_COLUMNS, key_field="key", parent=self)
        self._init_buttons(make_table_view(self.model, "collateralTable"))
        self.total = QLabel("")
        self.total.setObjectName("muted")

        self._lay_out("Collateral", (self.total,))
        self._update_buttons()

    def set_lines(self, lines: list[dict[str, Any]], show_account: bool, total: str = "") -> None:
        self.model.set_records(collateral_rows(lines))
        self.view.setColumnHidden(self.model.column_index("account"), not show_account)
        self.total.setText(total)
        fit_columns(self.view)
