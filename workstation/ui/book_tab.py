"""The Book tab: collateral and liquidation on top, the positions table, the charts row.

The figures arrive with the engine's `ScopeView`; the curve and heatmap of the chosen underlying
are a second job on a worker (only that underlying is revalued), so the numbers show first. The
charts (pyqtgraph) are built when `load_charts` is first called.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QTabWidget, QWidget

from workstation.core.model import Portfolio
from workstation.ui.collateral import CollateralPanel
from workstation.ui.compute import ScopeView, view_charts
from workstation.ui.formatting import NumberFormat
from workstation.ui.lazy_tab import LazyTab, placeholder
from workstation.ui.liquidation import LiquidationPanel
from workstation.ui.positions import PositionsPanel
from workstation.ui.theme import Theme
from workstation.ui.worker import LatestJob


class BookTab(QSplitter):
    """Vertical splitter of (collateral | liquidation), positions and charts."""

    underlying_chosen = Signal(str)  # the user picked another underlying for the charts
    chart_failed = Signal(object)
    charts_ready = Signal()  # the charts row is built

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setObjectName("mainSplitter")
        self.collateral = CollateralPanel()
        self.liquidation = LiquidationPanel()
        self.positions = PositionsPanel()
        self.chart_host = placeholder("Loading charts…")
        self.chart_host.setObjectName("chartHost")
        self.charts: Any = None  # ChartsPanel
        self._risk_profile: Any = None  # RiskProfilePanel (the What-if's chart, as booked)
        self.risk_tab: LazyTab | None = None
        self.chart_tabs: Any = None
        self._theme: Theme | None = None
        self._fmt: NumberFormat | None = None
        self.top_split = QSplitter(Qt.Orientation.Horizontal)
        self.top_split.setObjectName("topSplitter")
        self.top_split.addWidget(self.collateral)
        self.top_split.addWidget(self.liquidation)
        self.top_split.setSizes([560, 520])
        for w in (self.top_split, self.positions, self.chart_host):
            self.addWidget(w)
        self.setChildrenCollapsible(False)
        self._proportioned = False  # True once sized to the window (or restored from the settings)
        self._building = False
        self._view: ScopeView | None = None
        self._portfolio: Portfolio | None = None
        self._unit = ""
        self._job = LatestJob(self._on_charts, self.chart_failed.emit, parent=self)
        self._wanted: tuple[Portfolio, ScopeView] | None = None  # charts to compute (`ask_charts`)

    SHARES = (0.22, 0.38, 0.40)  # collateral and liquidation, positions, charts

    def restoreState(self, state: Any) -> bool:
        restored = super().restoreState(state)
        self._proportioned = self._proportioned or restored
        return restored

    def showEvent(self, event: QShowEvent) -> None:
        """The first time it has its real height: shares of it, not sizes fixed in pixels."""
        super().showEvent(event)
        if not self._proportioned and self.height() > 100:
            self._proportioned = True
            self.setSizes([int(self.height() * share) for share in self.SHARES])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._proportioned and self.isVisible() and self.height() > 100:
            self._proportioned = True
            self.setSizes([int(self.height() * share) for share in self.SHARES])

    # -- figures --------------------------------------------------------------------------
    def show_view(self, view: ScopeView, portfolio: Portfolio, collateral_total: str, unit: str) -> None:
        """Show the engine's figures for one scope; ask for its curve and heatmap if missing."""
        self._view, self._portfolio, self._unit = view, portfolio, unit
        report = view.report
        self.collateral.set_lines(view.collateral, show_account=False, total=collateral_total)
        self.liquidation.set_liquidation(report.get("liquidation"))
        if view.table is not None:
            self.positions.set_table(view.table)
        self.positions.view.setColumnHidden(self.positions.model.column_index("account"),
                                            not view.scope.startswith("pool:"))
        self._wanted = (portfolio, view) if view.curve is None and view.underlying is not None else None
        self._draw()

    def ask_charts(self) -> None:
        """Compute the curve and heatmap of the view shown last, if it has none: called once the
        window has painted its figures (their first job may import scipy.special, 200 ms holding
        the GIL the paint needs). Nothing if they arrived or were asked for meanwhile (an underlying
        chosen: `choose_underlying`)."""
        wanted, self._wanted = self._wanted, None
        if wanted is not None and wanted[1].curve is None:
            self._job.submit(view_charts, *wanted)

    def choose_underlying(self, underlying: str) -> None:
        """Draw the curve and heatmap of `underlying` (computed on a worker)."""
        view = self._view
        if view is None or self._portfolio is None or underlying == view.underlying \
                or underlying not in view.underlyings:
            return
        view.underlying = underlying
        view.curve = view.heatmap = None
        self._wanted = None  # this job is the one `ask_charts` would submit for the same view
        self._job.submit(view_charts, self._portfolio, view)
        self._draw()

    def charts_busy(self) -> bool:
        """The curve and heatmap are being computed, or asked for and not yet started."""
        return self._job.is_busy() or self._wanted is not None

    def charts_painting(self) -> bool:
        """The charts are being painted one per turn (`ChartsPanel.paint_in_turns`)."""
        return self.charts is not None and self.charts.painting()

    def _on_charts(self, result: tuple[ScopeView, Any, Any]) -> None:
        view, curve, heat = result
        view.curve, view.heatmap = curve, heat
        if view is self._view:
            self._draw()

    def _draw(self) -> None:
        view = self._view
        if self.charts is None or view is None:
            return
        quote = self._portfolio.market.get(view.underlying or "") if self._portfolio else None
        self.charts.show_view(view, quote.price if quote else None, self._unit)
        self.charts.set_pending(view.curve is None and view.underlying is not None)
        self._show_risk_scope()

    # -- charts ---------------------------------------------------------------------------
    def load_charts(self, theme: Theme, fmt: NumberFormat, state: Any = None, staged: bool = False) -> None:
        """Build the charts (imports pyqtgraph if not yet imported); called once. `staged`: one
        chart per turn of the event loop, so the window never waits long for them."""
        if self.charts is not None or self._building:
            return
        from workstation.ui.charts_panel import ChartsPanel, build_staged

        if staged:
            self._building = True
            build_staged(lambda panel: self._install(panel, theme, fmt, state), self)
        else:
            self._install(ChartsPanel(), theme, fmt, state)

    def _install(self, panel: Any, theme: Theme, fmt: NumberFormat, state: Any) -> None:
        self._building = False
        self._theme, self._fmt = theme, fmt
        self.charts = panel
        self.charts.set_theme(theme)
        self.charts.set_number_format(fmt)
        self.charts.underlying_changed.connect(self.underlying_chosen)
        self.chart_tabs = QTabWidget()
        self.chart_tabs.setDocumentMode(True)
        self.chart_tabs.addTab(self.charts, "Margin charts")
        self.risk_tab = LazyTab(self.chart_tabs, "Risk profile (date, vol)", "The book as booked, today or at a "
                                "date, with a vol shift", self._make_risk_profile, "Loading the risk profile…")
        self.chart_tabs.currentChanged.connect(
            lambda _i: self.risk_tab.get() if self.chart_tabs.currentWidget() is self.risk_tab.widget() else None)
        self.charts.controls_to(self.chart_tabs)
        layout = self.chart_host.layout()
        while layout.count():
            item = layout.takeAt(0).widget()
            item.hide()
            item.deleteLater()
        layout.addWidget(self.chart_tabs)
        if isinstance(state, QByteArray | bytes):
            self.charts.splitter.restoreState(QByteArray(state))
        self._draw()
        self.charts.paint_in_turns()
        self.charts_ready.emit()

    @property
    def risk_profile(self) -> Any:
        """The What-if's risk profile of the book as booked (built when first shown; None before
        the charts are)."""
        if self.risk_tab is None:
            return None
        self.risk_tab.get()
        return self._risk_profile

    def _make_risk_profile(self) -> QWidget:
        from workstation.ui.risk_panel import RiskProfilePanel

        panel = RiskProfilePanel()  # computes only while shown
        panel.set_theme(self._theme)
        panel.set_number_format(self._fmt)
        self._risk_profile = panel
        self._show_risk_scope()
        scroll = QScrollArea()  # its sliders and controls must not set the charts row's least height
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(panel)
        return scroll

    def _show_risk_scope(self) -> None:
        view = self._view
        if self._risk_profile is not None and view is not None and self._portfolio is not None:
            self._risk_profile.show_scope(self._portfolio, view.scope, view.underlyings, view.underlying)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        for target in (self.positions.model, self.collateral.model, self.liquidation.model, self.charts,
                       self._risk_profile):
            if target is not None:
                target.set_theme(theme)

    def set_number_format(self, fmt: NumberFormat, unit: str) -> None:
        self._unit, self._fmt = unit, fmt
        for target in (self.positions.model, self.collateral.model, self.liquidation.model, self.charts,
                       self._risk_profile):
            if target is not None:
                target.set_number_format(fmt)
        self._draw()

    def reset_chart_views(self) -> None:
        if self.charts is not None:
            for chart in self.charts.charts():
                chart.reset_view()
