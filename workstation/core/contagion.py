"""Contagion: the same shock with accounts margined apart and pooled, the cascade, the top-up.

**Pooled versus segregated.** Every account is run on its own (its own mode and profile) and
every pool as one scope (the pool's mode and profile over the members' positions and summed
collateral). An account that breaches alone but sits in a pool that does not is *rescued* by
pooling; one that is safe alone inside a pool that breaches is *dragged under* (a pool is
liquidated as a whole).

**Cascade.** The scenario is walked as a path, `t` from 0 to 1 (`Scenario.scaled(t)`). The
unit (an account when segregated; a pool, or an account in no pool, when pooled) whose
equity reaches its maintenance margin first is liquidated at that point by its venue's rule
(equity <= MM, each venue's MM by its profile); we assume the venue closes all its positions.
Market impact, a documented assumption and not a venue figure: closing a net position of
notional N (base currency, delta x price) moves that asset's price by `-impact * N / 1e6`
(default 0.1 % per million sold; buying back a short pushes the price up), capped at +/-50 %.
The impacts compound on the rest of the path and the next unit to breach is searched from
there; a unit already under water after an impact breaches at the same `t` (contagion).

**Cheapest top-up.** For a breached scope, the amount of each priced asset that, deposited,
brings equity back to MM (or IM) at the shocked state, the requirement recomputed with the
deposit (in portfolio mode a coin deposit adds its own scenario losses, haircuts apply); the
cheapest is the one of least base-currency value. Moves between accounts: what another
account can give of an asset it holds while keeping its own equity at its IM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from workstation.core.model import Portfolio
from workstation.core.report import build_report
from workstation.core.stress import Scenario, apply_scenario, is_breach, stable_assets

IMPACT_PER_MILLION = 0.001
IMPACT_CAP = 0.5
PATH_STEPS = 20


def _report(portfolio: Portfolio, scope: str) -> dict[str, Any]:
    return build_report(portfolio, scope, with_liquidation=False)


def _headroom(portfolio: Portfolio, scope: str, target: str = "mm") -> float:
    r = _report(portfolio, scope)
    return float(r["equity"] - (r["maintenance_margin"] if target == "mm" else r["initial_margin"]))


# ------------------------------------------------------------------------------ pooled vs apart
def pooled_vs_segregated(portfolio: Portfolio, scenario: Scenario) -> list[dict[str, Any]]:
    """One row per (pool, member account): headroom and breach alone and pooled, and the verdict."""
    shocked = apply_scenario(portfolio, scenario)
    alone = {a.id: _report(shocked, f"account:{a.id}") for a in portfolio.accounts}
    rows = []
    for pool in portfolio.pools:
        pr = _report(shocked, f"pool:{pool.id}")
        pool_breach = is_breach(pr["equity"], pr["maintenance_margin"])
        for acc in pool.accounts:
            r = alone[acc]
            acc_breach = is_breach(r["equity"], r["maintenance_margin"])
            verdict = ("breached either way" if acc_breach and pool_breach else
                       "rescued by pooling" if acc_breach else
                       "dragged under by the pool" if pool_breach else "safe either way")
            rows.append({"pool": pool.id, "account": acc, "headroom_alone": r["equity"] - r["maintenance_margin"],
                         "breach_alone": acc_breach, "headroom_pooled": pr["equity"] - pr["maintenance_margin"],
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

    @property
    def shortfall(self) -> float:
        return max(0.0, self.maintenance_margin - self.equity)

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


def _path_scenario(scenario: Scenario, t: float, impact: Mapping[str, float]) -> Scenario:
    s = scenario.scaled(t)
    shocks = dict(s.shocks)
    for asset, imp in impact.items():
        shocks[asset] = (1.0 + shocks.get(asset, 0.0)) * (1.0 + imp) - 1.0
    return replace(s, shocks=shocks)


def _unit_collateral(portfolio: Portfolio, unit: str) -> dict[str, float]:
    kind, _, ident = unit.partition(":")
    members = portfolio.pool(ident).accounts if kind == "pool" else [ident]
    out: dict[str, float] = {}
    for acc_id in members:
        for asset, amount in portfolio.account(acc_id).collateral.items():
            out[asset] = out.get(asset, 0.0) + amount
    return out


def cascade(portfolio: Portfolio, scenario: Scenario, pooled: bool = False,
            impact_per_million: float = IMPACT_PER_MILLION, horizon: float = 1.0) -> list[CascadeEvent]:
    """Breaches in the order they happen along the scenario's path (see the module docstring)."""
    units = cascade_units(portfolio, pooled)
    stable = stable_assets(portfolio)
    impact: dict[str, float] = {}
    events: list[CascadeEvent] = []
    t_last = 0.0
    cause = "the scenario"
    while units:
        def f(unit: str, t: float, imp: Mapping[str, float] = impact) -> float:
            return _headroom(apply_scenario(portfolio, _path_scenario(scenario, t, imp)), unit)

        first: tuple[float, float, str] | None = None
        for unit in units:
            t_hit = _first_breach(lambda t, u=unit: f(u, t), t_last, horizon)
            if t_hit is not None:
                h = f(unit, t_hit)
                if first is None or (t_hit, h) < first[:2]:
                    first = (t_hit, h, unit)
        if first is None:
            break
        t_hit, _, unit = first
        state = apply_scenario(portfolio, _path_scenario(scenario, t_hit, impact))
        report = _report(state, unit)
        units.remove(unit)
        coll = _unit_collateral(state, unit)
        for asset, g in report["greeks"].items():
            if asset in stable:
                continue
            net = g["delta"] - coll.get(asset, 0.0)  # positions only: the venue closes positions
            move = -impact_per_million * net * state.market[asset].price / 1e6
            total = (1.0 + impact.get(asset, 0.0)) * (1.0 + move) - 1.0
            impact[asset] = max(-IMPACT_CAP, min(IMPACT_CAP, total))
        events.append(CascadeEvent(len(events) + 1, t_hit, unit, report["equity"], report["maintenance_margin"],
                                   cause, dict(impact)))
        cause = f"after {unit} is liquidated"
        t_last = t_hit
    return events


