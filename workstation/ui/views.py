"""Shared set-up of table views: row selection, right-aligned numbers, no grid clutter."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from workstation.ui.theme import TABLE_POINT_SIZE, numeric_font


def make_table_view(model: QAbstractItemModel, name: str) -> QTableView:
    """A read-only, row-selecting table view over `model`."""
    view = QTableView()
    view.setObjectName(name)
    view.setFont(numeric_font(view.font(), TABLE_POINT_SIZE))
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(24)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(False)
    fit_columns(view)
    return view


def fit_columns(view: QTableView) -> None:
    """Fit columns to their contents, the first one taking the rest of the width.

    Setting the modes again makes the header re-measure (it does not on `dataChanged`).
    """
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
