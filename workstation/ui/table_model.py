"""A flat Qt table model over records (dicts), with its columns declared as data.

Updates keep rows in place: rows that disappear are removed with `beginRemoveRows`, new
ones appended with `beginInsertRows`, the rest refreshed with `dataChanged`; sorting and
filtering belong to a `QSortFilterProxyModel` on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from workstation.ui.formatting import NumberFormat, distance_level
from workstation.ui.theme import LIGHT, Theme

SORT_ROLE = Qt.ItemDataRole.UserRole
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
NUMERIC = ("money", "price", "qty", "greek", "pct", "ratio", "number")

Index = QModelIndex | QPersistentModelIndex


# asked for by every painted cell: the flags combined once (an enum `|` costs microseconds)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True)
class Column:
    """One column: `header`, the record `key`, how to format it, and an explanation.

    `fmt` is one of text, money, price, qty, greek, pct (value in percent), ratio (0.42 ->
    42 %), number. `colour` is None, "sign" (negative red, positive calm), "negative" (red
    when negative), "hedge" (calm when negative: it lowers margin) or "distance" (liquidation
    distance bands, read from `colour_key` or the column's own value).
    `blank` is shown instead of a missing value; `unit_key` names a record field whose text
    follows the number (a column whose rows are in different units).
    """

    header: str
    key: str
    fmt: str = "text"
    tip: str = ""
    colour: str | None = None
    colour_key: str | None = None
    blank: str | None = None
    unit_key: str | None = None

    @property
    def numeric(self) -> bool:
        return self.fmt in NUMERIC

    @property
    def alignment(self) -> int:
        """Numbers right-aligned, text left-aligned (cells and header alike)."""
        return _RIGHT if self.numeric else _LEFT


def format_value(column: Column, value: Any, fmt: NumberFormat) -> str:
    """The display text of `value` in `column`."""
    match column.fmt:
        case "money":
            return fmt.money(value)
        case "price":
            return fmt.price(value)
        case "qty":
            return fmt.quantity(value)
        case "greek":
            return fmt.greek(value)
        case "pct":
            return fmt.percent(value, signed=True)
        case "ratio":
            return fmt.ratio(value)
        case "number":
            return fmt.number(value)
    return "" if value is None else str(value)


def sign_colour(theme: Theme, colour: str | None, value: float) -> QColor | None:
    """The colour of a number in a column coloured "sign", "negative" or "hedge" (else None)."""
    if not value or value != value:  # zero or NaN: no colour
        return None
    if colour == "sign":
        return theme.level("red" if value < 0 else "calm")
    if colour == "negative" and value < 0:
        return theme.level("red")
    if colour == "hedge" and value < 0:
        return theme.level("calm")
    return None


class ColumnTableModel(QAbstractTableModel):
    """A flat table model whose columns are `Column` specs: the header, the number format and
    the theme; subclasses hold the rows (`rowCount`, `data`)."""

    def __init__(self, columns: Sequence[Column], parent: Any = None):
        super().__init__(parent)
        self.columns: list[Column] = list(columns)
        self._fmt = NumberFormat()
        self._theme: Theme = LIGHT

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def header(self, section: int) -> str:
        return self.columns[section].header

    def header_tip(self, column: Column) -> str | None:
        return column.tip or None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.header(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.header_tip(column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        return None

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    @property
    def number_format(self) -> NumberFormat:
        return self._fmt

    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        self._refresh_all()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._refresh_all()

    def _refresh_all(self) -> None:
        rows = self.rowCount()
        if rows:
            self._refresh(0, rows - 1)

    def _refresh(self, first: int, last: int) -> None:
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))


class RecordTableModel(ColumnTableModel):
    """Rows are dicts identified by `key_field`; columns are `Column` specs."""

    def __init__(self, columns: Sequence[Column], key_field: str = "id", parent: Any = None):
        super().__init__(columns, parent)
        self.key_field = key_field
        self._rows: list[dict[str, Any]] = []

    # -- Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    # the roles this model answers; Qt asks each painted cell for seven (font, check state,
    # decoration, background...): the others return at once, Qt's defaults
    _ANSWERED = frozenset(map(int, (
        Qt.ItemDataRole.DisplayRole, SORT_ROLE, RECORD_ROLE, Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole)))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in self._ANSWERED:
            return None
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        column = self.columns[index.column()]
        record = self._rows[index.row()]
        value = record.get(column.key)
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None and column.blank is not None:
                return column.blank
            text = format_value(column, value, self._fmt)
            if column.unit_key and value is not None and record.get(column.unit_key):
                text = f"{text} {record[column.unit_key]}"
            return text
        if role == SORT_ROLE:
            return _sort_key(value, column)
        if role == RECORD_ROLE:
            return record
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(column, record, value)
        if role == Qt.ItemDataRole.ToolTipRole:  # a text cell narrower than its text is elided:
            if index.column() == 0 and record.get("_tip"):  # the tooltip has it in full
                return record["_tip"]
            return None if column.numeric or value is None else str(value)

        return None

    # -- updates --------------------------------------------------------------------------
    def set_records(self, records: Iterable[dict[str, Any]]) -> None:
        """Replace the rows, keeping surviving rows in place (no reset)."""
        new = {r[self.key_field]: r for r in records}
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row][self.key_field] not in new:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        position = {r[self.key_field]: i for i, r in enumerate(self._rows)}
        for i, key in enumerate(list(position)):
            self._rows[i] = new[key]
        added = [r for k, r in new.items() if k not in position]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()
        if position:
            self._refresh(0, len(position) - 1)
        self._reorder(list(new))

    def _reorder(self, order: list[Any]) -> None:
        """Put rows in `order` (the engine's) with a layout change, keeping persistent indexes."""
        keys = [r[self.key_field] for r in self._rows]
        if keys == order:
            return
        self.layoutAboutToBeChanged.emit()
        target = {k: i for i, k in enumerate(order)}
        self._rows.sort(key=lambda r: target[r[self.key_field]])
        old = self.persistentIndexList()
        self.changePersistentIndexList(
            old, [self.index(target[keys[i.row()]], i.column()) for i in old]
        )
        self.layoutChanged.emit()

    def clear(self) -> None:
        self.set_records([])

    def records(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def record(self, row: int) -> dict[str, Any]:
        return self._rows[row]

    def row_of(self, key: Any) -> int:
        for i, r in enumerate(self._rows):
            if r[self.key_field] == key:
                return i
        return -1

    # -- helpers --------------------------------------------------------------------------
    def _colour(self, column: Column, record: dict[str, Any], value: Any) -> QColor | None:
        if record.get("_state") == "past":  # a scope past liquidation: the whole row is red
            return self._theme.level("red")
        if column.colour in ("sign", "negative", "hedge"):
            return sign_colour(self._theme, column.colour, value) if isinstance(value, int | float) else None
        if column.colour == "distance":
            if value is None and column.blank is not None:
                return QColor(self._theme.muted)
            level = distance_level(record.get(column.colour_key or column.key))
            return None if level == "calm" else self._theme.level(level)
        if column.colour == "muted":
            return QColor(self._theme.muted)
        return None


def _sort_key(value: Any, column: Column) -> Any:
    if column.numeric:
        return float(value) if isinstance(value, int | float) else float("-inf")
    return "" if value is None else str(value)
