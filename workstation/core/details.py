"""Figures the window shows beyond the report: collateral lines, curves, heatmap, labels.

All computed by the engine; the UI only draws them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workstation.core.book import FUTURE, OPTION, PERPETUAL
from workstation.core.collateral import effective_haircut
from workstation.core.liquidation import Liquidation
from workstation.core.methods import MarginMethod, Scope, method_for
from workstation.core.model import Portfolio, Position
from workstation.core.report import make_scope
from workstation.core.valuation import greeks, values

ScopeArg = str | Scope  # a scope's name, or the scope itself when the caller has built it


def scope_of(portfolio: Portfolio, scope: ScopeArg) -> Scope:
    """The scope `account:ID` / `pool:ID` (built once by a caller that asks several figures)."""
    return scope if isinstance(scope, Scope) else make_scope(portfolio, scope)


def _model(portfolio: Portfolio, scope: ScopeArg, method: MarginMethod | None = None) -> MarginMethod:
    return method if method is not None else method_for(scope_of(portfolio, scope))


def collateral_lines(portfolio: Portfolio, scope: ScopeArg, method: MarginMethod | None = None) -> list[dict[str, Any]]:
    """Per collateral asset: amount, price, effective haircut and haircut value (base)."""
    m = _model(portfolio, scope, method)
    out = []
    for (asset, amount, price, value), bands in zip(m.collateral_lines(), m.coll_bands, strict=True):
        out.append({"asset": asset, "amount": amount, "price": price,
                    "haircut": float(effective_haircut(amount, price, bands)) if amount > 0 else 0.0,
                    "value": value})
    iso = m.isolated_total()
    if iso:
        out.append({"asset": "isolated margin", "amount": iso, "price": 1.0, "haircut": 0.0,
                    "value": iso})
    return out


def pnl_curve(portfolio: Portfolio, scope: ScopeArg, underlying: str | None,
              moves: np.ndarray | None = None, method: MarginMethod | None = None) -> dict[str, np.ndarray]:
    """Equity, maintenance margin and P&L against relative moves of `underlying`
    (None: every non-stable asset together). Prices are the moved underlying's prices.

    One batch: the snapshot (the P&L's zero) and the moves. Moving one underlying revalues only
    its own positions and collateral (`Liquidation.curve`); the others keep their snapshot figures.
    """
    m = _model(portfolio, scope, method)
    x = np.asarray(np.linspace(-0.5, 0.5, 101) if moves is None else moves, dtype=float)
    liq = Liquidation(m)
    a = None if underlying is None else list(m.book.assets).index(underlying)
    eq, mm = liq.curve(a, np.concatenate([[0.0], x]))
    ref = m.book.prices[a] if a is not None else 1.0
    return {"moves": x, "prices": ref * (1.0 + x), "equity": eq[1:], "maintenance_margin": mm[1:],
            "pnl": eq[1:] - eq[0]}


def scenario_heatmap(portfolio: Portfolio, scope: ScopeArg, underlying: str,
                     spot_moves: np.ndarray | None = None,
                     vol_moves: np.ndarray | None = None, method: MarginMethod | None = None) -> dict[str, np.ndarray]:
    """P&L (vol_moves x spot_moves) of the scope's positions on `underlying` and its collateral in
    that asset, for relative spot moves and relative vol changes (0.2 = vols up 20 %)."""
    m = _model(portfolio, scope, method)
    xs = np.linspace(-0.3, 0.3, 25) if spot_moves is None else np.asarray(spot_moves, dtype=float)
    vs = np.linspace(-0.5, 0.5, 11) if vol_moves is None else np.asarray(vol_moves, dtype=float)
    a = list(m.book.assets).index(underlying)
    idx = np.flatnonzero(m.book.und == a)
    sub = m.book.take(idx)
    s0 = m.book.prices[a]
    spot = np.broadcast_to((s0 * (1.0 + xs))[None, :, None], (vs.size, xs.size, len(sub)))
    vol = (sub.vol[None, :] * (1.0 + vs[:, None]))[:, None, :]
    pnl = (values(sub, spot, vol) - values(sub)).sum(-1)
    for cidx, amt, bands in zip(m.coll_idx, m.coll_amt, m.coll_bands, strict=True):
        if cidx == a and not m.stable[a]:
            from workstation.core.collateral import haircut_value

            pnl = pnl + (haircut_value(float(amt), s0 * (1.0 + xs), bands)
                         - haircut_value(float(amt), s0, bands))[None, :]
    return {"spot_moves": xs, "vol_moves": vs, "prices": s0 * (1.0 + xs), "pnl": pnl}


def position_key(account: str, position_id: str) -> str:
    """Key of a position in a scope: ids are unique within an account, not across a pool."""
    return f"{account}/{position_id}"


def instrument_label(pos: Position) -> str:
    """A readable instrument name: 'BTC 26DEC25 100000 C (inv)', 'ETH PERP'."""
    exp = pos.expiry.strftime("%d%b%y").upper() if pos.expiry else ""
    if pos.kind == "option":
        text = f"{pos.underlying} {exp} {pos.strike:g} {'C' if pos.right == 'call' else 'P'}"
    elif pos.kind == "future":
        text = f"{pos.underlying} {exp} FUT"
    elif pos.kind == "perpetual":
        text = f"{pos.underlying} PERP"
    else:
        text = f"{pos.underlying} SPOT"
    return text + (" (inv)" if pos.settlement == "inverse" else "")


def position_labels(portfolio: Portfolio, scope: ScopeArg) -> dict[str, str]:
    """Readable instrument names by position key: 'BTC 26DEC25 100000 C (inv)', 'ETH PERP'."""
    sc = scope_of(portfolio, scope)
    out: dict[str, str] = {}
    seen: dict[tuple[Any, ...], str] = {}  # one label per instrument (a big book repeats them)
    for acc_id, pos in ((a.id, p) for a in portfolio.accounts for p in a.positions):
        if acc_id != sc.name.partition(":")[2] and acc_id not in sc.members:
            continue
        key = (pos.kind, pos.underlying, pos.expiry, pos.strike, pos.right, pos.settlement)
        label = seen.get(key)
        if label is None:
            label = seen[key] = instrument_label(pos)
        out[position_key(acc_id, pos.id)] = label
    return out


def coin_deltas(portfolio: Portfolio, scope: ScopeArg) -> dict[str, float]:
    """Delta as coin-settled venues show it, by position key (inverse options:
    q * (N(d1) - price in coin); other instruments: their delta)."""
    sc = scope_of(portfolio, scope)
    g = greeks(sc.book)
    return {position_key(a, i): float(d)
            for a, i, d in zip(sc.book.account, sc.book.ids, g.coin_delta, strict=True)}


__all__ = ["FUTURE", "OPTION", "PERPETUAL", "coin_deltas", "collateral_lines", "instrument_label", "pnl_curve",
           "position_key", "position_labels", "scenario_heatmap", "scope_of"]
