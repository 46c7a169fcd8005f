"""Hedge suggestions and trade limits, on a prepared what-if session (scipy.optimize).

`suggest` finds the quantity of one hedge instrument (on top of drafted trades) that
- `delta`: brings the scope's delta on the hedge's underlying (collateral included, cash legs
  included) to zero: solved in closed form;
- `margin`: minimises the scope's initial margin;
- `liquidation`: pushes the nearest liquidation on the hedge's underlying furthest away.
The last two scan a range of sizes (the curve the window draws: initial margin and liquidation
distance against size), then refine next to the best: the margin by `scipy.optimize.minimize_scalar`
(bounded); the liquidation distance, min(down, up), by `scipy.optimize.brentq` on down - up where
the two cross (or meet at no liquidation), minimize_scalar otherwise (`furthest_liquidation`).
Each liquidation size costs a search, so that scan has 9 sizes, not 25.

`largest_size` is the largest size of a trade, in its direction, that keeps free margin
(equity - IM, cash legs paid) at or above zero: `scipy.optimize.brentq` on a doubling bracket.
Every evaluation reuses the prepared "before" (core/whatif_session.py): only the drafts, the
hedge and the columns they touch are revalued.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from workstation.core.arrays import unique
from workstation.core.book import Book
from workstation.core.cash import CashLeg
from workstation.core.errors import WorkstationError
from workstation.core.incremental import ColumnMemo
from workstation.core.liquidation import Liquidation
from workstation.core.model import Portfolio, Position
from workstation.core.valuation import greeks
from workstation.core.whatif_session import Prepared, WhatIfSession

OBJECTIVES = ("delta", "margin", "liquidation")
NO_LIQUIDATION = 5.0  # distance reported when no move within the searched range liquidates
SCAN_POINTS = 25  # sizes scanned before the bounded refine (the window draws them as the curve)
LIQUIDATION_SCAN_POINTS = 9  # each one a liquidation search: fewer; the refine is a root finder


class _OneColumn(ColumnMemo):
    """The memo of a method whose liquidation search looks at one column only."""

    def __init__(self, method: Any, column: int):
        super().__init__(method)
        self.assets = [column] if column in method.assets else []


@dataclass
class HedgeProblem:
    """Objectives of sizes of one hedge instrument, on top of drafted trades, in a session."""

    session: WhatIfSession
    account: str
    hedge: Position  # quantity ignored; entry resolved
    drafts: Sequence[Position] = ()
    liquidity: str | None = None
    cash: bool = True

    def __post_init__(self) -> None:
        self.drafts = self.session.resolve(self.account, self.drafts)
        taken = {t.id for t in self.drafts}
        hid = self.hedge.id or "hedge"
        while hid in taken:
            hid += "-h"
        self.hedge = self.session.resolve(self.account, [replace(self.hedge, id=hid)])[0]
        self.legs0 = self._legs(self.drafts)
        self.column = list(self.session.scope.book.assets).index(self.hedge.underlying)
        self._cache: dict[float, Prepared] = {}
        self._rows: Book | None = None  # the drafts' and the hedge's rows (hedge quantity 1)
        self._sides: dict[float, tuple[float, float]] = {}  # q -> liquidation distances down, up

    def _legs(self, trades: Sequence[Position]) -> list[CashLeg]:
        return self.session.cash_legs(self.account, trades, self.liquidity) if self.cash else []

    def lot_step(self) -> float | None:
        """The venue's trading step of the hedge, in position units (the account's profile)."""
        h = self.hedge
        return self.session.profile(self.account).trading.contract(h.underlying, h.kind, h.settlement).step

    def trade(self, q: float) -> Position:
        return replace(self.hedge, quantity=float(q))

    def state(self, q: float) -> Prepared:
        """The scope with the drafts and `q` of the hedge (cached by q)."""
        q = float(q)
        if q not in self._cache:
            if len(self._cache) > 512:
                self._cache.clear()
            trades = [*self.drafts, self.trade(q)] if q else list(self.drafts)
            legs = self.legs0 + (self._legs([self.trade(q)]) if q else [])
            self._cache[q] = self.session.after(self.account, trades, legs, light=True,
                                                book=self._book(q) if q else None)
        return self._cache[q]

    def _book(self, q: float) -> Book:
        """`Book.from_positions` of the drafts and `q` of the hedge: the rows are built once, a
        size only sets the hedge's quantity (no other column depends on it)."""
        if self._rows is None:
            self._rows = Book.from_positions([(self.account, t) for t in [*self.drafts, self.trade(1.0)]],
                                             self.session.portfolio)
        qty = self._rows.qty.copy()
        qty[-1] = q
        return self._rows.with_qty(qty)

    def initial_margin(self, q: float) -> float:
        return self.state(q).snapshot_requirement()[0]

    def free_margin(self, q: float) -> float:
        st = self.state(q)
        return st.equity() - st.snapshot_requirement()[0]

    def sides(self, q: float) -> tuple[float, float]:
        """(down, up): the nearest liquidation moves (fractions, both >= 0) on the hedge's
        underlying, down and up; NO_LIQUIDATION where none within the searched range."""
        q = float(q)
        if q not in self._sides:
            st = self.state(q)
            memo = _OneColumn(st.method, self.column)
            if not memo.assets:
                return NO_LIQUIDATION, NO_LIQUIDATION
            down, up = Liquidation(memo, with_all=False).search()  # type: ignore[arg-type]
            if len(self._sides) > 512:
                self._sides.clear()
            self._sides[q] = (NO_LIQUIDATION if np.isnan(down[0]) else -float(down[0]),
                              NO_LIQUIDATION if np.isnan(up[0]) else float(up[0]))
        return self._sides[q]

    def distance(self, q: float) -> float:
        """Nearest liquidation move (fraction) on the hedge's underlying; NO_LIQUIDATION if none."""
        return min(self.sides(q))

    def delta(self, q: float = 0.0) -> float:
        """The scope's delta on the hedge's underlying (collateral included)."""
        st = self.state(q)
        m = st.method
        mask = m.book.und == self.column
        total = float(st.greeks.delta[mask].sum())
        for idx, amt in zip(m.coll_idx, m.coll_amt, strict=True):
            if idx == self.column:
                total += float(amt)
        return total


