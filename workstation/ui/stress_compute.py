"""The jobs the Stress tab runs in workers (engine calls only: no Qt, no margin maths here) and
the text and rows it shows. Every job takes the panel's `StressSession`, so profiles, scopes,
method objects and evaluated points are shared between runs (the session is locked)."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workstation.core.model import Portfolio
from workstation.core.stress_eval import StressSession

CURVE_MULTIPLES = [k / 8 for k in range(25)]  # 0 to 3x: points of the searches' grid
# the BTC x ETH grid: log price steps of 0.25 from -12 to +10 steps (prices x0.05 to x12.2,
# -95 % to +1118 %: far enough for the demo pool's liquidation line), today on the grid
GRID_LOG_STEP = 0.25
GRID_STEPS = (-12, 10)


def grid_moves() -> list[float]:
    """Moves evenly spaced in log price, with 0 among them."""
    return [float(np.expm1(k * GRID_LOG_STEP)) for k in range(GRID_STEPS[0], GRID_STEPS[1] + 1)]


@dataclass
class StressView:
    scenario: str
    scope: str
    document: dict[str, Any]
    curve: dict[str, Any]
    draft: bool = False
    elapsed_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def compute_stress(session: StressSession, scenario: Any, scope: str, draft: bool = False) -> StressView:
    """The scenario's document and the chart of `scope` against shock size."""
    from workstation.core.stress_report import shock_curve, stress_document

    start = time.perf_counter()
    doc = stress_document(session.portfolio, scenario, session=session)
    curve = shock_curve(session.portfolio, scenario, scope, CURVE_MULTIPLES, session)
    return StressView(scenario.name, scope, doc, curve, draft, (time.perf_counter() - start) * 1000.0)


def compute_summary(session: StressSession, scenarios: list[Any]) -> dict[str, Any]:
    """Every scope under every scenario (`stress_report.summary`), with the time it took."""
    from workstation.core.stress_report import summary

    start = time.perf_counter()
    out = summary(session.portfolio, scenarios, session)
    out["elapsed_ms"] = (time.perf_counter() - start) * 1000.0
    return out


@dataclass
class JointView:
    scope: str
    betas: dict[str, Any]
    distances: dict[str, dict[str, float | None]]
    grid: dict[str, Any] | None
    elapsed_ms: float = 0.0
    moves: dict[str, float] = field(default_factory=dict)  # each moving asset's beta in the joint move


def profile_betas(session: StressSession, scope: str) -> Any:
    """The betas of the scope's profile (read from the session's profiles: no engine work)."""
    from workstation.core.correlated import betas_from_profile
    from workstation.core.profiles import get_profile

    kind, _, ident = scope.partition(":")
    p = session.portfolio
    name = p.pool(ident).profile if kind == "pool" else p.account(ident).profile
    return betas_from_profile(get_profile(name, session.profiles))


def compute_joint(session: StressSession, scope: str, betas: Any = None) -> JointView:
    """Each scope's liquidation distance under the correlated move (the driver moves, the rest by
    beta) and the BTC x ETH grid of `scope` (other assets following BTC by their betas)."""
    from workstation.core.correlated import joint_grid, joint_liquidations, joint_shocks

    start = time.perf_counter()
    betas = betas if betas is not None else profile_betas(session, scope)
    followed = joint_shocks(session.portfolio, betas, session.stable)
    distances = joint_liquidations(session, session.names, betas) if betas.driver in session.portfolio.market else {}
    grid = None
    if {"BTC", "ETH"} <= set(session.portfolio.market):
        moves = grid_moves()
        grid = joint_grid(session.portfolio, scope, "BTC", "ETH", moves, moves, betas, session=session).to_dict()
    return JointView(scope, betas.to_dict(), distances, grid, (time.perf_counter() - start) * 1000.0, followed)


@dataclass
class AdlView:
    rows: list[dict[str, Any]]
    closed: list[tuple[str, str]]
    scopes: list[dict[str, Any]]
    elapsed_ms: float = 0.0


