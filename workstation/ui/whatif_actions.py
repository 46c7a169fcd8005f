"""The What-if panel's secondary jobs: the risk profile, the largest size of a draft that fits,
the venue comparison and the hedge suggestion. A mixin of `WhatIfPanel` (whatif_panel.py), which
provides the widgets, the jobs and the engine named below."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from typing import Any

from workstation.core.model import Portfolio
from workstation.core.risk_profile import Horizon
from workstation.ui.formatting import NumberFormat
from workstation.ui.risk_chart import RiskProfileChart
from workstation.ui.whatif_compare import CompareTabs
from workstation.ui.whatif_compute import (
    Draft,
    ProfileResult,
    WhatIfEngine,
    WhatIfResult,
    run_largest,
    run_profile,
    run_suggest,
    run_venues,
)
from workstation.ui.whatif_drafts import DraftsBox
from workstation.ui.whatif_hedge import HedgeForm
from workstation.ui.worker import LatestJob

DRAG_CHART_S = 0.1  # while the size slider is dragged the chart follows at most 10 times a second: `_drag_chart`


class WhatIfActions:
    """Risk profile, largest that fits, venues and hedge suggestion requests and results."""

    portfolio: Portfolio | None
    scope: str | None
    engine: WhatIfEngine
    horizon: Horizon
    box: DraftsBox
    hedge: HedgeForm
    chart: RiskProfileChart
    tabs: CompareTabs
    profile_job: LatestJob
    suggest_job: LatestJob
    venue_job: LatestJob
    fit_job: LatestJob
    profile_result: ProfileResult | None
    suggestion: WhatIfResult | None
    _fmt: NumberFormat
    _chart_asked: float  # when a dragged slider's figures last asked for the chart (monotonic s)
    _chart_timer: Any  # QTimer: the chart's turn when a drag's figures came too soon after the last

    def account_id(self) -> str | None:  # provided by the panel
        raise NotImplementedError

    def drafts(self) -> list[Draft]:
        raise NotImplementedError

    def add_draft(self, draft: Draft | Any) -> Draft:
        raise NotImplementedError

    # -- risk profile -----------------------------------------------------------------------
    def _horizon_changed(self, horizon: Horizon, dragging: bool) -> None:
        self.horizon = horizon
        self.request_profile(fast=dragging)

    def _drag_chart(self) -> None:
        """While the size slider is dragged the chart follows at most every `DRAG_CHART_S`: its
        job shares the GIL with the what-if's, and the figures come first; the release's result
        asks for it at once."""
        wait = self._chart_asked + DRAG_CHART_S - time.monotonic()
        if wait <= 0:
            self._chart_asked = time.monotonic()
            self.request_profile(fast=True)
        elif not self._chart_timer.isActive():  # a drag that pauses still gets its latest figures' chart
            self._chart_timer.start(max(1, round(1000 * wait)))

    def _drag_chart_due(self) -> None:
        if self.box.size.isSliderDown():
            self._drag_chart()

    def request_profile(self, fast: bool = False) -> None:
        account, und = self.account_id(), self.chart.underlying.currentText()
        if self.portfolio is None or self.scope is None or not und or und not in self.portfolio.market:
            self.chart.set_profile(None)
            return
        self.profile_job.submit(partial(run_profile, account_id=account, drafts=self.drafts(),
                                        liquidity=self.box.liquidity(), fast=fast, engine=self.engine),
                                self.portfolio, self.scope, und, self.horizon)

    def _on_profile(self, result: ProfileResult) -> None:
        self.profile_result = result
        if [d for d, _ in self.chart.stops] != [d for d, _ in result.stops]:
            self.chart.set_stops(result.stops)
        self.chart.set_profile(result)

    def _on_profile_error(self, exc: BaseException) -> None:
        self.chart.frame.set_caption(f"Could not compute the risk profile: {exc}")

    def largest_that_fits(self) -> None:
        """The largest size of the selected draft that still fits free margin (a worker)."""
        draft, account = self.box.selected(), self.account_id()
        if draft is None or account is None or self.portfolio is None:
            return
        self.box.fit_label.setText("searching…")
        self.fit_job.submit(partial(run_largest, scope=self.scope, liquidity=self.box.liquidity(), engine=self.engine),
                            self.portfolio, account, self.drafts(), draft.key)

    # -- venues -----------------------------------------------------------------------------
    def _maybe_venues(self) -> None:
        if self.tabs.currentIndex() != 4 or self.portfolio is None or self.account_id() is None:
            return
        self.venue_job.submit(run_venues, self.portfolio, self.account_id(), self.drafts())

    def _on_venues(self, rows: list[dict[str, Any]]) -> None:
        self.tabs.venues.set_records(rows)
        self.tabs.fit()

    # -- hedge suggestion -------------------------------------------------------------------
    def suggest(self) -> None:
        account = self.account_id()
        if self.portfolio is None or account is None:
            return
        try:
            hedge = self.hedge.instrument()
        except ValueError as exc:
            self._set_suggestion(None, str(exc))
            return
        self._set_suggestion(None, "searching…")
        self.suggest_job.submit(partial(run_suggest, scope=self.scope, liquidity=self.box.liquidity(),
                                        engine=self.engine),
                                self.portfolio, account, self.drafts(), hedge, self.hedge.objective_key())

    def _on_suggestion(self, result: WhatIfResult) -> None:
        self._set_suggestion(result)

    def _on_suggest_error(self, exc: BaseException) -> None:
        self._set_suggestion(None, f"No suggestion: {exc}")

    def _set_suggestion(self, result: WhatIfResult | None, message: str | None = None) -> None:
        self.suggestion = result
        self.hedge.show_result(result, self._fmt, message)

    def add_suggestion(self) -> Draft | None:
        """Add the suggested hedge (its size rounded to the venue's lot) to the drafts."""
        result = self.suggestion
        if result is None or result.hedge is None or not result.hedge.quantity:
            return None
        q, _step = self.hedge.rounded(result.hedge)
        at_mark = self.hedge.entry.text().strip() == ""
        shown = self.hedge.result.text()
        draft = self.add_draft(Draft("", replace(result.hedge, quantity=q or result.hedge.quantity), at_mark=at_mark))
        self.hedge.result.setText(f"{shown}<br><i>added to the drafts as {draft.position.id}</i>")
        return draft
