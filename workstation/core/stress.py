"""Stress scenarios: a set of shocks turned into a shocked `Portfolio`, evaluated by `build_report`.

A scenario moves, all at once and at the horizon (`days` forward):
- prices: `shocks[asset]` is a relative move (-0.2 = -20 %); `"*"` applies to every non-stable
  asset not named. Stablecoins and the base currency never move with `"*"`;
- vols: `vol_shift[underlying]` (or `"*"`) in vol points (`vol_mode="points"`: 0.10 = +10 points)
  or relative (`vol_mode="relative"`: 0.5 = vols x 1.5); the market vol and every option's own
  vol shift alike, floored at 0;
- time: `as_of` moves `days` forward (theta comes from the pricing at the new date). Options
  expiring on the way settle at intrinsic on the *shocked* price (`expired=True`,
  `settlement_price`); futures expiring on the way settle into collateral: a linear future's
  `q (S - entry)` in the account's quote coin (the profile's `stress.quote`, else the base
  currency), an inverse future's `q (1/entry - 1/S)` coins of its underlying;
- depeg: `depeg[coin]` is the coin's new price. Collateral in it is revalued by the price itself;
  linear instruments of accounts whose profile quotes in that coin (`stress.quote`) have their
  entry prices and strikes scaled by the coin's price (a USDT-quoted perpetual's USD P&L is
  `q (S - d * entry)` when 1 USDT = d USD: exact for these payoffs); an account whose profile
  says `par` for that coin keeps its collateral in it at par (the amount is grossed up by 1/d).

Everything is pure: the portfolio passed in is never changed. A scenario of no shocks gives
back an equal portfolio, so its report equals the plain one exactly (tested).

`Scenario.times(m)` is the scenario's moves m times over the same horizon: the family the
breach multiple, the shock-size chart and the cascade walk. `stress_eval.StressSession`
evaluates it fast; `stress_scopes` here is the reference through full reports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from workstation.core.errors import WorkstationError
from workstation.core.model import Portfolio, Position, Quote
from workstation.core.profiles import Profile, load_profiles
from workstation.core.report import build_report, make_scope, scope_names

VOL_MODES = ("points", "relative")
MIN_MOVE = -0.99  # a price never falls to zero or below
DEPEG_FLOOR = 0.01  # a scaled depeg never takes a coin below 1 % of par


@dataclass(frozen=True)
class Scenario:
    """A set of shocks (see the module docstring). `kind`: historical, user, history, joint."""

    name: str
    shocks: Mapping[str, float] = field(default_factory=dict)
    vol_shift: Mapping[str, float] = field(default_factory=dict)
    vol_mode: str = "points"
    days: float = 0.0
    depeg: Mapping[str, float] = field(default_factory=dict)
    title: str = ""
    kind: str = "user"
    source: str = ""
    dates: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def times(self, m: float) -> Scenario:
        """The scenario's moves `m` times over the same horizon (0: no move, 1: itself): price
        moves, vol shifts and each depeg's distance from par scale linearly (a depegged price
        is held at `DEPEG_FLOOR` or above); `days` stay, as the day is the same day with a
        larger or smaller move."""
        if m == 1.0:
            return self
        return replace(self, shocks={a: m * v for a, v in self.shocks.items()},
                       vol_shift={a: m * v for a, v in self.vol_shift.items()},
                       depeg={c: max(DEPEG_FLOOR, 1.0 + m * (p - 1.0)) for c, p in self.depeg.items()})

    def key(self) -> tuple:
        """What the figures depend on (name and texts aside): a cache key."""
        return (tuple(sorted(self.shocks.items())), tuple(sorted(self.vol_shift.items())), self.vol_mode,
                self.days, tuple(sorted(self.depeg.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "kind": self.kind, "shocks": dict(self.shocks),
                "vol_shift": dict(self.vol_shift), "vol_mode": self.vol_mode, "days": self.days,
                "depeg": dict(self.depeg), "source": self.source, "dates": list(self.dates),
                "notes": list(self.notes)}


MAX_DAYS = 36_500.0  # 100 years forward: as_of + days stays a date (1e300 days overflowed timedelta)
MAX_SHOCK = 1_000.0  # a move of +100,000 % at most: shocked prices stay within the readers' price range


def _num(value: Any, path: str, source: str, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WorkstationError(f"{source}: {path}: expected a finite number, got {str(value)[:80]!r}")
    if lo is not None and value <= lo:
        raise WorkstationError(f"{source}: {path}: must be greater than {lo:g}, got {value!r}")
    if hi is not None and value > hi:
        raise WorkstationError(f"{source}: {path}: must be at most {hi:g}, got {value!r}")
    return float(value)


def _table(value: Any, path: str, source: str, lo: float | None = None,
           hi: float | None = None) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise WorkstationError(f"{source}: {path}: expected an object of asset -> number")
    return {str(k): _num(v, f"{path}.{k}", source, lo, hi) for k, v in value.items()}


def scenario_from_dict(doc: Any, source: str = "scenario") -> Scenario:
    """A scenario from its JSON form (`Scenario.to_dict`); errors name the source and the path."""
    if not isinstance(doc, Mapping):
        raise WorkstationError(f"{source}: expected an object, got {type(doc).__name__}")
    allowed = {"name", "title", "kind", "shocks", "vol_shift", "vol_mode", "days", "depeg", "source",
               "dates", "notes"}
    for key in doc:
        if key not in allowed:
            raise WorkstationError(f"{source}: {key}: unknown field; allowed: {', '.join(sorted(allowed))}")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise WorkstationError(f"{source}: name: expected a non-empty string, got {str(name)[:80]!r}")
    mode = doc.get("vol_mode", "points")
    if mode not in VOL_MODES:
        raise WorkstationError(f"{source}: vol_mode: must be points or relative, got {str(mode)[:80]!r}")
    return Scenario(
        name=name.strip(), title=str(doc.get("title") or ""), kind=str(doc.get("kind") or "user"),
        shocks=_table(doc.get("shocks"), "shocks", source, lo=-1.0, hi=MAX_SHOCK),
        vol_shift=_table(doc.get("vol_shift"), "vol_shift", source), vol_mode=mode,
        days=_num(doc.get("days", 0.0), "days", source, lo=-1e-12, hi=MAX_DAYS) if doc.get("days") else 0.0,
        depeg=_table(doc.get("depeg"), "depeg", source, lo=0.0), source=str(doc.get("source") or ""),
        dates=tuple(str(d) for d in doc.get("dates") or ()), notes=tuple(str(n) for n in doc.get("notes") or ()),
    )


# ------------------------------------------------------------------------------ the transform
def stable_assets(portfolio: Portfolio, profiles: Mapping[str, Profile] | None = None) -> set[str]:
    """The base currency and every stablecoin of a profile the book uses: `"*"` never moves them."""
    profiles = profiles if profiles is not None else load_profiles(portfolio.profiles or None)
    used = {a.profile for a in portfolio.accounts} | {p.profile for p in portfolio.pools}
    out = {portfolio.base_currency}
    for name in used:
        if name in profiles:
            out.update(profiles[name].stablecoins)
    return out


def own_move(asset: str, scenario: Scenario, stable: set[str]) -> float | None:
    """The relative move the scenario names for `asset` (its own, else `"*"` unless stable)."""
    move = scenario.shocks.get(asset)
    if move is None and asset not in stable:
        move = scenario.shocks.get("*")
    return move


def shocked_prices(portfolio: Portfolio, scenario: Scenario, stable: set[str]) -> dict[str, float]:
    """New price of every market asset under the scenario. An asset that `moves_with` another
    and is not named follows that one's relative move."""
    out = {}
    moves: dict[str, float | None] = {}
    for asset in portfolio.market:
        if asset in scenario.depeg:
            out[asset] = float(scenario.depeg[asset])
            continue
        moves[asset] = own_move(asset, scenario, stable)
    for asset, quote in portfolio.market.items():
        if asset in out:
            continue
        move = moves[asset]
        driver = quote.moves_with
        if asset not in scenario.shocks and driver is not None:
            d = portfolio.market[driver]
            move = out[driver] / d.price - 1.0 if driver in scenario.depeg else moves.get(driver)
        out[asset] = quote.price if not move else quote.price * (1.0 + max(MIN_MOVE, move))
    return out


