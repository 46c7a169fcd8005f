"""The job the Stress tab runs in a worker: engine calls only, no Qt and no margin maths."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workstation.core.model import Portfolio

CURVE_MULTIPLES = [float(x) for x in np.linspace(0.0, 3.0, 25)]
GRID_MOVES = [float(x) for x in np.linspace(-0.8, 1.2, 11)]


@dataclass
class StressView:
    scenario: str
    scope: str
    document: dict[str, Any]
    curve: dict[str, list]
    grid: dict[str, Any] | None
    draft: bool = False
    elapsed_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def compute_stress(portfolio: Portfolio, scenario: Any, scope: str, draft: bool = False) -> StressView:
    """The scenario's document, the chart of `scope` against shock size and its BTC x ETH grid."""
    from workstation.core.correlated import joint_grid
    from workstation.core.stress_report import shock_curve, stress_document

    start = time.perf_counter()
    doc = stress_document(portfolio, scenario)
    curve = shock_curve(portfolio, scenario, scope, CURVE_MULTIPLES)
    grid = None
    if {"BTC", "ETH"} <= set(portfolio.market):
        grid = joint_grid(portfolio, scope, "BTC", "ETH", GRID_MOVES, GRID_MOVES).to_dict()
    return StressView(scenario.name, scope, doc, curve, grid, draft, (time.perf_counter() - start) * 1000.0)


def drafted_portfolio(whatif_panel: Any) -> Portfolio | None:
    """The book with the What-if tab's drafted trades added (None without drafts)."""
    from workstation.core.whatif import with_trades
    from workstation.ui.whatif_compute import resolve_trades

    portfolio = getattr(whatif_panel, "portfolio", None)
    account = whatif_panel.account_id() if portfolio is not None else None
    drafts = whatif_panel.drafts() if account else []
    if not drafts:
        return None
    return with_trades(portfolio, account, resolve_trades(portfolio, account, drafts))


def scope_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the results table."""
    rows = []
    for s in doc["scopes"]:
        mult = s.get("breach_multiple")
        status = "liquidated" if s["breach"] else (f"liquidated at {mult:.2f}x" if mult is not None else "safe")
        rows.append({"scope": s["scope"], "equity": s["equity"], "maintenance_margin": s["maintenance_margin"],
                     "initial_margin": s["initial_margin"], "headroom": s["equity"] - s["maintenance_margin"],
                     "shortfall_mm": s["shortfall_mm"], "shortfall_im": s["shortfall_im"], "pnl": s["pnl"],
                     "status": status, "breach": s["breach"],
                     "_tip": ", ".join(f"{p['id']} {p['pnl']:,.0f}" for p in s["worst_positions"]) or "no losses"})
    return rows


def timeline_html(doc: dict[str, Any], base: str = "USD") -> str:
    """Pooling verdicts, the cascade in order, and the top-ups, as rich text."""
    out = []
    if doc["not_shocked"]:
        out.append(f"<p><i>Not moved (no sourced figure): {', '.join(doc['not_shocked'])}</i></p>")
    verdicts = [r for r in doc["pooling"] if r["verdict"] != "safe either way"]
    out.append("<p><b>Pooled versus apart</b><br>" + ("<br>".join(
        f"{r['account']} in pool {r['pool']}: {r['verdict']}" for r in verdicts) or "no account changes fate") + "</p>")
    for mode in ("segregated", "pooled"):
        events = doc["cascade"][mode]
        title = "apart" if mode == "segregated" else "pooled"
        if not events:
            out.append(f"<p><b>Cascade, {title}</b><br>no liquidation on the way</p>")
            continue
        steps = [f"{e['step']}. at {100 * e['t']:.0f} % of the move: <b>{e['scope']}</b> liquidated "
                 f"(equity {e['equity']:,.0f}, MM {e['maintenance_margin']:,.0f} {base}; {e['cause']})" for e in events]
        out.append(f"<p><b>Cascade, {title}</b><br>" + "<br>".join(steps) + "</p>")
    for scope, tops in doc["top_ups"].items():
        lines = [f"deposit {d['amount']:,.6g} {d['asset']} ({d['value']:,.0f} {base}) into {d['into']}"
                 for d in tops["deposits"][:3]]
        lines += [f"move {m['amount']:,.6g} {m['asset']} from {m['from']}"
                  + ("" if m["enough"] else f" (it can give only {m['donor_can_give']:,.6g})")
                  for m in tops.get("moves", [])[:2]]
        out.append(f"<p><b>What would have saved {scope}</b> (cheapest first)<br>" + "<br>".join(lines) + "</p>")
    return "".join(out)
