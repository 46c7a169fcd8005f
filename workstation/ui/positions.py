"""Positions table: rows from the engine's report, filter by underlying and kind, sortable."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QMenu,
    QTableView,
    QWidget,
)

from workstation.core.model import KINDS, Portfolio
from workstation.ui.record_panel import RecordPanel
from workstation.ui.table_model import RECORD_ROLE, SORT_ROLE, Column, RecordTableModel
from workstation.ui.theme import TABLE_POINT_SIZE, numeric_font
from workstation.ui.venue_columns import VENUE_COLUMNS, VENUE_KEYS, has_venue_figures, venue_cells

POSITION_COLUMNS: tuple[Column, ...] = (
    Column("Instrument", "instrument", tip="Instrument, as the venue names it"),
    Column("Account", "account", tip="Account holding the position"),
    Column("Quantity", "quantity", "qty", "Signed quantity; positive is long"),
    Column("Mark", "mark_price", "price", "Mark price (coin per unit for inverse options)"),
    Column("Value", "market_value", "money", "Market value in base currency"),
    Column("P&L", "unrealized_pnl", "money", "Unrealized P&L in base currency", "sign"),
    Column("Delta", "delta", "greek", "dV/dS: value change per 1 base-currency move of spot"),
    Column("Coin Δ", "coin_delta", "greek",
           "Delta as coin-settled venues show it: q·(N(d1) − price in coin) for inverse options, "
           "the delta for everything else"),
    Column("Gamma", "gamma", "greek", "d²V/dS² per 1 base-currency move squared"),
    Column("Vega", "vega", "greek", "Value change per 1 vol point (0.01)"),
    Column("Theta", "theta", "greek", "Value change per calendar day"),
    Column("Standalone", "standalone_margin", "money", "Initial margin of the position alone"),
    Column("Marginal", "marginal_margin", "money", "Margin of the book minus margin without it"),
    Column("Component", "component_margin", "money",
           "Euler allocation: components add up to the initial margin; < 0 is a hedge", "hedge"),
    Column("Share", "share", "ratio", "Component margin as a share of the initial margin"),
    *VENUE_COLUMNS,  # the venue's own figures beside ours (hidden while no position has any)
)


def position_rows(
    report: dict[str, Any], portfolio: Portfolio, labels: dict[str, str],
    coin_deltas: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Table rows: the report's per-position figures plus instrument, kind, underlying, share."""
    positions = {(a.id, p.id): p for a in portfolio.accounts for p in a.positions}
    im = report.get("initial_margin") or 0.0
    rows = []
    for figures in report.get("positions", []):
        pos = positions.get((figures.get("account"), figures["id"]))
        row = dict(figures)
        row["key"] = f"{figures.get('account')}/{figures['id']}"
        row["instrument"] = labels.get(row["key"], figures["id"])
        row["coin_delta"] = (coin_deltas or {}).get(row["key"], figures.get("delta"))
        row["kind"] = pos.kind if pos else ""
        row["underlying"] = pos.underlying if pos else ""
        row["quantity"] = pos.quantity if pos else None
        row["share"] = figures.get("component_margin", 0.0) / im if im else None
        row["_tip"] = f"{figures['id']} ({row['kind']}, {pos.settlement if pos else ''})"
        row.update(venue_cells(figures))
        rows.append(row)
    return rows


class PositionFilter(QSortFilterProxyModel):
    """Keeps rows of one underlying and one kind (None = all); sorts on raw values."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._underlying: str | None = None
        self._kind: str | None = None
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_filter(self, underlying: str | None, kind: str | None) -> None:
        self.beginFilterChange()
        self._underlying, self._kind = underlying, kind
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        record = model.data(model.index(source_row, 0, source_parent), RECORD_ROLE)
        if record is None:
            return True
        if self._underlying and record.get("underlying") != self._underlying:
            return False
        return not (self._kind and record.get("kind") != self._kind)


class PositionsPanel(RecordPanel):
    """Filters, the positions table and the add / edit / delete buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RecordTableModel(POSITION_COLUMNS, key_field="key", parent=self)
        self.proxy = PositionFilter(self)
        self.proxy.setSourceModel(self.model)

        self.underlying_box = QComboBox()
        self.kind_box = QComboBox()
        self.kind_box.addItem("All kinds", None)
        for kind in KINDS:
            self.kind_box.addItem(kind.capitalize(), kind)
        self.underlying_box.addItem("All underlyings", None)
        self.underlying_box.currentIndexChanged.connect(self._apply_filter)
        self.kind_box.currentIndexChanged.connect(self._apply_filter)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")

        self.view = QTableView()
        self.view.setObjectName("positionsTable")
        self.view.setFont(numeric_font(self.view.font(), TABLE_POINT_SIZE))
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(self.model.column_index("component_margin"), Qt.SortOrder.DescendingOrder)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        header = self.view.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self._init_buttons(self.view)

        self._lay_out("Positions", (self.underlying_box, self.kind_box, self.count_label), spacing=8, gap=12)
        self._sized = False
        self._update_buttons()

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Show `rows` (from `position_rows`); keeps the underlying filter if still present."""
        self.model.set_records(rows)
        underlyings = sorted({r["underlying"] for r in rows if r.get("underlying")})
        current = self.underlying_box.currentData()
        self.underlying_box.blockSignals(True)
        self.underlying_box.clear()
        self.underlying_box.addItem("All underlyings", None)
        for und in underlyings:
            self.underlying_box.addItem(und, und)
        idx = self.underlying_box.findData(current) if current else 0
        self.underlying_box.setCurrentIndex(max(0, idx))
        self.underlying_box.blockSignals(False)
        self._apply_filter()
        self._show_venue_columns(has_venue_figures(rows))
        if rows and not self._sized:
            self.view.resizeColumnsToContents()
            self._sized = True

    def _show_venue_columns(self, shown: bool) -> None:
        """The venue columns show only when a position carries venue figures."""
        if shown == getattr(self, "_venue_shown", None):
            return
        self._venue_shown = shown
        for key in VENUE_KEYS:
            self.view.setColumnHidden(self.model.column_index(key), not shown)

    def mark_sized(self) -> None:
        """Column widths were restored: do not fit them to the first data."""
        self._sized = True

    def select_key(self, key: str) -> None:
        row = self.model.row_of(key)
        if row >= 0:
            self.view.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def _apply_filter(self) -> None:
        self.proxy.set_filter(self.underlying_box.currentData(), self.kind_box.currentData())
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        plural = "" if total == 1 else "s"
        self.count_label.setText(f"{shown} of {total}" if shown != total else f"{total} position{plural}")


    def _header_menu(self, pos: Any) -> None:
        header = self.view.horizontalHeader()
        menu = QMenu(self)
        for i, column in enumerate(self.model.columns):
            action = menu.addAction(column.header)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(i))
            action.toggled.connect(lambda on, i=i: header.setSectionHidden(i, not on))
        menu.addSeparator()
        menu.addAction("Fit columns", self.view.resizeColumnsToContents)
        menu.exec(header.mapToGlobal(pos))