def _first_breach(f, t0: float, t1: float, tol: float = 1e-4) -> float | None:
    """Smallest t in [t0, t1] with f(t) <= 0 (grid, then bisection)."""
    if f(t0) <= 0:
        return t0
    lo = t0
    for k in range(1, PATH_STEPS + 1):
        t = t0 + (t1 - t0) * k / PATH_STEPS
        if f(t) <= 0:
            hi = t
            while hi - lo > tol:
                mid = 0.5 * (lo + hi)
                if f(mid) <= 0:
                    hi = mid
                else:
                    lo = mid
            return hi
        lo = t
    return None


def breach_multiple(portfolio: Portfolio, scenario: Scenario, scope: str, limit: float = 5.0) -> float | None:
    """The smallest multiple of the scenario (its path scaled up to `limit`) that breaches `scope`."""
    return _first_breach(lambda t: _headroom(apply_scenario(portfolio, scenario.scaled(t)), scope), 0.0, limit,
                         tol=1e-3)


# ------------------------------------------------------------------------------ top-up
def _with_deposit(portfolio: Portfolio, account: str, asset: str, amount: float) -> Portfolio:
    accounts = []
    for acc in portfolio.accounts:
        if acc.id == account:
            coll = dict(acc.collateral)
            coll[asset] = coll.get(asset, 0.0) + amount
            acc = replace(acc, collateral=coll)
        accounts.append(acc)
    return replace(portfolio, accounts=accounts)


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


def top_up(state: Portfolio, scope: str, target: str = "mm",
           assets: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Deposits (one per asset) that restore `target` ("mm" or "im") of `scope` in the (shocked)
    book `state`, cheapest first. A pool's deposit goes into its first member (the pool sums)."""
    kind, _, ident = scope.partition(":")
    account = state.pool(ident).accounts[0] if kind == "pool" else ident
    gap = -_headroom(state, scope, target)
    if gap <= 0:
        return []
    out = []
    for asset in assets or list(state.market):
        price = state.market[asset].price
        if price <= 0:
            continue
        q = _solve(lambda q, a=asset: _headroom(_with_deposit(state, account, a, q), scope, target), gap / price)
        if q is not None:
            out.append({"action": "deposit", "into": account, "asset": asset, "amount": q, "value": q * price})
    out.sort(key=lambda r: r["value"])
    return out


def transfers(state: Portfolio, account: str, target: str = "mm") -> list[dict[str, Any]]:
    """Moves from other accounts that restore `account`: for each asset another account holds,
    the amount needed and what the donor can give while keeping its equity at its IM."""
    scope = f"account:{account}"
    if _headroom(state, scope, target) >= 0:
        return []
    out = []
    for donor in state.accounts:
        if donor.id == account:
            continue
        d_scope = f"account:{donor.id}"
        if _headroom(state, d_scope, "im") <= 0:
            continue
        for asset, held in donor.collateral.items():
            price = state.market[asset].price
            if held <= 0 or price <= 0:
                continue
            need = _solve(lambda q, a=asset: _headroom(_with_deposit(state, account, a, q), scope, target),
                          -_headroom(state, scope, target) / price)
            if need is None:
                continue
            spare = held if _headroom(_with_deposit(state, donor.id, asset, -held), d_scope, "im") >= 0 else \
                _solve(lambda w, a=asset, d=donor.id, ds=d_scope: -_headroom(_with_deposit(state, d, a, -w), ds, "im"),
                       held / 2)
            spare = min(held, spare or 0.0)
            out.append({"action": "move", "from": donor.id, "into": account, "asset": asset, "amount": need,
                        "value": need * price, "donor_can_give": spare, "enough": spare >= need})
    out.sort(key=lambda r: (not r["enough"], r["value"]))
    return out
