"""The what-if jobs a worker runs. No Qt here, and no margin maths: figures come from
`workstation.core` (whatif, suggest, risk_profile, venue_compare); this module picks what to ask.

`WhatIfEngine` keeps the prepared "before" of the current book and scope (a `WhatIfSession`)
between jobs, so a dragged slider only recomputes what the drafts touch. Jobs of one panel run one
at a time (`LatestJob`); the engine's lock keeps two panels' jobs from interleaving.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from workstation.core.cash import CashLeg, mark_price
from workstation.core.model import Portfolio, Position
from workstation.core.pool_view import Margining, Nearest, first_to_liquidate, pool_margining
from workstation.core.risk_profile import AgedState, Horizon, date_stops, profile
from workstation.core.whatif import compare
from workstation.core.whatif_session import Prepared, WhatIfSession

FINE_POINTS = 161
COARSE_POINTS = 61
DRAG_POINTS = 25  # maintenance margin points while a slider is dragged


@dataclass(frozen=True)
class Draft:
    """One hypothetical trade. `position` holds the engine's quantity; `amount` and `unit` are the
    size as the trader entered it (None: entered in the position's own unit); `at_mark`: the entry
    is the engine's mark; `settle`: the coin a linear trade settles in (None: the account's)."""

    key: str
    position: Position
    at_mark: bool = False
    amount: float | None = None
    unit: str | None = None
    settle: str | None = None
    symbol: str = ""


@dataclass
class WhatIfResult:
    """Before and after of one account's drafts, in the selected scope (an account or a pool)."""

    account: str
    trades: list[Position]
    before: dict[str, Any]
    after: dict[str, Any]
    delta: dict[str, float]
    scope: str = ""
    legs: list[CashLeg] = field(default_factory=list)
    funding: dict[str, float] = field(default_factory=dict)  # per day
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    first: dict[str, Nearest | None] = field(default_factory=dict)  # which member liquidates first
    margining: Margining | None = None
    suggestion: dict[str, Any] | None = None
    hedge: Position | None = None  # the suggested trade, quantity filled in
    elapsed_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cash(self) -> dict[str, float]:
        return {"premium": sum(leg.premium_base for leg in self.legs), "fee": sum(leg.fee_base for leg in self.legs)}


class WhatIfEngine:
    """The prepared before-state of one book and scope, kept between jobs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._book: Portfolio | None = None
        self._scope: str | None = None
        self._session: WhatIfSession | None = None
        self._aged: dict[tuple[int, Horizon], AgedState] = {}
        self._last: tuple[Any, Prepared] | None = None

    def session(self, portfolio: Portfolio, scope: str) -> WhatIfSession:
        if self._session is None or self._book is not portfolio or self._scope != scope:
            self._session = WhatIfSession(portfolio, scope)
            self._book, self._scope = portfolio, scope
            self._aged.clear()
            self._last = None
        return self._session

    def aged_before(self, column: int, h: Horizon) -> AgedState:
        assert self._session is not None
        key = (column, h)
        if key not in self._aged:
            if len(self._aged) > 8:
                self._aged.clear()
            self._aged[key] = AgedState(self._session.before, h, column)
        return self._aged[key]


def resolve_entries(portfolio: Portfolio, drafts: Sequence[Draft]) -> list[Position]:
    """The drafts as positions, an entry left at the mark priced at the engine's mark now."""
    return [replace(d.position, entry_price=mark_price(portfolio, d.position)) if d.at_mark else d.position
            for d in drafts]


def resolve_trades(portfolio: Portfolio, account_id: str, drafts: Sequence[Draft]) -> list[Position]:
    """The drafts as positions with ids unique in the account (saving never overwrites one)."""
    from workstation.core.whatif_session import resolve_trades as resolve

    return resolve(portfolio, account_id, resolve_entries(portfolio, drafts))


def _settle(drafts: Sequence[Draft], trades: Sequence[Position]) -> dict[str, str]:
    return {t.id: d.settle for d, t in zip(drafts, trades, strict=True) if d.settle}


@contextmanager
def _drafted(engine: WhatIfEngine | None, portfolio: Portfolio, scope: str, account_id: str,
             drafts: Sequence[Draft]) -> Iterator[tuple[WhatIfEngine, WhatIfSession, list[Position]]]:
    """The engine's session of `scope` (locked) and the drafts as resolved trades."""
    engine = engine or WhatIfEngine()
    with engine.lock:
        session = engine.session(portfolio, scope)
        yield engine, session, session.resolve(account_id, resolve_entries(portfolio, drafts))


