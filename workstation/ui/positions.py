"""Positions table: the engine's per-position figures with their units, filters, model-side sort."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QMenu,
    QTableView,
    QWidget,
)

from workstation.core.model import KINDS
from workstation.ui.position_table import PositionTable
from workstation.ui.positions_model import KEY_ROLE, PositionsModel
from workstation.ui.record_panel import RecordPanel
from workstation.ui.table_model import Column
from workstation.ui.theme import TABLE_POINT_SIZE, numeric_font
from workstation.ui.venue_columns import VENUE_COLUMNS, VENUE_KEYS, has_venue_figures

# "{base}" is replaced by the book's base currency; headers of two lines keep columns narrow.
POSITION_COLUMNS: tuple[Column, ...] = (
    Column("Instrument", "instrument", tip="Instrument, as the venue names it; (inv) = inverse, coin-settled"),
    Column("Account", "account", tip="Account holding the position"),
    Column("Size", "quantity", "qty",
           "Signed size in the instrument's own unit; positive is long. Inverse perpetuals and futures: "
           "USD notional of contracts; linear ones, spot and options: coins of the underlying "
           "(option contracts of one coin)", unit_key="size_unit"),
    Column("Size\n(coin)", "coin_size", "greek",
           "Size in coins of the underlying: inverse perpetuals and futures are their USD notional / mark"),
    Column("Mark", "mark_price", "price",
           "Mark price in {base}; inverse options in coin per contract", unit_key="mark_unit"),
    Column("Value\n({base})", "market_value", "money",
           "Market value in {base}: open P&L of perpetuals and futures, market value of options and spot"),
    Column("P&L\n({base})", "unrealized_pnl", "money", "Unrealized P&L in {base}", "sign"),
    Column("Delta\n(coin)", "delta", "greek",
           "dV/dS: value change in {base} per 1 {base} move of spot, i.e. the exposure in coins"),
    Column("Delta\n({base})", "delta_base", "money", "Delta × spot: the exposure in {base}"),
    Column("Coin delta\n(venue)", "coin_delta", "greek",
           "Delta as coin-settled venues show it, in coins: q·(N(d1) − price in coin) for inverse "
           "options, the delta for everything else"),
    Column("Gamma\n(coin/{base})", "gamma", "greek", "d²V/dS²: change of delta (coins) per 1 {base} move"),
    Column("Gamma 1 %\n(coin)", "gamma_pct", "greek",
           "Change of delta (coins) for a 1 % rise of spot: gamma × spot / 100"),
    Column("Vega\n({base}/vol pt)", "vega", "greek", "Value change in {base} per 1 vol point (55 % → 56 %)"),
    Column("Theta\n({base}/day)", "theta", "greek", "Value change in {base} per calendar day"),
    Column("Standalone\nIM ({base})", "standalone_margin", "money",
           "Initial margin of the position alone, as the engine reports it"),
    Column("Marginal\nIM ({base})", "marginal_margin", "money", "Initial margin of the book minus the book without it"),
    Column("Component\nIM ({base})", "component_margin", "money",
           "Euler allocation: components add up to the initial margin; < 0 is a hedge", "hedge"),
    Column("Share\nof IM", "share", "ratio", "Component margin as a share of the initial margin"),
    *VENUE_COLUMNS,  # the venue's own figures beside ours (hidden while no position has any)
)


class PositionsPanel(RecordPanel):
    """Filters, the positions table and the add / edit / delete buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PositionsModel(POSITION_COLUMNS, parent=self)

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
        self.view.setModel(self.model)
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

    def set_table(self, table: PositionTable) -> None:
        """Show the engine's positions; keeps the filters, the sort and the selected position."""
        selected = self.current_key()
        self.model.set_table(table)
        underlyings = sorted({str(u) for u in table.text.get("underlying", ()) if u})
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
        if selected and self.current_key() != selected:
            self.select_key(selected)
        self._show_venue_columns(has_venue_figures(table))
        if len(table):
            self.fit_columns(grow_only=self._sized)
            self._sized = True

    def _show_venue_columns(self, shown: bool) -> None:
        """The venue columns show only when a position carries venue figures."""
        if shown == getattr(self, "_venue_shown", None):
            return
        self._venue_shown = shown
        for key in VENUE_KEYS:
            self.view.setColumnHidden(self.model.column_index(key), not shown)

    def fit_columns(self, grow_only: bool = False) -> None:
        """Widths from a bounded sample of cells; `grow_only` never narrows a column (a width the
        user chose stays, but a figure is never cut)."""
        header = self.view.horizontalHeader()
        bold = QFont(header.font())
        bold.setBold(True)
        widths = self.model.needed_widths(QFontMetrics(self.view.font()), QFontMetrics(bold))
        for col, width in enumerate(widths):
            if grow_only and header.sectionSize(col) >= width:
                continue
            header.resizeSection(col, width)

    def mark_sized(self) -> None:
        """Column widths were restored: only widen them when a figure needs it."""
        self._sized = True

    def current_key(self) -> str | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(KEY_ROLE) if rows else None

    def select_key(self, key: str) -> None:
        row = self.model.row_of(key)
        if row >= 0:
            self.view.selectRow(row)

    def _apply_filter(self) -> None:
        self.model.set_filter(self.underlying_box.currentData(), self.kind_box.currentData())
        shown, total = self.model.rowCount(), self.model.total()
        plural = "" if total == 1 else "s"
        self.count_label.setText(f"{shown:,} of {total:,}" if shown != total else f"{total:,} position{plural}")
        self._update_buttons()

    def _header_menu(self, pos: Any) -> None:
        header = self.view.horizontalHeader()
        menu = QMenu(self)
        for i in range(len(self.model.columns)):
            action = menu.addAction(self.model.headerData(i, Qt.Orientation.Horizontal).replace("\n", " "))
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(i))
            action.toggled.connect(lambda on, i=i: header.setSectionHidden(i, not on))
        menu.addSeparator()
        menu.addAction("Fit columns", self.fit_columns)
        menu.exec(header.mapToGlobal(pos))
