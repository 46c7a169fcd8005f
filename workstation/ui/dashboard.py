"""Dashboard of one account or pool: headline figures, usage gauge, what pooling saves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workstation.core.model import Portfolio
from workstation.ui.formatting import (
    DASH,
    PAST_LIQUIDATION,
    NumberFormat,
    margin_state,
    usage_text,
)
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


class FitLabel(QLabel):
    """A one-line label that draws its text smaller rather than cut it when the card is narrow."""

    def __init__(self, text: str = "", min_point: float = 8.0, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.min_point = min_point

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def fits(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) <= self.contentsRect().width()

    def fitted_font(self) -> QFont:
        """The label's font, made smaller (not below `min_point`) until the text fits its width."""
        font = QFont(self.font())
        room = max(1, self.contentsRect().width())
        for _ in range(12):
            width = QFontMetrics(font).horizontalAdvance(self.text())
            if width <= room or font.pointSizeF() <= self.min_point:
                break
            font.setPointSizeF(max(self.min_point, font.pointSizeF() * min(0.97, 0.99 * room / width)))
        return font

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.fits():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        font = self.fitted_font()
        painter.setFont(font)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.contentsRect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         self.text())
        painter.end()


class KpiCard(QFrame):
    """A titled figure with a line of context under it."""

    def __init__(self, title: str, tip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setToolTip(tip)
        self.title = FitLabel(title.upper(), min_point=6.0)
        self.title.setObjectName("cardTitle")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.value = FitLabel(DASH)
        self.value.setObjectName("cardValue")
        self.value.setFont(numeric_font(self.value.font()))
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note = QLabel("")
        self.note.setObjectName("cardNote")
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(10, 8, 10, 8)
        self.body.setSpacing(2)
        self.body.addWidget(self.title)
        self.body.addWidget(self.value)
        self.body.addWidget(self.note)
        self.body.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(120)

    def set(self, value: str, note: str = "", colour: str | None = None, title: str | None = None) -> None:
        self.value.setText(value)
        self.note.setText(note)
        self.value.setStyleSheet(f"color: {colour};" if colour else "")
        if title is not None:
            self.title.setText(title.upper())

    def colour(self) -> str | None:
        """The value's colour when it has one of its own (e.g. red), else None."""
        sheet = self.value.styleSheet()
        return sheet.removeprefix("color: ").rstrip(";") if sheet else None


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
        for label in (self.title, self.subtitle):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        self._tips = {card: card.toolTip() for card in self.cards}  # without a report

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
            grid.setColumnStretch(col, 6 if card is self.offset else 5 if card is self.usage else 4)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
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
        self.title.setToolTip(self.title.text())

    def set_report(self, report: dict[str, Any] | None) -> None:
        self._report = report
        self._refresh()

    def report(self) -> dict[str, Any] | None:
        return self._report

    def state(self) -> str:
        """'past' liquidation, or the usage band of the shown report ('none' without one)."""
        r = self._report or {}
        return margin_state(r.get("equity"), r.get("maintenance_margin"), r.get("margin_usage"))

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
                card.setToolTip(self._tips.get(card, card.toolTip()))
            self.gauge.set_usage(None)
            return

        def money(value: float | None) -> str:
            return f.money(value, unit=True)

        red = self._theme.red
        equity, im, mm = r.get("equity"), r.get("initial_margin"), r.get("maintenance_margin")
        state = self.state()
        past = state == "past"
        self.equity.set(money(equity), f"collateral {money(r.get('collateral_value'))}",
                        red if past else None)
        self.initial.set(money(im), f"standalone sum {money(r.get('standalone_initial_margin'))}")
        self.maintenance.set(money(mm), "equity is below it: liquidation" if past
                             else "liquidation when equity falls to it", red if past else None)
        free = None if equity is None or im is None else equity - im
        self.free.set(
            money(free),
            "room for new trades" if free is not None and free >= 0 else "below initial margin",
            red if free is not None and free < 0 else None,
        )
        usage = r.get("margin_usage")
        note = f"equity {money(equity)} ≤ maintenance {money(mm)}" if past else ""
        self.usage.set(usage_text(f, state, usage, 1), note,
                       self._theme.level(state).name() if state != "none" else None)
        self.gauge.set_usage(usage, past)
        self._set_tips(r, free)
        self._set_offset(r)

    def _set_tips(self, r: dict[str, Any], free: float | None) -> None:
        """Each card's tooltip: what the figure is, with the engine's figures it comes from."""
        f = self._fmt

        def money(key: str) -> str:
            return f.money(r.get(key), unit=True)

        equity, mm = r.get("equity"), r.get("maintenance_margin")
        room = None if equity is None or mm is None else equity - mm
        self.equity.setToolTip(f"Equity {money('equity')}: collateral after haircuts {money('collateral_value')} "
                               "plus open P&L and option values")
        self.initial.setToolTip(
            f"Initial margin {money('initial_margin')}: the requirement to open or hold the book.\n"
            f"Standalone sum {money('standalone_initial_margin')}: each position margined alone, summed; "
            "the cross-margin offset is the difference")
        self.maintenance.setToolTip(
            f"Maintenance margin {money('maintenance_margin')}: equity at or below it is liquidated.\n"
            + (f"Equity is {f.money(room, unit=True)} above it" if room is not None and room > 0
               else "Equity is at or below it: past liquidation"))
        self.free.setToolTip(f"Free margin = equity {money('equity')} − initial margin {money('initial_margin')} "
                             f"= {f.money(free, unit=True)}: room for new trades")
        self.usage.setToolTip(
            f"Margin usage = maintenance margin {money('maintenance_margin')} / equity {money('equity')}"
            f" = {usage_text(f, self.state(), r.get('margin_usage'), 1)}\n"
            "calm under 50 %, amber to 80 %, red above; liquidation at 100 %")

    def _set_offset(self, r: dict[str, Any]) -> None:
        f = self._fmt
        offset = r.get("offset")
        standalone = r.get("standalone_initial_margin") or 0.0
        pct = offset / standalone if offset is not None and standalone else None
        offset_text = f.money(offset, unit=True) + (f" ({f.ratio(pct, 1)})" if pct is not None else "")
        segregated = r.get("segregated_initial_margin")
        if segregated is None:  # an account: the offset against its positions margined alone
            note = ("saved vs each position alone" if (offset or 0) >= 0
                    else "more than positions alone: collateral in the scenarios adds risk")
            colour = self._theme.calm if (offset or 0) > 0 else self._theme.amber if (offset or 0) < 0 else None
            self.offset.set(offset_text, note, colour, "Cross-margin offset")
            self.offset.setToolTip("What margining together saves against margining each position alone")
            return
        # a pool: lead with what pooling saves or costs against its accounts margined apart
        saving = segregated - (r.get("initial_margin") or 0.0)
        share = f" ({f.ratio(abs(saving) / segregated, 1)})" if segregated else ""
        saves = saving >= 0
        self.offset.set(
            f"{f.money(abs(saving), unit=True)}{share}",
            f"vs accounts apart ({f.money(segregated, unit=True)} IM) · offset vs positions alone "
            f"{offset_text}",
            self._theme.calm if saving > 0 else self._theme.red if saving < 0 else None,
            "Pooling saves" if saves else "Pooling costs",
        )
        self.offset.setToolTip(
            "Initial margin of the member accounts margined apart minus the pool's: what margining "
            "them together saves (or costs). The offset is against every position margined alone."
        )


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


__all__ = ["PAST_LIQUIDATION", "Dashboard", "FitLabel", "KpiCard", "ScopeInfo", "scope_info"]
