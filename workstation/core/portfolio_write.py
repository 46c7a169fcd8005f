"""Writer of `margin-workstation/portfolio@1` documents: the inverse of `core.portfolio_io`
(reading what is written gives the same portfolio; optional fields are left out at their
defaults)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workstation.core.model import FORMAT, Portfolio, Position
from workstation.core.portfolio_extras import position_extras_to_dict, quote_extras_to_dict
from workstation.core.portfolio_fields import format_time

__all__ = ["dumps_portfolio", "portfolio_to_dict", "position_to_dict", "write_portfolio"]


def position_to_dict(pos: Position) -> dict[str, Any]:
    d: dict[str, Any] = {"id": pos.id, "kind": pos.kind, "underlying": pos.underlying}
    if pos.kind == "option":
        d["right"] = pos.right
        d["strike"] = pos.strike
    if pos.expiry is not None:
        d["expiry"] = format_time(pos.expiry)
    if pos.kind != "spot" or pos.settlement != "linear":
        d["settlement"] = pos.settlement
    d["quantity"] = pos.quantity
    d["entry_price"] = pos.entry_price
    if pos.vol is not None:
        d["vol"] = pos.vol
    if pos.isolated_margin is not None:
        d["isolated_margin"] = pos.isolated_margin
    if pos.expired:
        d["expired"] = True
        d["settlement_price"] = pos.settlement_price
    _leverage_to_dict(pos, d)
    d |= position_extras_to_dict(pos)
    if pos.venue_figures is not None:
        from workstation.core.portfolio_venue import venue_figures_to_dict

        d["venue_figures"] = venue_figures_to_dict(pos.venue_figures)
    return d


def _leverage_to_dict(pos: Position, d: dict[str, Any]) -> None:
    if pos.leverage is not None:
        d["leverage"] = pos.leverage


def portfolio_to_dict(p: Portfolio) -> dict[str, Any]:
    market: dict[str, Any] = {}
    for asset, q in p.market.items():
        market[asset] = ({"price": q.price} | ({"vol": q.vol} if q.vol is not None else {})
                         | ({"funding_rate": q.funding_rate} if q.funding_rate is not None else {})
                         | quote_extras_to_dict(q))
    accounts = []
    for acc in p.accounts:
        a: dict[str, Any] = {"id": acc.id}
        if acc.name is not None:
            a["name"] = acc.name
        if acc.venue is not None:
            a["venue"] = acc.venue
        a |= {"margin_mode": acc.margin_mode, "profile": acc.profile,
              "collateral": dict(acc.collateral),
              "positions": [position_to_dict(pos) for pos in acc.positions]}
        if acc.venue_figures:
            from workstation.core.portfolio_venue import account_venue_figures_to_dict

            a["venue_figures"] = account_venue_figures_to_dict(acc.venue_figures)
        accounts.append(a)
    pools = []
    for pool in p.pools:
        d: dict[str, Any] = {"id": pool.id}
        if pool.name is not None:
            d["name"] = pool.name
        d |= {"accounts": list(pool.accounts), "margin_mode": pool.margin_mode, "profile": pool.profile}
        pools.append(d)
    doc: dict[str, Any] = {
        "format": FORMAT, "as_of": format_time(p.as_of), "base_currency": p.base_currency,
        "rate": p.rate, "market": market, "accounts": accounts, "pools": pools,
    }
    if p.profiles:
        doc["profiles"] = p.profiles
    return doc


def dumps_portfolio(p: Portfolio) -> str:
    return json.dumps(portfolio_to_dict(p), indent=2, allow_nan=False) + "\n"


def write_portfolio(p: Portfolio, path: str | Path) -> None:
    Path(path).write_text(dumps_portfolio(p), encoding="utf-8")
