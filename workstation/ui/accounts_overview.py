"""Accounts overview: one row per pool and account with the engine's headline figures and the
nearest liquidation price, from the reports of the last full recompute."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workstation.core.model import Portfolio
from workstation.ui.formatting import PAST_LIQUIDATION, margin_state
from workstation.ui.table_model import RECORD_ROLE, Column, RecordTableModel
from workstation.ui.views import fit_columns, make_table_view

OVERVIEW_COLUMNS: tuple[Column, ...] = (
    Column("Account / pool", "name", tip="Double-click to show it in the Book tab"),
    Column("Kind", "kind", tip="Pool, or the account's venue"),
    Column("Mode", "mode", tip="Margin mode"),
    Column("Equity", "equity", "money", "Collateral after haircuts plus open P&L and option values", "negative"),
    Column("Initial margin", "initial_margin", "money", "Requirement to open or hold the book"),
    Column("Maint. margin", "maintenance_margin", "money", "Below this equity the book is liquidated"),
    Column("Free margin", "free_margin", "money", "Equity minus initial margin", "negative"),
    Column("Usage", "margin_usage", "ratio", "Maintenance margin / equity; liquidation at 100 %",
           blank=PAST_LIQUIDATION),
    Column("Nearest liquidation", "nearest_underlying", tip="The underlying whose smallest move, others "
           "held, liquidates the scope", blank="none"),
    Column("Liq. price", "nearest_price", "price", "Its price at liquidation", "distance", "nearest_pct",
           blank=""),
    Column("Move", "nearest_pct", "pct", "That move in percent", "distance", blank=""),
)


def nearest_liquidation(liquidation: dict[str, Any] | None) -> tuple[str | None, float | None, float | None]:
    """(underlying, price, move %) of the smallest single-underlying move that liquidates; Nones
    when no move within the searched range does."""
    best: tuple[str | None, float | None, float | None] = (None, None, None)
    for und, figures in (liquidation or {}).items():
        if und == "all":
            continue
        for pct_key, price_key in (("down_pct", "down_price"), ("up_pct", "up_price")):
            pct, price = figures.get(pct_key), figures.get(price_key)
            if pct is None or price is None or not math.isfinite(pct):
                continue
            if best[2] is None or abs(pct) < abs(best[2]):
                best = (und, float(price), float(pct))
    return best


def overview_rows(portfolio: Portfolio, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in the tree's order: each pool, then every account (figures from `reports`)."""
    by_scope = {r["scope"]: r for r in reports}
    scopes = [(f"pool:{p.id}", p.name or f"Pool {p.id}", "pool", p.margin_mode) for p in portfolio.pools]
    scopes += [(f"account:{a.id}", a.name or a.id, a.venue or "account", a.margin_mode) for a in portfolio.accounts]
    rows = []
    for scope, name, kind, mode in scopes:
        r = by_scope.get(scope)
        if r is None:
            continue
        equity, im, mm = r.get("equity"), r.get("initial_margin"), r.get("maintenance_margin")
        state = margin_state(equity, mm, r.get("margin_usage"))
        und, price, pct = nearest_liquidation(r.get("liquidation"))
        rows.append({
            "key": scope, "scope": scope, "name": name, "kind": kind, "mode": mode,
            "equity": equity, "initial_margin": im, "maintenance_margin": mm,
            "free_margin": None if equity is None or im is None else equity - im,
            "margin_usage": None if state == "past" else r.get("margin_usage"),
            "nearest_underlying": und, "nearest_price": price, "nearest_pct": pct,
            "_state": state,
            "_tip": f"{name}\n{scope}" + (": past liquidation" if state == "past" else ""),  # name in full
        })
    return rows


class AccountsOverview(QWidget):
    """The overview table; double-clicking a row emits `scope_activated(scope)`."""

    scope_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RecordTableModel(OVERVIEW_COLUMNS, key_field="key", parent=self)
        self.view = make_table_view(self.model, "overviewTable")
        self.view.setSortingEnabled(False)
        self.view.doubleClicked.connect(self._activated)
        title = QLabel("Accounts and pools")
        title.setObjectName("sectionTitle")
        self.note = QLabel(
            "Figures of the last full recompute, from the engine. Free margin = equity − initial margin. "
            "Nearest liquidation: the smallest move of one underlying, others held (see the Book tab for "
            "every underlying and all together)."
        )
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)

    def set_reports(self, portfolio: Portfolio | None, reports: list[dict[str, Any]]) -> None:
        self.model.set_records(overview_rows(portfolio, reports) if portfolio is not None else [])
        fit_columns(self.view)

    def _activated(self, index: Any) -> None:
        record = index.data(RECORD_ROLE)
        if record:
            self.scope_activated.emit(record["scope"])
