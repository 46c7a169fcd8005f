"""Shared set-up of the PMRM_2 tests: a portfolio builder and an independent Black-76 (math)."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta
from typing import Any

AS_OF = datetime(2021, 8, 26, 17, 46, 40, tzinfo=UTC)
YEAR = 365 * 86400.0


def iso(seconds_after: float) -> str:
    return (AS_OF + timedelta(seconds=seconds_after)).strftime("%Y-%m-%dT%H:%M:%SZ")


def b76(F: float, K: float, T: float, vol: float, r: float, call: bool) -> float:
    """Discounted Black-76 by hand (math.erf): df (F N(d1) - K N(d2)), puts by parity of N."""
    df = math.exp(-r * T)
    sd = vol * math.sqrt(T) if T > 0 else 0.0
    if sd <= 0:
        return df * max(0.0, (F - K) if call else (K - F))
    d1 = (math.log(F / K) + 0.5 * sd * sd) / sd
    d2 = d1 - sd

    def N(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))

    return df * (F * N(d1) - K * N(d2)) if call else df * (K * N(-d2) - F * N(-d1))


# A bare PMRM_2 profile: no vol shocks, no contingencies, factors 1; tests add what they check.
BASE_PORTFOLIO: dict[str, Any] = {
    "scenarios": [[0.0, "none", 1.0]],
    "vol_shock_up": 0.0,
    "vol_shock_down": 0.0,
    "short_option_contingency": 0.0,
    "futures_contingency": 0.0,
    "mm_factor": 1.0,
    "im_factor": 1.0,
}


def option(pid: str, right: str, strike: float, seconds: float, qty: float, vol: float,
           und: str = "ETH") -> dict[str, Any]:
    return {"id": pid, "kind": "option", "underlying": und, "right": right, "strike": strike,
            "expiry": iso(seconds), "settlement": "linear", "quantity": qty, "entry_price": 0.0, "vol": vol}


def perp(pid: str, qty: float, entry: float, mark: float | None = None, conf: float | None = None,
         und: str = "ETH") -> dict[str, Any]:
    d: dict[str, Any] = {"id": pid, "kind": "perpetual", "underlying": und, "settlement": "linear",
                         "quantity": qty, "entry_price": entry}
    if mark is not None:
        d["mark_price"] = mark
    if conf is not None:
        d["mark_confidence"] = conf
    return d


def portfolio(positions: list[dict[str, Any]], *, market: dict[str, Any] | None = None,
              collateral: dict[str, float] | None = None, keys: dict[str, Any] | None = None,
              top: dict[str, Any] | None = None, method: str = "pmrm2") -> dict[str, Any]:
    """One portfolio-mode account `a` with profile `p` (built on `default`)."""
    port = copy.deepcopy(BASE_PORTFOLIO) | (keys or {})
    prof: dict[str, Any] = {"method": method, "stablecoins": ["USDC"], "haircuts": {"USDC": 0.0},
                            "portfolio": port} | (top or {})
    return {
        "format": "margin-workstation/portfolio@1",
        "as_of": iso(0),
        "base_currency": "USDC",
        "rate": 0.0,
        "market": market if market is not None else {"ETH": {"price": 2000.0}, "USDC": {"price": 1.0}},
        "accounts": [{"id": "a", "margin_mode": "portfolio", "profile": "p",
                      "collateral": collateral if collateral is not None else {"USDC": 100_000.0},
                      "positions": positions}],
        "profiles": {"p": prof},
    }
