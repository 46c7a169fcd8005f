"""`python -m workstation reconcile FILE|--db PATH [--account ID] [--json]`: the figures the
venue reports beside ours (core.reconcile), per account and position: the venue's figure and
ours in the base currency, the difference in money and percent, and the unit conversion applied.

`--json` prints `{"reconcile": [{"account": ID, "base_currency": ..., "profile": ...,
"profile_version": ..., "rows": [...]}]}`, one row per figure as `core.reconcile.table_rows`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from workstation.core.errors import WorkstationError


def add_reconcile_parser(sub: Any) -> None:
    r = sub.add_parser("reconcile", help="the venue's own figures beside ours, with the differences")
    r.add_argument("file", nargs="?", help="portfolio JSON file (portfolio@1)")
    r.add_argument("--db", help="read the book from this database instead of FILE")
    r.add_argument("--account", help="one account (default: every account)")
    r.add_argument("--json", action="store_true", help="print one JSON document")


def run_reconcile(args: argparse.Namespace, load) -> int:
    from workstation.core.reconcile import table_rows
    from workstation.core.report import build_report

    portfolio = load(args)
    ids = [a.id for a in portfolio.accounts]
    if args.account is not None and args.account not in ids:
        raise WorkstationError(f"no account {args.account!r}; accounts: {', '.join(ids)}")
    sections = []
    for aid in [args.account] if args.account else ids:
        report = build_report(portfolio, f"account:{aid}")
        sections.append({"account": aid, "base_currency": report["base_currency"],
                         "profile": report.get("profile"), "profile_version": report.get("profile_version"),
                         "rows": table_rows(report)})
    if args.json:
        print(json.dumps({"reconcile": sections}, indent=2, allow_nan=False))
    else:
        print("\n\n".join(format_section(s) for s in sections))
    return 0


def _value(x: float | None, figure: str) -> str:
    if x is None:
        return "-"
    if figure == "margin_usage":
        return f"{100.0 * x:,.4g} %"
    return f"{x:,.6g}" if 0 < abs(x) < 1 else f"{x:,.2f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+,.2f} %"


def format_section(section: dict[str, Any]) -> str:
    from workstation.format import table

    version = section.get("profile_version") or "undated"
    head = (f"== account:{section['account']} ({section['base_currency']}; profile "
            f"{section.get('profile')} {version})")
    rows = section["rows"]
    if not rows:
        return f"{head}\nno venue figures: import the venue's ccxt dump (positions, balance) to compare"
    lines = table(
        ("Item", "Figure", "Venue", "Ours", "Ours - venue", "%", "Conversion"),
        [(r["position"] or "(account)", r["figure"].replace("_", " "), _value(r["venue"], r["figure"]),
          _value(r["computed"], r["figure"]), _diff(r), _pct(r["pct"]), r["conversion"]) for r in rows],
        left=2,
    )
    sources = list(dict.fromkeys(f"{r['position'] or '(account)'}: {r['source']}" + (
        f" (as of {r['as_of']})" if r.get("as_of") else "") for r in rows if r.get("source")))
    return "\n".join([head, lines, *(["sources:"] + [f"  {s}" for s in sources] if sources else [])])


def _diff(row: dict[str, Any]) -> str:
    d = row["diff"]
    if d is None:
        if row["computed"] is None:  # ours has no such figure: say why
            return "no liquidation" if row["figure"] == "liquidation_price" else "not computed"
        return "-"
    if row["figure"] == "margin_usage":
        return f"{100.0 * d:+,.4g} pt"
    return f"{d:+,.6g}" if 0 < abs(d) < 0.01 else f"{d:+,.2f}"
