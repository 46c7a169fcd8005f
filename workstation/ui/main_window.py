"""The main window: accounts and pools tree, dashboard, and the Book, What-if, Accounts and History
tabs. Every figure on screen comes from the engine; the window only arranges and formats them.

Start-up order (numbers first): the tree, dashboard and tables are built at once; the charts and
the What-if tab import pyqtgraph and the hedge code, so they are imported on a worker after the
first figures and built then (or when first asked for).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workstation import __version__
from workstation.core.model import Portfolio
from workstation.ui.accounts_overview import AccountsOverview
from workstation.ui.collateral import CollateralPanel
from workstation.ui.compute import ScopeView, view_charts
from workstation.ui.dashboard import Dashboard, ScopeInfo
from workstation.ui.editing import Editor
from workstation.ui.errors import show_error
from workstation.ui.formatting import NumberFormat
from workstation.ui.history import HistoryPanel
from workstation.ui.liquidation import LiquidationPanel
from workstation.ui.menus import build_menus
from workstation.ui.positions import PositionsPanel
from workstation.ui.scope_tree import ScopeTree
from workstation.ui.settings import DisplaySettings
from workstation.ui.theme import apply_theme, theme_named
from workstation.ui.worker import LatestJob, start_worker
from workstation.ui.workspace import Workspace

TITLE = "Margin Workstation"
ABOUT = f"""<h3>{TITLE} {__version__}</h3>
<p>An offline workstation for derivatives margin: pooled collateral across accounts,
each position's contribution to the requirement, how far prices can move before
liquidation, and what a hedge would change.</p>
<p>Every figure comes from the margin engine (<code>python -m workstation margin</code>
prints the same report).</p>"""
LAZY_MODULES = ("workstation.ui.charts_panel", "workstation.ui.whatif_panel")
POSITIONS_STATE = "layout/positions-v2"  # the columns changed: older saved states do not apply


def _placeholder(text: str) -> QWidget:
    host = QWidget()
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(text)
    label.setObjectName("muted")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addWidget(label)
    return host


def _import_modules(names: tuple[str, ...]) -> None:
    import importlib

    for name in names:
        importlib.import_module(name)


class MainWindow(QMainWindow):
    """Shows one `Workspace`; every number on screen is from the engine's report dicts."""

    def __init__(self, workspace: Workspace, settings: QSettings | None = None, lazy_charts: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else QSettings()
        self.display = DisplaySettings.load(self.settings)
        self.workspace: Workspace = workspace
        self.charts: Any = None  # ChartsPanel, built after the first figures (pyqtgraph is slow)
        self._whatif: Any = None  # WhatIfPanel, built when first needed
        self._lazy_charts = lazy_charts
        self._preloading = False
        self.editor = Editor(self)

        self.tree = ScopeTree()
        self.tree_dock = QDockWidget("Accounts and pools", self)
        self.tree_dock.setObjectName("treeDock")
        self.tree_dock.setWidget(self.tree)
        self.tree_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                   | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.tree_dock)
        self.tree.scope_selected.connect(self._on_scope_selected)

        self.dashboard = Dashboard()
        self.collateral = CollateralPanel()
        self.liquidation = LiquidationPanel()
        self.positions = PositionsPanel()
        self.chart_host = _placeholder("Loading charts…")
        self.chart_host.setObjectName("chartHost")
        self.top_split = QSplitter(Qt.Orientation.Horizontal)
        self.top_split.setObjectName("topSplitter")
        self.top_split.addWidget(self.collateral)
        self.top_split.addWidget(self.liquidation)
        self.top_split.setSizes([560, 520])
        self.main_split = QSplitter(Qt.Orientation.Vertical)
        self.main_split.setObjectName("mainSplitter")
        for w in (self.top_split, self.positions, self.chart_host):
            self.main_split.addWidget(w)
        self.main_split.setChildrenCollapsible(False)
        self.main_split.setSizes([170, 300, 330])
        self.whatif_host = _placeholder("Loading the what-if…")
        self.overview = AccountsOverview()
        self.overview.scope_activated.connect(self._show_scope_in_book)
        self.history = HistoryPanel()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.main_split, "Book")
        self.tabs.addTab(self.whatif_host, "What-if")
        self.tabs.addTab(self.overview, "Accounts")
        self.tabs.addTab(self.history, "History")
        self.tabs.setTabToolTip(1, "Draft hypothetical trades or a hedge and see the figures before trading")
        self.tabs.setTabToolTip(2, "Every account and pool side by side, with the nearest liquidation price")
        self.tabs.setTabToolTip(3, "Equity, margin and usage of the selection over time, as recorded")
        self.tabs.currentChanged.connect(self._on_tab)
        central = QWidget()
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setSpacing(8)
        layout.addWidget(self.dashboard)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.source_label, self.as_of_label, self.timing_label = QLabel(), QLabel(), QLabel()
        for label in (self.source_label, self.as_of_label, self.timing_label):
            label.setObjectName("statusField")
            self.statusBar().addPermanentWidget(label)

        build_menus(self)
        self.positions.add_requested.connect(self.editor.add_position)
        self.positions.edit_requested.connect(self.editor.edit_position)
        self.positions.delete_requested.connect(self.editor.delete_position)
        self.collateral.add_requested.connect(self.editor.add_collateral)
        self.collateral.edit_requested.connect(self.editor.edit_collateral)
        self.collateral.delete_requested.connect(self.editor.delete_collateral)
        self._chart_job = LatestJob(self._on_charts, self._on_chart_error, parent=self)

        self.tree.setMinimumWidth(180)
        screen = self.screen().availableGeometry() if self.screen() else None
        width = min(1600, screen.width()) if screen else 1600
        self.resize(width, min(1000, screen.height()) if screen else 1000)
        self.resizeDocks([self.tree_dock], [320 if width >= 1500 else 240], Qt.Orientation.Horizontal)
        self._restore_layout()
        self.apply_display(self.display, save=False)
        self._connect(workspace)
        if lazy_charts:  # after the first figures (or 1.5 s): numbers first, charts next
            QTimer.singleShot(1500, self._preload)
        else:
            self.load_charts()

    # -- workspace ------------------------------------------------------------------------
    def set_workspace(self, workspace: Workspace) -> None:
        """Show another source (database or file); the old workspace is dropped."""
        old = self.workspace
        for signal in (old.loaded, old.computed, old.busy_changed, old.failed):
            signal.disconnect()
        if old.db is not None:
            old.db.close()
        old.deleteLater()
        self.workspace = workspace
        self._connect(workspace)
        workspace.load(record=True)

    def _connect(self, ws: Workspace) -> None:
        ws.setParent(self)
        ws.loaded.connect(self._on_loaded)
        ws.computed.connect(self._on_computed)
        ws.busy_changed.connect(self.dashboard.set_busy)
        ws.failed.connect(lambda exc: show_error(self, "Margin Workstation", exc))
        self.source_label.setText(ws.source_label())
        editable = not ws.read_only
        self.positions.set_editable(editable)
        self.collateral.set_editable(editable)
        self.history.set_source(ws.db, ws.db_path)
        self._whatif_context()
        for action in self.edit_actions:
            action.setEnabled(editable)
        self.import_action.setEnabled(editable)

    def _on_loaded(self, portfolio: Portfolio) -> None:
        self.tree.tree_model.set_portfolio(portfolio)
        if self.workspace.scope:
            self.tree.blockSignals(True)
            self.tree.select_scope(self.workspace.scope)
            self.tree.blockSignals(False)
        self.as_of_label.setText(f"as of {portfolio.as_of:%Y-%m-%d %H:%M} UTC")
        self._apply_number_format()
        self._show_scope_info()

    def _on_scope_selected(self, scope: str) -> None:
        self.workspace.select(scope)
        self._show_scope_info()

    def _show_scope_in_book(self, scope: str) -> None:
        self.tree.select_scope(scope)
        self.tabs.setCurrentWidget(self.main_split)

    def _on_computed(self, view: ScopeView) -> None:
        portfolio = self.workspace.portfolio
        if portfolio is None:
            return
        if view.reports is not None:
            self.tree.tree_model.set_reports(view.reports)
            self.overview.set_reports(portfolio, view.reports)
            self.history.mark_stale()
        self._show_scope_info()
        report = view.report
        self.dashboard.set_report(report)
        self.collateral.set_lines(view.collateral, show_account=False, total=self._collateral_total(report))
        self.liquidation.set_liquidation(report.get("liquidation"))
        if view.table is not None:
            self.positions.set_table(view.table)
        self.positions.view.setColumnHidden(self.positions.model.column_index("account"),
                                            not view.scope.startswith("pool:"))
        self.timing_label.setText(f"recomputed in {view.elapsed_ms:.0f} ms")
        if view.curve is None and view.underlying is not None:
            self._request_charts(view)
        if self.charts is not None:
            self._show_charts(view)
        elif self._lazy_charts:
            QTimer.singleShot(0, self._preload)
        if self.tabs.currentWidget() is self.history:
            self.history.refresh()

    # -- charts ---------------------------------------------------------------------------
    def _request_charts(self, view: ScopeView) -> None:
        """Compute the curve and heatmap of the view's underlying on a worker."""
        if self.charts is not None:
            self.charts.set_pending(True)
        self._chart_job.submit(view_charts, self.workspace.portfolio, view)

    def _on_charts(self, result: tuple[ScopeView, Any, Any]) -> None:
        view, curve, heat = result
        view.curve, view.heatmap = curve, heat
        if self.charts is not None:
            self.charts.set_pending(False)
            if view is self.workspace.view:
                self._show_charts(view)

    def _on_chart_error(self, exc: BaseException) -> None:
        if self.charts is not None:
            self.charts.set_pending(False)
        show_error(self, "Charts", exc)

    def charts_busy(self) -> bool:
        """A curve or heatmap is being computed."""
        return self._chart_job.is_busy()

    def is_busy(self) -> bool:
        """The engine is working for this window (figures or charts)."""
        return self.workspace.is_busy() or self.charts_busy()

    def _on_underlying(self, underlying: str) -> None:
        view = self.workspace.view
        if view is None or underlying == view.underlying or underlying not in view.underlyings:
            return
        self.workspace.underlying = view.underlying = underlying
        view.curve = view.heatmap = None
        self._show_charts(view)
        self._request_charts(view)

    def _show_charts(self, view: ScopeView) -> None:
        portfolio = self.workspace.portfolio
        quote = portfolio.market.get(view.underlying or "") if portfolio else None
        self.charts.show_view(view, quote.price if quote else None, self.number_format().unit_label())
        self.charts.set_pending(view.curve is None and view.underlying is not None)

    def _preload(self) -> None:
        """Import the charts and the What-if code on a worker, then build them here."""
        if self._preloading or (self.charts is not None and self._whatif is not None):
            return
        self._preloading = True
        start_worker(_import_modules, LAZY_MODULES, on_returned=lambda _r: self._after_preload(),
                     on_errored=lambda _e: self._after_preload())

    def _after_preload(self) -> None:
        self.load_charts()
        QTimer.singleShot(0, self._build_whatif)  # a separate turn of the event loop

    def load_charts(self) -> None:
        """Build the charts (imports pyqtgraph if not yet imported); called once."""
        if self.charts is not None:
            return
        from workstation.ui.charts_panel import ChartsPanel

        self.charts = ChartsPanel()
        self.charts.set_theme(theme_named(self.display.theme))
        self.charts.set_number_format(self.number_format())
        self.charts.underlying_changed.connect(self._on_underlying)
        layout = self.chart_host.layout()
        while layout.count():
            layout.takeAt(0).widget().deleteLater()
        layout.addWidget(self.charts)
        state = self.settings.value("layout/charts")
        if isinstance(state, QByteArray | bytes):
            self.charts.splitter.restoreState(QByteArray(state))
        if self.workspace.view is not None:
            self._show_charts(self.workspace.view)

    def reset_chart_views(self) -> None:
        if self.charts is not None:
            for chart in self.charts.charts():
                chart.reset_view()
        if self.history.charts is not None:
            self.history.charts.reset_view()

    # -- what-if --------------------------------------------------------------------------
    @property
    def whatif(self) -> Any:
        """The What-if panel (built on first use)."""
        return self._build_whatif()

    def _build_whatif(self) -> Any:
        if self._whatif is not None:
            return self._whatif
        from workstation.ui.whatif_panel import WhatIfPanel

        panel = WhatIfPanel()
        self._whatif = panel
        panel.apply_requested.connect(self._apply_whatif)
        panel.set_theme(theme_named(self.display.theme))
        panel.set_number_format(self.number_format())
        state = self.settings.value("layout/whatif")
        if isinstance(state, QByteArray | bytes):
            panel.splitter.restoreState(QByteArray(state))
        # the panel replaces its placeholder as the tab's page (same index, same current tab)
        index, current, enabled = self.tabs.indexOf(self.whatif_host), self.tabs.currentIndex(), \
            self.tabs.isTabEnabled(self.tabs.indexOf(self.whatif_host))
        self.tabs.blockSignals(True)
        tip = self.tabs.tabToolTip(index)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, panel, "What-if")
        self.tabs.setTabToolTip(index, tip)
        self.tabs.setTabEnabled(index, enabled)
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        self.whatif_host.deleteLater()
        self.whatif_host = panel
        self._whatif_context()
        return panel

    def _whatif_context(self) -> None:
        if self._whatif is not None:
            ws = self.workspace
            self._whatif.set_context(ws.portfolio, ws.scope, ws.read_only, ws.db)

    def show_whatif(self) -> None:
        """Switch to the What-if tab."""
        self._build_whatif()
        if self.tabs.isTabEnabled(self.tabs.indexOf(self.whatif_host)):
            self.tabs.setCurrentWidget(self.whatif_host)

    def _apply_whatif(self, account_id: str, trades: list) -> None:
        if self.editor.apply_trades(account_id, trades):
            self.whatif.clear_drafts(account_id)

    def _on_tab(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        if current is self.whatif_host:
            self._build_whatif()
        elif current is self.history:
            self.history.refresh()

    def _show_scope_info(self) -> None:
        ws = self.workspace
        self._whatif_context()
        self.tabs.setTabEnabled(self.tabs.indexOf(self.whatif_host), ws.portfolio is not None and ws.scope is not None)
        if ws.portfolio is None or ws.scope is None:
            self.dashboard.set_scope(None)
            self.history.set_scope(None)
            return
        info = scope_info(ws.portfolio, ws.scope)
        self.dashboard.set_scope(info)
        self.history.set_scope(ws.scope, info.title)
        if self.tabs.currentWidget() is self.history:
            self.history.refresh()

    def about(self) -> None:
        QMessageBox.about(self, f"About {TITLE}", ABOUT)

    # -- display settings -----------------------------------------------------------------
    def number_format(self) -> NumberFormat:
        """The number format of the settings, in the book's base currency."""
        base = self.workspace.portfolio.base_currency if self.workspace.portfolio else "USD"
        return self.display.number_format(base)

    def set_theme(self, name: str) -> None:
        self.apply_display(replace(self.display, theme=name))

    def apply_display(self, display: DisplaySettings, save: bool = True) -> None:
        """Apply theme and number format everywhere (and remember them)."""
        self.display = display
        if save:
            display.save(self.settings)
        theme = theme_named(display.theme)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.theme_actions[display.theme].setChecked(True)
        for target in (self.tree.tree_model, self.positions.model, self.collateral.model,
                       self.liquidation.model, self.overview.model, self.dashboard, self.history,
                       self.charts, self._whatif):
            if target is not None:
                target.set_theme(theme)
        self._apply_number_format()

    def _collateral_total(self, report: dict[str, Any]) -> str:
        return f"after haircuts {self.number_format().money(report.get('collateral_value'), unit=True)}"

    def _apply_number_format(self) -> None:
        fmt = self.number_format()
        for target in (self.positions.model, self.collateral.model, self.liquidation.model,
                       self.overview.model, self.dashboard, self.history, self.charts, self._whatif):
            if target is not None:
                target.set_number_format(fmt)
        self.tree.tree_model.set_number_format(replace(fmt, decimals=0))
        if self.workspace.view is not None:
            if self.charts is not None:
                self._show_charts(self.workspace.view)
            self.collateral.total.setText(self._collateral_total(self.workspace.view.report))

    # -- layout persistence ---------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = self.settings
        for key, restore in (
            ("layout/geometry", self.restoreGeometry),
            ("layout/state", self.restoreState),
            ("layout/main", self.main_split.restoreState),
            ("layout/top", self.top_split.restoreState),
            (POSITIONS_STATE, self.positions.view.horizontalHeader().restoreState),
        ):
            value = s.value(key)
            if isinstance(value, QByteArray | bytes) and restore(QByteArray(value)) and key == POSITIONS_STATE:
                self.positions.mark_sized()

    def save_layout(self) -> None:
        s = self.settings
        s.setValue("layout/geometry", self.saveGeometry())
        s.setValue("layout/state", self.saveState())
        s.setValue("layout/main", self.main_split.saveState())
        s.setValue("layout/top", self.top_split.saveState())
        s.setValue(POSITIONS_STATE, self.positions.view.horizontalHeader().saveState())
        if self._whatif is not None:
            s.setValue("layout/whatif", self._whatif.splitter.saveState())
        if self.charts is not None:
            s.setValue("layout/charts", self.charts.splitter.saveState())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)


def scope_info(portfolio: Portfolio, scope: str) -> ScopeInfo:
    """Title and one line of context for `account:ID` or `pool:ID`."""
    kind, _, ident = scope.partition(":")
    if kind == "pool":
        pool = portfolio.pool(ident)
        n = sum(len(portfolio.account(a).positions) for a in pool.accounts)
        sub = (f"Pool {pool.id} · {_count(len(pool.accounts), 'account')} · {_count(n, 'position')} · "
               f"{pool.margin_mode} margin · profile {pool.profile}")
        return ScopeInfo(scope, pool.name or f"Pool {pool.id}", sub, pool.margin_mode, tuple(pool.accounts))
    acc = portfolio.account(ident)
    venue = f" · {acc.venue}" if acc.venue else ""
    sub = (f"Account {acc.id}{venue} · {_count(len(acc.positions), 'position')} · "
           f"{acc.margin_mode} margin · profile {acc.profile}")
    return ScopeInfo(scope, acc.name or acc.id, sub, acc.margin_mode, (acc.id,))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
