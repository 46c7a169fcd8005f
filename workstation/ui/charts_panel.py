"""The charts row: component margin bars, P&L / margin curve and the scenario heatmap."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from workstation.ui.charts import ComponentMarginChart, PnlCurveChart, ScenarioHeatmap
from workstation.ui.compute import ScopeView
from workstation.ui.formatting import NumberFormat
from workstation.ui.theme import Theme


def component_items(view: ScopeView) -> list[tuple[str, float, bool]]:
    """(label, component margin, is_collateral) for every position and collateral asset."""
    items = [
        (view.labels.get(f"{p['account']}/{p['id']}", p["id"]), float(p.get("component_margin") or 0.0), False)
        for p in view.report.get("positions", [])
    ]
    items += [
        (f"{asset} collateral", float(value), True)
        for asset, value in (view.report.get("collateral_components") or {}).items()
        if value
    ]
    return items


class ChartsPanel(QWidget):
    """Three charts side by side, and the underlying the curve and heatmap are drawn for."""

    underlying_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.components = ComponentMarginChart()
        self.curve = PnlCurveChart()
        self.heatmap = ScenarioHeatmap()
        self.underlying = QComboBox()
        self.underlying.setMinimumWidth(90)
        self.underlying.activated.connect(
            lambda _i: self.underlying_changed.emit(self.underlying.currentText())
        )
        bar = QHBoxLayout()
        label = QLabel("Charts")
        label.setObjectName("sectionTitle")
        bar.addWidget(label)
        bar.addStretch(1)
        bar.addWidget(QLabel("Underlying"))
        bar.addWidget(self.underlying)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("chartsSplitter")
        self.splitter.setChildrenCollapsible(False)
        for chart in (self.components, self.curve, self.heatmap):
            self.splitter.addWidget(chart)
        self.splitter.setSizes([430, 430, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

    def set_theme(self, theme: Theme) -> None:
        for chart in (self.components, self.curve, self.heatmap):
            chart.set_theme(theme)

    def set_number_format(self, fmt: NumberFormat) -> None:
        for chart in (self.components, self.curve, self.heatmap):
            chart.set_number_format(fmt)

    def show_view(self, view: ScopeView, spot: float | None, unit: str) -> None:
        """Update every chart from the engine's results for one scope."""
        self.underlying.blockSignals(True)
        self.underlying.clear()
        self.underlying.addItems(view.underlyings)
        if view.underlying:
            self.underlying.setCurrentText(view.underlying)
        self.underlying.blockSignals(False)
        self.components.set_title("Margin by position")
        self.components.set_components(component_items(view), unit)
        und = view.underlying or ""
        liquidation = (view.report.get("liquidation") or {}).get(und)
        self.curve.set_curve(view.curve, und, spot, liquidation, unit)
        if view.curve:
            self.curve.set_title(f"{und}: equity, maintenance margin, P&L")
        note = (
            f"Scenario heatmap is for portfolio margin\n(this scope is {view.margin_mode})"
            if view.margin_mode != "portfolio" else "No underlying to shock"
        )
        self.heatmap.set_heatmap(view.heatmap, und, note)

    def current(self) -> dict[str, Any]:
        return {"underlying": self.underlying.currentText()}
