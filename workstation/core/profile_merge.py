"""Laying one raw profile over another (inheritance), and the base beneath every profile.

Inheritance: a profile that leaves a key out takes it from its base. The shipped `default.toml`
is built on the method.md example; the other shipped files and any portfolio-file profile whose
name is not shipped are built on `default`; a portfolio-file profile that names a shipped one is
laid over the version in force. Merging is deep, except that table-valued keys (`stablecoins`,
`haircuts`, `tiers` (the whole bracket table), `portfolio.range`, `portfolio.tail`,
`portfolio.scenarios`, `portfolio.correlation`, `portfolio.moves`, `portfolio.tails`) replace the
inherited value whole, and a profile that sets `portfolio.range`, `price_steps`, `tail`, `moves` or
`tails` without `scenarios` drops inherited `scenarios`. The venue tables (`[deribit]`, `[okx]`,
`[bybit]`, `[span]`) merge key by key, nested tables too.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from workstation.core import profile_venues as venues
from workstation.core.profile_fields import table

# The example of method.md ("Profiles"), the base beneath every profile. default.toml repeats
# these numbers (and adds ETH, "*" and the further BTC brackets).
METHOD_DEFAULTS: dict[str, Any] = {
    "name": "default",
    "source": "method.md example",
    "as_of": "2026-11-01",
    "stablecoins": ["USDT", "USDC"],
    "haircuts": {"BTC": [[100_000_000, 0.0], [200_000_000, 0.025], [1e30, 0.05]], "USDT": 0.0},
    "tiers": {
        "BTC": [
            {
                "max_notional": 50_000,
                "initial_rate": 0.008,
                "maintenance_rate": 0.004,
                "maintenance_amount": 0.0,
            }
        ]
    },
    "options": {"short_im_base": 0.15, "short_im_floor": 0.10, "short_mm": 0.075},
    "portfolio": {
        "range": {"BTC": 0.16, "ETH": 0.16, "*": 0.25},
        "price_steps": 9,
        "vol_shock_up": 0.5,
        "vol_shock_down": 0.275,
        "power_short": 0.30,
        "power_long": 0.13,
        "dte_floor": 1,
        "tail": [[-0.66, 0.0545], [-0.33, 0.109], [0.5, 0.072], [1.0, 0.036]],
        "short_option_contingency": 0.01,
        "futures_contingency": 0.01,
        "mm_factor": 1.0,
        "im_factor": 1.3,
        "aggregation": "sum",
        "correlation": {"BTC/ETH": 0.85},
        "collateral_in_scenarios": True,
    },
}
_GRID_KEYS = ("range", "price_steps", "tail", "moves", "tails")


def merge_profile_dicts(
    base: Mapping[str, Any], over: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """Lay the raw profile `over` on `base` (the rules: this module's docstring)."""
    over = table(over, source, "(profile)")
    # base keys keep their place; only those `over` leaves alone are copied from it (each
    # replaced one is built below from its own deep copy)
    out = {k: None if k in over else copy.deepcopy(v) for k, v in base.items()}
    for key, value in over.items():
        prev = base.get(key, {})
        if key == "tiers":  # the brackets given are the whole table: no inherited underlyings
            out["tiers"] = copy.deepcopy(table(value, source, "tiers"))
        elif key == "options":
            opts = table(prev, source, "options")
            opts.update(table(value, source, "options"))
            out["options"] = copy.deepcopy(opts)
        elif key == "portfolio":
            new = table(value, source, "portfolio")
            port = table(prev, source, "portfolio")
            if "scenarios" not in new and any(k in new for k in _GRID_KEYS):
                port.pop("scenarios", None)
            port.update(new)
            out["portfolio"] = copy.deepcopy(port)
        elif key in venues.VENUE_TABLES:  # venue tables merge key by key, nested tables too
            out[key] = copy.deepcopy(venues.merge_tables(table(prev, source, key), table(value, source, key)))
        else:
            out[key] = copy.deepcopy(value)
    return out
