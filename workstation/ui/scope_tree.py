"""Accounts and pools tree: a Qt item model over scope nodes, coloured by margin usage.

Pools are top-level nodes with their member accounts beneath; accounts in no pool are
top-level too. An account is shown by its id (short, and the name every table uses: positions,
members, stress); its full name leads the tooltip and titles the dashboard. New reports only
emit `dataChanged`; the model is reset only when the set of accounts and pools itself changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from workstation.core.model import Portfolio
from workstation.ui.formatting import PAST_LIQUIDATION, NumberFormat, margin_state
from workstation.ui.theme import LIGHT, TABLE_POINT_SIZE, Theme, numeric_font

SCOPE_ROLE = Qt.ItemDataRole.UserRole
HEADERS = ("Account / pool", "Equity", "Usage")
PAST_SHORT = "past liq."  # the usage column is narrow; the tooltip says "past liquidation" in full
Index = QModelIndex | QPersistentModelIndex


def dock_width(window_width: int) -> int:
    """The tree dock's first width: at 1280 px an account id ("binance-usdm") fits beside
    equity and usage, and the What-if (the widest tab, about 1,010 px) still fits beside it."""
    return 320 if window_width >= 1500 else 260


@dataclass(eq=False)
class ScopeNode:
    scope: str
    name: str
    tip: str = ""
    parent: ScopeNode | None = None
    children: list[ScopeNode] = field(default_factory=list)
    equity: float | None = None
    usage: float | None = None
    maintenance: float | None = None
    label: str = ""  # what the tree shows (the name when empty)

    @property
    def state(self) -> str:
        """'past' (liquidation), or the usage band: 'calm', 'amber', 'red', 'none'."""
        return margin_state(self.equity, self.maintenance, self.usage)

    def row(self, siblings: list[ScopeNode]) -> int:
        return next(i for i, n in enumerate(siblings) if n is self)


def scope_nodes(portfolio: Portfolio) -> list[ScopeNode]:
    """Top-level nodes: each pool with its accounts beneath, then accounts in no pool."""
    accounts = {a.id: a for a in portfolio.accounts}

    def account_node(acc_id: str, parent: ScopeNode | None) -> ScopeNode:
        acc = accounts[acc_id]
        tip = f"{acc.id} · {acc.venue or 'no venue'} · {acc.margin_mode} · profile {acc.profile}"
        if acc.name and acc.name != acc.id:
            tip = f"{acc.name}\n{tip}"
        return ScopeNode(f"account:{acc.id}", acc.name or acc.id, tip, parent, label=acc.id)

    roots: list[ScopeNode] = []
    pooled: set[str] = set()
    for pool in portfolio.pools:
        tip = f"pool {pool.id} · {pool.margin_mode} · profile {pool.profile}"
        node = ScopeNode(f"pool:{pool.id}", pool.name or f"Pool {pool.id}", tip)
        node.children = [account_node(a, node) for a in pool.accounts if a in accounts]
        pooled.update(pool.accounts)
        roots.append(node)
    roots.extend(account_node(a.id, None) for a in portfolio.accounts if a.id not in pooled)
    return roots


def _shape(nodes: list[ScopeNode]) -> list[tuple[str, tuple[str, ...]]]:
    return [(n.scope, tuple(c.scope for c in n.children)) for n in nodes]


class ScopeTreeModel(QAbstractItemModel):
    """Name (with a usage-coloured dot), equity and margin usage per account and pool."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._roots: list[ScopeNode] = []
        self._fmt = NumberFormat(decimals=0)
        self._theme: Theme = LIGHT
        self._icons: dict[str, QIcon] = {}

    # -- structure ------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        siblings = self._children(parent)
        return self.createIndex(row, column, siblings[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node: ScopeNode = index.internalPointer()
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.parent.row(self._roots), 0, node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children(parent))

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def _children(self, parent: Index) -> list[ScopeNode]:
        return parent.internalPointer().children if parent.isValid() else self._roots

    # -- data -----------------------------------------------------------------------------
    # the roles this model answers; Qt asks each painted cell for seven (font, check state,
    # decoration, background...): the others return at once, Qt's defaults
    _ANSWERED = frozenset(map(int, (
        Qt.ItemDataRole.DisplayRole, SCOPE_ROLE, Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.TextAlignmentRole)))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in self._ANSWERED:
            return None
        if not index.isValid():
            return None
        node: ScopeNode = index.internalPointer()
        col = index.column()
        level = node.state
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return node.label or node.name
            if col == 1:
                return self._fmt.money(node.equity, decimals=0)
            if level == "past":
                return PAST_SHORT
            return self._fmt.ratio(node.usage, 0) if node.usage is not None else ""
        if role == SCOPE_ROLE:
            return node.scope
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(node)
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self._dot(level)
        if role == Qt.ItemDataRole.ForegroundRole and level == "past":
            return QBrush(self._theme.level("red"))
        if role == Qt.ItemDataRole.ForegroundRole and col == 2 and level != "none":
            return QBrush(self._theme.level(level))
        if role == Qt.ItemDataRole.FontRole and level == "past":
            font = numeric_font(None, TABLE_POINT_SIZE)
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(HEADERS):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section > 0:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.ToolTipRole and section == 2:
                return "Maintenance margin / equity: calm below 50 %, amber to 80 %, red above"
        return None

    # -- updates --------------------------------------------------------------------------
    def set_portfolio(self, portfolio: Portfolio) -> None:
        """Rebuild nodes if accounts or pools changed, else only refresh names and tips."""
        nodes = scope_nodes(portfolio)
        if _shape(nodes) != _shape(self._roots):
            values = {n.scope: (n.equity, n.usage, n.maintenance) for n in self.nodes()}
            self.beginResetModel()
            self._roots = nodes
            for n in self.nodes():
                n.equity, n.usage, n.maintenance = values.get(n.scope, (None, None, None))
            self.endResetModel()
            return
        fresh = {n.scope: n for n in _walk(nodes)}
        for n in self.nodes():
            n.name, n.tip, n.label = fresh[n.scope].name, fresh[n.scope].tip, fresh[n.scope].label
        self._changed()

    def set_reports(self, reports: list[dict[str, Any]]) -> None:
        """Equity and usage per node from the engine's reports."""
        by_scope = {r["scope"]: r for r in reports}
        for n in self.nodes():
            r = by_scope.get(n.scope)
            n.equity = r.get("equity") if r else None
            n.usage = r.get("margin_usage") if r else None
            n.maintenance = r.get("maintenance_margin") if r else None
        self._changed()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._icons.clear()
        self._changed()

    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        self._changed()

    def nodes(self) -> list[ScopeNode]:
        return list(_walk(self._roots))

    def index_of(self, scope: str) -> QModelIndex:
        for n in self.nodes():
            if n.scope == scope:
                siblings = n.parent.children if n.parent else self._roots
                return self.createIndex(n.row(siblings), 0, n)
        return QModelIndex()

    def _changed(self) -> None:
        for n in self.nodes():
            siblings = n.parent.children if n.parent else self._roots
            row = n.row(siblings)
            self.dataChanged.emit(
                self.createIndex(row, 0, n), self.createIndex(row, len(HEADERS) - 1, n)
            )

    def _tip(self, node: ScopeNode) -> str:
        if node.state != "past":
            return node.tip
        return (f"{node.tip}\n{PAST_LIQUIDATION.upper()}: equity {self._fmt.money(node.equity, unit=True)} is at or "
                f"below maintenance margin {self._fmt.money(node.maintenance, unit=True)}")

    def _dot(self, level: str) -> QIcon:
        """A dot in the band's colour; past liquidation is a larger red disc with a '!'."""
        if level not in self._icons:
            pix = QPixmap(14, 14)
            pix.fill(QColor(0, 0, 0, 0))
            painter = QPainter(pix)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._theme.level(level))
            if level == "past":
                painter.drawEllipse(0, 0, 14, 14)
                painter.setPen(QColor("#ffffff"))
                font = QFont()
                font.setBold(True)
                font.setPixelSize(11)
                painter.setFont(font)
                painter.drawText(pix.rect(), int(Qt.AlignmentFlag.AlignCenter), "!")
            else:
                painter.drawEllipse(2, 2, 10, 10)
            painter.end()
            self._icons[level] = QIcon(pix)
        return self._icons[level]


def _walk(nodes: list[ScopeNode]):
    for n in nodes:
        yield n
        yield from _walk(n.children)


class ScopeTree(QTreeView):
    """The tree view; emits `scope_selected("account:ID" | "pool:ID")`."""

    scope_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree_model = ScopeTreeModel(self)
        self.setModel(self.tree_model)
        self.setObjectName("scopeTree")
        self.setFont(numeric_font(self.font(), TABLE_POINT_SIZE))
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(False)
        # pools are always open (nothing to collapse in a handful of rows): no branch column, a
        # small indent for members, so an id fits beside equity and usage in a 240 px dock
        self.setRootIsDecorated(False)
        self.setItemsExpandable(False)
        self.setIndentation(12)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.selectionModel().selectionChanged.connect(self._on_selection)
        self.tree_model.modelReset.connect(self.expandAll)

    def current_scope(self) -> str | None:
        idx = self.currentIndex()
        return idx.data(SCOPE_ROLE) if idx.isValid() else None

    def select_scope(self, scope: str) -> bool:
        idx = self.tree_model.index_of(scope)
        if idx.isValid():
            self.setCurrentIndex(idx)
            return True
        return False

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            self.scope_selected.emit(indexes[0].data(SCOPE_ROLE))
