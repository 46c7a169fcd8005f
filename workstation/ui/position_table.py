"""The positions table as column arrays, built off the GUI thread from the engine's report.

No Qt here. Figures are the report's; the only arithmetic is unit conversion with the market
price the engine valued at (delta in base currency, gamma per 1 % move, inverse sizes in coins),
so the Qt model only indexes arrays when it paints or sorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workstation.core.model import Portfolio
from workstation.ui.venue_cells import venue_arrays

# Per-position figures taken from the report, as float columns.
REPORT_FIGURES = ("mark_price", "market_value", "unrealized_pnl", "delta", "gamma", "vega", "theta",
                  "standalone_margin", "marginal_margin", "component_margin")
TEXT_FIELDS = ("key", "id", "account", "instrument", "kind", "underlying", "settlement",
               "size_unit", "mark_unit")


@dataclass
class PositionTable:
    """One entry per position in every array, in the report's order."""

    text: dict[str, np.ndarray] = field(default_factory=dict)  # object arrays of str
    num: dict[str, np.ndarray] = field(default_factory=dict)  # float arrays (nan = none)
    base_currency: str = "USD"

    def __len__(self) -> int:
        return len(self.text.get("key", ()))

    def column(self, key: str) -> np.ndarray:
        return self.num[key] if key in self.num else self.text[key]

    def record(self, i: int) -> dict[str, Any]:
        """Row `i` as a dict (for editing and tests): text fields as str, figures as float/None."""
        out: dict[str, Any] = {k: str(v[i]) for k, v in self.text.items()}
        for k, v in self.num.items():
            x = float(v[i])
            out[k] = None if np.isnan(x) else x
        return out

    def index_of(self, key: str) -> int:
        hits = np.flatnonzero(self.text["key"] == key) if len(self) else []
        return int(hits[0]) if len(hits) else -1


def size_unit(kind: str, settlement: str, underlying: str, base: str) -> str:
    """The unit a position's quantity is in: quote-currency notional for inverse perpetuals and
    futures (USD of contracts, as venues quote them), coins of the underlying otherwise (linear
    instruments, spot, and options, whose contracts are counted in coins)."""
    if kind in ("perpetual", "future") and settlement == "inverse":
        return base
    return underlying


def mark_unit(kind: str, settlement: str, underlying: str, base: str) -> str:
    """Inverse options are quoted in coin per unit; everything else in the base currency."""
    return underlying if kind == "option" and settlement == "inverse" else base


def position_table(report: dict[str, Any], portfolio: Portfolio, labels: dict[str, str],
                   coin_deltas: dict[str, float] | None = None) -> PositionTable:
    """Column arrays of the report's positions, with instrument names, units and conversions."""
    base = report.get("base_currency") or portfolio.base_currency
    figures = report.get("positions", [])
    n = len(figures)
    owned = {(a.id, p.id): p for a in portfolio.accounts for p in a.positions}
    text = {k: np.empty(n, dtype=object) for k in TEXT_FIELDS}
    qty = np.full(n, np.nan)
    spot = np.full(n, np.nan)
    for i, f in enumerate(figures):
        acc, pid = f.get("account") or "", f["id"]
        key = f"{acc}/{pid}"
        pos = owned.get((acc, pid))
        kind, settle, und = (pos.kind, pos.settlement, pos.underlying) if pos else ("", "", "")
        text["key"][i], text["id"][i], text["account"][i] = key, pid, acc
        text["instrument"][i] = labels.get(key, pid)
        text["kind"][i], text["settlement"][i], text["underlying"][i] = kind, settle, und
        text["size_unit"][i] = size_unit(kind, settle, und, base)
        text["mark_unit"][i] = mark_unit(kind, settle, und, base)
        if pos is not None:
            qty[i] = pos.quantity
            quote = portfolio.market.get(und)
            spot[i] = quote.price if quote else np.nan
    num = {k: np.array([f.get(k) for f in figures], dtype=float) for k in REPORT_FIGURES}
    num["quantity"] = qty
    keys = text["key"]
    num["coin_delta"] = (np.array([coin_deltas.get(k, np.nan) for k in keys], dtype=float)
                         if coin_deltas else num["delta"].copy())
    missing = np.isnan(num["coin_delta"])
    num["coin_delta"][missing] = num["delta"][missing]
    inverse_d1 = np.array([(k in ("perpetual", "future")) and s == "inverse"
                           for k, s in zip(text["kind"], text["settlement"], strict=True)], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        # inverse perpetuals and futures: USD notional / mark (the future's mark is its forward)
        num["coin_size"] = np.where(inverse_d1, qty / num["mark_price"], qty)
        num["delta_base"] = num["delta"] * spot
        num["gamma_pct"] = num["gamma"] * spot * 0.01
        im = float(report.get("initial_margin") or 0.0)
        num["share"] = num["component_margin"] / im if im else np.full(n, np.nan)
    num.update(venue_arrays(figures))  # the venue's own figures beside ours (reconcile)
    return PositionTable(text=text, num=num, base_currency=base)
