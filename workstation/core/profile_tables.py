"""Validation of each table of a merged raw profile, and the frozen `Profile` built from it.

`build_profile(d, source)` checks every key of `d` (already laid over its base by
`profiles.merge_profile_dicts`) and raises `ProfileError(source, dotted_key, problem)` at the
first problem. The venue tables are checked by `profile_venues`, PMRM_2's keys by
`profile_pmrm2` (imported for a `pmrm2` profile only), `[stress]` and `[trading]` by their own modules.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from workstation.core import limits, pmrm2_keys
from workstation.core import profile_venues as venues
from workstation.core.errors import ProfileError, shown
from workstation.core.profile_fields import (
    FrozenMap,
    at_most,
    increasing_pairs,
    iso_date,
    known,
    num,
    require,
    seq,
    table,
    text,
)
from workstation.core.profile_model import (
    AGGREGATIONS,
    INF,
    METHODS,
    PREMIUMS,
    VOL_DIRECTIONS,
    OptionParams,
    PortfolioParams,
    Profile,
    Tier,
)
from workstation.core.stress_profile import stress_params
from workstation.core.trading import trading_params

_TOP_KEYS = ("name", "source", "as_of", "stablecoins", "haircuts", "tiers", "options", "portfolio", "method",
             "im_haircuts", "stress", "trading")
# venues.md additions: what is an estimate, the liquidation threshold, the venue tables
_VENUE_TOP = ("estimates", "liquidation_threshold", *venues.VENUE_TABLES)
_OPTIONAL_TOP = ("method", "im_haircuts", "stress", "trading", *_VENUE_TOP)
_TIER_KEYS = ("max_notional", "initial_rate", "maintenance_rate", "maintenance_amount",
              "initial_slope", "maintenance_slope", "max_quantity")
_OPTION_KEYS = ("short_im_base", "short_im_floor", "short_mm")
_OPTION_EXTRA = ("fee", "premium")
_PORTFOLIO_KEYS = (
    "range",
    "price_steps",
    "vol_shock_up",
    "vol_shock_down",
    "power_short",
    "power_long",
    "dte_floor",
    "tail",
    "scenarios",
    "vol_floor",
    "short_option_contingency",
    "futures_contingency",
    "mm_factor",
    "im_factor",
    "aggregation",
    "correlation",
    "collateral_in_scenarios",
    "moves",
    "tails",
)


def _bands(value: Any, source: str, key: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list | tuple):
        return ((INF, num(value, source, key, hi=1.0)),)
    return increasing_pairs(value, source, key, "[upper_value, haircut]", hi=1.0)


def _tiers(value: Any, source: str, key: str) -> tuple[Tier, ...]:
    out: list[Tier] = []
    last = 0.0
    rows = seq(value, source, key)
    bound = "max_quantity" if any(isinstance(r, Mapping) and "max_quantity" in r for r in rows) \
        else "max_notional"
    for i, raw in enumerate(rows):
        k = f"{key}[{i}]"
        d = table(raw, source, k)
        known(d, _TIER_KEYS, source, f"{k}.")
        require(d, (bound, "initial_rate", "maintenance_rate"), source, f"{k}.")
        other = "max_notional" if bound == "max_quantity" else "max_quantity"
        if other in d:
            raise ProfileError(source, f"{k}.{other}",
                               f"a table bounds its brackets by {bound} only (not both)")
        cap = num(d[bound], source, f"{k}.{bound}", lo=0.0, lo_open=True, allow_inf=True)
        im = num(d["initial_rate"], source, f"{k}.initial_rate", lo=0.0, lo_open=True, hi=1.0)
        mm = num(d["maintenance_rate"], source, f"{k}.maintenance_rate", hi=1.0)
        amount = num(d.get("maintenance_amount", 0.0), source, f"{k}.maintenance_amount")
        islope = num(d.get("initial_slope", 0.0), source, f"{k}.initial_slope")
        mslope = num(d.get("maintenance_slope", 0.0), source, f"{k}.maintenance_slope")
        if mm > im:
            raise ProfileError(
                source, f"{k}.maintenance_rate", f"must not exceed initial_rate ({mm:g} > {im:g})"
            )
        if mslope > islope:
            raise ProfileError(source, f"{k}.maintenance_slope",
                               f"must not exceed initial_slope ({mslope:g} > {islope:g})")
        if cap <= last:
            raise ProfileError(
                source, f"{k}.{bound}", f"tiers must increase, got {cap:g} after {last:g}"
            )
        if bound == "max_quantity":
            out.append(Tier(INF, im, mm, amount, islope, mslope, cap))
        else:
            out.append(Tier(cap, im, mm, amount, islope, mslope))
        last = cap
    return tuple(out)


def _options(value: Any, source: str) -> OptionParams:
    d = table(value, source, "options")
    known(d, _OPTION_KEYS + _OPTION_EXTRA, source, "options.")
    require(d, _OPTION_KEYS, source, "options.")
    premium = d.get("premium", "mark")
    if premium not in PREMIUMS:
        raise ProfileError(source, "options.premium", f"must be one of {', '.join(PREMIUMS)}, got {shown(premium)}")
    return OptionParams(*(num(d[k], source, f"options.{k}") for k in _OPTION_KEYS),
                        fee=num(d.get("fee", 0.0), source, "options.fee", hi=1.0), premium=premium)


def _pair(name: Any, source: str, key: str) -> tuple[str, str]:
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 2 or not all(p.strip() == p and p for p in parts) or parts[0] == parts[1]:
        raise ProfileError(
            source, key, f'expected a pair of two underlyings such as "BTC/ETH", got {shown(name)}'
        )
    return parts[0], parts[1]


def _portfolio(value: Any, source: str, method: str = "risk-array") -> PortfolioParams:
    """The `[portfolio]` table. PMRM_2 (`method = "pmrm2"`) also allows skew rows, scenario
    dampening above 1 and `dte_floor = 0`; its own keys are validated in `profile_pmrm2`."""
    pmrm2 = method == pmrm2_keys.METHOD

    d = table(value, source, "portfolio")
    p = "portfolio."
    known(d, _PORTFOLIO_KEYS + pmrm2_keys.PORTFOLIO_KEYS, source, p)
    vol_dirs = VOL_DIRECTIONS + pmrm2_keys.SKEW_DIRECTIONS
    require(
        d,
        tuple(
            k
            for k in _PORTFOLIO_KEYS
            if k not in ("scenarios", "vol_floor", "collateral_in_scenarios", "moves", "tails")
        ),
        source,
        p,
    )

    rng = table(d["range"], source, p + "range")
    if not rng:
        raise ProfileError(source, p + "range", "must not be empty")
    ranges = {
        text(u, source, p + "range"): num(r, source, f"{p}range.{u}", lo_open=True, hi=0.99)
        for u, r in rng.items()
    }

    steps = d["price_steps"]
    if isinstance(steps, float) and steps.is_integer():
        steps = int(steps)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise ProfileError(source, p + "price_steps", f"expected an integer, got {shown(steps)}")
    if steps < 3 or steps % 2 == 0 or steps > limits.MAX_PRICE_STEPS:
        raise ProfileError(
            source, p + "price_steps",
            f"must be odd, >= 3 (0 is a grid point) and <= {limits.MAX_PRICE_STEPS}, got {shown(steps)}",
        )

    at_most(d["tail"], limits.MAX_TAIL, source, p + "tail")
    tail = _tail_list(d["tail"], source, p + "tail")

    scenarios: tuple[tuple[float, str, float], ...] | None = None
    if d.get("scenarios") is not None:
        rows: list[tuple[float, str, float]] = []
        at_most(d["scenarios"], limits.MAX_SCENARIOS, source, p + "scenarios")
        for i, s in enumerate(seq(d["scenarios"], source, p + "scenarios")):
            k = f"{p}scenarios[{i}]"
            row = seq(s, source, k)
            if len(row) != 3:
                raise ProfileError(
                    source, k, f'expected [spot_shock, "up"|"none"|"down", dampener], got {shown(s)}'
                )
            if row[1] not in vol_dirs:
                raise ProfileError(
                    source, k + "[1]",
                    f"vol direction must be up, none or down (pmrm2: or skew_linear, skew_abs), got {shown(row[1])}",
                )
            rows.append(
                (
                    num(row[0], source, k + "[0]", lo=-1.0, lo_open=True),
                    row[1],
                    num(row[2], source, k + "[2]", hi=None if pmrm2 else 1.0),
                )
            )
        scenarios = tuple(rows)

    vol_floor = d.get("vol_floor")
    if vol_floor is not None:
        vol_floor = num(vol_floor, source, p + "vol_floor")

    aggregation = d["aggregation"]
    if aggregation not in AGGREGATIONS:
        raise ProfileError(
            source, p + "aggregation", f"must be sum or correlated, got {shown(aggregation)}"
        )

    correlation: dict[tuple[str, str], float] = {}
    for name, rho in table(d["correlation"], source, p + "correlation").items():
        k = f"{p}correlation.{name}"
        a, b = _pair(name, source, k)
        if (a, b) in correlation or (b, a) in correlation:
            raise ProfileError(source, k, f"pair {a}/{b} given twice")
        correlation[(a, b)] = num(rho, source, k, lo=-1.0, hi=1.0)

    in_scen = d.get("collateral_in_scenarios", True)
    if not isinstance(in_scen, bool):
        raise ProfileError(
            source, p + "collateral_in_scenarios", f"expected true or false, got {shown(in_scen)}"
        )

    return PortfolioParams(
        range=FrozenMap(ranges),
        price_steps=steps,
        vol_shock_up=num(d["vol_shock_up"], source, p + "vol_shock_up"),
        vol_shock_down=num(d["vol_shock_down"], source, p + "vol_shock_down"),
        power_short=num(d["power_short"], source, p + "power_short"),
        power_long=num(d["power_long"], source, p + "power_long"),
        dte_floor=num(d["dte_floor"], source, p + "dte_floor", lo_open=not pmrm2),
        tail=tail,
        scenarios=scenarios,
        vol_floor=vol_floor,
        short_option_contingency=num(
            d["short_option_contingency"], source, p + "short_option_contingency"
        ),
        futures_contingency=num(d["futures_contingency"], source, p + "futures_contingency"),
        mm_factor=num(d["mm_factor"], source, p + "mm_factor", lo_open=True),
        im_factor=num(d["im_factor"], source, p + "im_factor", lo_open=True),
        aggregation=aggregation,
        correlation=FrozenMap(correlation),
        collateral_in_scenarios=in_scen,
        origin=source,
        moves=_moves(d.get("moves", {}), source, p + "moves"),
        tails=_tails(d.get("tails", {}), source, p + "tails"),
    )


def _tail_list(value: Any, source: str, key: str) -> tuple[tuple[float, float], ...]:
    tail: list[tuple[float, float]] = []
    for i, t in enumerate(seq(value, source, key, empty_ok=True)):
        k = f"{key}[{i}]"
        pair = seq(t, source, k)
        if len(pair) != 2:
            raise ProfileError(source, k, f"expected [spot_move, dampener], got {shown(t)}")
        tail.append((num(pair[0], source, k + "[0]", lo=-1.0, lo_open=True),
                     num(pair[1], source, k + "[1]", hi=1.0)))
    return tuple(tail)


def _moves(value: Any, source: str, key: str) -> FrozenMap[str, tuple[float, ...]]:
    """Per-underlying grid moves: an uneven list each, increasing, 0 included."""
    out: dict[str, tuple[float, ...]] = {}
    for u, lst in table(value, source, key).items():
        k = f"{key}.{u}"
        moves = tuple(num(m, source, f"{k}[{i}]", lo=-1.0, lo_open=True)
                      for i, m in enumerate(seq(lst, source, k)))
        if 0.0 not in moves or any(b <= a for a, b in itertools.pairwise(moves)):
            raise ProfileError(source, k, f"moves must increase and include 0, got {shown(list(moves))}")
        out[str(u)] = moves
    return FrozenMap(out)


def _tails(value: Any, source: str, key: str) -> FrozenMap[str, tuple[tuple[float, float], ...]]:
    return FrozenMap({str(u): _tail_list(t, source, f"{key}.{u}")
                      for u, t in table(value, source, key).items()})


def build_profile(d: Mapping[str, Any], source: str, version: str | None = None) -> Profile:
    """Validate a complete (already merged) raw profile and freeze it."""
    known(d, _TOP_KEYS + _VENUE_TOP, source, "")
    require(d, tuple(k for k in _TOP_KEYS if k not in _OPTIONAL_TOP), source, "")
    method = d.get("method", "risk-array")
    if method not in METHODS:
        raise ProfileError(source, "method", f"unknown method {shown(method)}; methods: {', '.join(METHODS)}")
    if method == pmrm2_keys.METHOD:
        from workstation.core.profile_pmrm2 import pmrm2_params

        pmrm2 = pmrm2_params(d, source)
    else:
        pmrm2_keys.refuse_outside(d, method, source)
        pmrm2 = None
    stables = tuple(
        text(s, source, f"stablecoins[{i}]")
        for i, s in enumerate(seq(d["stablecoins"], source, "stablecoins", empty_ok=True))
    )
    haircuts: dict[str, tuple[tuple[float, float], ...]] = {}
    qty_haircuts: dict[str, tuple[tuple[float, float], ...]] = {}
    for a, v in table(d["haircuts"], source, "haircuts").items():
        text(a, source, "haircuts")
        if isinstance(v, Mapping):  # {quantity = [[upper_qty, haircut], ...]}
            known(v, ("quantity",), source, f"haircuts.{a}.")
            require(v, ("quantity",), source, f"haircuts.{a}.")
            qty_haircuts[a] = _bands(v["quantity"], source, f"haircuts.{a}.quantity")
        else:
            haircuts[a] = _bands(v, source, f"haircuts.{a}")
    tiers = {
        text(u, source, "tiers"): _tiers(v, source, f"tiers.{u}")
        for u, v in table(d["tiers"], source, "tiers").items()
    }
    extra = _venue_keys(d, source)
    return Profile(
        name=text(d["name"], source, "name"),
        source=text(d["source"], source, "source"),
        as_of=iso_date(d["as_of"], source, "as_of"),
        stablecoins=stables,
        haircuts=FrozenMap(haircuts),
        tiers=FrozenMap(tiers),
        options=_options(d["options"], source),
        portfolio=_portfolio(d["portfolio"], source, method),
        method=method,
        pmrm2=pmrm2,
        origin=source,
        version=version,
        quantity_haircuts=FrozenMap(qty_haircuts),
        **extra,
        stress=stress_params(d.get("stress"), source),
        trading=trading_params(d.get("trading"), source),
    )


def _venue_keys(d: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The venues.md keys: estimates, liquidation threshold and the venue tables."""
    out: dict[str, Any] = {}
    if "estimates" in d:
        out["estimates"] = tuple(text(e, source, f"estimates[{i}]")
                                 for i, e in enumerate(seq(d["estimates"], source, "estimates", empty_ok=True)))
    if "liquidation_threshold" in d:
        out["liquidation_threshold"] = num(d["liquidation_threshold"], source, "liquidation_threshold",
                                            lo=1.0, hi=10.0)
    for name in venues.VENUE_TABLES:
        if name in d:
            out[name] = venues.PARSERS[name](d[name], source)
    method_table = {"deribit-pm": "deribit", "okx-pm": "okx", "bybit-pm": "bybit", "span": "span"}
    need = method_table.get(d.get("method", "risk-array"))
    if need is not None and need not in out:
        raise ProfileError(source, need, f"missing: method {shown(d['method'])} reads the [{need}] table")
    return out
