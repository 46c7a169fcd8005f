"""The risk profile chart for the Book tab: the selected scope as booked (no drafts), today or at a
date, with a vol shift. Computes in its own worker, only while it is shown."""

from __future__ import annotations

from functools import partial

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from workstation.core.model import Portfolio
from workstation.core.risk_profile import Horizon
from workstation.ui.formatting import NumberFormat
from workstation.ui.risk_chart import RiskProfileChart
from workstation.ui.theme import Theme
from workstation.ui.whatif_compute import ProfileResult, WhatIfEngine, run_profile
from workstation.ui.worker import LatestJob


class RiskProfilePanel(QWidget):
    """`show_scope(portfolio, scope, underlying)`; the chart asks for new dates and vols itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = RiskProfileChart(title="Risk profile of the book")
        self.engine = WhatIfEngine()
        self.job = LatestJob(self._on_result, lambda exc: self.chart.frame.set_caption(str(exc)), parent=self)
        self.portfolio: Portfolio | None = None
        self.scope: str | None = None
        self.horizon = Horizon()
        self.result: ProfileResult | None = None
        self._dirty = False
        self.chart.horizon_changed.connect(self._horizon)
        self.chart.underlying_changed.connect(lambda _u: self.request())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.chart)

    def show_scope(self, portfolio: Portfolio, scope: str, underlyings: list[str], underlying: str | None) -> None:
        self.portfolio, self.scope = portfolio, scope
        self.chart.set_underlyings(underlyings, underlying)
        self._dirty = True
        if self.isVisible():
            self.request()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.request()

    def _horizon(self, horizon: Horizon, dragging: bool) -> None:
        self.horizon = horizon
        self.request(fast=dragging)

    def request(self, fast: bool = False) -> None:
        und = self.chart.underlying.currentText()
        self._dirty = False
        if self.portfolio is None or self.scope is None or und not in self.portfolio.market:
            self.chart.set_profile(None)
            return
        self.job.submit(partial(run_profile, fast=fast, engine=self.engine), self.portfolio, self.scope, und,
                        self.horizon)

    def _on_result(self, result: ProfileResult) -> None:
        self.result = result
        if [d for d, _ in self.chart.stops] != [d for d, _ in result.stops]:
            self.chart.set_stops(result.stops)
        self.chart.set_profile(result)

    def is_busy(self) -> bool:
        return self.job.is_busy()

    def set_theme(self, theme: Theme) -> None:
        self.chart.set_theme(theme)

    def set_number_format(self, fmt: NumberFormat) -> None:
        self.chart.set_number_format(fmt)
