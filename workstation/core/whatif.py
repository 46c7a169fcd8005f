"""What-if: the report of an account before and after hypothetical trades, and hedge suggestions.

`suggest` finds the quantity of one hedge instrument that
- `delta`: brings the account's delta on the hedge's underlying (collateral included) to zero;
- `margin`: minimises the account's initial margin;
- `liquidation`: pushes the nearest liquidation on the hedge's underlying furthest away.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from workstation.core.book import Book
from workstation.core.errors import WorkstationError
from workstation.core.methods import method_for
from workstation.core.model import Portfolio, Position
from workstation.core.report import build_report, make_scope
from workstation.core.valuation import greeks

MONEY_KEYS = ("collateral_value", "equity", "initial_margin", "maintenance_margin", "margin_usage",
              "standalone_initial_margin", "offset", "segregated_initial_margin")
OBJECTIVES = ("delta", "margin", "liquidation")


def with_trades(portfolio: Portfolio, account_id: str, trades: Sequence[Position]) -> Portfolio:
    """A copy of `portfolio` with `trades` added to the account (ids made unique)."""
    new = copy.deepcopy(portfolio)
    try:
        acc = new.account(account_id)
    except KeyError:
        raise WorkstationError(f"no account {account_id!r}") from None
    taken = {p.id for p in acc.positions}
    for k, trade in enumerate(trades, 1):
        pid = trade.id or f"trade-{k}"
        base, n = pid, 1
        while pid in taken:
            n += 1
            pid = f"{base}-{n}"
        taken.add(pid)
        if acc.margin_mode == "isolated" and trade.isolated_margin is None:
            raise WorkstationError(f"trade {pid}: an isolated account needs isolated_margin")
        if acc.margin_mode != "isolated" and trade.isolated_margin is not None:
            raise WorkstationError(f"trade {pid}: no isolated_margin outside an isolated account "
                                   f"({account_id} is {acc.margin_mode})")
        acc.positions.append(replace(trade, id=pid))
    return new


def delta_of(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key in MONEY_KEYS:
        a, b = after.get(key), before.get(key)
        if isinstance(a, int | float) and isinstance(b, int | float):
            out[key] = a - b
    return out


def whatif(portfolio: Portfolio, account_id: str, trades: Sequence[Position]) -> dict[str, Any]:
    scope = f"account:{account_id}"
    before = build_report(portfolio, scope)
    after = build_report(with_trades(portfolio, account_id, trades), scope)
    return {"before": before, "after": after, "delta": delta_of(before, after)}


# ---------------------------------------------------------------------------- suggestions
def _unit_delta(portfolio: Portfolio, hedge: Position) -> float:
    book = Book.from_positions([("hedge", replace(hedge, quantity=1.0))], portfolio)
    return float(greeks(book).delta[0])


def _account_delta(portfolio: Portfolio, account_id: str, underlying: str) -> float:
    report = build_report(portfolio, f"account:{account_id}", with_liquidation=False)
    return float(report["greeks"].get(underlying, {}).get("delta", 0.0))


def _im(portfolio: Portfolio, account_id: str, hedge: Position, q: float) -> float:
    p = with_trades(portfolio, account_id, [replace(hedge, quantity=q)]) if q else portfolio
    return method_for(make_scope(p, f"account:{account_id}")).requirement()[0]


def _liq_distance(portfolio: Portfolio, account_id: str, hedge: Position, q: float) -> float:
    """Nearest liquidation move (fraction) on the hedge's underlying; 5.0 when none."""
    from workstation.core.liquidation import Liquidation

    p = with_trades(portfolio, account_id, [replace(hedge, quantity=q)]) if q else portfolio
    liq = Liquidation(method_for(make_scope(p, f"account:{account_id}")))
    assets = list(p.market)
    idx = assets.index(hedge.underlying)
    if idx not in liq.assets:
        return 5.0
    down, up = liq.search()
    j = liq.assets.index(idx)
    d = 5.0 if np.isnan(down[j]) else -down[j]
    u = 5.0 if np.isnan(up[j]) else up[j]
    return float(min(d, u))


def _golden_min(f, lo: float, hi: float, iters: int = 40) -> float:
    g = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return 0.5 * (a + b)


def suggest(portfolio: Portfolio, account_id: str, hedge: Position, objective: str) -> dict[str, Any]:
    if objective not in OBJECTIVES:
        raise WorkstationError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    hedge = replace(hedge, id=hedge.id or "hedge")
    unit = _unit_delta(portfolio, hedge)
    if unit == 0:
        raise WorkstationError("the hedge instrument has no delta: it cannot hedge")
    exposure = _account_delta(portfolio, account_id, hedge.underlying)
    q_delta = -exposure / unit
    detail: dict[str, Any] = {}
    if objective == "delta":
        q = q_delta
        detail = {"delta_before": exposure, "delta_after": 0.0}
    else:
        span = max(abs(q_delta), 1e-9) * 2.0
        if abs(q_delta) < 1e-12:
            span = 1.0 / abs(unit)
        if objective == "margin":
            f = lambda q: _im(portfolio, account_id, hedge, float(q))  # noqa: E731
        else:
            f = lambda q: -_liq_distance(portfolio, account_id, hedge, float(q))  # noqa: E731
        # widen the search while the best quantity sits on its edge (at most 2^6 times)
        for _ in range(7):
            qs = np.linspace(-span, span, 41)
            vals = np.array([f(q) for q in qs])
            k = int(np.argmin(vals))
            if 0 < k < qs.size - 1:
                break
            span *= 2.0
        lo, hi = qs[max(k - 1, 0)], qs[min(k + 1, qs.size - 1)]
        q = _golden_min(f, float(lo), float(hi), iters=30 if objective == "margin" else 20)
        if f(q) > vals[k]:
            q = float(qs[k])
        if f(0.0) <= f(q):
            q = 0.0
        if objective == "margin":
            detail = {"initial_margin_before": f(0.0), "initial_margin_after": f(q)}
        else:
            detail = {"distance_before_pct": -100 * f(0.0), "distance_after_pct": -100 * f(q)}
    result = whatif(portfolio, account_id, [replace(hedge, quantity=float(q))] if q else [])
    result["suggestion"] = {"quantity": float(q), "objective": objective,
                            "underlying": hedge.underlying, "kind": hedge.kind, **detail}
    return result
