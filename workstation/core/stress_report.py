"""One document per scenario: what the CLI prints (`stress --json`) and the Stress tab shows.

    {"scenario": {...}, "not_shocked": [...], "settlements": [...],
     "scopes": [ScopeStress.to_dict() + {"breach_multiple": m}],
     "pooling": [pooled_vs_segregated rows],
     "cascade": {"segregated": [events], "pooled": [events]},
     "top_ups": {scope: {"deposits": [...], "moves": [...]}}}

`breach_multiple` is the smallest multiple of the scenario's moves (up to 5x, over the same
horizon) at which the scope would be liquidated: how far the day is from liquidating it. Top-ups
are given for every scope that breaches under the scenario, at the shocked state.

`summary` gives the breach multiple of every scope under every scenario: which day would have
liquidated which account, apart and pooled. Every figure comes from a `StressSession`.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from workstation.core.contagion import (
    IMPACT_PER_MILLION,
    STEP,
    TOL,
    Deposits,
    at_scenario,
    breach_multiples,
    cascade,
    pooled_vs_segregated,
    top_up,
    transfers,
)
from workstation.core.model import Portfolio
from workstation.core.report import _usage
from workstation.core.stress import Scenario, ScopeStress, stable_assets
from workstation.core.stress_eval import Line, StressSession
from workstation.core.stress_search import first_breach

MULTIPLE_LIMIT = 5.0


def not_shocked(portfolio: Portfolio, scenario: Scenario) -> list[str]:
    """Non-stable assets of the book the scenario leaves where they are."""
    stable = stable_assets(portfolio)
    moved = set(scenario.shocks) | set(scenario.depeg)
    if "*" in scenario.shocks:
        return []
    used = {p.underlying for a in portfolio.accounts for p in a.positions} | \
        {c for a in portfolio.accounts for c in a.collateral}
    return sorted(a for a in used if a not in stable and a not in moved)


def _losers(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float], accounts: set[str],
            top: int) -> list[dict[str, Any]]:
    rows = [{"account": k[0], "id": k[1], "pnl": after[k] - v} for k, v in before.items()
            if k[0] in accounts and k in after]
    rows.sort(key=lambda r: r["pnl"])
    return [r for r in rows[:top] if r["pnl"] < 0]


def _accounts_of(portfolio: Portfolio, scope: str) -> set[str]:
    kind, _, ident = scope.partition(":")
    return set(portfolio.pool(ident).accounts) if kind == "pool" else {ident}


def scope_results(session: StressSession, scenario: Scenario, scopes: list[str] | None = None,
                  top: int = 5) -> list[ScopeStress]:
    """Every scope (accounts, then pools) before (the book as it is) and under `scenario`."""
    names = scopes if scopes is not None else session.names
    after = at_scenario(session, scenario, names)
    values_before = session.position_values(None) if top else {}
    values_after = session.position_values(scenario) if top else {}
    out = []
    for s in names:
        a, b = after[s], session.plain(s)
        eq, mm = float(a.equity[0]), float(a.mm[0])
        losers = _losers(values_before, values_after, _accounts_of(session.portfolio, s), top) if top else []
        out.append(ScopeStress(s, eq, float(a.im[0]), mm, _usage(mm, eq), float(b.equity[0]), float(b.mm[0]),
                               losers, a.threshold))
    return out


def stress_document(portfolio: Portfolio, scenario: Scenario, *, impact: float = IMPACT_PER_MILLION,
                    multiples: bool = True, session: StressSession | None = None) -> dict[str, Any]:
    """The scenario's document (see the module docstring)."""
    session = session if session is not None else StressSession(portfolio)
    names = session.names
    with session.lock:
        # the search's grid holds the scenario itself (t = 1): the results come from it
        mult = breach_multiples(session, scenario, names, MULTIPLE_LIMIT) if multiples else {}
        results = scope_results(session, scenario, names)
        scopes = []
        for r in results:
            row = r.to_dict()
            if multiples:
                row["breach_multiple"] = mult[r.scope]
            scopes.append(row)
        breached = [r for r in results if r.breach]
        shocked, settled = session.shocked(scenario)
        top_ups = {}
        if breached:
            deposits = Deposits(shocked)
            for r in breached:
                entry: dict[str, Any] = {"deposits": top_up(shocked, r.scope, deposits=deposits)[:5],
                                         "deposits_to_im": top_up(shocked, r.scope, "im", deposits=deposits)[:3]}
                if r.scope.startswith("account:"):
                    entry["moves"] = transfers(shocked, r.scope.partition(":")[2], deposits=deposits)[:5]
                top_ups[r.scope] = entry
        return {
            "scenario": scenario.to_dict(),
            "not_shocked": not_shocked(portfolio, scenario),
            "settlements": [asdict(s) for s in settled],
            "scopes": scopes,
            "pooling": pooled_vs_segregated(portfolio, scenario, session),
            "cascade": {"segregated": [e.to_dict() for e in cascade(portfolio, scenario, False, impact,
                                                                    session=session)],
                        "pooled": [e.to_dict() for e in cascade(portfolio, scenario, True, impact, session=session)]},
            "impact_per_million": impact,
            "top_ups": top_ups,
        }


def shock_curve(portfolio: Portfolio, scenario: Scenario, scope: str, multiples: list[float],
                session: StressSession | None = None) -> dict[str, list]:
    """Equity, MM and IM of `scope` against the scenario's moves times each multiple (the chart)."""
    session = session if session is not None else StressSession(portfolio)
    f = session.at(Line(scope, scenario), np.asarray(multiples, dtype=float))
    return {"multiple": list(multiples), "equity": f.equity.tolist(), "maintenance_margin": f.mm.tolist(),
            "initial_margin": f.im.tolist(), "liquidation_threshold": f.threshold}


def summary(portfolio: Portfolio, scenarios: list[Scenario], session: StressSession | None = None,
            limit: float = MULTIPLE_LIMIT) -> dict[str, Any]:
    """Every scope under every scenario: liquidated by the scenario itself, or the multiple of
    its moves (up to `limit`) that would liquidate it, or safe to `limit`; accounts apart and
    pools (an account in a pool shares the pool's fate when pooled).

        {"limit": 5.0, "scopes": [...], "pools": {pool: [accounts]},
         "rows": [{"scenario": name, "title": ..., "dates": [...],
                   "cells": {scope: {"breach": bool, "multiple": m | None}}}]}
    """
    session = session if session is not None else StressSession(portfolio)
    names = session.names
    lines = [Line(s, sc) for sc in scenarios for s in names]
    with session.lock:
        hits, _ = first_breach(session, lines, 0.0, limit, max(1, math.ceil(limit / STEP - 1e-9)), TOL)
        at_one = session.figures([(line, np.array([1.0])) for line in lines])
    rows = []
    k = 0
    for sc in scenarios:
        cells = {}
        for s in names:
            h = float(hits[k])
            cells[s] = {"breach": bool(at_one[k].breach[0]), "multiple": None if math.isnan(h) else h,
                        "headroom": float(at_one[k].headroom[0])}
            k += 1
        rows.append({"scenario": sc.name, "title": sc.title, "dates": list(sc.dates), "cells": cells})
    return {"limit": limit, "scopes": names, "pools": {p.id: list(p.accounts) for p in portfolio.pools},
            "rows": rows}
