"""The Stress tab's "Scenario" page: results per account and pool (liquidated rows in red), the
scenario's sources, pooled versus apart, the cascade and the top-ups, and the chart of the
chosen scope against shock size."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSplitter, QTextBrowser, QVBoxLayout, QWidget

from workstation.ui.formatting import NumberFormat
from workstation.ui.stress_charts import ShockChart
from workstation.ui.stress_compute import StressView, describe, scope_rows, timeline_html
from workstation.ui.table_model import Column, RecordTableModel
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.views import fit_columns, make_table_view

Index = QModelIndex | QPersistentModelIndex
COLUMNS = (
    Column("Account / pool", "label"),
    Column("Equity", "equity", "money", "Equity under the scenario"),
    Column("MM", "maintenance_margin", "money", "Maintenance margin under the scenario"),
    Column("Equity − MM", "headroom", "money",
           "Equity minus the liquidation level (MM, times the profile's liquidation threshold): negative is "
           "liquidated", "negative"),
    Column("Short of MM", "shortfall_mm", "money", "Collateral value needed to get back to the liquidation level"),
    Column("Short of IM", "shortfall_im", "money", "Collateral value needed to get back to IM"),
    Column("P&L", "pnl", "money", "Change of equity from the book as it is", "sign"),
    Column("Status", "status", tip="Liquidated, or the multiple of this scenario's moves that would liquidate it "
                                   "(up to 5×)"),
)


class StressModel(RecordTableModel):
    """Results per scope; a liquidated row is written in red."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COLUMNS, key_field="scope", parent=parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.row() < len(self._rows)
                and self._rows[index.row()].get("breach")):
            return self._theme.level("red")
        return super().data(index, role)


class ScenarioPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = StressModel(self)
        self.table = make_table_view(self.model, "stressTable")
        self.table.setMinimumHeight(70)
        self.timeline = QTextBrowser()  # scrolls: a long source list never grows the window
        self.timeline.setObjectName("stressTimeline")
        self.timeline.setOpenExternalLinks(False)
        self.timeline.setMinimumWidth(160)
        self.chart = ShockChart()
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.timeline)
        lower.addWidget(self.chart.frame)
        lower.setSizes([420, 520])
        lower.setChildrenCollapsible(False)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([170, 330])
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(split)
        self._base = "USD"

    def set_view(self, view: StressView, scenario: Any, base: str) -> None:
        self._base = base
        self.model.set_records(scope_rows(view.document))
        fit_columns(self.table)
        self.timeline.setHtml(describe(scenario) + timeline_html(view.document, base))
        multiple = next((s.get("breach_multiple") for s in view.document["scopes"] if s["scope"] == view.scope), None)
        self.chart.set_curve(view.curve, view.scope, multiple)

    def describe_only(self, scenario: Any) -> None:
        self.timeline.setHtml(describe(scenario))

    def set_number_format(self, fmt: NumberFormat) -> None:
        self.model.set_number_format(fmt)
        self.chart.set_number_format(fmt)

    def set_theme(self, theme: Theme = LIGHT) -> None:
        self.model.set_theme(theme)
        self.chart.set_theme(theme)
        self.timeline.document().setDefaultStyleSheet(f"body {{ color: {QColor(theme.text).name()}; }}")
