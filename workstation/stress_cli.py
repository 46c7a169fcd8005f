"""`python -m workstation stress FILE|--db PATH --scenario NAME|--all [--json]` and friends.

    stress FILE --scenario ftx-2022            both bases of an episode (ftx-2022/close, /peak)
    stress FILE --all [--json]                 every shipped (and, with --db, saved) scenario
    stress FILE --replay PRICES.csv [--scheduler tcp://host:8786] [--workers N]
    stress FILE --adl                          positions ranked by their venue's ADL formula

`--json` prints one JSON document: `{"scenarios": [stress_document, ...]}` (with `--all` also
`"summary"`: every scenario x every scope, `stress_report.summary`), or the replay's
`{"worst_days": ...}`, or `{"adl": [...]}`. `--all` in text starts with that summary table.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from workstation.core.errors import WorkstationError


def add_stress_parser(sub: Any) -> None:
    s = sub.add_parser("stress", help="stress scenarios, contagion, ADL and history replay")
    s.add_argument("file", nargs="?", help="portfolio JSON file (portfolio@1)")
    s.add_argument("--db", help="read the book (and saved scenarios) from this database")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--scenario", action="append", metavar="NAME", help="a scenario (repeatable)")
    g.add_argument("--all", action="store_true", help="every shipped and saved scenario")
    g.add_argument("--replay", metavar="PRICES.csv", help="replay the book through a price history")
    g.add_argument("--adl", action="store_true", help="rank positions by their venue's ADL formula")
    s.add_argument("--list", action="store_true", help="list the scenarios and exit")
    s.add_argument("--impact", type=float, default=None,
                   help="cascade market impact: relative price move per 1,000,000 of net notional (0.001)")
    s.add_argument("--scheduler", help="with --replay: a Dask scheduler address (needs the dask extra)")
    s.add_argument("--workers", type=int, default=2, help="with --replay: threads on this machine")
    s.add_argument("--json", action="store_true", help="print one JSON document")


def _saved(args: argparse.Namespace) -> list:
    if not args.db:
        return []
    from workstation.store.stress_store import list_stress_scenarios, open_existing

    db = open_existing(args.db)
    try:
        return list_stress_scenarios(db)
    finally:
        db.close()


def run_stress(args: argparse.Namespace, load) -> int:
    from workstation.core.contagion import IMPACT_PER_MILLION
    from workstation.core.scenario_library import find_scenarios, historical_scenarios

    saved = _saved(args)
    if args.list:
        for s in historical_scenarios() + saved:
            print(f"{s.name:32} {s.title or s.kind}  {' to '.join(s.dates)}")
        return 0
    portfolio = load(args)
    impact = IMPACT_PER_MILLION if args.impact is None else args.impact
    if args.replay:
        return _replay(args, portfolio)
    if args.adl:
        from workstation.core.adl import adl_ranking

        rows = adl_ranking(portfolio)
        if args.json:
            print(json.dumps({"adl": rows}, indent=2, allow_nan=False, default=str))
        else:
            print(f"{'account':16} {'position':28} {'formula':8} {'PnL %':>9} {'eff. lev':>9} {'rank':>10}")
            for r in rows:
                lev = "inf" if r["effective_leverage"] == float("inf") else f"{r['effective_leverage']:.2f}"
                print(f"{r['account']:16} {r['id']:28} {r['formula']:8} {100 * r['pnl_pct']:8.2f}% {lev:>9} "
                      f"{r['rank']:10.4f}{'  at risk' if r['at_risk'] else ''}")
        return 0
    if args.all:
        scenarios = historical_scenarios() + saved
    elif args.scenario:
        scenarios = [s for name in args.scenario for s in find_scenarios(name, saved)]
    else:
        raise WorkstationError("stress needs --scenario NAME, --all, --replay PRICES.csv or --adl (--list names them)")
    from workstation.core.stress_eval import StressSession
    from workstation.core.stress_report import stress_document, summary

    session = StressSession(portfolio)  # profiles, scopes and figures shared by every scenario
    table = summary(portfolio, scenarios, session) if args.all else None
    docs = [stress_document(portfolio, s, impact=impact, session=session) for s in scenarios]
    if args.json:
        out: dict[str, Any] = {"scenarios": docs}
        if table is not None:
            out["summary"] = table
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        text = [format_summary(table)] if table is not None else []
        print("\n\n".join(text + [format_document(d, portfolio.base_currency) for d in docs]))
    return 0


def format_summary(table: dict[str, Any]) -> str:
    """Which scenario would liquidate which scope (apart, pooled) and at what multiple."""
    scopes = table["scopes"]
    width = max(14, *(len(s) for s in scopes))
    head = f"{'scenario':32} " + " ".join(f"{s:>{width}}" for s in scopes)
    lines = [f"Every scenario x every scope: liquidated, or the multiple of its moves that would (up to "
             f"{table['limit']:g}x); accounts apart, pools pooled", head]
    for r in table["rows"]:
        cells = []
        for s in scopes:
            c = r["cells"][s]
            cells.append("LIQUIDATED" if c["breach"] else f"{c['multiple']:.2f}x" if c["multiple"] is not None
                         else f"safe to {table['limit']:g}x")
        lines.append(f"{r['scenario']:32} " + " ".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


def _replay(args: argparse.Namespace, portfolio) -> int:
    from workstation.core.history import read_price_csv, replay

    prices = read_price_csv(args.replay)
    result = replay(portfolio, prices, scheduler=args.scheduler, workers=args.workers)
    worst = result.worst(5)
    if args.json:
        print(json.dumps({"days": len(prices) - 1, "worst_days": worst}, indent=2, allow_nan=False))
        return 0
    for scope, rows in worst.items():
        print(scope)
        for r in rows:
            flag = "  LIQUIDATED" if r["breach"] else ""
            print(f"  {r['day']}  equity {r['equity']:>16,.0f}  MM {r['maintenance_margin']:>14,.0f}  "
                  f"headroom {r['headroom']:>16,.0f}{flag}")
    return 0


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def format_document(d: dict[str, Any], base: str = "USD") -> str:
    sc = d["scenario"]
    lines = [f"{sc['name']}  {sc['title']}".rstrip()]
    moves = ", ".join(f"{a} {100 * m:+.2f} %" for a, m in sc["shocks"].items())
    depeg = ", ".join(f"{c} at {p:g}" for c, p in sc["depeg"].items())
    days = f"; {sc['days']:g} day(s)" if sc["days"] else ""
    lines.append("  moves: " + "; ".join(x for x in (moves, depeg) if x) + days)
    if d["not_shocked"]:
        lines.append("  not shocked (no sourced figure): " + ", ".join(d["not_shocked"]))
    lines.append(f"  {'scope':26} {'equity':>14} {'MM':>12} {'headroom':>14} {'shortfall':>12}  status ({base})")
    for s in d["scopes"]:
        status = "LIQUIDATED" if s["breach"] else "ok"
        mult = s.get("breach_multiple")
        if not s["breach"] and mult is not None:
            status += f" (liquidated at {mult:.2f}x this move)"
        lines.append(f"  {s['scope']:26} {_money(s['equity']):>14} {_money(s['maintenance_margin']):>12} "
                     f"{_money(s['equity'] - s['maintenance_margin']):>14} {_money(s['shortfall_mm']):>12}  {status}")
    for row in d["pooling"]:
        if row["verdict"] != "safe either way":
            lines.append(f"  pool {row['pool']}: {row['account']} {row['verdict']}")
    for mode in ("segregated", "pooled"):
        events = d["cascade"][mode]
        if events:
            lines.append(f"  cascade ({mode}): " + " -> ".join(f"{e['scope']} at {100 * e['t']:.0f} % of the move"
                                                             for e in events))
    for scope, tops in d["top_ups"].items():
        dep = tops["deposits"][0] if tops["deposits"] else None
        if dep:
            lines.append(f"  {scope}: cheapest save: deposit {dep['amount']:,.6g} {dep['asset']} "
                         f"({_money(dep['value'])} {base}) into {dep['into']}")
        for mv in tops.get("moves", [])[:1]:
            enough = "enough" if mv["enough"] else f"not enough: it can give {mv['donor_can_give']:,.6g}"
            lines.append(f"    or move {mv['amount']:,.6g} {mv['asset']} from {mv['from']} ({enough})")
    return "\n".join(lines)