def _shift_vol(vol: float | None, shift: float | None, mode: str) -> float | None:
    if vol is None or not shift:
        return vol
    return max(0.0, vol + shift if mode == "points" else vol * (1.0 + shift))


@dataclass
class Settlement:
    """A position that expired on the way: an option settled at intrinsic, a future into cash."""

    account: str
    position: str
    kind: str
    price: float
    credit_asset: str | None = None
    credit_amount: float = 0.0


def _settle_future(pos: Position, price: float, quote: str, prices: Mapping[str, float]) -> tuple[str, float]:
    """(asset, amount) credited when `pos` expires at `price`."""
    if pos.settlement == "inverse":  # coin P&L q (1/entry - 1/S)
        amount = pos.quantity * (1.0 / pos.entry_price - 1.0 / price)
        asset = pos.underlying
    else:  # q (S - entry) in base, paid in the quote coin
        amount = pos.quantity * (price - pos.entry_price) / prices.get(quote, 1.0)
        asset = quote
    if pos.isolated_margin:
        amount += pos.isolated_margin / prices.get(asset, 1.0)
    return asset, amount


def apply_scenario_detailed(portfolio: Portfolio, scenario: Scenario,
                            profiles: Mapping[str, Profile] | None = None) -> tuple[Portfolio, list[Settlement]]:
    """The shocked portfolio and the settlements on the way (see the module docstring)."""
    if scenario.vol_mode not in VOL_MODES:
        raise WorkstationError(f"scenario {scenario.name}: vol_mode must be points or relative")
    profiles = profiles if profiles is not None else load_profiles(portfolio.profiles or None)
    stable = stable_assets(portfolio, profiles)
    prices = shocked_prices(portfolio, scenario, stable)
    market: dict[str, Quote] = {}
    vs = scenario.vol_shift
    for asset, quote in portfolio.market.items():
        # forwards move with their asset's price; confidences, moves_with, peg price stay
        ratio = prices[asset] / quote.price
        forwards = tuple(replace(f, forward=f.forward * ratio) for f in quote.forwards) if ratio != 1.0 \
            else quote.forwards
        market[asset] = replace(quote, price=prices[asset], forwards=forwards,
                                vol=_shift_vol(quote.vol, vs.get(asset, vs.get("*")), scenario.vol_mode))
    as_of = portfolio.as_of + timedelta(days=scenario.days) if scenario.days else portfolio.as_of
    base = portfolio.base_currency
    if base not in market and scenario.days:
        market[base] = Quote(1.0)  # settlements paid in the base currency need a price
    settlements: list[Settlement] = []
    accounts = []
    for acc in portfolio.accounts:
        params = profiles[acc.profile].stress if acc.profile in profiles else None
        quote = params.quote if params and params.quote in market else base
        d = scenario.depeg.get(params.quote) if params and params.quote else None
        collateral = dict(acc.collateral)
        positions: list[Position] = []
        for pos in acc.positions:
            if d is not None and pos.settlement == "linear" and pos.kind != "spot":
                pos = replace(pos, entry_price=pos.entry_price * d,
                              strike=pos.strike * d if pos.strike is not None else None)
            if pos.mark_price is not None and prices[pos.underlying] != portfolio.market[pos.underlying].price:
                pos = replace(pos, mark_price=pos.mark_price * prices[pos.underlying]
                              / portfolio.market[pos.underlying].price)
            if pos.vol is not None and vs:
                pos = replace(pos, vol=_shift_vol(pos.vol, vs.get(pos.underlying, vs.get("*")), scenario.vol_mode))
            expiring = (scenario.days and pos.expiry is not None and not pos.expired
                        and portfolio.as_of < pos.expiry <= as_of)
            if expiring and pos.kind == "option":
                price = prices[pos.underlying]
                pos = replace(pos, expired=True, settlement_price=price)
                settlements.append(Settlement(acc.id, pos.id, "option", price))
            elif expiring and pos.kind == "future":
                price = prices[pos.underlying]
                asset, amount = _settle_future(pos, price, quote, prices)
                collateral[asset] = collateral.get(asset, 0.0) + amount
                settlements.append(Settlement(acc.id, pos.id, "future", price, asset, amount))
                continue
            positions.append(pos)
        if params:
            for coin, price in scenario.depeg.items():
                if coin in collateral and params.depeg_rule(coin) == "par" and price > 0:
                    collateral[coin] = collateral[coin] / price
        accounts.append(replace(acc, collateral=collateral, positions=positions))
    shocked = replace(portfolio, as_of=as_of, market=market, accounts=accounts,
                      pools=list(portfolio.pools), profiles=dict(portfolio.profiles))
    return shocked, settlements


