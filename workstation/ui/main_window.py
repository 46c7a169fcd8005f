"""The main window: accounts and pools tree, dashboard, and the Book, What-if, Accounts and History
tabs. Every figure on screen comes from the engine; the window only arranges and formats them.

Start-up order (numbers first): the tree, dashboard and tables are built at once; the charts and
the What-if tab import pyqtgraph and the hedge code, so those modules are imported on a worker
after the first figures; the charts are then built one per turn of the event loop, the What-if
and Stress tabs when first opened (`lazy_tab.py`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workstation import __version__
from workstation.core.model import Portfolio
from workstation.ui.accounts_overview import AccountsOverview
from workstation.ui.book_tab import BookTab
from workstation.ui.compute import ScopeView
from workstation.ui.dashboard import Dashboard, scope_info
from workstation.ui.editing import Editor
from workstation.ui.errors import show_error
from workstation.ui.history import HistoryPanel
from workstation.ui.layout_state import POSITIONS_STATE, restore_layout, save_layout
from workstation.ui.lazy_tab import LazyTab
from workstation.ui.menus import build_menus
from workstation.ui.scope_tree import ScopeTree, dock_width
from workstation.ui.settings import DisplaySettings
from workstation.ui.startup import freeze_if_large
from workstation.ui.steady_tabs import steady
from workstation.ui.theme import theme_named
from workstation.ui.window_display import WindowDisplay
from workstation.ui.window_start import WindowStart
from workstation.ui.workspace import Workspace

TITLE = "Margin Workstation"
ABOUT = f"""<h3>{TITLE} {__version__}</h3>
<p>An offline workstation for derivatives margin: pooled collateral across accounts,
each position's contribution to the requirement, how far prices can move before
liquidation, and what a hedge would change.</p>
<p>Every figure comes from the margin engine (<code>python -m workstation margin</code>
prints the same report).</p>"""


# the Stress panel's minimum size (it is built when first opened; `test_the_tab_fits_the_smallest_window`)
STRESS_MINIMUM = (632, 312)
# the smallest window in which the loaded dashboard and every tab keep their own minimum
MIN_WINDOW = (980, 660)


class MainWindow(WindowStart, WindowDisplay, QMainWindow):
    """Shows one `Workspace`; every number on screen is from the engine's report dicts."""

    def __init__(self, workspace: Workspace, settings: QSettings | None = None, lazy_charts: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else QSettings()
        self.display = DisplaySettings.load(self.settings)
        self.workspace: Workspace = workspace
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
        self.book = self.main_split = BookTab()
        self.book.underlying_chosen.connect(self._on_underlying)
        self.book.chart_failed.connect(lambda exc: show_error(self, "Charts", exc))
        self.collateral, self.liquidation, self.positions = self.book.collateral, self.book.liquidation, \
            self.book.positions
        self.top_split, self.chart_host = self.book.top_split, self.book.chart_host
        self.overview = AccountsOverview()
        self.overview.scope_activated.connect(self._show_scope_in_book)
        self.history = HistoryPanel()
        self.tabs = steady(QTabWidget())  # a label's new text repaints the label, not every tab
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.book, "Book")
        self.whatif_tab = LazyTab(self.tabs, "What-if", "Draft hypothetical trades or a hedge and see the "
                                  "figures before trading", self._make_whatif, "Loading the what-if…")
        for page, name, tip in (
            (self.overview, "Accounts", "Every account and pool side by side, with the nearest liquidation price"),
            (self.history, "History", "Equity, margin and usage of the selection over time, as recorded"),
        ):
            self.tabs.setTabToolTip(self.tabs.addTab(page, name), tip)
        self.stress_tab = LazyTab(self.tabs, "Stress", "Historical days, contagion, cascade and top-ups",
                                  self._make_stress, "Loading the stress tests…", minimum=STRESS_MINIMUM)
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

        self.tree.setMinimumWidth(180)
        # the window's minimum is fixed once, before it is shown (a later change of a shown
        # window's constraints is what the offscreen platform warns of): the layout's own minimum,
        # but no less than what the book's figures and the lazily built tabs need once loaded
        self.ensurePolished()
        hint = self.minimumSizeHint()
        self.setMinimumSize(max(hint.width(), MIN_WINDOW[0]), max(hint.height(), MIN_WINDOW[1]))
        screen = self.screen().availableGeometry() if self.screen() else None
        width = min(1600, screen.width()) if screen else 1600
        self.resize(width, min(1000, screen.height()) if screen else 1000)
        self.resizeDocks([self.tree_dock], [dock_width(width)], Qt.Orientation.Horizontal)
        self._restore_layout()
        self.apply_display(self.display, save=False)
        self._connect(workspace)
        if not lazy_charts:  # else after the first figures (`_on_computed`): numbers first, charts next;
            self.load_charts()  # never sooner, or a big book's figures would wait for them

    @property
    def charts(self) -> Any:
        """The charts row (None until built)."""
        return self.book.charts

    @property
    def risk_profile(self) -> Any:
        """The Book tab's risk profile (None until the charts are built)."""
        return self.book.risk_profile

    @property
    def chart_tabs(self) -> Any:
        """Margin charts | risk profile, under the positions (None until built)."""
        return self.book.chart_tabs

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
        ws.busy_changed.connect(self.dashboard.set_busy)
        ws.failed.connect(lambda exc: show_error(self, "Margin Workstation", exc))
        self.editor.safety.watch(ws)  # Undo follows the book; outside changes are announced
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
        freeze_if_large(portfolio)  # the book's objects live until the next load
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
        self.tabs.setCurrentWidget(self.book)

    def _on_computed(self, view: ScopeView) -> None:
        portfolio = self.workspace.portfolio
        if portfolio is None:
            return
        self.setUpdatesEnabled(False)  # painted in a turn of its own (`_paint_figures`)
        try:
            self._show_computed(view, portfolio)
        finally:
            QTimer.singleShot(1, self, self._paint_figures)

    def _show_computed(self, view: ScopeView, portfolio: Portfolio) -> None:
        if view.reports is not None:
            self.history.mark_stale()
        # the newest full set: a full recompute may have finished while another scope was asked for
        self.tree.tree_model.set_reports(self.workspace.reports or [view.report])
        self.overview.set_reports(portfolio, self.workspace.reports)
        self._show_scope_info()
        self.dashboard.set_report(view.report)
        self.book.show_view(view, portfolio, self._collateral_total(view.report), self.number_format().unit_label())
        self.timing_label.setText(f"recomputed in {view.elapsed_ms:.0f} ms")
        freeze_if_large(portfolio)
        if self.tabs.currentWidget() is self.history:
            self.history.refresh()

    def _on_underlying(self, underlying: str) -> None:
        self.workspace.underlying = underlying  # the default asset of the market dialog
        self.book.choose_underlying(underlying)

    def charts_busy(self) -> bool:
        """A curve or heatmap is being computed."""
        return self.book.charts_busy()

    def is_busy(self) -> bool:
        """The engine is working for this window (figures or charts)."""
        return self.workspace.is_busy() or self.charts_busy()

    # -- lazily built parts (the start's order: `window_start.py`) -----------------------
    def load_charts(self, staged: bool = False) -> None:
        """Build the charts (imports pyqtgraph if not yet imported); called once."""
        self.book.load_charts(theme_named(self.display.theme), self.number_format(),
                              self.settings.value("layout/charts"), staged)

    def reset_chart_views(self) -> None:
        self.book.reset_chart_views()
        if self.history.charts is not None:
            self.history.charts.reset_view()

    @property
    def whatif(self) -> Any:
        """The What-if panel (built on first use)."""
        return self.whatif_tab.get()

    @property
    def whatif_host(self) -> Any:
        """The What-if tab's page: the panel once built, a placeholder before."""
        return self.whatif_tab.widget()

    @property
    def stress(self) -> Any:
        """The Stress panel (built on first use)."""
        return self.stress_tab.get()

    def _make_whatif(self) -> Any:
        from workstation.ui.whatif_panel import WhatIfPanel

        panel = WhatIfPanel()
        panel.apply_requested.connect(self._apply_whatif)
        panel.set_theme(theme_named(self.display.theme))
        panel.set_number_format(self.number_format())
        state = self.settings.value("layout/whatif")
        if isinstance(state, QByteArray | bytes):
            panel.splitter.restoreState(QByteArray(state))
        ws = self.workspace
        panel.set_context(ws.portfolio, ws.scope, ws.read_only, ws.db)
        return panel

    def _make_stress(self) -> Any:
        from workstation.ui.stress_compute import drafted_portfolio
        from workstation.ui.stress_panel import StressPanel

        panel = StressPanel()
        panel.draft_source = lambda: drafted_portfolio(self.whatif)
        panel.set_theme(theme_named(self.display.theme))
        panel.set_number_format(self.number_format())
        panel.set_context(self.workspace.portfolio, self.workspace.scope, self.workspace.db)
        return panel

    def _built(self) -> tuple[Any, ...]:
        """The lazily built panels that exist."""
        return tuple(t.page for t in (self.whatif_tab, self.stress_tab) if t.page is not None)

    def _whatif_context(self) -> None:
        if self.whatif_tab.page is not None:
            ws = self.workspace
            self.whatif_tab.page.set_context(ws.portfolio, ws.scope, ws.read_only, ws.db)

    def show_whatif(self) -> None:
        """Switch to the What-if tab."""
        self.whatif_tab.get()
        if self.tabs.isTabEnabled(self.tabs.indexOf(self.whatif_host)):
            self.tabs.setCurrentWidget(self.whatif_host)

    def _apply_whatif(self, account_id: str, trades: list, *cash: dict) -> None:
        if self.editor.apply_trades(account_id, trades, *cash):  # cash legs, when the What-if has them
            self.whatif.clear_drafts(account_id)

    def _on_tab(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        for tab in (self.whatif_tab, self.stress_tab):
            if current is tab.widget():
                tab.get()
        if current is self.history:
            self.history.refresh()

    def _show_scope_info(self) -> None:
        ws = self.workspace
        self._whatif_context()
        if self.stress_tab.page is not None:
            self.stress_tab.page.set_context(ws.portfolio, ws.scope, ws.db)
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

    # -- layout persistence ---------------------------------------------------------------
    def _restore_layout(self) -> None:
        if restore_layout(self.settings, self._layout_parts()):
            self.positions.mark_sized()

    def save_layout(self) -> None:
        save_layout(self.settings, self._layout_parts())

    def _layout_parts(self) -> dict[str, Any]:
        """What is saved and restored, by settings key (None: not built yet, keep the old value)."""
        return {"layout/geometry": self, "layout/state": self, "layout/main": self.book,
                "layout/top": self.top_split, POSITIONS_STATE: self.positions.view.horizontalHeader(),
                "layout/whatif": self.whatif_tab.page.splitter if self.whatif_tab.page is not None else None,
                "layout/charts": self.charts.splitter if self.charts is not None else None}

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)
