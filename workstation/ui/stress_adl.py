"""The Stress tab's "ADL" page: every position ranked by its venue's auto-deleveraging formula
(`core/adl.py`: Binance's LeveragePnl, OKX's PnL % x effective leverage, Bybit's rank), the
winners a venue would close first marked, and each account and pool as it would stand after
the venue closes the top N of them at the mark (computed off the GUI thread)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QSplitter, QVBoxLayout, QWidget

from workstation.ui.formatting import NumberFormat
from workstation.ui.stress_compute import AdlView, compute_adl, scope_label
from workstation.ui.table_model import Column, RecordTableModel
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.views import fit_columns, make_table_view
from workstation.ui.worker import LatestJob

Index = QModelIndex | QPersistentModelIndex
RANK_COLUMNS = (
    Column("Position", "label"),
    Column("Formula", "formula", tip="The venue's ADL formula (docs/stress.md, core/adl.py)"),
    Column("P&L", "unrealized_pnl", "money", "Unrealised P&L", "sign"),
    Column("P&L %", "pnl_pct", "ratio", "Unrealised P&L over the entry value"),
    Column("Eff. leverage", "leverage", tip="Notional over the account's equity (cross and portfolio) or the "
                                            "position's own margin (isolated)"),
    Column("Rank", "rank", tip="The venue's ranking score: highest is closed first"),
    Column("Closed", "closed", tip="Closed by the venue in the book on the right"),
)
AFTER_COLUMNS = (
    Column("Account / pool", "label"),
    Column("Equity", "equity_before", "money", "Closing at the mark leaves equity as it is"),
    Column("MM before", "mm_before", "money"),
    Column("MM after", "mm_after", "money", "After the venue closes the top positions at the mark"),
    Column("Equity − MM before", "headroom_before", "money", colour="negative"),
    Column("Equity − MM after", "headroom_after", "money", colour="negative"),
)


FORMULA_NAMES = {"binance": "Binance LeveragePnl", "okx": "OKX PnL % × lev.", "bybit": "Bybit PnL % × lev.",
                 "deribit": "Deribit: socialised loss"}


def rank_rows(view: AdlView) -> list[dict[str, Any]]:
    closed = set(view.closed)
    out = []
    for r in view.rows:
        lev = r["effective_leverage"]
        out.append({"key": f"{r['account']}/{r['id']}", "label": f"{r['account']} · {r['id']}",
                    "formula": FORMULA_NAMES.get(r["formula"], r["formula"]), "unrealized_pnl": r["unrealized_pnl"],
                    "pnl_pct": r["pnl_pct"], "leverage": "no equity" if lev == float("inf") else f"{lev:.2f}×",
                    "rank": f"{r['rank']:.4g}" if r["formula"] != "deribit" else "",
                    "closed": "closed" if (r["account"], r["id"]) in closed else ("at risk" if r["at_risk"] else ""),
                    "_at_risk": r["at_risk"]})
    return out


class RankModel(RecordTableModel):
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.row() < len(self._rows)
                and self.columns[index.column()].key == "closed" and self._rows[index.row()]["closed"]):
            return self._theme.level("amber")
        return super().data(index, role)


class AdlPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Any = None
        self.view: AdlView | None = None
        self.error: str | None = None
        self.job = LatestJob(self._on_view, self._on_error, parent=self)
        self.top = QSpinBox()
        self.top.setObjectName("stressAdlTop")
        self.top.setRange(0, 50)
        self.top.setValue(2)
        self.top.setToolTip("How many of the highest-ranked winners the venue closes")
        self.top.valueChanged.connect(lambda _v: self.run())
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.status.setMinimumWidth(10)
        self.rank_model = RankModel(RANK_COLUMNS, key_field="key", parent=self)
        self.rank_table = make_table_view(self.rank_model, "stressAdlRanking")
        self.after_model = RecordTableModel(AFTER_COLUMNS, key_field="scope", parent=self)
        self.after_table = make_table_view(self.after_model, "stressAdlAfter")
        head = QHBoxLayout()
        head.addWidget(QLabel("The venue closes the top"))
        head.addWidget(self.top)
        head.addWidget(QLabel("winners (at the mark); the book after:"))
        head.addStretch(1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(head)
        rl.addWidget(self.after_table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.rank_table)
        split.addWidget(right)
        split.setSizes([260, 200])
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    def set_context(self, session: Any) -> None:
        self.session = session
        self.run()

    def run(self) -> None:
        if self.session is not None:
            self.job.submit(compute_adl, self.session, self.top.value())

    def is_busy(self) -> bool:
        return self.job.is_busy()

    def _on_view(self, view: AdlView) -> None:
        self.view, self.error = view, None
        self.rank_model.set_records(rank_rows(view))
        fit_columns(self.rank_table)
        self.after_model.set_records([{**s, "label": scope_label(s["scope"])} for s in view.scopes])
        fit_columns(self.after_table)
        broken = [s["scope"] for s in view.scopes if s["breach"]]
        winners = sum(1 for r in view.rows if r["at_risk"])
        self.status.setText(f"{winners} winning position(s) could be deleveraged; closing "
                            f"{len(view.closed)} leaves " + (", ".join(broken) + " under its maintenance margin"
                                                             if broken else "every account and pool above its "
                                                             "maintenance margin")
                            + f" · computed in {view.elapsed_ms:.0f} ms")

    def _on_error(self, exc: BaseException) -> None:
        self.error = str(exc)
        self.status.setText(f"Could not rank: {exc}")

    def set_number_format(self, fmt: NumberFormat) -> None:
        self.rank_model.set_number_format(fmt)
        self.after_model.set_number_format(fmt)

    def set_theme(self, theme: Theme = LIGHT) -> None:
        self.rank_model.set_theme(theme)
        self.after_model.set_theme(theme)
