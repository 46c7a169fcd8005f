"""Dashboard of one account or pool: headline figures, usage gauge, pooling offset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workstation.ui.formatting import DASH, NumberFormat, usage_level
from workstation.ui.gauge import UsageGauge
from workstation.ui.theme import LIGHT, Theme, numeric_font
from workstation.ui.venue_columns import venue_line


@dataclass(frozen=True)
class ScopeInfo:
    """What the header says about the selected scope."""

    scope: str
    title: str
    subtitle: str
    margin_mode: str
    accounts: tuple[str, ...] = ()


class KpiCard(QFrame):
    """A titled figure with a line of context under it."""

    def __init__(self, title: str, tip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setToolTip(tip)
        self.title = QLabel(title.upper())
        self.title.setObjectName("cardTitle")
        self.value = QLabel(DASH)
        self.value.setObjectName("cardValue")
        self.value.setFont(numeric_font(self.value.font()))
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel("")
        self.note.setObjectName("cardNote")
        self.note.setWordWrap(True)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(12, 9, 12, 9)
        self.body.setSpacing(2)
        self.body.addWidget(self.title)
        self.body.addWidget(self.value)
        self.body.addWidget(self.note)
        self.body.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set(self, value: str, note: str = "", colour: str | None = None) -> None:
        self.value.setText(value)
        self.note.setText(note)
        self.value.setStyleSheet(f"color: {colour};" if colour else "")


def profile_text(report: dict[str, Any] | None) -> str:
    """'profile binance-usdm · 2021-03-18' (the version in force on the book's date), or undated."""
    if not report or not report.get("profile"):
        return ""
    return f"profile {report['profile']} · {report.get('profile_version') or 'undated'}"


class Dashboard(QWidget):
    """Header and headline cards for the selected scope; fed the engine's report dict."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fmt = NumberFormat()
        self._theme: Theme = LIGHT
        self._report: dict[str, Any] | None = None
        self._info: ScopeInfo | None = None

        self.title = QLabel("No account selected")
        self.title.setObjectName("scopeTitle")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("muted")
        self.busy = QLabel("")
        self.busy.setObjectName("muted")
        self.profile = QLabel("")  # the margin profile and the version in force on the book's date
        self.profile.setObjectName("muted")
        self.profile.setToolTip("Margin profile, and the date of its version in force on the book's date")

        self.equity = KpiCard("Equity", "Collateral after haircuts plus open P&L and option values")
        self.initial = KpiCard("Initial margin", "Requirement to open or hold the book")
        self.maintenance = KpiCard("Maintenance margin", "Below this equity the book is liquidated")
        self.free = KpiCard("Free margin", "Equity minus initial margin")
        self.usage = KpiCard("Margin usage", "Maintenance margin / equity; liquidation at 100 %")
        self.gauge = UsageGauge()
        self.usage.body.insertWidget(3, self.gauge)
        self.offset = KpiCard(
            "Cross-margin offset", "What margining together saves against margining each position alone"
        )
        self.cards = (self.equity, self.initial, self.maintenance, self.free, self.usage, self.offset)

        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        head.addWidget(self.profile, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom)
        head.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(8)
        for col, card in enumerate(self.cards):
            grid.addWidget(card, 0, col)
            grid.setColumnStretch(col, 5 if card in (self.usage, self.offset) else 4)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addLayout(grid)
        # the venue's own account figures beside ours (core.reconcile); hidden when it has none
        self.venue = QLabel("")
        self.venue.setObjectName("muted")
        self.venue.setWordWrap(True)
        self.venue.setToolTip("What the venue reports for this account (imported with its ccxt dump), "
                              "and ours − venue in money and percent")
        self.venue.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.venue.hide()
        layout.addWidget(self.venue)

    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        self._refresh()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.gauge.set_theme(theme)
        self._refresh()

    def set_busy(self, busy: bool) -> None:
        self.busy.setText("recomputing…" if busy else "")

    def set_scope(self, info: ScopeInfo | None) -> None:
        self._info = info
        self.title.setText(info.title if info else "No account selected")
        self.subtitle.setText(info.subtitle if info else "")

    def set_report(self, report: dict[str, Any] | None) -> None:
        self._report = report
        self._refresh()

    def report(self) -> dict[str, Any] | None:
        return self._report

    def _refresh(self) -> None:
        r = self._report
        f = self._fmt
        self.profile.setText(profile_text(r))
        venue = venue_line(r, f)
        self.venue.setText(venue)
        self.venue.setVisible(bool(venue))
        if r is None:
            for card in self.cards:
                card.set(DASH)
            self.gauge.set_usage(None)
            return

        def money(value: float | None) -> str:
            return f.money(value, unit=True)

        equity, im, mm = r.get("equity"), r.get("initial_margin"), r.get("maintenance_margin")
        self.equity.set(money(equity), f"collateral {money(r.get('collateral_value'))}")
        self.initial.set(money(im), f"standalone sum {money(r.get('standalone_initial_margin'))}")
        self.maintenance.set(money(mm), "liquidation when equity falls to it")
        free = None if equity is None or im is None else equity - im
        self.free.set(
            money(free),
            "room for new trades" if free is not None and free >= 0 else "below initial margin",
            self._theme.red if free is not None and free < 0 else None,
        )
        usage = r.get("margin_usage")
        level = usage_level(usage)
        self.usage.set(
            f.ratio(usage, 1),
            "",
            self._theme.level(level).name() if level != "none" else None,
        )
        self.gauge.set_usage(usage)
        self._set_offset(r)

    def _set_offset(self, r: dict[str, Any]) -> None:
        f = self._fmt
        offset = r.get("offset")
        standalone = r.get("standalone_initial_margin") or 0.0
        pct = offset / standalone if offset is not None and standalone else None
        value = f.money(offset, unit=True)
        if pct is not None:
            value += f"  ({f.ratio(pct, 1)})"
        note = ("saved vs each position alone" if (offset or 0) >= 0
                else "more than positions alone: collateral in the scenarios adds risk")
        segregated = r.get("segregated_initial_margin")
        if segregated is not None:
            saving = segregated - (r.get("initial_margin") or 0.0)
            share = f" ({f.ratio(abs(saving) / segregated, 1)})" if segregated else ""
            verb = "saves" if saving >= 0 else "costs"
            note = (
                f"vs positions alone · pooling {verb} {f.money(abs(saving), unit=True)}{share} "
                f"vs accounts apart ({f.money(segregated, unit=True)})"
            )
        colour = self._theme.calm if offset is not None and offset > 0 else None
        self.offset.set(value, note, colour)
