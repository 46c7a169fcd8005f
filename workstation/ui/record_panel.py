"""A table panel whose rows the trader adds, edits and deletes: the buttons, their enabling and
the signals, shared by the collateral and positions panels."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from workstation.ui.table_model import RECORD_ROLE


class RecordPanel(QWidget):
    """Add… / Edit… / Delete buttons over a table view; Edit and Delete need a selected row and an
    editable source (a portfolio file opened read-only is not)."""

    add_requested = Signal()
    edit_requested = Signal(dict)
    delete_requested = Signal(dict)

    def _init_buttons(self, view: QTableView) -> None:
        self.view = view
        self._editable = True
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Edit…")
        self.delete_button = QPushButton("Delete")
        self.add_button.clicked.connect(self.add_requested)
        self.edit_button.clicked.connect(self._edit)
        self.delete_button.clicked.connect(self._delete)
        view.doubleClicked.connect(lambda _i: self._edit())
        view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

    def buttons(self) -> tuple[QPushButton, QPushButton, QPushButton]:
        return self.add_button, self.edit_button, self.delete_button

    def _lay_out(self, title: str, extras: tuple[QWidget, ...], *, spacing: int | None = None,
                 gap: int = 0) -> None:
        """Title, `extras` (filters, totals), then the buttons on the right; the table below."""
        bar = QHBoxLayout()
        if spacing is not None:
            bar.setSpacing(spacing)
        label = QLabel(title)
        label.setObjectName("sectionTitle")
        bar.addWidget(label)
        if gap:
            bar.addSpacing(gap)
        for widget in extras:
            bar.addWidget(widget)
        bar.addStretch(1)
        for button in self.buttons():
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

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