def apply_scenario(portfolio: Portfolio, scenario: Scenario,
                   profiles: Mapping[str, Profile] | None = None) -> Portfolio:
    return apply_scenario_detailed(portfolio, scenario, profiles)[0]


# ------------------------------------------------------------------------------ results
@dataclass
class ScopeStress:
    """One account or pool before and under a scenario (money in the base currency).
    `threshold`: the profile's `liquidation_threshold` (liquidated at equity <= threshold x MM)."""

    scope: str
    equity: float
    initial_margin: float
    maintenance_margin: float
    usage: float | None
    equity_before: float
    maintenance_before: float
    losers: list[dict[str, Any]]
    threshold: float = 1.0

    @property
    def headroom(self) -> float:
        """Equity minus the liquidation level, MM (x threshold) (negative: liquidated)."""
        return self.equity - self.threshold * self.maintenance_margin

    @property
    def breach(self) -> bool:
        return is_breach(self.equity, self.maintenance_margin, self.threshold)

    @property
    def shortfall_mm(self) -> float:
        """Collateral value that brings equity back to the liquidation level."""
        return max(0.0, self.threshold * self.maintenance_margin - self.equity)

    @property
    def shortfall_im(self) -> float:
        return max(0.0, self.initial_margin - self.equity)

    @property
    def pnl(self) -> float:
        return self.equity - self.equity_before

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "equity": self.equity, "initial_margin": self.initial_margin,
                "maintenance_margin": self.maintenance_margin, "margin_usage": self.usage,
                "liquidation_threshold": self.threshold, "headroom": self.headroom,
                "pnl": self.pnl, "breach": self.breach, "shortfall_mm": self.shortfall_mm,
                "shortfall_im": self.shortfall_im, "equity_before": self.equity_before,
                "maintenance_margin_before": self.maintenance_before, "worst_positions": self.losers}


