"""Contagion: the same shock with accounts margined apart and pooled, the cascade, the top-up.

**Pooled versus segregated.** Every account is run on its own (its own mode and profile) and
every pool as one scope (the pool's mode and profile over the members' positions and summed
collateral). An account that breaches alone but sits in a pool that does not is *rescued* by
pooling; one that is safe alone inside a pool that breaches is *dragged under* (a pool is
liquidated as a whole).

**Cascade.** The scenario is walked as a path, its moves growing from 0 to 1 times themselves
at the scenario's horizon (`Scenario.times(t)`). The unit (an account when segregated; a pool,
or an account in no pool, when pooled) whose equity reaches its liquidation level first (MM x
the profile's `liquidation_threshold`) is liquidated there; we assume the venue closes all its
positions.
Market impact, a documented assumption and not a venue figure: closing a net position of
notional N (base currency, delta x price) moves that asset's price by `-impact * N / 1e6`
(default 0.1 % per million sold; buying back a short pushes the price up), capped at +/-50 %.
The impacts compound on the rest of the path and the next unit to breach is searched from
there; a unit already under water after an impact breaches at the same `t` (contagion). A
position on an asset that moves with another (`moves_with`) pushes that one's price.

**Cheapest top-up.** For a breached scope, the amount of each priced asset that, deposited,
brings equity back to MM (or IM) at the shocked state, the requirement recomputed with the
deposit (in portfolio mode a coin deposit adds its own scenario losses, haircuts apply); the
cheapest is the one of least base-currency value. Moves between accounts: what another
account can give of an asset it holds while keeping its own equity at its IM.

Searches along a scenario (`first_breach`): a grid of step 0.125, then rounds of 15 points
inside the first bracket to 1e-3. Every figure comes from a `StressSession` (one method object
per scope, many states per `parts` call), identical to the report of the shocked book.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from workstation.core.methods import method_for
from workstation.core.methods.base import Scope
from workstation.core.model import Portfolio
from workstation.core.profiles import load_profiles
from workstation.core.report import make_scope
from workstation.core.stress import Scenario
from workstation.core.stress_eval import Figures, Line, StressSession, figures_of
from workstation.core.stress_search import first_breach

IMPACT_PER_MILLION = 0.001
IMPACT_CAP = 0.5
STEP = 0.125  # grid step of the searches along a scenario (in multiples of its moves)
TOL = 1e-3


def _session(portfolio: Portfolio, session: StressSession | None) -> StressSession:
    return session if session is not None else StressSession(portfolio)


def at_scenario(session: StressSession, scenario: Scenario, scopes: Sequence[str]) -> dict[str, Figures]:
    """Figures of each scope under the scenario itself."""
    figs = session.figures([(Line(s, scenario), np.array([1.0])) for s in scopes])
    return dict(zip(scopes, figs, strict=True))


# ------------------------------------------------------------------------------ pooled vs apart
def pooled_vs_segregated(portfolio: Portfolio, scenario: Scenario,
                         session: StressSession | None = None) -> list[dict[str, Any]]:
    """One row per (pool, member account): headroom and breach alone and pooled, and the verdict."""
    session = _session(portfolio, session)
    scopes = [f"account:{a}" for p in portfolio.pools for a in p.accounts] + [f"pool:{p.id}" for p in portfolio.pools]
    figs = at_scenario(session, scenario, list(dict.fromkeys(scopes)))
    rows = []
    for pool in portfolio.pools:
        pf = figs[f"pool:{pool.id}"]
        pool_breach = bool(pf.breach[0])
        for acc in pool.accounts:
            af = figs[f"account:{acc}"]
            acc_breach = bool(af.breach[0])
            verdict = ("breached either way" if acc_breach and pool_breach else
                       "rescued by pooling" if acc_breach else
                       "dragged under by the pool" if pool_breach else "safe either way")
            rows.append({"pool": pool.id, "account": acc, "headroom_alone": float(af.headroom[0]),
                         "breach_alone": acc_breach, "headroom_pooled": float(pf.headroom[0]),
                         "breach_pooled": pool_breach, "verdict": verdict})
    return rows


# ------------------------------------------------------------------------------ cascade
@dataclass
class CascadeEvent:
    step: int
    t: float  # fraction of the scenario's path
    scope: str
    equity: float
    maintenance_margin: float
    cause: str
    impact: dict[str, float] = field(default_factory=dict)  # cumulative price impact after it
    threshold: float = 1.0

    @property
    def shortfall(self) -> float:
        return max(0.0, self.threshold * self.maintenance_margin - self.equity)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "t": self.t, "scope": self.scope, "equity": self.equity,
                "maintenance_margin": self.maintenance_margin, "shortfall": self.shortfall,
                "cause": self.cause, "impact_after": dict(self.impact)}


def cascade_units(portfolio: Portfolio, pooled: bool) -> list[str]:
    """Accounts apart; or every pool plus the accounts in no pool (an account in two pools
    counts in the first)."""
    if not pooled:
        return [f"account:{a.id}" for a in portfolio.accounts]
    taken: set[str] = set()
    units = []
    for pool in portfolio.pools:
        members = [a for a in pool.accounts if a not in taken]
        if members:
            units.append(f"pool:{pool.id}")
            taken.update(members)
    return units + [f"account:{a.id}" for a in portfolio.accounts if a.id not in taken]


def _steps(lo: float, hi: float) -> int:
    return max(1, math.ceil((hi - lo) / STEP - 1e-9))


def cascade(portfolio: Portfolio, scenario: Scenario, pooled: bool = False,
            impact_per_million: float = IMPACT_PER_MILLION, horizon: float = 1.0,
            session: StressSession | None = None) -> list[CascadeEvent]:
    """Breaches in the order they happen along the scenario's path (see the module docstring)."""
    session = _session(portfolio, session)
    units = cascade_units(portfolio, pooled)
    impact: dict[str, float] = {}
    events: list[CascadeEvent] = []
    t_last = 0.0
    cause = "the scenario"
    while units:
        imp = tuple(sorted(impact.items()))
        lines = [Line(u, scenario, imp) for u in units]
        hits, found = first_breach(session, lines, t_last, horizon, _steps(t_last, horizon), TOL)
        first: tuple[float, float, int] | None = None
        for i, (t_hit, f) in enumerate(zip(hits, found, strict=True)):
            if f is not None and (first is None or (float(t_hit), float(f.headroom[0])) < first[:2]):
                first = (float(t_hit), float(f.headroom[0]), i)
        if first is None:
            break
        t_hit, _, i = first
        unit, f = units.pop(i), found[i]
        assert f is not None
        for asset, (net, price) in session.position_deltas(lines[i], t_hit).items():
            move = -impact_per_million * net * price / 1e6
            total = (1.0 + impact.get(asset, 0.0)) * (1.0 + move) - 1.0
            impact[asset] = max(-IMPACT_CAP, min(IMPACT_CAP, total))
        events.append(CascadeEvent(len(events) + 1, t_hit, unit, float(f.equity[0]), float(f.mm[0]), cause,
                                   dict(impact), f.threshold))
        cause = f"after {unit} is liquidated"
        t_last = t_hit
    return events