def _unit_delta(portfolio: Portfolio, hedge: Position) -> float:
    book = Book.from_positions([("hedge", replace(hedge, quantity=1.0))], portfolio)
    return float(greeks(book).delta[0])


def delta_neutral(problem: HedgeProblem) -> tuple[float, float]:
    """(quantity, delta before) that brings the delta to zero. The delta is linear in q but for
    the fee (|q|), so the side is found first, then the exact root on it."""
    d0 = problem.delta(0.0)
    unit = problem.delta(1.0) - d0
    if unit == 0 or not math.isfinite(unit):
        raise WorkstationError("the hedge instrument has no delta: it cannot hedge")
    q = -d0 / unit
    if q and problem.liquidity is not None:  # the fee makes the slope differ by side
        side = problem.delta(math.copysign(1.0, q)) - d0
        q = -d0 / (side * math.copysign(1.0, q)) if side else q
    return float(q), d0


def scan(f: Callable[[float], float], span: float, points: int = SCAN_POINTS) -> tuple[np.ndarray, np.ndarray, int]:
    """Sizes over [-span, span] and f there, widening (x2, at most 6 times) while the best sits on
    an edge; returns (sizes, values, index of the best). A widened scan holds every other size of
    the one before it, bit for bit (h i with h doubled and i halved), so those come from the cache."""
    half = (points - 1) // 2
    for _ in range(7):
        qs = (span / half) * np.arange(-half, half + 1, dtype=float)
        vals = np.array([f(float(q)) for q in qs])
        k = int(np.argmin(vals))
        if 0 < k < qs.size - 1:
            break
        span *= 2.0
    return qs, vals, k


def minimise(f: Callable[[float], float], qs: np.ndarray, vals: np.ndarray, k: int, step: float | None = None) -> float:
    """The best q near the scan's best point: bounded Brent between its neighbours, to a quarter
    of the venue's trading step (`step`; the size is rounded to it) or 1e-7 of the bracket."""
    lo, hi = float(qs[max(k - 1, 0)]), float(qs[min(k + 1, qs.size - 1)])
    xatol = max(abs(hi - lo) * 1e-7, 0.25 * step if step else 0.0, 1e-12)
    res = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": xatol})
    q = float(res.x)
    if f(q) > vals[k]:
        q = float(qs[k])
    if f(0.0) <= f(q):
        q = 0.0
    return q


def furthest_liquidation(p: HedgeProblem, qs: np.ndarray, vals: np.ndarray, k: int, q_delta: float) -> float:
    """The size that pushes the nearest liquidation furthest, near the scan's best size k.

    - No liquidation within the searched range at the best scanned sizes: of those, the one
      nearest the delta hedge (every one of them is as good).
    - Else the optimum of min(down, up) is where the two distances cross when they do next to
      k (down falls and up rises with a long hedge): `brentq` on down - up there, a few
      evaluations where a minimiser would need dozens at the kink of the min.
    - Else bounded Brent around k (`minimise`).
    Zero when no size does better than none."""
    f = lambda x: -p.distance(x)  # noqa: E731
    if vals[k] <= -NO_LIQUIDATION:
        flat = np.flatnonzero(vals <= -NO_LIQUIDATION)
        q = float(qs[flat[np.argmin(np.abs(qs[flat] - q_delta))]])
        return 0.0 if f(0.0) <= f(q) else q
    g = lambda x: float(np.subtract(*p.sides(x)))  # noqa: E731
    for a, b in ((k - 1, k), (k, k + 1)):
        if a < 0 or b >= qs.size:
            continue
        lo, hi = float(qs[a]), float(qs[b])
        ga, gb = g(lo), g(hi)
        if ga * gb < 0:  # down - up changes sign: a crossing, or sizes with no liquidation (0)
            q = float(brentq(g, lo, hi, xtol=max(abs(hi - lo) * 1e-9, 1e-12)))
            if f(q) <= vals[k]:
                return 0.0 if f(0.0) <= f(q) else q
    return minimise(f, qs, vals, k, p.lot_step())


