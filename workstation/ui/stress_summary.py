"""The Stress tab's "Historical days" page: which day would have liquidated which account, apart
and pooled, and in which order; said in one sentence above a table of every historical
scenario x every account and pool (liquidated, the multiple of the day's moves that would
liquidate it, or safe to 5x). Computed once per book, off the GUI thread."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QVBoxLayout, QWidget

from workstation.ui.formatting import NumberFormat
from workstation.ui.table_model import Column, RecordTableModel
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.views import make_table_view

Index = QModelIndex | QPersistentModelIndex


def short(scope: str) -> str:
    return scope.partition(":")[2]


def compact(x: float) -> str:
    """Money in a few characters: 1.36 M, 879 k, −12 k."""
    a = abs(x)
    text = f"{a / 1e9:.3g} bn" if a >= 1e9 else f"{a / 1e6:.3g} M" if a >= 1e6 else \
        f"{a / 1e3:.3g} k" if a >= 1e3 else f"{a:.0f}"
    return ("−" if x < 0 else "") + text


def cell_text(cell: dict[str, Any], limit: float) -> str:
    """Liquidated by the day; or the multiple of its moves that would; or safe (up to the
    limit), with what is left above the liquidation level under the day itself."""
    left = compact(cell["headroom"])
    if cell["breach"]:
        return f"liquidated · {left}"
    m = cell["multiple"]
    return f"at {m:.2f}× · {left}" if m is not None else f"safe · {left}"


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per scenario: a cell per scope and the order in which the scopes would go."""
    rows = []
    limit = summary["limit"]
    for r in summary["rows"]:
        row: dict[str, Any] = {"scenario": r["scenario"], "_tip": f"{r['title']} ({' to '.join(r['dates'])})"}
        order = []
        for scope, cell in r["cells"].items():
            row[scope] = cell_text(cell, limit)
            row[f"_level:{scope}"] = ("red" if cell["breach"] else "amber" if cell["multiple"] is not None
                                      and cell["multiple"] <= 2.0 else "calm" if cell["multiple"] is None else "")
            if cell["multiple"] is not None:
                order.append((cell["multiple"], short(scope) + (" (pooled)" if scope.startswith("pool:") else "")))
        row["order"] = " → ".join(f"{name} {m:.2f}×" for m, name in sorted(order)) or "none up to 5×"
        rows.append(row)
    return rows


def summary_sentence(summary: dict[str, Any]) -> str:
    """What the table says, plainly."""
    limit = summary["limit"]
    days = [r for r in summary["rows"] if any(c["breach"] for c in r["cells"].values())]
    near = [(c["multiple"], r["scenario"], s) for r in summary["rows"] for s, c in r["cells"].items()
            if c["multiple"] is not None and not c["breach"]]
    if days:
        parts = []
        for r in days:
            hit = [s for s, c in r["cells"].items() if c["breach"]]
            apart = [short(s) for s in hit if s.startswith("account:")]
            pooled = [short(s) for s in hit if s.startswith("pool:")]
            said = []
            if apart:
                said.append(", ".join(apart) + " apart")
            if pooled:
                said.append("pool " + ", ".join(pooled) + " pooled")
            parts.append(f"{r['scenario']} liquidates " + " and ".join(said))
        text = "; ".join(parts) + "."
    else:
        text = (f"No historical day liquidates any account or pool, apart or pooled, even at {limit:g}× its "
                "moves.")
    if near:
        m, day, scope = min(near)
        text += f" Closest: {short(scope)} ({'pooled' if scope.startswith('pool:') else 'apart'}) at {m:.2f}× {day}."
    elif not days and summary["rows"]:
        h, day, scope = min((c["headroom"], r["scenario"], s) for r in summary["rows"] for s, c in r["cells"].items())
        text += (f" Tightest: {short(scope)} ({'pooled' if scope.startswith('pool:') else 'apart'}) keeps "
                 f"{compact(h)} above its liquidation level under {day}; the Joint move page shows how far a "
                 "BTC/ETH move must go.")
    return text


class SummaryModel(RecordTableModel):
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.row() < len(self._rows):
            level = self._rows[index.row()].get(f"_level:{self.columns[index.column()].key}")
            if level:
                return self._theme.level(level)
        return super().data(index, role)


class SummaryPage(QWidget):
    """The sentence and the table; a double-click on a row selects that scenario."""

    scenario_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sentence = QLabel("computing every historical day…")
        self.sentence.setObjectName("stressSummarySentence")
        self.sentence.setWordWrap(True)
        self.sentence.setMinimumWidth(10)
        self.note = QLabel("Accounts apart, pools pooled (every member shares the pool's fate). \"at 2.50×\": two "
                           "and a half times the day's moves (over the same day) liquidate it; \"safe\": not up to "
                           "5×. The amount is equity above the liquidation level under the day itself. Double-click "
                           "a day to open it.")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.note.setMinimumWidth(10)
        self.model = SummaryModel([Column("Day", "scenario")], key_field="scenario", parent=self)
        self.table = make_table_view(self.model, "stressSummary")
        self.table.doubleClicked.connect(self._chosen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.sentence)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self.summary: dict[str, Any] | None = None
        self._fmt = NumberFormat()
        self._theme: Theme = LIGHT

    def set_summary(self, summary: dict[str, Any] | None) -> None:
        self.summary = summary
        if summary is None:
            self.model.set_records([])
            self.sentence.setText("computing every historical day…")
            return
        columns = [Column("Day", "scenario")]
        for scope in summary["scopes"]:
            kind = "pooled" if scope.startswith("pool:") else "apart"
            members = ", ".join(summary["pools"].get(short(scope), []))
            tip = f"{scope}, {kind}" + (f": {members}" if members else "")
            columns.append(Column(f"{short(scope)} ({kind})", scope, tip=tip))
        if any(c["multiple"] is not None for r in summary["rows"] for c in r["cells"].values()):
            columns.append(Column("Order (first to go first)", "order",
                                  tip="The scopes that a larger move would liquidate, smallest multiple first"))
        if [c.key for c in columns] != [c.key for c in self.model.columns]:
            self.model = SummaryModel(columns, key_field="scenario", parent=self)
            self.model.set_number_format(self._fmt)
            self.model.set_theme(self._theme)
            self.table.setModel(self.model)
        self.model.set_records(summary_rows(summary))
        header = self.table.horizontalHeader()  # every column to its contents, the last one stretched
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.sentence.setText(summary_sentence(summary))

    def _chosen(self, index: QModelIndex) -> None:
        if index.isValid():
            self.scenario_chosen.emit(self.model.record(index.row())["scenario"])

    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        self.model.set_number_format(fmt)

    def set_theme(self, theme: Theme = LIGHT) -> None:
        self._theme = theme
        self.model.set_theme(theme)
