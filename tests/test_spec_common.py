"""Helpers shared by the spec tests (tests/test_spec_*.py). No tests live here.

Everything in this module is written from the spec (shared/spec/method.md,
shared/spec/portfolio-format.md, docs/DESIGN.md), independently of the engine:
an own Black-76 on `math.erf`, builders for portfolio documents and a profile
in which every key is given explicitly, so expected values never depend on the
shipped profile numbers.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta

AS_OF = "2026-01-01T00:00:00Z"
AS_OF_DT = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_S = 365 * 86400
STABLES = ("USDT", "USDC")


# --------------------------------------------------------------------------- own pricing
def ncdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def npdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def black(S: float, K: float, T: float, vol: float, r: float = 0.0, right: str = "call") -> float:
    """Black-76 on the forward F = S*exp(rT), discounted by exp(-rT); price in base per unit."""
    F = S * math.exp(r * T)
    df = math.exp(-r * T)
    sd = vol * math.sqrt(T)
    d1 = (math.log(F / K) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if right == "call":
        return df * (F * ncdf(d1) - K * ncdf(d2))
    return df * (K * ncdf(-d2) - F * ncdf(-d1))


def d1_of(S: float, K: float, T: float, vol: float, r: float = 0.0) -> float:
    F = S * math.exp(r * T)
    sd = vol * math.sqrt(T)
    return (math.log(F / K) + 0.5 * sd * sd) / sd


def years(days: float) -> float:
    return days * 86400 / YEAR_S


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def expiry_in(days: float, as_of: datetime = AS_OF_DT) -> str:
    return iso(as_of + timedelta(days=days))


def shocked_vol(iv: float, dte: float, direction: str, prof_pm: dict) -> float:
    """method.md: iv' = iv * (1 +/- shock * (30 / max(dte_floor, dte)) ** p)."""
    if direction == "same":
        return iv
    p = prof_pm["power_short"] if dte < 30 else prof_pm["power_long"]
    f = (30.0 / max(prof_pm["dte_floor"], dte)) ** p
    if direction == "up":
        return iv * (1 + prof_pm["vol_shock_up"] * f)
    return iv * (1 - prof_pm["vol_shock_down"] * f)


# --------------------------------------------------------------------------- documents
def tiers_flat(initial_rate: float = 0.02, maintenance_rate: float = 0.01) -> list[dict]:
    return [
        {
            "max_notional": 1e30,
            "initial_rate": initial_rate,
            "maintenance_rate": maintenance_rate,
            "maintenance_amount": 0.0,
        }
    ]


def profile(name: str = "t-pm", **portfolio_overrides) -> dict:
    """A profile with every key of method.md's "Profiles" section given explicitly."""
    pm = {
        "range": {"*": 0.1},
        "price_steps": 3,
        "vol_shock_up": 0.5,
        "vol_shock_down": 0.25,
        "power_short": 0.3,
        "power_long": 0.13,
        "dte_floor": 1,
        "tail": [],
        "short_option_contingency": 0.0,
        "futures_contingency": 0.0,
        "mm_factor": 1.0,
        "im_factor": 1.3,
        "aggregation": "sum",
        "correlation": {},
    }
    pm.update(portfolio_overrides)
    return {
        "name": name,
        "source": "spec tests: hand-made numbers",
        "as_of": "2026-01-01",
        "stablecoins": list(STABLES),
        "haircuts": {"BTC": 0.0, "ETH": 0.0, "SOL": 0.0, "USDT": 0.0, "USDC": 0.0},
        # every asset of the tests listed: no bracket is inherited from a shipped profile
        "tiers": {"BTC": tiers_flat(), "ETH": tiers_flat(), "SOL": tiers_flat(),
                  "*": tiers_flat()},
        "options": {"short_im_base": 0.15, "short_im_floor": 0.10, "short_mm": 0.075},
        "portfolio": pm,
    }


def market(**prices) -> dict:
    """market(BTC=(50000, 0.5), ETH=(3000, 0.6)); stablecoins are added at 1.0."""
    m: dict = {}
    for asset, spec in prices.items():
        if isinstance(spec, tuple):
            m[asset] = {"price": float(spec[0]), "vol": float(spec[1])}
        else:
            m[asset] = {"price": float(spec)}
    for s in STABLES:
        m.setdefault(s, {"price": 1.0})
    return m


def perp(pid, und, q, entry, settlement="linear") -> dict:
    return {
        "id": pid,
        "kind": "perpetual",
        "underlying": und,
        "settlement": settlement,
        "quantity": q,
        "entry_price": entry,
    }


def future(pid, und, q, entry, expiry, settlement="linear") -> dict:
    return {
        "id": pid,
        "kind": "future",
        "underlying": und,
        "settlement": settlement,
        "expiry": expiry,
        "quantity": q,
        "entry_price": entry,
    }


def option(pid, und, right, strike, expiry, q, entry, settlement="linear", vol=None) -> dict:
    d = {
        "id": pid,
        "kind": "option",
        "underlying": und,
        "right": right,
        "strike": strike,
        "expiry": expiry,
        "settlement": settlement,
        "quantity": q,
        "entry_price": entry,
    }
    if vol is not None:
        d["vol"] = vol
    return d


def spot(pid, und, q, entry) -> dict:
    return {"id": pid, "kind": "spot", "underlying": und, "quantity": q, "entry_price": entry}


def account(aid, mode, collateral, positions, prof="t-pm") -> dict:
    return {
        "id": aid,
        "margin_mode": mode,
        "profile": prof,
        "collateral": dict(collateral),
        "positions": list(positions),
    }


def portfolio(accounts, mkt, profiles=None, pools=None, rate=0.0, as_of=AS_OF) -> dict:
    if profiles is None:
        profiles = {"t-pm": profile("t-pm")}
    return {
        "format": "margin-workstation/portfolio@1",
        "as_of": as_of,
        "base_currency": "USD",
        "rate": rate,
        "market": mkt,
        "accounts": list(accounts),
        "pools": list(pools or []),
        "profiles": profiles,
    }


# --------------------------------------------------------------------------- engine access
def load(doc: dict):
    from workstation.core.portfolio_io import portfolio_from_dict

    return portfolio_from_dict(copy.deepcopy(doc))


def report(doc: dict, scope: str) -> dict:
    from workstation.core.report import build_report

    return build_report(load(doc), scope)


def pos(rep: dict, pid: str) -> dict:
    for p in rep["positions"]:
        if p["id"] == pid:
            return p
    raise AssertionError(f"position {pid!r} not in report {rep.get('scope')}: "
                         f"{[p['id'] for p in rep['positions']]}")


def with_price(doc: dict, asset: str, price: float) -> dict:
    d = copy.deepcopy(doc)
    d["market"][asset]["price"] = float(price)
    return d


TOP_MONEY = (
    "collateral_value",
    "equity",
    "initial_margin",
    "maintenance_margin",
    "standalone_initial_margin",
    "offset",
)
TOP_KEYS = (
    "scope",
    "base_currency",
    *TOP_MONEY,
    "margin_usage",
    "positions",
    "collateral_components",
    "greeks",
    "liquidation",
)
POSITION_KEYS = (
    "id",
    "account",
    "mark_price",
    "market_value",
    "unrealized_pnl",
    "delta",
    "gamma",
    "vega",
    "theta",
    "standalone_margin",
    "marginal_margin",
    "component_margin",
)
GREEK_KEYS = ("delta", "gamma", "vega", "theta")
LIQ_KEYS = ("down_pct", "down_price", "up_pct", "up_price")
LIQ_ALL_KEYS = ("down_pct", "up_pct")
