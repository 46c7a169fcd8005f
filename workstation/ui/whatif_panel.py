"""The What-if tab: draft trades for one account (from an account, or from a pool into one of its
members), see the scope's figures before and after, the risk profile against an underlying's
price today or at a date, a suggested hedge, and the drafts under each venue's profile.

Pieces: `whatif_drafts` (trade line, Add dialog, drafts table, size slider), `whatif_hedge`
(suggestion form), `whatif_scenarios` (save / load), `whatif_compare` (the before / after tables,
filled from a result),
`risk_chart` (the chart). The engine runs in workers (`whatif_compute`, newest request wins) on a
prepared before-state. The book is never written here: "Apply to book…" asks the window to.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.core.cash import collateral_changes
from workstation.core.model import Portfolio
from workstation.core.risk_profile import Horizon
from workstation.ui.formatting import NumberFormat
from workstation.ui.risk_chart import RiskProfileChart
from workstation.ui.steady_tabs import steady
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.whatif_actions import WhatIfActions
from workstation.ui.whatif_compare import CompareTabs
from workstation.ui.whatif_compute import (
    Draft,
    ProfileResult,
    WhatIfEngine,
    WhatIfResult,
    run_whatif,
)
from workstation.ui.whatif_drafts import DraftsBox
from workstation.ui.whatif_hedge import HedgeForm
from workstation.ui.whatif_scenarios import ScenarioActions
from workstation.ui.worker import LatestJob


class WhatIfPanel(WhatIfActions, ScenarioActions, QWidget):
    """Drafts, before / after, risk profile and hedge suggestion of one scope."""

    apply_requested = Signal(str, list, dict)  # account id, [Position], {asset: collateral change}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("whatIfPanel")
        self.portfolio: Portfolio | None = None
        self.scope: str | None = None
        self.read_only = True
        self.db: Any = None  # the store's database (None for a portfolio file): scenarios live there
        self.result: WhatIfResult | None = None  # of the newest request, once delivered
        self.suggestion: WhatIfResult | None = None
        self.profile_result: ProfileResult | None = None
        self.horizon = Horizon()
        self._dirty = False
        self._stale = True  # the shown result is not that of the current drafts
        self._fmt = NumberFormat()
        self._chart_asked = 0.0  # when a dragged slider's figures last asked for the chart (monotonic s)
        self._chart_timer = QTimer(self)  # the chart's turn when a drag's figures came too soon after the last
        self._chart_timer.setSingleShot(True)
        self._chart_timer.timeout.connect(self._drag_chart_due)
        self.engine = WhatIfEngine()
        self.job = LatestJob(self._on_result, self._on_error, parent=self, on_superseded=self._on_interim)
        self.profile_job = LatestJob(self._on_profile, self._on_profile_error, parent=self)
        self.suggest_job = LatestJob(self._on_suggestion, self._on_suggest_error, parent=self)
        self.fit_job = LatestJob(lambda r: self.box.show_fit(*r),
                                 lambda exc: self.box.fit_label.setText(f"no answer: {exc}"), parent=self)
        self.venue_job = LatestJob(self._on_venues, lambda exc: self.tabs.venue_note.setText(str(exc)), parent=self)
        self.job.busy_changed.connect(lambda _b: self._update_status())

        title = QLabel("What-if")
        title.setObjectName("sectionTitle")
        self.target = QLabel("")
        self.account_box = QComboBox()
        self.account_box.setToolTip("Trades go into one member account; the figures are the pool's")
        self.account_box.hide()
        self.account_box.currentIndexChanged.connect(lambda _i: self._account_changed())
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for label in (self.target, self.status):  # long texts may be cut, never widen the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.target.setMinimumWidth(160)
        head = QHBoxLayout()
        head.setSpacing(8)
        head.addWidget(title)
        head.addWidget(self.target, 2)
        head.addWidget(self.account_box)
        head.addWidget(self.status, 3)

        self.box = DraftsBox()
        self.box.run_dialog = lambda dialog: self.run_dialog(dialog)
        self.box.changed.connect(self._drafts_changed)
        self.box.horizon_changed.connect(lambda: self.result is not None and self._show_tables(self.result))
        self.box.fit_button.clicked.connect(self.largest_that_fits)
        self.add_button = QPushButton("Add…")
        self.add_button.setToolTip("The trade dialog: kind, expiry, strike, vol, size in a chosen unit")
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear")
        self.save_button = QPushButton("Save…")
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Replace the drafts with a saved scenario of this account (or delete one)")
        self.apply_button = QPushButton("Apply to book…")
        self.add_button.clicked.connect(self.add_trade)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(lambda: self.clear_drafts())
        self.save_button.clicked.connect(lambda: self.save_scenario())
        self.load_button.clicked.connect(self.open_scenarios)
        self.apply_button.clicked.connect(self.apply)
        self.box.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        buttons = QGridLayout()
        buttons.setHorizontalSpacing(6)
        buttons.setVerticalSpacing(4)
        for i, b in enumerate((self.add_button, self.remove_button, self.clear_button)):
            buttons.addWidget(b, 0, i)
        for i, b in enumerate((self.save_button, self.load_button)):
            buttons.addWidget(b, 1, i)
        buttons.addWidget(self.apply_button, 0, 4, 2, 1)
        buttons.setColumnStretch(3, 1)

        self.hedge = HedgeForm()
        self.hedge.suggest_button.clicked.connect(self.suggest)
        self.hedge.add_button.clicked.connect(self.add_suggestion)
        drafts_page = QWidget()
        dl = QVBoxLayout(drafts_page)
        dl.setContentsMargins(0, 4, 0, 0)
        dl.setSpacing(5)
        dl.addWidget(self.box, 1)
        dl.addLayout(buttons)
        self.left_tabs = steady(QTabWidget())
        self.left_tabs.setDocumentMode(True)
        self.left_tabs.addTab(drafts_page, "Drafted trades")
        self.left_tabs.addTab(self.hedge, "Suggest a hedge")

        self.tabs = steady(CompareTabs())
        self.tabs.currentChanged.connect(lambda _i: self._maybe_venues())
        self.chart = RiskProfileChart()
        self.chart.horizon_changed.connect(self._horizon_changed)
        self.chart.underlying_changed.connect(lambda _u: self.request_profile())
        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("whatIfRight")
        right.addWidget(self.tabs)
        right.addWidget(self.chart)
        right.setChildrenCollapsible(False)
        right.setSizes([420, 330])
        right.setStretchFactor(0, 5)
        right.setStretchFactor(1, 4)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("whatIfSplitter")
        self.splitter.addWidget(self.left_tabs)
        self.splitter.addWidget(right)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([520, 680])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.splitter, 1)
        self.setEnabled(False)
        self._update_buttons()

    # -- compatibility names used by the window and the tests ---------------------------------
    @property
    def drafts_model(self) -> Any:
        return self.box.model

    @property
    def drafts_view(self) -> Any:
        return self.box.view

    @property
    def compare_model(self) -> Any:
        return self.tabs.figures

    # -- context ----------------------------------------------------------------------------
    def set_context(self, portfolio: Portfolio | None, scope: str | None, read_only: bool, db: Any = None) -> None:
        """The book, the selected scope, whether the book can be written and the database (for
        saved scenarios; None for a portfolio file); recompute if needed."""
        if db is not self.db:
            self.db = db
            self._update_buttons()
        if portfolio is self.portfolio and scope == self.scope and read_only == self.read_only:
            return
        self.portfolio, self.scope, self.read_only = portfolio, scope, read_only
        kind, _, ident = (scope or "").partition(":")
        self.account_box.blockSignals(True)
        previous = self.account_box.currentData()
        self.account_box.clear()
        if portfolio is not None and kind == "pool":
            pool = portfolio.pool(ident)
            for acc_id in pool.accounts:
                acc = portfolio.account(acc_id)
                self.account_box.addItem(acc.name or acc.id, acc.id)
            idx = self.account_box.findData(previous)
            self.account_box.setCurrentIndex(max(0, idx))
            self.target.setText(f"Pool {pool.name or pool.id}: figures of the pool; trades go into")
        elif portfolio is not None and kind == "account":
            acc = portfolio.account(ident)
            self.target.setText(f"Account {acc.name or acc.id} ({acc.id})")
        else:
            self.target.setText("Select an account or a pool")
        self.account_box.setVisible(kind == "pool")
        self.account_box.blockSignals(False)
        self.setEnabled(self.account_id() is not None)
        self._account_changed()

    def account_id(self) -> str | None:
        """The account the drafts go into (the selected account, or the pool member picked)."""
        if self.portfolio is None:
            return None
        kind, _, ident = (self.scope or "").partition(":")
        if kind == "account":
            return ident
        if kind == "pool":
            return self.account_box.currentData()
        return None

    def _account_changed(self) -> None:
        account = self.account_id()
        self.box.set_context(self.portfolio, account)
        profile = self.box.profile() if account is not None else None
        self.hedge.set_context(self.portfolio, account, profile)
        self._drafts_changed(False)

    # -- drafts -----------------------------------------------------------------------------
    def drafts(self) -> list[Draft]:
        return self.box.drafts()

    def add_draft(self, draft: Draft | Any) -> Draft:
        """Add a hypothetical trade to the current account's drafts (memory only)."""
        return self.box.add_draft(draft)

    def next_id(self) -> str:
        return self.box.next_id()

    def add_trade(self) -> None:
        """Add… : the trade dialog, drafting instead of saving."""
        self.box.open_dialog()

    def add_line(self, text: str) -> Draft | None:
        """Type `text` in the trade line and press Enter."""
        self.box.line.setText(text)
        return self.box.add_line()

    def run_dialog(self, dialog: Any) -> bool:
        """Show a modal dialog (tests replace this); True when accepted."""
        return bool(dialog.exec())

    def remove_selected(self) -> None:
        self.box.remove_selected()

    def clear_drafts(self, account: str | None = None) -> None:
        self.box.clear(account)

    def replace_drafts(self, account: str, positions: list[Any]) -> None:
        self.box.replace_drafts(account, positions)

    def _drafts_changed(self, dragging: bool = False) -> None:
        self._set_suggestion(None)
        self._stale = True
        self._dirty = True
        if self.isVisible():
            self.request()
        self._update_buttons()

    # -- engine -----------------------------------------------------------------------------
    def request(self) -> None:
        """Recompute before / after in a worker (a newer request supersedes this one)."""
        account = self.account_id()
        self._dirty = False
        if self.portfolio is None or account is None or self.scope is None:
            self.tabs.figures.clear()
            return
        self._stale = True
        self.job.submit(self._run, self.portfolio, account, self.drafts(), self.scope, self.box.liquidity())
        self._update_status()

    def _run(self, portfolio: Portfolio, account: str, drafts: list[Draft], scope: str,
             liquidity: str | None) -> WhatIfResult:
        return run_whatif(portfolio, account, drafts, scope=scope, liquidity=liquidity, engine=self.engine)

    def is_busy(self) -> bool:
        return any(j.is_busy() for j in (self.job, self.suggest_job, self.profile_job, self.fit_job))

    def is_current(self) -> bool:
        """The shown result is that of the current book, account and drafts."""
        return self.result is not None and not self._stale and not self._dirty

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.request()

    def _on_result(self, result: WhatIfResult) -> None:
        self.result = result
        self._stale = False
        self.box.refresh(result.legs)
        self._show_tables(result, quick=self.box.size.isSliderDown())
        self._update_buttons()
        self._update_status()
        underlyings = sorted({*result.after.get("greeks", {})} - {"USDT", "USDC", result.after.get("base_currency")})
        current = self.chart.underlying.currentText()
        if current not in underlyings:
            drafted = [t.underlying for t in result.trades]
            current = drafted[-1] if drafted else (underlyings[0] if underlyings else "")
        self.chart.set_underlyings(underlyings, current)
        if self.box.size.isSliderDown():
            self._drag_chart()
        else:
            self.request_profile()
        self._maybe_venues()

    def _on_interim(self, result: WhatIfResult) -> None:
        """A result of sizes the dragged slider has already left: its figures are shown, so the
        tables follow the drag; the panel stays stale (Apply off) until the newest result."""
        if self.box.size.isSliderDown():
            self._show_tables(result, quick=True)
            self._drag_chart()

    def _show_tables(self, r: WhatIfResult, quick: bool = False) -> None:
        assert self.portfolio is not None
        self.tabs.show_result(r, self.portfolio, (self.scope or "").startswith("pool:"), self.box.horizon.value(),
                              self._fmt, quick)

    def _on_error(self, exc: BaseException) -> None:
        self._stale = True
        self.status.setText(f"Could not compute the what-if: {exc}")
        self._update_buttons()

    def _update_status(self) -> None:
        if self.job.is_busy():
            self.status.setText("computing…")
        elif self.result is not None and not self._stale:
            n = len(self.result.trades)
            what = f"{n} drafted trade{'' if n == 1 else 's'}" if n else "no drafted trades yet"
            where = self.result.scope.replace("account:", "account ").replace("pool:", "pool ")
            self.status.setText(f"{where}: {what} · {self.result.elapsed_ms:.0f} ms")

    # -- apply ------------------------------------------------------------------------------
    def apply(self) -> None:
        """Ask the window to book the drafted trades (as last computed) and their cash legs."""
        if self.read_only or not self.is_current() or not self.result or not self.result.trades:
            return
        self.apply_requested.emit(self.result.account, list(self.result.trades),
                                  collateral_changes(self.result.legs))

    def _update_buttons(self) -> None:
        has_account = self.account_id() is not None
        has_drafts = bool(self.drafts())
        selected = bool(self.box.view.selectionModel().selectedRows())
        self.add_button.setEnabled(has_account)
        self.remove_button.setEnabled(has_drafts and selected)
        self.clear_button.setEnabled(has_drafts)
        store = self.db is not None
        self.save_button.setEnabled(has_drafts and store)
        self.load_button.setEnabled(has_account and store)
        self.save_button.setToolTip(
            "Saved scenarios need the database (the source is a read-only portfolio file)" if not store
            else "Save the drafts as a named scenario of this account (the book is not changed)")
        self.apply_button.setEnabled(has_drafts and not self.read_only and self.is_current())
        self.apply_button.setToolTip(
            "The book is read-only (a portfolio file)" if self.read_only
            else "Book the drafted trades and their premiums and fees in the account (asks first)")

    # -- display ----------------------------------------------------------------------------
    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        self.box.model.set_number_format(fmt)
        self.tabs.set_number_format(fmt)
        self.chart.set_number_format(fmt)
        if self.suggestion is not None:
            self._set_suggestion(self.suggestion)

    def set_theme(self, theme: Theme = LIGHT) -> None:
        self.box.model.set_theme(theme)
        self.box.set_theme(theme)
        self.tabs.set_theme(theme)
        self.chart.set_theme(theme)
        self.hedge.set_theme(theme)