def suggest(portfolio: Portfolio, account_id: str, hedge: Position, objective: str, *,
            scope: str | None = None, drafts: Sequence[Position] = (), liquidity: str | None = None,
            cash: bool = True, session: WhatIfSession | None = None,
            curve: bool = False) -> dict[str, Any]:
    """The suggested quantity (on top of `drafts`), with before/after reports (before: the drafts
    alone) and, with `curve`, the initial margin and liquidation distance over the scanned sizes."""
    from workstation.core.whatif import compare

    if objective not in OBJECTIVES:
        raise WorkstationError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    session = session or WhatIfSession(portfolio, scope or f"account:{account_id}")
    p = HedgeProblem(session, account_id, hedge, drafts, liquidity, cash)
    q_delta, exposure = delta_neutral(p)
    detail: dict[str, Any] = {}
    qs = vals = None
    if objective == "delta":
        q = q_delta
        detail = {"delta_before": exposure, "delta_after": p.delta(q)}
    else:
        unit = abs(_unit_delta(portfolio, p.hedge)) or 1.0
        span = max(abs(q_delta), 1e-9) * 2.0 if abs(q_delta) >= 1e-12 else 1.0 / unit
        if objective == "margin":
            f = p.initial_margin
            qs, vals, k = scan(f, span)
            q = minimise(f, qs, vals, k, p.lot_step())
        else:
            f = lambda x: -p.distance(x)  # noqa: E731
            qs, vals, k = scan(f, span, LIQUIDATION_SCAN_POINTS)
            q = furthest_liquidation(p, qs, vals, k, q_delta)
        if objective == "margin":
            detail = {"initial_margin_before": f(0.0), "initial_margin_after": f(q)}
        else:
            detail = {"distance_before_pct": -100 * f(0.0), "distance_after_pct": -100 * f(q)}
    trades = [*p.drafts, p.trade(q)] if q else list(p.drafts)
    after = compare(session, account_id, trades, liquidity=liquidity, cash=cash)
    if p.drafts:  # before: the drafts alone
        before = compare(session, account_id, p.drafts, liquidity=liquidity, cash=cash)
        base, base_funding = before.after, before.funding["after"]
    else:  # the session's own before
        base, base_funding = after.before, after.funding["before"]
    result: dict[str, Any] = {"before": base, "after": after.after}
    from workstation.core.whatif import delta_of

    result["delta"] = delta_of(result["before"], result["after"])
    hedge_legs = [leg for leg in after.legs if leg.trade_id == p.hedge.id]
    result["suggestion"] = {"quantity": float(q), "objective": objective, "underlying": p.hedge.underlying,
                            "kind": p.hedge.kind, "id": p.hedge.id,
                            "premium_base": sum(leg.premium_base for leg in hedge_legs),
                            "fee_base": sum(leg.fee_base for leg in hedge_legs),
                            "funding_per_day": after.funding["after"] - base_funding, **detail}
    if curve:
        sizes = qs if qs is not None else np.linspace(-2 * abs(q) or -1.0, 2 * abs(q) or 1.0, 21)
        if objective == "liquidation" and qs is not None:  # the refine's sizes too (searched already)
            sizes = unique(np.concatenate([qs, [x for x in p._sides if qs[0] <= x <= qs[-1]]]))
        result["curve"] = hedge_curve(p, sizes)
    return result


def hedge_curve(p: HedgeProblem, sizes: np.ndarray) -> dict[str, np.ndarray]:
    """Initial margin and liquidation distance (percent; nan: none in range) against size."""
    sizes = np.asarray(sizes, dtype=float)
    im = np.array([p.initial_margin(float(q)) for q in sizes])
    dist = np.array([p.distance(float(q)) for q in sizes])
    return {"sizes": sizes, "initial_margin": im,
            "distance_pct": np.where(dist >= NO_LIQUIDATION, np.nan, 100.0 * dist)}


def largest_size(p: HedgeProblem, direction: float, limit: float = 1e12) -> float | None:
    """The largest |q| (signed as `direction`) that keeps free margin >= 0; 0 when even a tiny
    trade does not fit, None when no size up to `limit` runs out of free margin."""
    sign = math.copysign(1.0, direction)

    def g(x: float) -> float:
        return p.free_margin(sign * x)

    if g(0.0) < 0:
        return 0.0
    step = max(abs(direction), 1e-9)
    lo, hi = 0.0, step
    while g(hi) >= 0:
        lo, hi = hi, hi * 2.0
        if hi > limit:
            return None
    x = brentq(g, lo, hi, xtol=max(hi * 1e-10, 1e-12))
    return sign * float(x)
