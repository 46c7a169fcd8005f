"""One document per scenario: what the CLI prints (`stress --json`) and the Stress tab shows.

    {"scenario": {...}, "not_shocked": [...], "settlements": [...],
     "scopes": [ScopeStress.to_dict() + {"breach_multiple": m}],
     "pooling": [pooled_vs_segregated rows],
     "cascade": {"segregated": [events], "pooled": [events]},
     "top_ups": {scope: {"deposits": [...], "moves": [...]}}}

`breach_multiple` is the smallest multiple of the scenario (up to 5x) at which the scope would
be liquidated: how far the day is from liquidating it. Top-ups are given for every scope that
breaches under the scenario, at the shocked state.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from workstation.core.contagion import (
    IMPACT_PER_MILLION,
    breach_multiple,
    cascade,
    pooled_vs_segregated,
    top_up,
    transfers,
)
from workstation.core.model import Portfolio
from workstation.core.report import scope_names
from workstation.core.stress import Scenario, apply_scenario_detailed, figures, stable_assets, stress_scopes

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


def stress_document(portfolio: Portfolio, scenario: Scenario, *, impact: float = IMPACT_PER_MILLION,
                    multiples: bool = True, base: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    names = scope_names(portfolio)
    base = base if base is not None else figures(portfolio, names)
    shocked, settled = apply_scenario_detailed(portfolio, scenario)
    results = stress_scopes(portfolio, scenario, names, base=base)
    scopes = []
    for r in results:
        row = r.to_dict()
        if multiples:
            row["breach_multiple"] = breach_multiple(portfolio, scenario, r.scope, MULTIPLE_LIMIT)
        scopes.append(row)
    top_ups = {}
    for r in results:
        if r.breach:
            entry: dict[str, Any] = {"deposits": top_up(shocked, r.scope)[:5],
                                     "deposits_to_im": top_up(shocked, r.scope, "im")[:3]}
            if r.scope.startswith("account:"):
                entry["moves"] = transfers(shocked, r.scope.partition(":")[2])[:5]
            top_ups[r.scope] = entry
    return {
        "scenario": scenario.to_dict(),
        "not_shocked": not_shocked(portfolio, scenario),
        "settlements": [asdict(s) for s in settled],
        "scopes": scopes,
        "pooling": pooled_vs_segregated(portfolio, scenario),
        "cascade": {"segregated": [e.to_dict() for e in cascade(portfolio, scenario, False, impact)],
                    "pooled": [e.to_dict() for e in cascade(portfolio, scenario, True, impact)]},
        "impact_per_million": impact,
        "top_ups": top_ups,
    }


def shock_curve(portfolio: Portfolio, scenario: Scenario, scope: str, multiples: list[float]) -> dict[str, list]:
    """Equity, MM and IM of `scope` against the scenario scaled by each multiple (the chart)."""
    out: dict[str, list] = {"multiple": list(multiples), "equity": [], "maintenance_margin": [], "initial_margin": []}
    for m in multiples:
        r = stress_scopes(portfolio, scenario.scaled(m), [scope], top=0)[0]
        out["equity"].append(r.equity)
        out["maintenance_margin"].append(r.maintenance_margin)
        out["initial_margin"].append(r.initial_margin)
    return out