def run_whatif(portfolio: Portfolio, account_id: str, drafts: Sequence[Draft], *, scope: str | None = None,
               liquidity: str | None = None, cash: bool = True, engine: WhatIfEngine | None = None) -> WhatIfResult:
    """Before / after of the drafts in `account_id`, in `scope` (default: the account)."""
    scope = scope or f"account:{account_id}"
    start = time.perf_counter()
    with _drafted(engine, portfolio, scope, account_id, drafts) as (engine, session, trades):
        res = compare(session, account_id, trades, liquidity=liquidity, cash=cash,
                      settle=_settle(drafts, trades), members=session.kind == "pool")
        engine._last = ((account_id, tuple(trades), tuple(res.legs)), res.prepared)  # type: ignore[arg-type]
    out = WhatIfResult(account_id, res.trades, res.before, res.after, res.delta, scope=scope, legs=res.legs,
                       funding=res.funding, members=res.members)
    if session.kind == "pool":
        out.margining = pool_margining(portfolio, session.ident)
        out.first = {side: first_to_liquidate({m: r[side] for m, r in res.members.items()})
                     for side in ("before", "after")}
    out.elapsed_ms = (time.perf_counter() - start) * 1000.0
    return out


@dataclass
class ProfileResult:
    underlying: str
    horizon: Horizon
    before: dict[str, Any]
    after: dict[str, Any] | None
    spot: float
    stops: list[tuple[float, str]]
    liquidation_today: dict[str, Any] = field(default_factory=dict)  # before / after report liquidation
    elapsed_ms: float = 0.0


FAR_DOWN, FAR_UP = -0.8, 1.2  # liquidations further than these moves are noted, not drawn


def curve_moves(*liqs: dict[str, Any] | None) -> tuple[float, float]:
    """At least +/-50 %, wide enough to show every liquidation price given within -80 % ..
    +120 % (a farther one would squeeze the part of the curve that matters)."""
    down, up = -0.5, 0.5
    for liq in liqs:
        liq = liq or {}
        d, u = liq.get("down_pct"), liq.get("up_pct")
        if d is not None and d / 100.0 >= FAR_DOWN:
            down = max(-0.95, min(down, 1.2 * d / 100.0))
        if u is not None and u / 100.0 <= FAR_UP:
            up = max(up, 1.2 * u / 100.0)
    return down, up


def run_profile(portfolio: Portfolio, scope: str, underlying: str, horizon: Horizon, *,
                account_id: str | None = None, drafts: Sequence[Draft] = (), liquidity: str | None = None,
                cash: bool = True, fast: bool = False, engine: WhatIfEngine | None = None) -> ProfileResult:
    """The risk profile of `underlying` before (and after the drafts) at `horizon`."""
    engine = engine or WhatIfEngine()
    start = time.perf_counter()
    with engine.lock:
        session = engine.session(portfolio, scope)
        column = list(session.scope.book.assets).index(underlying)
        before_today = session.before_report
        after_prep = after_report = None
        if drafts and account_id is not None:
            trades = session.resolve(account_id, resolve_entries(portfolio, drafts))
            legs = session.cash_legs(account_id, trades, liquidity, _settle(drafts, trades)) if cash else []
            key = (account_id, tuple(trades), tuple(legs))
            if engine._last is not None and engine._last[0] == key:
                after_prep = engine._last[1]
            else:
                after_prep = session.after(account_id, trades, legs)
                engine._last = (key, after_prep)
            after_report = after_prep.liquidation
        liq_b = before_today.get("liquidation", {}).get(underlying)
        liq_a = (after_report or {}).get(underlying)
        lo, hi = curve_moves(liq_b, liq_a)
        fine = np.linspace(lo, hi, FINE_POINTS)
        coarse = np.linspace(lo, hi, DRAG_POINTS if fast else COARSE_POINTS)
        reference = float(before_today["equity"])
        aged_b = engine.aged_before(column, horizon)
        before = profile(aged_b, fine, coarse, reference)
        after = None
        if after_prep is not None:
            aged_a = AgedState(after_prep, horizon, column, base=aged_b)
            after = profile(aged_a, fine, coarse, reference)
        books = [session.scope.book] + ([after_prep.method.book] if after_prep is not None else [])
        stops = date_stops(portfolio.as_of, books)
    return ProfileResult(underlying, horizon, before, after, float(portfolio.market[underlying].price), stops,
                         {"before": liq_b or {}, "after": liq_a or {}},
                         elapsed_ms=(time.perf_counter() - start) * 1000.0)