def breach_multiples(session: StressSession, scenario: Scenario, scopes: Sequence[str],
                     limit: float = 5.0) -> dict[str, float | None]:
    """Per scope, the smallest multiple of the scenario's moves (up to `limit`) that liquidates it."""
    hits, _ = first_breach(session, [Line(s, scenario) for s in scopes], 0.0, limit, _steps(0.0, limit), TOL)
    return {s: (None if math.isnan(h) else float(h)) for s, h in zip(scopes, hits, strict=True)}


def breach_multiple(portfolio: Portfolio, scenario: Scenario, scope: str, limit: float = 5.0,
                    session: StressSession | None = None) -> float | None:
    """The smallest multiple of the scenario's moves (up to `limit`) that liquidates `scope`."""
    return breach_multiples(_session(portfolio, session), scenario, [scope], limit)[scope]


# ------------------------------------------------------------------------------ top-up
class Deposits:
    """Headroom of scopes of the (shocked) book `state` with collateral added to or taken from
    an account: each scope is built once, and a trial only swaps its collateral."""

    def __init__(self, state: Portfolio):
        self.state = state
        self.profiles = load_profiles(state.profiles or None, as_of=state.as_of)
        self._scopes: dict[str, Scope] = {}
        self._solved: dict[tuple[str, str, str, str], float | None] = {}

    def solve(self, scope: str, target: str, account: str, asset: str, start: float) -> float | None:
        """The least deposit of `asset` into `account` that brings `scope` to `target` (memo)."""
        key = (scope, target, account, asset)
        if key not in self._solved:
            self._solved[key] = _solve(lambda q: self.headroom(scope, target, account, asset, q), start)
        return self._solved[key]

    def scope(self, scope: str) -> Scope:
        if scope not in self._scopes:
            self._scopes[scope] = make_scope(self.state, scope, self.profiles)
        return self._scopes[scope]

    def headroom(self, scope: str, target: str = "mm", account: str | None = None, asset: str = "",
                 amount: float = 0.0) -> float:
        """Equity minus the liquidation level (`mm`) or IM (`im`), `amount` of `asset` added to
        `account`'s collateral (counted when the account is the scope or one of its members)."""
        sc = self.scope(scope)
        if account is not None and amount and (sc.name == f"account:{account}" or account in sc.members):
            coll = dict(sc.collateral)
            coll[asset] = coll.get(asset, 0.0) + amount
            sc = replace(sc, collateral=coll)
        with np.errstate(all="ignore"):
            eq, im, mm = figures_of(method_for(sc))
        return eq - (sc.profile.liquidation_threshold * mm if target == "mm" else im)