def is_breach(equity: float, mm: float, threshold: float = 1.0) -> bool:
    """Liquidation: equity at or below the liquidation level, `threshold` x maintenance margin
    (the profile's `liquidation_threshold`, 1 but for venues that liquidate earlier); an empty
    scope is no breach."""
    level = threshold * mm
    return equity < level or (level > 0 and equity <= level)


def figures(portfolio: Portfolio, scopes: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The contract reports (without liquidation search) of `scopes` (default: every scope)."""
    names = list(scopes) if scopes is not None else scope_names(portfolio)
    return {s: build_report(portfolio, s, with_liquidation=False) for s in names}


def _losers(before: dict[str, Any], after: dict[str, Any], settled: Sequence[Settlement],
            prices: Mapping[str, float], top: int) -> list[dict[str, Any]]:
    now = {(p["account"], p["id"]): p["market_value"] for p in after["positions"]}
    cash = {(s.account, s.position): s.credit_amount * prices.get(s.credit_asset or "", 1.0)
            for s in settled if s.kind == "future"}
    rows = []
    for p in before["positions"]:
        key = (p["account"], p["id"])
        value = now.get(key, cash.get(key))
        if value is not None:
            rows.append({"account": key[0], "id": key[1], "pnl": value - p["market_value"]})
    rows.sort(key=lambda r: r["pnl"])
    return [r for r in rows[:top] if r["pnl"] < 0]


def stress_scopes(portfolio: Portfolio, scenario: Scenario, scopes: Iterable[str] | None = None,
                  top: int = 5, base: Mapping[str, dict[str, Any]] | None = None) -> list[ScopeStress]:
    """Every scope (accounts, then pools) before and under `scenario`, from full reports of the
    plain and the shocked book: the reference `stress_report.scope_results` is tested against
    (`base`: the plain reports when the caller has them)."""
    names = list(scopes) if scopes is not None else scope_names(portfolio)
    shocked, settled = apply_scenario_detailed(portfolio, scenario)
    before = base if base is not None else figures(portfolio, names)
    after = figures(shocked, names)
    prices = {a: q.price for a, q in shocked.market.items()}
    profiles = load_profiles(shocked.profiles or None, as_of=shocked.as_of)
    out = []
    for s in names:
        a, b = after[s], before[s]
        threshold = make_scope(shocked, s, profiles).profile.liquidation_threshold
        out.append(ScopeStress(s, a["equity"], a["initial_margin"], a["maintenance_margin"], a["margin_usage"],
                               b["equity"], b["maintenance_margin"], _losers(b, a, settled, prices, top),
                               threshold))
    return out
