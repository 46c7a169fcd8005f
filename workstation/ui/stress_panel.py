"""The Stress tab: the scenario list (shipped days and your own: new, edit, copy, delete, saved in
the store) beside four pages: the chosen scenario (results, cascade, top-ups, the chart against
shock size), every historical day x every account and pool, the joint BTC/ETH move (betas,
price histories, liquidation distances and the grid) and ADL.

Engine work runs in workers (`LatestJob`: the newest request wins) on one `StressSession` per
book, which keeps profiles, scopes, method objects and evaluated points between runs; nothing
here computes margin. "Run on the what-if draft" evaluates the book with the What-if tab's
drafted trades.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.core.model import Portfolio
from workstation.ui.formatting import NumberFormat
from workstation.ui.stress_adl import AdlPage
from workstation.ui.stress_compute import StressView, compute_stress, compute_summary
from workstation.ui.stress_joint import JointPage
from workstation.ui.stress_scenario_page import ScenarioPage
from workstation.ui.stress_summary import SummaryPage
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.worker import LatestJob


class StressPanel(QWidget):
    """Scenario list and the four pages (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stressPanel")
        self.portfolio: Portfolio | None = None
        self.scope: str | None = None
        self.db: Any = None
        self.session: Any = None  # StressSession of `portfolio`
        self.draft_source: Callable[[], Portfolio | None] | None = None
        self.view: StressView | None = None
        self.error: str | None = None
        self.scenarios: list[Any] = []
        self.confirm: Callable[[str], bool] = self._confirm
        self._fmt = NumberFormat()
        self._theme: Theme = LIGHT
        self.job = LatestJob(self._on_result, self._on_error, parent=self)
        self.job.busy_changed.connect(lambda _b: self._update_status())
        self.summary_job = LatestJob(self._on_summary, self._on_error, parent=self)
        self._summary_for: Any = None

        self.list = QListWidget()
        self.list.setObjectName("stressScenarios")
        self.list.currentRowChanged.connect(lambda _r: self._selected())
        self.new_button = QPushButton("New…")
        self.new_button.setToolTip("A scenario of your own: price moves, depegs, vol shifts, days forward")
        self.new_button.clicked.connect(lambda: self.edit_scenario(new=True))
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(lambda: self.edit_scenario(new=False))
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_scenario)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.edit_button, self.delete_button):
            buttons.addWidget(b)
        self.draft_box = QCheckBox("Run on the what-if draft")
        self.draft_box.setToolTip("Evaluate the book with the trades drafted in the What-if tab")
        self.draft_box.toggled.connect(lambda _c: self.run())
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Scenarios")
        title.setObjectName("sectionTitle")
        lay.addWidget(title)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.draft_box)
        left.setMinimumWidth(170)

        self.scope_box = QComboBox()
        self.scope_box.setObjectName("stressScope")
        self.scope_box.setToolTip("The account or pool the charts show")
        self.scope_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scope_box.setMinimumContentsLength(14)
        self.scope_box.currentIndexChanged.connect(lambda _i: self._scope_changed())
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setMinimumWidth(10)
        head = QHBoxLayout()
        head.addWidget(self.status, 1)
        head.addWidget(QLabel("Charts for"))
        head.addWidget(self.scope_box)
        head.addWidget(self.run_button)
        self.scenario_page = ScenarioPage()
        self.summary_page = SummaryPage()
        self.summary_page.scenario_chosen.connect(self._open_day)
        self.joint_page = JointPage()
        self.joint_page.scenario_saved.connect(self._saved)
        self.adl_page = AdlPage()
        self.pages = QTabWidget()
        self.pages.setObjectName("stressPages")
        self.pages.addTab(self.scenario_page, "Scenario")
        self.pages.addTab(self.summary_page, "Historical days")
        self.pages.addTab(self.joint_page, "Joint move")
        self.pages.addTab(self.adl_page, "ADL")
        self.pages.currentChanged.connect(lambda _i: self._page_shown())
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(head)
        rl.addWidget(self.pages, 1)
        self.splitter = QSplitter()
        self.splitter.setObjectName("stressSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([230, 1000])
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.splitter)
        self._stale: set[str] = set()  # pages to recompute when shown

    # -- context ------------------------------------------------------------------------
    def set_context(self, portfolio: Portfolio | None, scope: str | None, db: Any = None) -> None:
        if portfolio is self.portfolio and scope == self.scope and db is self.db:
            return
        book_changed = portfolio is not self.portfolio
        self.portfolio, self.scope, self.db = portfolio, scope, db
        if book_changed:
            from workstation.core.stress_eval import StressSession

            self.session = StressSession(portfolio) if portfolio is not None else None
            self.view = None
        self._fill_scenarios()
        self.scope_box.blockSignals(True)
        self.scope_box.clear()
        if portfolio is not None:
            for s in self.session.names:
                self.scope_box.addItem(s, s)
            self.scope_box.setCurrentIndex(max(0, self.scope_box.findData(scope or "")))
        self.scope_box.blockSignals(False)
        self._stale = {"summary", "joint", "adl"}
        self._buttons()
        if self.isVisible():
            self.run()

    def _fill_scenarios(self, select: str | None = None) -> None:
        from workstation.core.scenario_library import historical_scenarios

        saved = []
        if self.db is not None:
            try:
                from workstation.store.stress_store import list_stress_scenarios

                saved = list_stress_scenarios(self.db)
            except Exception:  # an old or foreign database: shipped scenarios still work
                saved = []
        current = select or (self.list.currentItem().text() if self.list.currentItem() else None)
        self.scenarios = historical_scenarios() + saved
        self.list.blockSignals(True)
        self.list.clear()
        for s in self.scenarios:
            item = QListWidgetItem(s.name)
            item.setToolTip(s.title or ("your scenario" if s.kind == "user" else s.kind))
            self.list.addItem(item)
        rows = [i for i, s in enumerate(self.scenarios) if s.name == current]
        self.list.setCurrentRow(rows[0] if rows else 0)
        self.list.blockSignals(False)

    def scenario(self) -> Any:
        row = self.list.currentRow()
        return self.scenarios[row] if 0 <= row < len(self.scenarios) else None

    def select_scenario(self, name: str) -> None:
        for i, s in enumerate(self.scenarios):
            if s.name == name:
                self.list.setCurrentRow(i)
                return

    def _open_day(self, name: str) -> None:
        self.select_scenario(name)
        self.pages.setCurrentWidget(self.scenario_page)

    # -- running --------------------------------------------------------------------------
    def _selected(self) -> None:
        self._buttons()
        self.run()

    def _scope_changed(self) -> None:
        self._stale.add("joint")
        self.run()

    def chart_scope(self) -> str | None:
        return self.scope_box.currentData() or self.scope

    def run(self) -> None:
        scenario = self.scenario()
        scope = self.chart_scope()
        if self.session is None or scenario is None or scope is None:
            return
        session, draft = self.session, False
        if self.draft_box.isChecked() and self.draft_source is not None:
            drafted = self.draft_source()
            if drafted is not None:
                from workstation.core.stress_eval import StressSession

                session, draft = StressSession(drafted, profiles=self.session.profiles), True
        self.scenario_page.describe_only(scenario)
        self.joint_page.set_marker(self._marker(scenario))
        self.job.submit(compute_stress, session, scenario, scope, draft)
        self._page_shown()
        self._update_status()

    def _page_shown(self) -> None:
        """Recompute a page that is stale once it is on screen (the summary always: it is the
        headline, and it fills the session's cache for every shipped day)."""
        if self.session is None:
            return
        if "summary" in self._stale:
            from workstation.core.scenario_library import historical_scenarios

            self._stale.discard("summary")
            self._summary_for = self.session
            self.summary_page.set_summary(None)
            self.summary_job.submit(compute_summary, self.session, historical_scenarios())
        page = self.pages.currentWidget()
        if page is self.joint_page and "joint" in self._stale:
            self._stale.discard("joint")
            self.joint_page.set_context(self.session, self.chart_scope(), self.db)
        if page is self.adl_page and "adl" in self._stale:
            self._stale.discard("adl")
            self.adl_page.set_context(self.session)

    def _marker(self, s: Any) -> tuple[float, float, str] | None:
        if self.session is None:
            return None
        from workstation.core.stress import own_move

        x = own_move("BTC", s, self.session.stable) or 0.0
        y = own_move("ETH", s, self.session.stable) or 0.0
        return (x, y, s.name) if (x or y) else None

    def is_busy(self) -> bool:
        return (self.job.is_busy() or self.summary_job.is_busy() or self.joint_page.is_busy()
                or self.adl_page.is_busy())

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.view is None and not self.job.is_busy():
            self.run()

    def _on_result(self, view: StressView) -> None:
        self.view, self.error = view, None
        base = self.portfolio.base_currency if self.portfolio else "USD"
        scenario = next((s for s in self.scenarios if s.name == view.scenario), self.scenario())
        self.scenario_page.set_view(view, scenario, base)
        self._update_status()

    def _on_summary(self, summary: dict[str, Any]) -> None:
        if self._summary_for is self.session:
            self.summary_page.set_summary(summary)

    def _on_error(self, exc: BaseException) -> None:
        self.error = str(exc)
        self.status.setText(f"Could not run the scenario: {exc}")

    def _update_status(self) -> None:
        if self.job.is_busy():
            self.status.setText("computing…")
        elif self.view is not None and self.error is None:
            what = "the book with the what-if draft" if self.view.draft else "the book"
            self.status.setText(f"{self.view.scenario} on {what} · {self.view.elapsed_ms:.0f} ms")
            self.status.setToolTip("Red rows are liquidated; hover a row for its worst positions")

    # -- user scenarios ------------------------------------------------------------------------
    def _writable(self) -> bool:
        return self.db is not None and not getattr(self.db, "read_only", False)

    def _buttons(self) -> None:
        s = self.scenario()
        own = s is not None and s.kind != "historical"
        writable = self._writable()
        self.new_button.setEnabled(writable and self.portfolio is not None)
        self.edit_button.setEnabled(writable and s is not None)
        self.edit_button.setText("Edit…" if own or s is None else "Copy…")
        self.delete_button.setEnabled(writable and own)
        why = "" if writable else "Open a database to save scenarios"
        for b in (self.new_button, self.edit_button, self.delete_button):
            b.setToolTip(why or b.toolTip())

    def scenario_dialog(self, new: bool) -> Any:
        """The dialog for a new scenario, or to edit (copy, for a shipped day) the selected one."""
        from workstation.ui.stress_editor import ScenarioDialog

        s = None if new else self.scenario()
        assert self.portfolio is not None and self.session is not None
        copy = s is not None and s.kind == "historical"
        dialog = ScenarioDialog(list(self.portfolio.market), self.session.stable, s,
                                taken=[x.name for x in self.scenarios], copy=copy, parent=self)
        editing = s.name if s is not None and not copy else None
        dialog.on_submit = lambda scenario: self._save(scenario, editing)
        return dialog

    def edit_scenario(self, new: bool = False) -> None:
        if self.portfolio is None or not self._writable():
            return
        self.scenario_dialog(new).open()

    def _save(self, scenario: Any, editing: str | None = None) -> None:
        """Save a scenario from the dialog (`editing`: the saved one it replaces, maybe renamed)."""
        from workstation.store.stress_store import delete_stress_scenario, save_stress_scenario

        save_stress_scenario(self.db, scenario)
        if editing is not None and editing != scenario.name:
            delete_stress_scenario(self.db, editing)
        self._saved(scenario.name)

    def _saved(self, name: str) -> None:
        self._fill_scenarios(select=name)
        self._buttons()
        self.run()

    def delete_scenario(self) -> None:
        from workstation.store.stress_store import delete_stress_scenario

        s = self.scenario()
        if s is None or s.kind == "historical" or not self._writable():
            return
        if not self.confirm(f"Delete the scenario {s.name!r}?"):
            return
        delete_stress_scenario(self.db, s.name)
        self._fill_scenarios()
        self._buttons()
        self.run()

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Delete scenario", text)
        return answer == QMessageBox.StandardButton.Yes

    # -- display ----------------------------------------------------------------------------
    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        for page in (self.scenario_page, self.summary_page, self.joint_page, self.adl_page):
            page.set_number_format(fmt)

    def set_theme(self, theme: Theme = LIGHT) -> None:
        self._theme = theme
        for page in (self.scenario_page, self.summary_page, self.joint_page, self.adl_page):
            page.set_theme(theme)
