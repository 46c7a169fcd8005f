"""The positions table model: sorts and filters numpy columns itself (no proxy model).

A `PositionTable` (column arrays built off the GUI thread) is swapped in whole; the view order is
an index array (argsort of one column, masked by the filters), so 10,000 rows sort in a few
milliseconds. Cells are formatted only when the view asks for them (the visible rows), and column
widths are measured on a bounded sample of rows (`needed_widths`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFontMetrics

from workstation.core.arrays import unique
from workstation.ui.position_table import PositionTable
from workstation.ui.table_model import RECORD_ROLE, SORT_ROLE, Column, ColumnTableModel, format_value, sign_colour

Index = QModelIndex | QPersistentModelIndex
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
SAMPLE = 24  # evenly spaced rows measured per column, besides the extremes
MAX_WIDTH = 340


class PositionsModel(ColumnTableModel):
    """Rows of a `PositionTable`, in the view's sort order and filtered by underlying and kind."""

    def __init__(self, columns: Sequence[Column], parent: Any = None) -> None:
        super().__init__(columns, parent)
        self.table = PositionTable()
        self._rows = np.zeros(0, dtype=np.int64)  # view row -> table row
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._filter: tuple[str | None, str | None] = (None, None)
        self._headers: list[str] = [c.header for c in self.columns]

    # -- Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else int(self._rows.size)

    # the roles this model answers; Qt asks each painted cell for seven (font, check state,
    # decoration, background...): the others return at once, Qt's defaults
    _ANSWERED = frozenset(map(int, (
        Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole, SORT_ROLE, RECORD_ROLE, KEY_ROLE,
        Qt.ItemDataRole.ToolTipRole)))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in self._ANSWERED:
            return None
        if not index.isValid() or index.row() >= self._rows.size:
            return None
        column = self.columns[index.column()]
        i = int(self._rows[index.row()])
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell_text(column, i)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(column, i)
        if role == SORT_ROLE:
            value = self.table.column(column.key)[i]
            return None if column.numeric and np.isnan(value) else (float(value) if column.numeric else str(value))
        if role == RECORD_ROLE:
            return self.table.record(i)
        if role == KEY_ROLE:
            return str(self.table.text["key"][i])
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(column, i)
        return None

    def header(self, section: int) -> str:
        return self._headers[section]

    def header_tip(self, column: Column) -> str | None:
        return column.tip.replace("{base}", self.table.base_currency) or None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column's raw values (numbers as numbers; blanks last either way)."""
        self._sort = (column, order)
        self._relayout()

    # -- content --------------------------------------------------------------------------
    def set_table(self, table: PositionTable) -> None:
        """Show `table`. The same positions in the same order only refresh the cells; otherwise
        the model is reset (one signal, whatever the number of rows)."""
        same = len(table) == len(self.table) and bool(np.array_equal(table.text["key"], self.table.text["key"])) \
            if len(table) else len(self.table) == 0
        if same:
            self.table = table
            self._update_headers()
            self._rows = self._order()
            self._refresh_all()
            return
        self.beginResetModel()
        self.table = table
        self._update_headers()
        self._rows = self._order()
        self.endResetModel()

    def set_filter(self, underlying: str | None, kind: str | None) -> None:
        self._filter = (underlying, kind)
        self._relayout()

    def total(self) -> int:
        return len(self.table)

    def records(self) -> list[dict[str, Any]]:
        """Every position as a dict, in the view's order (filtered)."""
        return [self.table.record(int(i)) for i in self._rows]

    def record(self, row: int) -> dict[str, Any]:
        return self.table.record(int(self._rows[row]))

    def row_of(self, key: str) -> int:
        """View row of the position `key` ("account/id"), -1 when not shown."""
        i = self.table.index_of(key)
        hits = np.flatnonzero(self._rows == i) if i >= 0 else []
        return int(hits[0]) if len(hits) else -1

    def cell_text(self, column: Column, i: int) -> str:
        value = self.table.column(column.key)[i]
        if column.numeric:
            value = float(value)  # a Python float: math, not a numpy ufunc on a scalar (1 us a cell)
            value = None if math.isnan(value) else value
            if value is None and column.blank is not None:
                return column.blank
        text = format_value(column, value, self._fmt)
        if column.unit_key and value is not None:
            text = f"{text} {self.table.text[column.unit_key][i]}"
        return text

    # -- widths ---------------------------------------------------------------------------
    def needed_widths(self, metrics: QFontMetrics, header_metrics: QFontMetrics) -> list[int]:
        """Width each column needs: its header and the widest of a bounded sample of cells
        (each column's extremes, its smallest non-zero magnitude and evenly spaced rows)."""
        n = len(self.table)
        spread = unique(np.linspace(0, n - 1, min(n, SAMPLE)).astype(np.int64)) if n else np.zeros(0, np.int64)
        widths = []
        for column in self.columns:
            rows = set(spread.tolist())
            if n and column.numeric:
                values = self.table.column(column.key)
                finite = np.flatnonzero(np.isfinite(values))
                if finite.size:
                    v = values[finite]
                    mag = np.abs(v)
                    rows |= {int(finite[np.argmax(v)]), int(finite[np.argmin(v)]), int(finite[np.argmax(mag)])}
                    nonzero = np.flatnonzero(mag > 0)
                    if nonzero.size:
                        rows.add(int(finite[nonzero[np.argmin(mag[nonzero])]]))
            elif n:
                lengths = np.fromiter((len(s) for s in self.table.column(column.key)), dtype=np.int64, count=n)
                rows.add(int(np.argmax(lengths)))
            cells = max((metrics.horizontalAdvance(self.cell_text(column, i)) for i in rows), default=0)
            head = max(header_metrics.horizontalAdvance(line)
                       for line in self._headers[self.columns.index(column)].split("\n")) + 22
            widths.append(min(MAX_WIDTH, max(cells + 14, head)))
        return widths

    # -- helpers --------------------------------------------------------------------------
    def _update_headers(self) -> None:
        base = self.table.base_currency
        headers = [c.header.replace("{base}", base) for c in self.columns]
        if headers != self._headers:
            self._headers = headers
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)

    def _order(self) -> np.ndarray:
        n = len(self.table)
        order = np.arange(n, dtype=np.int64)
        if n and self._sort is not None:
            col, direction = self._sort
            order = _argsort(self.table.column(self.columns[col].key), self.columns[col].numeric,
                             direction == Qt.SortOrder.DescendingOrder)
        underlying, kind = self._filter
        if n and (underlying or kind):
            mask = np.ones(n, dtype=bool)
            if underlying:
                mask &= self.table.text["underlying"] == underlying
            if kind:
                mask &= self.table.text["kind"] == kind
            order = order[mask[order]]
        return order

    def _relayout(self) -> None:
        """New order or filter: persistent indexes (the selection) follow their positions."""
        self.layoutAboutToBeChanged.emit()
        old_rows = self._rows
        self._rows = self._order()
        where = np.full(len(self.table), -1, dtype=np.int64)
        where[self._rows] = np.arange(self._rows.size)
        old = self.persistentIndexList()
        new = []
        for idx in old:
            row = int(where[old_rows[idx.row()]]) if idx.row() < old_rows.size else -1
            new.append(self.index(row, idx.column()) if row >= 0 else QModelIndex())
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _colour(self, column: Column, i: int) -> QColor | None:
        if not column.colour or not column.numeric:
            return None
        return sign_colour(self._theme, column.colour, float(self.table.column(column.key)[i]))

    def _tip(self, column: Column, i: int) -> str | None:
        t = self.table.text
        if column.key in ("instrument", "id"):
            return f"{t['id'][i]} ({t['kind'][i]}, {t['settlement'][i] or 'spot'}) in {t['account'][i]}"
        if column.unit_key == "size_unit":
            if t["kind"][i] in ("perpetual", "future") and t["settlement"][i] == "inverse":
                return f"USD notional of {t['underlying'][i]} contracts (inverse: size in {t['size_unit'][i]})"
            if t["kind"][i] == "option":
                return f"option contracts counted in {t['underlying'][i]} (one contract per coin)"
            return f"in {t['underlying'][i]}"
        return None


def _argsort(values: np.ndarray, numeric: bool, descending: bool) -> np.ndarray:
    """Stable order of `values`; NaN (numbers) or empty text last in both directions."""
    n = values.size
    if numeric:
        v = np.asarray(values, dtype=float)
        blank = np.isnan(v)
        key = np.where(blank, 0.0, -v if descending else v)
    else:
        text = np.asarray(values, dtype=object).astype(str)
        blank = text == ""
        _, rank = np.unique(text, return_inverse=True)
        key = -rank if descending else rank
    order = np.lexsort((np.arange(n), key, blank))  # blank last, then key, then table order
    return order.astype(np.int64)
