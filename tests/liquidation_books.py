"""Random small books for the liquidation tests (`test_liquidation_exact.py`,
`test_liquidation_bounds.py`): straddles and single options from 15 minutes to 200 days out
(inside PMRM_2's fixing window too), perpetuals with and without a venue mark, futures on a
market forward, spot, linear and inverse; borrowed stablecoins and coins; collateral that moves
with another asset (`moves_with`); haircut bands, tier tables with jumps, sum, correlated and
negatively correlated aggregation, and per method profile variants that switch on the charges
the shipped profiles leave quiet on small books (Deribit's delta shock, OKX's MR7 with a convex
and a non-convex scaling, Bybit's spreads, SPAN's absolute price scan, PMRM_2's convex static
discount and wide skew)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import strategies as st

from workstation.core.methods import method_for
from workstation.core.model import Account, Forward, Portfolio, Position, Quote
from workstation.core.report import make_scope

AS_OF = datetime(2026, 3, 2, 8, tzinfo=UTC)
PRICES = {"BTC": 60_000.0, "ETH": 3_000.0}
HOURS = (0.25, 1.0, 1.0, 6.0, 30.0, 24 * 7.0, 24 * 45.0, 24 * 200.0)

PROFILES = {
    # every band edge and tier bound inside the searched range for these small books
    "bands": {"haircuts": {"BTC": [[40_000, 0.0], [90_000, 0.1], [1e30, 0.3]],
                           "ETH": [[20_000, 0.05], [1e30, 0.2]],
                           "stETH": [[5_000, 0.02], [1e30, 0.15]]}},
    "jumps": {"tiers": {"*": [{"max_notional": 30_000, "initial_rate": 0.02, "maintenance_rate": 0.01,
                               "maintenance_amount": 0.0},
                              {"max_notional": 1e30, "initial_rate": 0.2, "maintenance_rate": 0.08,
                               "maintenance_amount": 0.0}]}},
    "correlated": {"portfolio": {"aggregation": "correlated", "correlation": {"BTC/ETH": 0.6}}},
    # a negative correlation: sqrt(L' C L) falls as a loss grows (bounds_corr.correlated_bound)
    "hedged": {"portfolio": {"aggregation": "correlated", "correlation": {"BTC/ETH": -0.5}}},
}

_STATIC = {"base": 1.05, "base_neg": 0.9, "long_rate_mult": 1.0, "long_rate_add": 0.08,
           "short_rate_mult": 0.5, "short_rate_add": 0.08}
_SKEW = {"linear_scale_cap": 0.3, "linear_cbase": -0.05, "abs_scale_cap": 0.25, "abs_cbase": -0.05,
         "min_k_star": 0.02, "min_width_scale": 4.0, "vol_param_static": 0.6, "vol_param_scale": -0.1}

METHOD_PROFILES = {
    "deribit-pm": {
        "shock": {"deribit": {"pairs": {"*": {"delta_total_liq_shock_threshold": 20_000.0, "m_inc": 0.002},
                                        "ETH": {"delta_total_liq_shock_threshold": 20_000.0, "m_inc": 0.002}},
                              "currencies": {"*": {"annualised_move_risk": 0.6, "min_annualised_move": 0.05}}}},
    },
    "okx-pm": {
        "mr7": {"okx": {"mr7_rate": {"*": 0.04, "BTC": 0.04, "ETH": 0.04},
                        "mr7_scaling": {"*": [[2_000, 1.0], [10_000, 3.0], [1e30, 6.0]]},
                        "mr4_rate": {"*": 0.03, "BTC": 0.03, "ETH": 0.03}}},
        "mr7-falling": {"okx": {"mr7_rate": {"*": 0.04, "BTC": 0.04, "ETH": 0.04},
                                "mr7_scaling": {"*": [[3_000, 4.0], [1e30, 1.0]]}}},
    },
    "bybit-pm": {
        "spreads": {"bybit": {"delta_spread": {"*": 3.0}, "vega_spread": {"*": 0.05, "BTC": 0.05, "ETH": 0.05}}},
    },
    "span": {
        "points": {"span": {"products": {"BTC": {"price_scan": 3_000.0, "vol_scan": 0.1},
                                         "ETH": {"price_scan": 150.0, "vol_scan": 0.1}}}},
    },
    "pmrm2": {
        "convex-discount": {"portfolio": {"static_discount": _STATIC}},
        "wide-skew": {"portfolio": {"skew_shock": _SKEW, "forward_fixing_window": 7200}},
    },
}


def shipped_for(method: str) -> str:
    """A shipped profile that uses `method` (its venue tables come with it)."""
    from workstation.core.profiles import shipped_profiles

    return next(n for n, prof in sorted(shipped_profiles().items()) if prof.method == method)


def _market(draw) -> dict[str, Quote]:
    fwd = ()
    if draw(st.booleans()):  # a market forward for some expiries: futures and options price on it
        hours = draw(st.lists(st.sampled_from(HOURS), min_size=1, max_size=3, unique=True))
        fwd = tuple(Forward(expiry=AS_OF + timedelta(hours=h), forward=PRICES["BTC"] * draw(st.floats(0.97, 1.04)),
                            rate=draw(st.floats(0.0, 0.08)), confidence=None) for h in hours)
    return {"BTC": Quote(PRICES["BTC"], 0.6, forwards=fwd), "ETH": Quote(PRICES["ETH"], 0.7), "USDT": Quote(1.0),
            "USDC": Quote(1.0), "stETH": Quote(2_950.0, moves_with="ETH"), "wBTC": Quote(59_900.0, moves_with="BTC")}


@st.composite
def positions(draw, mode: str) -> list[Position]:
    unds = draw(st.sampled_from([("BTC",), ("BTC", "ETH")]))
    out: list[Position] = []
    for i in range(draw(st.integers(1, 4))):
        und = draw(st.sampled_from(unds))
        S = PRICES[und]
        kind = draw(st.sampled_from(["perpetual", "future", "option", "straddle", "straddle", "spot"]))
        q = draw(st.sampled_from([-1.0, 1.0])) * draw(st.floats(0.05, 3.0)) * 60_000 / S
        hours = draw(st.sampled_from(HOURS))
        expiry = AS_OF + timedelta(hours=hours)
        settle = draw(st.sampled_from(["linear", "inverse"])) if kind != "spot" else "linear"
        iso = draw(st.floats(50.0, 30_000.0)) if mode == "isolated" else None
        entry = S * draw(st.floats(0.85, 1.15))
        if kind in ("option", "straddle"):
            strike = S * draw(st.one_of(st.floats(0.8, 1.25), st.floats(0.97, 1.1)))  # near the money: sharp
            rights = ["call", "put"] if kind == "straddle" else [draw(st.sampled_from(["call", "put"]))]
            for r in rights:
                out.append(Position(id=f"p{i}{r}", kind="option", underlying=und, quantity=q, entry_price=0.0,
                                    settlement=settle, expiry=expiry, right=r, strike=strike,
                                    vol=draw(st.floats(0.3, 1.2)), isolated_margin=iso))
        else:
            qq = q * S if settle == "inverse" else q  # inverse quantities are USD notionals
            mark = S * draw(st.floats(0.98, 1.02)) if kind == "perpetual" and draw(st.booleans()) else None
            out.append(Position(id=f"p{i}", kind=kind, underlying=und, quantity=qq, entry_price=entry,
                                settlement=settle, expiry=expiry if kind == "future" else None,
                                isolated_margin=iso, mark_price=mark))
    return out


@st.composite
def books(draw, mode: str, method: str = "risk-array") -> Portfolio:
    pos = draw(positions(mode))
    collateral = {"USDT": draw(st.floats(-60_000.0, 80_000.0))}  # negative: borrowed
    if draw(st.booleans()):
        collateral["BTC"] = draw(st.floats(-0.5, 2.0))
    if draw(st.booleans()):
        collateral["USDC"] = draw(st.floats(-20_000.0, 20_000.0))
    if draw(st.booleans()):  # collateral that moves with another asset
        collateral[draw(st.sampled_from(["stETH", "wBTC"]))] = draw(st.floats(-2.0, 10.0))
    extra = METHOD_PROFILES.get(method, {}) if mode == "portfolio" else {}
    variant = draw(st.sampled_from(["none", *PROFILES, *extra]))
    prof = dict(PROFILES.get(variant) or extra.get(variant) or {})
    name = shipped_for(method) if mode == "portfolio" else "t"  # a file profile named as a
    # shipped one is laid over it: the method keeps its venue tables
    acc = Account(id="a", margin_mode=mode, collateral=collateral, positions=pos, profile=name)
    p = Portfolio(as_of=AS_OF, market=_market(draw), accounts=[acc], profiles={name: prof})
    if mode != "isolated" and draw(st.booleans()):
        # near the edge: USDT (held at par, outside every scenario) set so that equity - MM is a
        # small cushion now; the nearest liquidation is then close and often hard to see
        m = method_for(make_scope(p, "account:a"))
        with np.errstate(all="ignore"):
            f0 = float(m.f_all(m.snapshot())[0])
        gross = sum(abs(x.quantity) * (1.0 if x.settlement == "inverse" and x.kind != "option"
                                       else PRICES[x.underlying]) for x in pos)
        collateral["USDT"] += -f0 + draw(st.floats(1e-4, 0.05)) * gross
    return p
