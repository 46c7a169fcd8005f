"""Plain-text rendering of reports for the terminal: aligned tables, no maths."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_SUMMARY = (
    ("Collateral value", "collateral_value"), ("Equity", "equity"),
    ("Initial margin", "initial_margin"), ("Maintenance margin", "maintenance_margin"),
    ("Standalone IM (sum)", "standalone_initial_margin"), ("Offset (saved by netting)", "offset"),
    ("Segregated IM (accounts apart)", "segregated_initial_margin"),
)
_POSITION_COLS = (
    ("Position", "id", "s"), ("Account", "account", "s"), ("Mark", "mark_price", "p"),
    ("Value", "market_value", "m"), ("uPnL", "unrealized_pnl", "m"), ("Delta", "delta", "g"),
    ("Gamma", "gamma", "g"), ("Vega", "vega", "m"), ("Theta", "theta", "m"),
    ("Standalone", "standalone_margin", "m"), ("Marginal", "marginal_margin", "m"),
    ("Component", "component_margin", "m"),
)


def money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.2f}"


def _cell(x: Any, kind: str) -> str:
    if x is None:
        return "-"
    if kind == "s":
        return str(x)
    if kind == "p":
        return f"{x:,.6g}" if abs(x) < 1 else f"{x:,.2f}"
    if kind == "g":
        return f"{x:,.6g}"
    return money(x)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Columns padded to their widest cell; the first `left` columns left-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def format_report(r: dict[str, Any]) -> str:
    cur = r.get("base_currency", "")
    lines = [f"== {r['scope']} ({cur})"]
    width = max(len(label) for label, _ in _SUMMARY)
    if r.get("profile"):  # the margin profile and the version in force on the book's date
        lines.append(f"{'Profile'.ljust(width)}  {r['profile']} ({r.get('profile_version') or 'undated'})")
    for label, key in _SUMMARY:
        if key in r:
            lines.append(f"{label.ljust(width)}  {money(r[key]).rjust(16)}")
    usage = r.get("margin_usage")
    lines.append(f"{'Margin usage (MM/equity)'.ljust(width)}  "
                 f"{('-' if usage is None else f'{100 * usage:.2f} %').rjust(16)}")
    if r["positions"]:
        lines += ["", table([h for h, _, _ in _POSITION_COLS],
                            [[_cell(p[k], t) for _, k, t in _POSITION_COLS] for p in r["positions"]],
                            left=2)]
    comps = r.get("collateral_components") or {}
    if any(comps.values()):
        lines += ["", table(["Collateral", "Component"], [[a, money(v)] for a, v in comps.items()])]
    if r.get("greeks"):
        lines += ["", table(["Underlying", "Delta", "Gamma", "Vega", "Theta"],
                            [[u, _cell(g["delta"], "g"), _cell(g["gamma"], "g"), money(g["vega"]),
                              money(g["theta"])] for u, g in r["greeks"].items()])]
    liq = r.get("liquidation") or {}
    if liq:
        rows = []
        for u, d in liq.items():
            rows.append([u, _pct(d.get("down_pct")), money(d.get("down_price")),
                         _pct(d.get("up_pct")), money(d.get("up_price"))])
        lines += ["", table(["Liquidation", "Down", "Down price", "Up", "Up price"], rows)]
    return "\n".join(lines)


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def _points(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.2f} pp"


def _pct(x: float | None) -> str:
    return "none" if x is None else f"{x:+.2f} %"


def format_whatif(result: dict[str, Any]) -> str:
    before, after, delta = result["before"], result["after"], result["delta"]
    rows = []
    for label, key in _SUMMARY:
        if key in before or key in after:
            rows.append([label, money(before.get(key)), money(after.get(key)), money(delta.get(key))])
    rows.append(["Margin usage (MM/equity)", _ratio(before.get("margin_usage")), _ratio(after.get("margin_usage")),
                 _points(delta.get("margin_usage"))])
    out = [f"== what-if on {before['scope']}", table(["Figure", "Before", "After", "Change"], rows)]
    if "suggestion" in result:
        s = result["suggestion"]
        out.append(f"\nSuggested hedge: {s['quantity']:,.6g} {s['underlying']} {s['kind']} "
                   f"(objective: {s['objective']})")
    liq_rows = []
    for u in after.get("liquidation", {}):
        b = before.get("liquidation", {}).get(u, {})
        a = after["liquidation"][u]
        liq_rows.append([u, _pct(b.get("down_pct")), _pct(a.get("down_pct")),
                         _pct(b.get("up_pct")), _pct(a.get("up_pct"))])
    if liq_rows:
        out += ["", table(["Liquidation", "Down before", "Down after", "Up before", "Up after"], liq_rows)]
    return "\n".join(out)
