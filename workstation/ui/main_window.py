"""The main window: accounts and pools tree, dashboard, positions, charts, liquidation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
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
from workstation.ui.collateral import CollateralPanel
from workstation.ui.compute import ScopeView
from workstation.ui.dashboard import Dashboard, ScopeInfo
from workstation.ui.editing import Editor
from workstation.ui.errors import show_error
from workstation.ui.formatting import NumberFormat
from workstation.ui.liquidation import LiquidationPanel
from workstation.ui.positions import PositionsPanel, position_rows
from workstation.ui.scope_tree import ScopeTree
from workstation.ui.settings import DisplaySettings
from workstation.ui.theme import apply_theme, theme_named
from workstation.ui.whatif_panel import WhatIfPanel
from workstation.ui.workspace import Workspace

TITLE = "Margin Workstation"
ABOUT = f"""<h3>{TITLE} {__version__}</h3>
<p>An offline workstation for derivatives margin: pooled collateral across accounts,
each position's contribution to the requirement, how far prices can move before
liquidation, and what a hedge would change.</p>
<p>Every figure comes from the margin engine (<code>python -m workstation margin</code>
prints the same report).</p>"""


class MainWindow(QMainWindow):
    """Shows one `Workspace`; every number on screen is from the engine's report dicts."""

    def __init__(
        self,
        workspace: Workspace,
        settings: QSettings | None = None,
        lazy_charts: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else QSettings()
        self.display = DisplaySettings.load(self.settings)
        self.workspace: Workspace = workspace
        self.charts: Any = None  # ChartsPanel, built after the first paint (pyqtgraph is slow)
        self.stress: Any = None  # StressPanel (the Stress tab), built with the charts
        self.editor = Editor(self)

        self.tree = ScopeTree()
        self.tree_dock = QDockWidget("Accounts and pools", self)
        self.tree_dock.setObjectName("treeDock")
        self.tree_dock.setWidget(self.tree)
        self.tree_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.tree_dock)
        self.tree.scope_selected.connect(self._on_scope_selected)

        self.dashboard = Dashboard()
        self.collateral = CollateralPanel()
        self.liquidation = LiquidationPanel()
        self.positions = PositionsPanel()
        self.chart_host = QWidget()
        self.chart_host.setObjectName("chartHost")
        QVBoxLayout(self.chart_host).setContentsMargins(0, 0, 0, 0)
        self.chart_placeholder = QLabel("Loading charts…")
        self.chart_placeholder.setObjectName("muted")
        self.chart_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chart_host.layout().addWidget(self.chart_placeholder)

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
        self.main_split.setSizes([190, 300, 330])
        self.whatif = WhatIfPanel()
        self.whatif.apply_requested.connect(self._apply_whatif)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.main_split, "Book")
        self.tabs.addTab(self.whatif, "What-if")
        self.tabs.setTabToolTip(1, "Draft hypothetical trades or a hedge and see the figures before trading")
        central = QWidget()
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.setSpacing(10)
        layout.addWidget(self.dashboard)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.source_label = QLabel()
        self.as_of_label = QLabel()
        self.timing_label = QLabel()
        for label in (self.source_label, self.as_of_label, self.timing_label):
            label.setObjectName("statusField")
            self.statusBar().addPermanentWidget(label)

        self._build_menus()
        self.positions.add_requested.connect(self.editor.add_position)
        self.positions.edit_requested.connect(self.editor.edit_position)
        self.positions.delete_requested.connect(self.editor.delete_position)
        self.collateral.add_requested.connect(self.editor.add_collateral)
        self.collateral.edit_requested.connect(self.editor.edit_collateral)
        self.collateral.delete_requested.connect(self.editor.delete_collateral)

        self.tree.setMinimumWidth(240)
        # the window's minimum is fixed once, from the layout as built: a tab shown later (its
        # contents must fit it) never resizes the window, which the offscreen platform warns of
        self.setMinimumSize(self.minimumSizeHint())
        self.resize(1600, 1000)
        self.resizeDocks([self.tree_dock], [330], Qt.Orientation.Horizontal)
        self._restore_layout()
        self.apply_display(self.display, save=False)
        self._connect(workspace)
        if lazy_charts:  # after the first figures (or 1.5 s): numbers first, charts next
            QTimer.singleShot(1500, self.load_charts)
        else:
            self.load_charts()
        self._lazy_charts = lazy_charts

    # -- workspace ------------------------------------------------------------------------
    def set_workspace(self, workspace: Workspace) -> None:
        """Show another source (database or file); the old workspace is dropped."""
        old = self.workspace
        for signal in (old.loaded, old.computed, old.busy_changed, old.failed):
            signal.disconnect()
        old.close()
        old.deleteLater()
        self.workspace = workspace
        self._connect(workspace)
        workspace.load(record=True)

    def _connect(self, ws: Workspace) -> None:
        ws.setParent(self)
        ws.loaded.connect(self._on_loaded)
        ws.computed.connect(self._on_computed)
        ws.busy_changed.connect(self._on_busy)
        ws.failed.connect(lambda exc: show_error(self, "Margin Workstation", exc))
        self.editor.safety.watch(ws)  # Undo follows the book; outside changes are announced
        self.source_label.setText(ws.source_label())
        editable = not ws.read_only
        self.positions.set_editable(editable)
        self.collateral.set_editable(editable)
        self.whatif.set_context(ws.portfolio, ws.scope, ws.read_only, ws.db)
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

    def _on_underlying(self, underlying: str) -> None:
        if self.workspace.scope:
            self.workspace.select(self.workspace.scope, underlying)

    def _on_busy(self, busy: bool) -> None:
        self.dashboard.set_busy(busy)

    def _on_computed(self, view: ScopeView) -> None:
        portfolio = self.workspace.portfolio
        if portfolio is None:
            return
        if view.reports is not None:
            self.tree.tree_model.set_reports(view.reports)
        self._show_scope_info()
        report = view.report
        self.dashboard.set_report(report)
        pool = view.scope.startswith("pool:")
        self.collateral.set_lines(view.collateral, show_account=False, total=self._collateral_total(report))
        self.liquidation.set_liquidation(report.get("liquidation"))
        self.positions.set_rows(position_rows(report, portfolio, view.labels, view.coin_deltas))
        self.positions.view.setColumnHidden(self.positions.model.column_index("account"), not pool)
        if self.charts is not None:
            self._show_charts(view)
        elif self._lazy_charts:
            QTimer.singleShot(0, self.load_charts)
        self.timing_label.setText(f"recomputed in {view.elapsed_ms:.0f} ms")

    def _show_charts(self, view: ScopeView) -> None:
        portfolio = self.workspace.portfolio
        quote = portfolio.market.get(view.underlying or "") if portfolio else None
        self.charts.show_view(view, quote.price if quote else None, self.number_format().unit_label())
        if portfolio is not None:
            self.risk_profile.show_scope(portfolio, view.scope, view.underlyings, view.underlying)

    def _collateral_total(self, report: dict[str, Any]) -> str:
        return f"after haircuts {self.number_format().money(report.get('collateral_value'), unit=True)}"

    def _show_scope_info(self) -> None:
        ws = self.workspace
        self.whatif.set_context(ws.portfolio, ws.scope, ws.read_only, ws.db)
        self.tabs.setTabEnabled(1, ws.portfolio is not None and ws.scope is not None)
        if self.stress is not None:
            self.stress.set_context(ws.portfolio, ws.scope, ws.db)
        if ws.portfolio is None or ws.scope is None:
            self.dashboard.set_scope(None)
            return
        self.dashboard.set_scope(scope_info(ws.portfolio, ws.scope))

    # -- what-if --------------------------------------------------------------------------
    def show_whatif(self) -> None:
        """Switch to the What-if tab."""
        if self.tabs.isTabEnabled(1):
            self.tabs.setCurrentWidget(self.whatif)

    def _apply_whatif(self, account_id: str, trades: list, cash: dict) -> None:
        if self.editor.apply_trades(account_id, trades, cash):
            self.whatif.clear_drafts(account_id)

    # -- charts ---------------------------------------------------------------------------
    def load_charts(self) -> None:
        """Build the charts (imports pyqtgraph); called once, after the window is painted."""
        if self.charts is not None:
            return
        from workstation.ui.charts_panel import ChartsPanel

        self.charts = ChartsPanel()
        self.charts.set_theme(theme_named(self.display.theme))
        self.charts.set_number_format(self.number_format())
        self.charts.underlying_changed.connect(self._on_underlying)
        self.chart_host.layout().removeWidget(self.chart_placeholder)
        self.chart_placeholder.hide()
        self.chart_placeholder.deleteLater()
        from workstation.ui.risk_panel import RiskProfilePanel  # the What-if's risk profile, as booked

        self.risk_profile = RiskProfilePanel()
        self.risk_profile.set_theme(theme_named(self.display.theme))
        self.risk_profile.set_number_format(self.number_format())
        self.chart_tabs = QTabWidget()
        self.chart_tabs.setDocumentMode(True)
        self.chart_tabs.addTab(self.charts, "Margin charts")
        self.chart_tabs.addTab(self.risk_profile, "Risk profile (date, vol)")
        self.chart_host.layout().addWidget(self.chart_tabs)
        state = self.settings.value("layout/charts")
        if isinstance(state, QByteArray | bytes):
            self.charts.splitter.restoreState(QByteArray(state))
        if self.workspace.view is not None:
            self._show_charts(self.workspace.view)
        self._add_stress_tab()

    def _add_stress_tab(self) -> None:
        from workstation.ui.stress_compute import drafted_portfolio
        from workstation.ui.stress_panel import StressPanel

        self.stress = StressPanel()
        self.stress.draft_source = lambda: drafted_portfolio(self.whatif)
        self.tabs.addTab(self.stress, "Stress")
        self.tabs.setTabToolTip(self.tabs.count() - 1, "Historical days, contagion, cascade and top-ups")
        self.stress.set_theme(theme_named(self.display.theme))
        self.stress.set_number_format(self.number_format())
        self.stress.set_context(self.workspace.portfolio, self.workspace.scope, self.workspace.db)

    # -- menus ----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction("&Open portfolio…", QKeySequence.StandardKey.Open, self.editor.open_portfolio)
        file_menu.addAction("Open &database…", self.editor.open_database)
        self.import_action = file_menu.addAction("&Import…", QKeySequence("Ctrl+I"), self.editor.import_file)
        file_menu.addAction("&Export…", QKeySequence("Ctrl+E"), self.editor.export_file)
        file_menu.addSeparator()
        file_menu.addAction("&Quit", QKeySequence.StandardKey.Quit, self.close)

        edit = bar.addMenu("&Edit")
        edit.addAction(self.editor.safety.undo_action)
        edit.addSeparator()
        self.edit_actions: list[QAction] = [
            edit.addAction("&Add position…", QKeySequence("Ctrl+N"), self.editor.add_position),
            edit.addAction("&Edit position…", self.editor.edit_current_position),
            edit.addAction("&Delete position", self.editor.delete_current_position),
        ]
        edit.addSeparator()
        self.edit_actions += [
            edit.addAction("Add &collateral…", self.editor.add_collateral),
            edit.addAction("Edit c&ollateral…", self.editor.edit_current_collateral),
            edit.addAction("Delete co&llateral", self.editor.delete_current_collateral),
        ]
        edit.addSeparator()
        self.edit_actions += [
            edit.addAction("&Market price and vol…", QKeySequence("Ctrl+M"), self.editor.edit_quote),
            edit.addAction("&Forwards per expiry…", self.editor.edit_forwards),
            edit.addAction("Confidence, moves with, pe&g…", self.editor.edit_quote_details),
            edit.addAction("Account mode and &profile…", self.editor.edit_account_mode),
        ]
        edit.addSeparator()
        edit.addAction("&Settings…", QKeySequence("Ctrl+,"), self.editor.open_settings)

        view = bar.addMenu("&View")
        theme_menu = view.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name in ("light", "dark"):
            action = theme_menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(action)
            self.theme_actions[name] = action
        view.addAction(self.tree_dock.toggleViewAction())
        view.addAction("&What-if / hedge", QKeySequence("Ctrl+Shift+W"), self.show_whatif)
        view.addAction("&Book", QKeySequence("Ctrl+Shift+B"), lambda: self.tabs.setCurrentIndex(0))
        view.addSeparator()
        view.addAction("&Recompute", QKeySequence.StandardKey.Refresh, lambda: self.workspace.load(record=True))

        help_menu = bar.addMenu("&Help")
        help_menu.addAction("&About", self.about)

    def about(self) -> None:
        QMessageBox.about(self, f"About {TITLE}", ABOUT)

    # -- display settings -----------------------------------------------------------------
    def number_format(self) -> NumberFormat:
        """The number format of the settings, in the book's base currency."""
        base = self.workspace.portfolio.base_currency if self.workspace.portfolio else "USD"
        return self.display.number_format(base)

    def set_theme(self, name: str) -> None:
        self.apply_display(DisplaySettings(name, self.display.decimals, self.display.thousands,
                                           self.display.currency_display))

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
                       self.liquidation.model, self.dashboard, self.whatif):
            target.set_theme(theme)
        if self.charts is not None:
            self.charts.set_theme(theme)
            self.risk_profile.set_theme(theme)
        if self.stress is not None:
            self.stress.set_theme(theme)
        self._apply_number_format()

    def _apply_number_format(self) -> None:
        fmt = self.number_format()
        for target in (self.positions.model, self.collateral.model, self.liquidation.model,
                       self.dashboard, self.whatif):
            target.set_number_format(fmt)
        self.tree.tree_model.set_number_format(replace(fmt, decimals=0))
        if self.stress is not None:
            self.stress.set_number_format(fmt)
        if self.charts is not None:
            self.charts.set_number_format(fmt)
            self.risk_profile.set_number_format(fmt)
            if self.workspace.view is not None:
                self._show_charts(self.workspace.view)
        if self.workspace.view is not None:
            self.collateral.total.setText(self._collateral_total(self.workspace.view.report))

    # -- layout persistence ---------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = self.settings
        for key, restore in (
            ("layout/geometry", self.restoreGeometry),
            ("layout/state", self.restoreState),
            ("layout/main", self.main_split.restoreState),
            ("layout/top", self.top_split.restoreState),
            ("layout/whatif", self.whatif.splitter.restoreState),
            ("layout/positions", self.positions.view.horizontalHeader().restoreState),
        ):
            value = s.value(key)
            if isinstance(value, QByteArray | bytes):
                restore(QByteArray(value))
                if key == "layout/positions":
                    self.positions.mark_sized()

    def save_layout(self) -> None:
        s = self.settings
        s.setValue("layout/geometry", self.saveGeometry())
        s.setValue("layout/state", self.saveState())
        s.setValue("layout/main", self.main_split.saveState())
        s.setValue("layout/top", self.top_split.saveState())
        s.setValue("layout/whatif", self.whatif.splitter.saveState())
        s.setValue("layout/positions", self.positions.view.horizontalHeader().saveState())
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
        return ScopeInfo(scope, pool.name or f"Pool {pool.id}", sub, pool.margin_mode,
                         tuple(pool.accounts))
    acc = portfolio.account(ident)
    venue = f" · {acc.venue}" if acc.venue else ""
    sub = (f"Account {acc.id}{venue} · {_count(len(acc.positions), 'position')} · "
           f"{acc.margin_mode} margin · profile {acc.profile}")
    return ScopeInfo(scope, acc.name or acc.id, sub, acc.margin_mode, (acc.id,))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