def compute_adl(session: StressSession, top: int) -> AdlView:
    """Positions ranked by their venue's ADL formula, and every scope before and after the venue
    closes the `top` positions most exposed (at the mark)."""
    from workstation.core.adl import adl_ranking, without_positions

    start = time.perf_counter()
    with session.lock:
        rows = adl_ranking(session.portfolio)
        closed = [(r["account"], r["id"]) for r in rows if r["at_risk"]][:max(0, top)]
        after = StressSession(without_positions(session.portfolio, closed), profiles=session.profiles)
        scopes = []
        for s in session.names:
            b, a = session.plain(s), after.plain(s)
            scopes.append({"scope": s, "equity_before": float(b.equity[0]), "equity_after": float(a.equity[0]),
                           "mm_before": float(b.mm[0]), "mm_after": float(a.mm[0]),
                           "headroom_before": float(b.headroom[0]), "headroom_after": float(a.headroom[0]),
                           "breach": bool(a.breach[0])})
    return AdlView(rows, closed, scopes, (time.perf_counter() - start) * 1000.0)


def read_history(path: str) -> Any:
    """A price-history CSV read and checked (pandas), for the store to save."""
    from workstation.core.history import read_price_csv

    return read_price_csv(path)


def fit(prices: Any, driver: str, start: Any = None, end: Any = None) -> Any:
    from workstation.core.correlated import fit_betas

    return fit_betas(prices, driver, start, end)


def drafted_portfolio(whatif_panel: Any) -> Portfolio | None:
    """The book as the What-if tab's Apply to book would leave it: its last computed drafts added
    to their account and their cash legs (premiums, fees) paid (None without drafts)."""
    from workstation.core.whatif import with_trades

    portfolio = getattr(whatif_panel, "portfolio", None)
    result = getattr(whatif_panel, "result", None)
    if portfolio is None or result is None or not result.trades:
        return None
    return with_trades(portfolio, result.account, result.trades, result.legs)


def scope_label(scope: str) -> str:
    """A scope as the tables show it: the account's id, or "pool ID"."""
    kind, _, ident = scope.partition(":")
    return f"pool {ident}" if kind == "pool" else ident


def status_of(breach: bool, multiple: float | None, limit: float = 5.0) -> str:
    if breach:
        return "liquidated"
    return f"liquidated at {multiple:.2f}×" if multiple is not None else f"safe to {limit:g}×"


def scope_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the results table."""
    rows = []
    for s in doc["scopes"]:
        worst = ", ".join(f"{p['id']} {p['pnl']:,.0f}" for p in s["worst_positions"]) or "none lose"
        rows.append({"scope": s["scope"], "label": scope_label(s["scope"]), "equity": s["equity"],
                     "maintenance_margin": s["maintenance_margin"],
                     "initial_margin": s["initial_margin"], "headroom": s["headroom"],
                     "shortfall_mm": s["shortfall_mm"], "shortfall_im": s["shortfall_im"], "pnl": s["pnl"],
                     "status": status_of(s["breach"], s.get("breach_multiple")), "breach": s["breach"],
                     "_tip": f"worst positions: {worst}"})
    return rows


def describe(s: Any) -> str:
    """The scenario: title, dates, moves and the source of every figure (rich text)."""
    moves = ", ".join(f"{html.escape(a)} {100 * m:+.2f} %" for a, m in s.shocks.items())
    depeg = ", ".join(f"{html.escape(c)} at {p:g}" for c, p in s.depeg.items())
    vols = ", ".join(f"{html.escape(a)} {100 * v:+g} {'vol points' if s.vol_mode == 'points' else '%'}"
                     for a, v in s.vol_shift.items())
    bits = [x for x in (moves, depeg, vols and f"vols {vols}", s.days and f"{s.days:g} day(s) forward") if x]
    text = f"<p><b>{html.escape(s.title or s.name)}</b> {html.escape(' to '.join(s.dates))}<br>{'; '.join(bits)}</p>"
    if s.source:
        text += "<p><small>" + "<br>".join(html.escape(x.strip()) for x in s.source.split(";")) + "</small></p>"
    for note in s.notes:
        text += f"<p><small><i>{html.escape(note)}</i></small></p>"
    return text


def timeline_html(doc: dict[str, Any], base: str = "USD") -> str:
    """Pooling verdicts, the cascade in order, and the top-ups, as rich text."""
    out = []
    if doc["not_shocked"]:
        out.append(f"<p><i>Not moved (no sourced figure): {', '.join(doc['not_shocked'])}</i></p>")
    for s in doc.get("settlements", []):
        out.append(f"<p>{html.escape(s['account'])}/{html.escape(s['position'])} expires on the way, settled at "
                   f"{s['price']:,.2f}</p>")
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