def _solve(g, start: float, cap: float = 1e15) -> float | None:
    """Smallest q >= 0 with g(q) >= 0 for increasing g (bracket by doubling, then Illinois)."""
    lo, glo = 0.0, g(0.0)
    if glo >= 0:
        return 0.0
    hi = max(start, 1e-12)
    ghi = g(hi)
    while ghi < 0:
        lo, glo = hi, ghi
        hi *= 2.0
        if hi > cap:
            return None
        ghi = g(hi)
    side = 0
    for _ in range(200):
        q = hi - ghi * (hi - lo) / (ghi - glo) if ghi != glo else 0.5 * (lo + hi)
        if not lo < q < hi:
            q = 0.5 * (lo + hi)
        gq = g(q)
        if gq >= 0:
            hi, ghi = q, gq
            if side == 1:
                glo *= 0.5
            side = 1
        else:
            lo, glo = q, gq
            if side == -1:
                ghi *= 0.5
            side = -1
        if hi - lo <= 1e-12 * max(1.0, hi) or gq == 0:
            break
    return hi


def _with_deposit(portfolio: Portfolio, account: str, asset: str, amount: float) -> Portfolio:
    """The book with `amount` of `asset` added to `account`'s collateral (tests check top-ups
    on it through `build_report`)."""
    accounts = []
    for acc in portfolio.accounts:
        if acc.id == account:
            coll = dict(acc.collateral)
            coll[asset] = coll.get(asset, 0.0) + amount
            acc = replace(acc, collateral=coll)
        accounts.append(acc)
    return replace(portfolio, accounts=accounts)


def top_up(state: Portfolio, scope: str, target: str = "mm", assets: Sequence[str] | None = None,
           deposits: Deposits | None = None) -> list[dict[str, Any]]:
    """Deposits (one per asset) that restore `target` ("mm": the liquidation level, or "im") of
    `scope` in the (shocked) book `state`, cheapest first. A pool's deposit goes into its first
    member (the pool sums)."""
    d = deposits if deposits is not None else Deposits(state)
    kind, _, ident = scope.partition(":")
    account = state.pool(ident).accounts[0] if kind == "pool" else ident
    gap = -d.headroom(scope, target)
    if gap <= 0:
        return []
    out = []
    for asset in assets or list(state.market):
        price = state.market[asset].price
        if price <= 0:
            continue
        q = d.solve(scope, target, account, asset, gap / price)
        if q is not None:
            out.append({"action": "deposit", "into": account, "asset": asset, "amount": q, "value": q * price})
    out.sort(key=lambda r: r["value"])
    return out


def transfers(state: Portfolio, account: str, target: str = "mm",
              deposits: Deposits | None = None) -> list[dict[str, Any]]:
    """Moves from other accounts that restore `account`: for each asset another account holds,
    the amount needed and what the donor can give while keeping its equity at its IM."""
    d = deposits if deposits is not None else Deposits(state)
    scope = f"account:{account}"
    gap = -d.headroom(scope, target)
    if gap <= 0:
        return []
    out = []
    for donor in state.accounts:
        if donor.id == account:
            continue
        d_scope = f"account:{donor.id}"
        room = d.headroom(d_scope, "im")
        if room <= 0:
            continue
        for asset, held in donor.collateral.items():
            price = state.market[asset].price
            if held <= 0 or price <= 0:
                continue
            need = d.solve(scope, target, account, asset, gap / price)
            if need is None:
                continue
            # the donor's room over its IM, in coins of the asset, is where the search starts
            spare = held if d.headroom(d_scope, "im", donor.id, asset, -held) >= 0 else \
                _solve(lambda w, a=asset, dn=donor.id, ds=d_scope: -d.headroom(ds, "im", dn, a, -w),
                       min(held, room / price))
            spare = min(held, spare or 0.0)
            out.append({"action": "move", "from": donor.id, "into": account, "asset": asset, "amount": need,
                        "value": need * price, "donor_can_give": spare, "enough": spare >= need})
    out.sort(key=lambda r: (not r["enough"], r["value"]))
    return out