def run_suggest(portfolio: Portfolio, account_id: str, drafts: Sequence[Draft], hedge: Draft, objective: str, *,
                scope: str | None = None, liquidity: str | None = None, cash: bool = True,
                direction: float | None = None, engine: WhatIfEngine | None = None) -> WhatIfResult:
    """`suggest()` for the hedge instrument on top of the drafted trades (before: the drafts in
    the book; after: with the hedge), with the IM / liquidation curve over the scanned sizes."""
    from workstation.core.suggest import HedgeProblem, largest_size, suggest

    scope = scope or f"account:{account_id}"
    start = time.perf_counter()
    with _drafted(engine, portfolio, scope, account_id, drafts) as (engine, session, trades):
        instrument = resolve_entries(portfolio, [hedge])[0]
        result = suggest(portfolio, account_id, instrument, objective, scope=scope, drafts=trades,
                         liquidity=liquidity, cash=cash, session=session, curve=True)
        s = result["suggestion"]
        problem = HedgeProblem(session, account_id, instrument, trades, liquidity, cash)
        sign = direction if direction else (s["quantity"] or 1.0)
        s["largest"] = largest_size(problem, sign)
    out = WhatIfResult(account_id, trades, result["before"], result["after"], result["delta"], scope=scope,
                       suggestion=s, hedge=replace(instrument, id=s["id"], quantity=float(s["quantity"])))
    out.extra["curve"] = result.get("curve")
    out.elapsed_ms = (time.perf_counter() - start) * 1000.0
    return out


def run_largest(portfolio: Portfolio, account_id: str, drafts: Sequence[Draft], key: str, *,
                scope: str | None = None, liquidity: str | None = None,
                engine: WhatIfEngine | None = None) -> tuple[str, float | None]:
    """(draft key, the largest quantity of that draft, in its direction, that keeps free margin
    >= 0 with the other drafts in the book; None: no limit found)."""
    from workstation.core.suggest import HedgeProblem, largest_size

    scope = scope or f"account:{account_id}"
    with _drafted(engine, portfolio, scope, account_id, drafts) as (engine, session, trades):
        index = [d.key for d in drafts].index(key)
        target = trades[index]
        others = [t for i, t in enumerate(trades) if i != index]
        problem = HedgeProblem(session, account_id, target, others, liquidity)
        return key, largest_size(problem, target.quantity or 1.0)


def run_venues(portfolio: Portfolio, account_id: str, drafts: Sequence[Draft]) -> list[dict[str, Any]]:
    from workstation.core.venue_compare import compare_venues

    return compare_venues(portfolio, account_id, resolve_trades(portfolio, account_id, drafts))


def draft_rows(drafts: Sequence[Draft], portfolio: Portfolio | None = None,
               legs: Sequence[CashLeg] = ()) -> list[dict[str, Any]]:
    """Rows of the drafts table: the size as entered and as the engine takes it, with units."""
    from workstation.core.units import quantity_unit

    base = portfolio.base_currency if portfolio else "USD"
    by_trade = {leg.trade_id: leg for leg in legs}
    rows = []
    for d in drafts:
        p = d.position
        unit = quantity_unit(p.kind, p.settlement, p.underlying, base)
        entered = "" if d.amount is None else f"{d.amount:,.10g} {_unit_word(d.unit, p.underlying, base)}"
        coins = None
        if portfolio is not None and p.underlying in portfolio.market:
            s = portfolio.market[p.underlying].price
            coins = p.quantity / s if unit == base and p.kind != "spot" else p.quantity
        leg = by_trade.get(p.id)
        option = f"{p.right} {p.strike:,.10g}" if p.kind == "option" and p.strike is not None else ""
        from workstation.ui.whatif_rows import label

        rows.append({
            "key": d.key, "id": p.id, "symbol": d.symbol or label(p), "kind": p.kind, "underlying": p.underlying,
            "settlement": "" if p.kind == "spot" else p.settlement, "entered": entered,
            "quantity": p.quantity, "unit": unit, "coins": coins,
            "entry": "mark" if d.at_mark else f"{p.entry_price:,.10g} {entry_unit(p, base)}",
            "expiry": f"{p.expiry:%Y-%m-%d}" if p.expiry is not None else "", "option": option,
            "cash": None if leg is None else -(leg.premium_base + leg.fee_base),
            "_tip": f"{p.id}: {p.kind} on {p.underlying}, quantity in {unit}"
                    + (", entry at the mark" if d.at_mark else ""),
        })
    return rows


def entry_unit(p: Position, base: str) -> str:
    """The currency of a position's entry price: the coin for inverse options, else the base."""
    return p.underlying if p.kind == "option" and p.settlement == "inverse" else base


def _unit_word(unit: str | None, underlying: str, base: str) -> str:
    return {"coin": underlying, "usd": base, "contracts": "contracts"}.get(unit or "", "")
