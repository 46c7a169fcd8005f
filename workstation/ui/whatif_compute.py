"""The what-if jobs a worker runs, and the rows the what-if panel shows. No Qt here.

No margin maths either: figures come from `workstation.core.whatif` (and an entry price left
empty is the engine's mark). The UI only lays the before / after reports side by side.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from workstation.core.model import Portfolio, Position
from workstation.ui.formatting import DASH, distance_level, usage_level


@dataclass(frozen=True)
class Draft:
    """One hypothetical trade; `at_mark` means "entry price = the engine's mark"."""

    key: str
    position: Position
    at_mark: bool = False


@dataclass
class WhatIfResult:
    """`whatif()`'s answer for one account and one set of drafts (and the trades it used)."""

    account: str
    trades: list[Position]
    before: dict[str, Any]
    after: dict[str, Any]
    delta: dict[str, float]
    suggestion: dict[str, Any] | None = None
    hedge: Position | None = None  # the suggested trade, quantity filled in
    elapsed_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_trades(portfolio: Portfolio, account_id: str, drafts: Sequence[Draft]) -> list[Position]:
    """The drafts as positions: ids unique in the account (so saving never overwrites a
    position), entry at the engine's mark where asked."""
    taken = {p.id for p in portfolio.account(account_id).positions}
    out = []
    for k, draft in enumerate(drafts, 1):
        pos = draft.position
        if draft.at_mark:
            pos = replace(pos, entry_price=mark_price(portfolio, pos))
        pid = pos.id or f"trade-{k}"
        base, n = pid, 1
        while pid in taken:
            n += 1
            pid = f"{base}-{n}"
        taken.add(pid)
        out.append(replace(pos, id=pid))
    return out


def mark_price(portfolio: Portfolio, position: Position) -> float:
    """The engine's mark of the instrument (coin per unit for inverse options)."""
    from workstation.core.book import Book
    from workstation.core.valuation import marks

    quote = portfolio.market.get(position.underlying)
    if quote is None:
        raise ValueError(f"Underlying: no market price for {position.underlying!r}")
    probe = replace(position, quantity=1.0, entry_price=quote.price or 1.0)
    return float(marks(Book.from_positions([("what-if", probe)], portfolio)).mark_price[0])


def run_whatif(portfolio: Portfolio, account_id: str, drafts: Sequence[Draft]) -> WhatIfResult:
    """Before / after reports of the account with the drafted trades."""
    from workstation.core import whatif

    start = time.perf_counter()
    trades = resolve_trades(portfolio, account_id, drafts)
    result = whatif.whatif(portfolio, account_id, trades)
    return WhatIfResult(account_id, trades, result["before"], result["after"], result["delta"],
                        elapsed_ms=(time.perf_counter() - start) * 1000.0)


def run_suggest(
    portfolio: Portfolio, account_id: str, drafts: Sequence[Draft], hedge: Draft, objective: str
) -> WhatIfResult:
    """`suggest()` for the hedge instrument, on top of the drafted trades; the returned
    before / after are those of the hedge alone (the drafts already in the book)."""
    from workstation.core import whatif

    start = time.perf_counter()
    trades = resolve_trades(portfolio, account_id, drafts)
    book = whatif.with_trades(portfolio, account_id, trades) if trades else portfolio
    instrument = resolve_trades(book, account_id, [hedge])[0]
    result = whatif.suggest(book, account_id, instrument, objective)
    suggestion = result["suggestion"]
    return WhatIfResult(
        account_id, trades, result["before"], result["after"], result["delta"],
        suggestion=suggestion, hedge=replace(instrument, quantity=float(suggestion["quantity"])),
        elapsed_ms=(time.perf_counter() - start) * 1000.0,
    )


