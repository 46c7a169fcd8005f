"""Shared set-up of table views: row selection, right-aligned numbers, no grid clutter."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from workstation.ui.theme import TABLE_POINT_SIZE, numeric_font

FIT_ROWS = 1000  # rows a fit measures at most (Qt's default precision)


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

    Setting the modes again makes the header re-measure. The columns stay in ResizeToContents
    mode, and Qt 6 re-measures such a column at every `dataChanged` of its model: every cell of
    it (all rows when the view is hidden). A large table whose figures change often uses
    `fit_columns_once`.
    """
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)


def fit_columns_once(view: QTableView, rows: int = FIT_ROWS, stretch_last: bool = False) -> None:
    """Fit columns to their contents now, measuring at most `rows` rows (0: the visible ones),
    the first column taking the rest of the width (`stretch_last`: every column fitted, the
    last one stretched). The widths stay until the next call: a change of the data does not
    re-measure the table (see `fit_columns`)."""
    header = view.horizontalHeader()
    header.setResizeContentsPrecision(rows)
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for column in range(0 if stretch_last else 1, header.count()):
        view.resizeColumnToContents(column)
    if stretch_last:
        header.setStretchLastSection(True)
    elif header.count():
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
