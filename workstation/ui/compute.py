"""The job a worker runs: call the engine for a scope and bundle what the views show.

No Qt and no margin maths here: only calls into `workstation.core` and choices of what to
ask it (which underlying, which range of moves to draw).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workstation.core.model import Portfolio
from workstation.ui.position_table import PositionTable, position_table

CURVE_POINTS = 121


@dataclass
class ScopeView:
    """Everything the window shows for one scope, as computed by the engine."""

    scope: str
    report: dict[str, Any]
    collateral: list[dict[str, Any]]
    labels: dict[str, str]  # by position key "account/id"
    underlyings: list[str]
    underlying: str | None
    curve: dict[str, Any] | None
    heatmap: dict[str, Any] | None
    margin_mode: str
    coin_deltas: dict[str, float] = field(default_factory=dict)  # by position key
    table: PositionTable | None = None  # the positions table's columns
    components: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # labels, IM components, collateral?
    reports: list[dict[str, Any]] | None = None
    elapsed_ms: float = 0.0
    serial: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def scope_mode(portfolio: Portfolio, scope: str) -> str:
    """Margin mode of `account:ID` or `pool:ID`."""
    kind, _, ident = scope.partition(":")
    if kind == "pool":
        return portfolio.pool(ident).margin_mode
    return portfolio.account(ident).margin_mode


def default_scope(portfolio: Portfolio) -> str | None:
    """The first pool, else the first account."""
    if portfolio.pools:
        return f"pool:{portfolio.pools[0].id}"
    if portfolio.accounts:
        return f"account:{portfolio.accounts[0].id}"
    return None


def scope_underlyings(report: dict[str, Any]) -> list[str]:
    """Underlyings that can move the scope: liquidation keys, else position underlyings."""
    liq = [k for k in report.get("liquidation", {}) if k != "all"]
    return liq or sorted(report.get("greeks", {}))


def main_underlying(report: dict[str, Any], underlyings: list[str], portfolio: Portfolio) -> str | None:
    """The underlying carrying the most component margin (ties: first listed)."""
    if not underlyings:
        return None
    owner = {(a.id, p.id): p.underlying for a in portfolio.accounts for p in a.positions}
    weight = dict.fromkeys(underlyings, 0.0)
    for pos in report.get("positions", []):
        und = owner.get((pos.get("account"), pos["id"]))
        if und in weight:
            weight[und] += abs(pos.get("component_margin") or 0.0)
    return max(underlyings, key=lambda u: weight[u])


def curve_moves(liquidation: dict[str, Any] | None) -> np.ndarray:
    """Relative moves to draw: at least +/-50 %, wide enough to show the liquidation prices
    (the engine searches -99 % .. +500 %, so the range never needs to go further)."""
    down, up = -0.5, 0.5
    liq = liquidation or {}
    if liq.get("down_pct") is not None:
        down = max(-0.99, min(down, 1.25 * liq["down_pct"] / 100.0))
    if liq.get("up_pct") is not None:
        up = min(5.0, max(up, 1.25 * liq["up_pct"] / 100.0))
    return np.linspace(down, up, CURVE_POINTS)


def component_arrays(report: dict[str, Any], labels: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label, component margin, is_collateral) arrays of every position and collateral asset."""
    positions = report.get("positions", [])
    collateral = [(f"{asset} collateral", float(v)) for asset, v in (report.get("collateral_components") or {}).items()
                  if v]
    names = [labels.get(f"{p.get('account')}/{p['id']}", p["id"]) for p in positions] + [a for a, _v in collateral]
    values = [float(p.get("component_margin") or 0.0) for p in positions] + [v for _a, v in collateral]
    is_coll = np.zeros(len(values), dtype=bool)
    is_coll[len(positions):] = True
    return np.array(names, dtype=object), np.array(values, dtype=float), is_coll


def compute_scope(
    portfolio: Portfolio,
    scope: str,
    underlying: str | None = None,
    all_reports: bool = False,
    cached: list[dict[str, Any]] | None = None,
    charts: bool = False,
) -> ScopeView:
    """Engine calls for `scope` (and every scope's report when `all_reports`).

    The figures and the positions table come first; the curve and heatmap of the chosen
    underlying are a second job (`compute_charts`), unless `charts` asks for them here.
    """
    from workstation.core import details, report  # imported here: monkeypatchable, lazy

    start = time.perf_counter()
    reports = report.build_reports(portfolio) if all_reports else None
    known = {r["scope"]: r for r in (reports or cached or [])}
    rep = known.get(scope) or report.build_report(portfolio, scope)
    underlyings = scope_underlyings(rep)
    if underlying not in underlyings:
        underlying = main_underlying(rep, underlyings, portfolio)
    sc = details.scope_of(portfolio, scope)  # built once for the labels, deltas and collateral
    labels = details.position_labels(portfolio, sc)
    coin = details.coin_deltas(portfolio, sc)
    view = ScopeView(
        scope=scope,
        report=rep,
        collateral=details.collateral_lines(portfolio, sc),
        labels=labels,
        coin_deltas=coin,
        table=position_table(rep, portfolio, labels, coin),
        components=component_arrays(rep, labels),
        underlyings=underlyings,
        underlying=underlying,
        curve=None,
        heatmap=None,
        margin_mode=scope_mode(portfolio, scope),
        reports=reports,
    )
    if charts:
        view.curve, view.heatmap = compute_charts(portfolio, scope, underlying, rep)
    view.elapsed_ms = (time.perf_counter() - start) * 1000.0
    return view


def compute_charts(
    portfolio: Portfolio, scope: str, underlying: str | None, rep: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(curve, heatmap) of `underlying` in `scope`: only that underlying is revalued."""
    from workstation.core import details

    if underlying is None:
        return None, None
    from workstation.core.methods import method_for

    liq = rep.get("liquidation", {}).get(underlying)
    m = method_for(details.scope_of(portfolio, scope))  # one margin method for both
    curve = details.pnl_curve(portfolio, scope, underlying, curve_moves(liq), method=m)
    heat = None
    if scope_mode(portfolio, scope) == "portfolio":
        heat = details.scenario_heatmap(portfolio, scope, underlying, method=m)
    return curve, heat


def view_charts(portfolio: Portfolio, view: ScopeView) -> tuple[ScopeView, dict[str, Any] | None,
                                                               dict[str, Any] | None]:
    """(view, curve, heatmap) for the view's scope and underlying (the window's chart job)."""
    curve, heat = compute_charts(portfolio, view.scope, view.underlying, view.report)
    return view, curve, heat
