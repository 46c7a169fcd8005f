"""Reading and writing `venue_figures` of portfolio@1 (venues.md "Venue figures"): what a venue
reports for a position (`positions[].venue_figures`, one object) or an account
(`accounts[].venue_figures`, one object, or a list of them, one per currency: Deribit margins
each currency apart).

    {"initial_margin": 0.000197283, "maintenance_margin": 0.000143783,
     "liquidation_price": 1.74, "currency": "BTC", "index_price": 7466.79,
     "as_of": "2020-01-02T08:00:00Z", "source": "deribit get_positions via ccxt"}

Margins are numbers >= 0 in `currency` (default: the base currency), a liquidation price is
positive, `margin_usage` (MM / equity) >= 0; `index_price` is the currency's price in the base
currency at `as_of` (the record's time) and is only given for a currency other than the base.
At least one figure is required. Every check names its JSON path; the writer gives back what
the reader read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workstation.core.errors import PortfolioError
from workstation.core.model import Account, Quote, VenueFigures
from workstation.core.portfolio_io import _fields, _list, _num, _obj, _str, format_time, parse_time

FIELDS = frozenset({"initial_margin", "maintenance_margin", "liquidation_price", "margin_usage",
                    "currency", "index_price", "as_of", "source"})
FIGURES = ("initial_margin", "maintenance_margin", "liquidation_price", "margin_usage")


def venue_figures_from_dict(d: Any, path: str) -> VenueFigures:
    """One venue-figures object."""
    d = _obj(d, path)
    _fields(d, path, set(FIELDS), ())
    if not any(k in d for k in FIGURES):
        raise PortfolioError(path, "at least one of " + ", ".join(FIGURES))
    out: dict[str, Any] = {}
    for key in ("initial_margin", "maintenance_margin", "margin_usage"):
        if key in d:
            out[key] = _num(d[key], f"{path}.{key}", minimum=0.0)
    for key in ("liquidation_price", "index_price"):
        if key in d:
            out[key] = _num(d[key], f"{path}.{key}", positive=True)
    for key in ("currency", "source"):
        if key in d:
            out[key] = _str(d[key], f"{path}.{key}")
    if "as_of" in d:
        out["as_of"] = parse_time(d["as_of"], f"{path}.as_of")
    return VenueFigures(**out)


def account_venue_figures(value: Any, path: str) -> tuple[VenueFigures, ...]:
    """`accounts[].venue_figures`: one object, or a non-empty list with one entry per currency."""
    if isinstance(value, dict):
        return (venue_figures_from_dict(value, path),)
    items = _list(value, path)
    if not items:
        raise PortfolioError(path, "a venue-figures object, or a non-empty list of them", value)
    out: list[VenueFigures] = []
    seen: set[str | None] = set()
    for k, item in enumerate(items):
        vf = venue_figures_from_dict(item, f"{path}[{k}]")
        if vf.currency in seen:
            raise PortfolioError(f"{path}[{k}].currency", "one entry per currency", vf.currency)
        seen.add(vf.currency)
        out.append(vf)
    return tuple(out)


def check_currencies(accounts: Sequence[Account], market: Mapping[str, Quote], base: str) -> None:
    """Every venue figure's currency converts to the base currency: the base itself, or an asset
    priced in market; `index_price` only for a currency other than the base."""
    for i, acc in enumerate(accounts):
        many = len(acc.venue_figures) > 1
        for k, vf in enumerate(acc.venue_figures):
            _check_one(vf, f"accounts[{i}].venue_figures" + (f"[{k}]" if many else ""), market, base)
        for j, pos in enumerate(acc.positions):
            if pos.venue_figures is not None:
                _check_one(pos.venue_figures, f"accounts[{i}].positions[{j}].venue_figures", market, base)


def _check_one(vf: VenueFigures, path: str, market: Mapping[str, Quote], base: str) -> None:
    currency = vf.currency or base
    if currency != base and currency not in market:
        raise PortfolioError(f"{path}.currency", f"{base} or an asset with a price in market "
                                                 "(the figures are compared in the base currency)", currency)
    if vf.index_price is not None and currency == base:
        raise PortfolioError(f"{path}.index_price", f"no index_price for figures in {base}, the base "
                                                    "currency", vf.index_price)


def venue_figures_to_dict(vf: VenueFigures) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (*FIGURES, "currency", "index_price"):
        value = getattr(vf, key)
        if value is not None:
            out[key] = value
    if vf.as_of is not None:
        out["as_of"] = format_time(vf.as_of)
    if vf.source is not None:
        out["source"] = vf.source
    return out


def account_venue_figures_to_dict(figures: Sequence[VenueFigures]) -> dict[str, Any] | list[dict[str, Any]]:
    docs = [venue_figures_to_dict(vf) for vf in figures]
    return docs[0] if len(docs) == 1 else docs