# ------------------------------------------------------------------------------ table rows
def draft_rows(drafts: Sequence[Draft]) -> list[dict[str, Any]]:
    """Rows of the drafts table."""
    rows = []
    for d in drafts:
        p = d.position
        option = f"{p.right} {p.strike:,.10g}" if p.kind == "option" and p.strike is not None else ""
        rows.append({
            "key": d.key, "id": p.id, "kind": p.kind, "underlying": p.underlying,
            "settlement": "" if p.kind == "spot" else p.settlement, "quantity": p.quantity,
            "entry_price": None if d.at_mark else p.entry_price,
            "expiry": f"{p.expiry:%Y-%m-%d}" if p.expiry is not None else "",
            "option": option,
            "_tip": f"{p.id}: {p.kind} on {p.underlying}" + (", entry at the mark" if d.at_mark else ""),
        })
    return rows


# (report key, label, format, how a change reads: margin / more_is_better)
HEADLINE = (
    ("equity", "Equity", "money", "more_is_better"),
    ("initial_margin", "Initial margin", "money", "margin"),
    ("maintenance_margin", "Maintenance margin", "money", "margin"),
    ("margin_usage", "Margin usage (MM / equity)", "ratio", "margin"),
    ("offset", "Cross-margin offset", "money", "more_is_better"),
    ("free_margin", "Free margin (equity − IM)", "money", "more_is_better"),
)


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    out = dict(report)
    eq, im = _num(report.get("equity")), _num(report.get("initial_margin"))
    out["free_margin"] = eq - im if eq is not None and im is not None else None
    return out


def change_level(rule: str, before: float | None, after: float | None, after_report: dict[str, Any]) -> str | None:
    """Colour band of a change: calm when it helps, amber (red when it lands in the red band)
    when it hurts, None when nothing moved."""
    if rule == "distance":  # liquidation distance: None means beyond the searched range
        b = math.inf if before is None else abs(before)
        a = math.inf if after is None else abs(after)
        if a == b or (math.isinf(a) and math.isinf(b)):
            return None
        if a > b:
            return "calm"
        return "red" if distance_level(after) == "red" else "amber"
    if before is None or after is None:
        return None
    diff = after - before
    if abs(diff) <= 1e-9 * max(1.0, abs(before), abs(after)):
        return None
    if rule == "margin":
        if diff < 0:
            return "calm"
        return "red" if usage_level(_num(after_report.get("margin_usage"))) == "red" else "amber"
    if rule == "toward_zero":
        return "calm" if abs(after) < abs(before) else "amber"
    return "calm" if diff > 0 else "amber"  # more_is_better


def comparison_rows(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Before / after / change rows: headline figures, delta and liquidation per underlying."""
    b, a = _figures(before), _figures(after)
    rows: list[dict[str, Any]] = []

    def add(key: str, label: str, fmt: str, rule: str, vb: Any, va: Any, group: str, tip: str = "") -> None:
        nb, na = _num(vb), _num(va)
        change = na - nb if nb is not None and na is not None else None
        rows.append({"key": key, "label": label, "fmt": fmt, "group": group, "before": nb, "after": na,
                     "change": change, "level": change_level(rule, nb, na, after), "_tip": tip or None})

    for key, label, fmt, rule in HEADLINE:
        add(key, label, fmt, rule, b.get(key), a.get(key), "headline")
    gb, ga = before.get("greeks", {}), after.get("greeks", {})
    for und in sorted(set(gb) | set(ga)):
        add(f"delta:{und}", f"Delta {und}", "greek", "toward_zero", gb.get(und, {}).get("delta", 0.0),
            ga.get(und, {}).get("delta", 0.0), "delta",
            f"Value change per 1 {before.get('base_currency', 'USD')} move of {und} (collateral included)")
    lb, la = before.get("liquidation", {}), after.get("liquidation", {})
    names = [u for u in dict.fromkeys([*lb, *la]) if u != "all"] + (["all"] if "all" in lb or "all" in la else [])
    for und in names:
        label = "all together" if und == "all" else und
        for side in ("down", "up"):
            fb, fa = lb.get(und, {}).get(f"{side}_pct"), la.get(und, {}).get(f"{side}_pct")
            add(f"liq_{side}:{und}", f"Liquidation {label} {side}", "pct", "distance", fb, fa, "liquidation",
                f"Move of {label} that brings equity to maintenance margin; {DASH} or none: not within "
                "−99 % .. +500 %")
    return rows
