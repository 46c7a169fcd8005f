"""Rows of the What-if tables, from the engine's reports. No Qt, no margin maths: the figures are
the reports'; this module only lays them side by side and names their units."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from workstation.core.details import instrument_label
from workstation.core.model import Portfolio, Position
from workstation.core.units import quantity_unit
from workstation.ui.formatting import DASH, distance_level, usage_level


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


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


def _row(key: str, label: str, fmt: str, rule: str, vb: Any, va: Any, group: str, after: dict[str, Any],
         tip: str = "", **extra: Any) -> dict[str, Any]:
    nb, na = _num(vb), _num(va)
    change = na - nb if nb is not None and na is not None else None
    return {"key": key, "label": label, "fmt": fmt, "group": group, "before": nb, "after": na, "change": change,
            "level": change_level(rule, nb, na, after), "_tip": tip or None, **extra}


def comparison_rows(before: dict[str, Any], after: dict[str, Any], *, cash: dict[str, float] | None = None,
                    funding: dict[str, float] | None = None, horizon_days: float = 1.0) -> list[dict[str, Any]]:
    """Before / after / change: the headline figures, the cash legs and the funding carry, the
    delta per underlying (coin and base currency) and the liquidation prices and moves."""
    base = before.get("base_currency", "USD")
    rows: list[dict[str, Any]] = []
    eq_b, eq_a = _num(before.get("equity")), _num(after.get("equity"))
    im_b, im_a = _num(before.get("initial_margin")), _num(after.get("initial_margin"))
    free_b = eq_b - im_b if eq_b is not None and im_b is not None else None
    free_a = eq_a - im_a if eq_a is not None and im_a is not None else None
    heads = (
        ("equity", f"Equity ({base})", "money", "more_is_better", eq_b, eq_a),
        ("initial_margin", f"Initial margin ({base})", "money", "margin", im_b, im_a),
        ("maintenance_margin", f"Maintenance margin ({base})", "money", "margin",
         before.get("maintenance_margin"), after.get("maintenance_margin")),
        ("free_margin", f"Free margin, equity − IM ({base})", "money", "more_is_better", free_b, free_a),
        ("margin_usage", "Margin usage, MM / equity", "ratio", "margin", before.get("margin_usage"),
         after.get("margin_usage")),
        ("offset", f"Offset vs positions alone ({base})", "money", "more_is_better", before.get("offset"),
         after.get("offset")),
    )
    for key, label, fmt, rule, vb, va in heads:
        rows.append(_row(key, label, fmt, rule, vb, va, "headline", after))
    if "segregated_initial_margin" in before:
        sb = _num(before.get("segregated_initial_margin"))
        sa = _num(after.get("segregated_initial_margin"))
        rows.append(_row("pooling", f"Pooling saves vs accounts apart ({base})", "money", "more_is_better",
                         None if sb is None or im_b is None else sb - im_b,
                         None if sa is None or im_a is None else sa - im_a, "headline", after,
                         "Sum of the members' own initial margins minus the pool's"))
    if cash:
        rows.append(_row("premium", f"Premium paid (−) / received ({base})", "money", "more_is_better",
                         0.0, -cash.get("premium", 0.0), "cash", after,
                         "Options and spot bought at the entry price, paid from the collateral"))
        rows.append(_row("fees", f"Trading fees ({base})", "money", "more_is_better", 0.0, -cash.get("fee", 0.0),
                         "cash", after, "The venue's maker or taker fee, paid from the collateral"))
    if funding is not None:
        days = "a day" if horizon_days == 1 else f"over {horizon_days:g} day{'' if horizon_days < 1 else 's'}"
        rows.append(_row("funding", f"Funding {days} ({base})", "money", "more_is_better",
                         funding["before"] * horizon_days, funding["after"] * horizon_days, "cash", after,
                         "Perpetual funding received (+) or paid (−) at today's rate per 8 hours"))
    gb, ga = before.get("greeks", {}), after.get("greeks", {})
    for und in sorted(set(gb) | set(ga)):
        db, da = gb.get(und, {}).get("delta", 0.0), ga.get(und, {}).get("delta", 0.0)
        rows.append(_row(f"delta:{und}", f"Delta {und} ({und})", "greek", "toward_zero", db, da, "delta", after,
                         f"Coins of {und} the scope is long (collateral included): value change per 1 {base} "
                         f"move of {und}"))
    return rows


def liquidation_rows(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Liquidation per underlying and side: price and move, before and after."""
    lb, la = before.get("liquidation", {}), after.get("liquidation", {})
    names = [u for u in dict.fromkeys([*lb, *la]) if u != "all"] + (["all"] if "all" in lb or "all" in la else [])
    rows = []
    for und in names:
        label = "all together" if und == "all" else und
        for side in ("down", "up"):
            b, a = lb.get(und, {}), la.get(und, {})
            rows.append(_row(f"liq_{side}:{und}", f"Liquidation {label} {side}", "liq", "distance",
                             b.get(f"{side}_pct"), a.get(f"{side}_pct"), "liquidation", after,
                             f"Move of {label} (others held) that brings equity to maintenance margin; "
                             f"{DASH}: none within −99 % .. +500 %",
                             before_price=_num(b.get(f"{side}_price")), after_price=_num(a.get(f"{side}_price"))))
    return rows


def instrument_names(portfolio: Portfolio,
                     extra: Sequence[tuple[str, Position]] = ()) -> dict[tuple[str, str], Position]:
    """(account, position id) -> position, for the book and the drafted trades."""
    out = {(a.id, p.id): p for a in portfolio.accounts for p in a.positions}
    out.update({(acc, p.id): p for acc, p in extra})
    return out


def label(p: Position) -> str:
    return instrument_label(p)


def greeks_rows(before: dict[str, Any], after: dict[str, Any], positions: dict[tuple[str, str], Position],
                prices: dict[str, float]) -> list[dict[str, Any]]:
    """Greeks by underlying and expiry, before and after: delta in coins and in base currency,
    gamma as the delta change per 1 % move (coins), vega per vol point, theta per day."""
    def group(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, float]]:
        out: dict[tuple[str, str], dict[str, float]] = {}
        for row in report.get("positions", []):
            p = positions.get((row.get("account"), row["id"]))
            if p is None:
                continue
            key = (p.underlying, p.expiry.strftime("%Y-%m-%d") if p.expiry else "no expiry")
            g = out.setdefault(key, {"delta": 0.0, "gamma": 0.0, "vega": 0.0, "theta": 0.0})
            for k in g:
                g[k] += float(row.get(k) or 0.0)
        return out

    gb, ga = group(before), group(after)
    rows = []
    for und, exp in sorted(set(gb) | set(ga)):
        s = prices.get(und, 0.0)
        b = gb.get((und, exp), {})
        a = ga.get((und, exp), {})
        rec: dict[str, Any] = {"key": f"{und}|{exp}", "underlying": und, "expiry": exp}
        for side, g in (("b", b), ("a", a)):
            d = g.get("delta")
            rec[f"delta_{side}"] = d
            rec[f"delta_usd_{side}"] = None if d is None else d * s
            rec[f"gamma1_{side}"] = None if g.get("gamma") is None else g["gamma"] * s * 0.01
            rec[f"vega_{side}"] = g.get("vega")
            rec[f"theta_{side}"] = g.get("theta")
        rec["_tip"] = f"{und}, expiry {exp}: positions only (collateral deltas are in Before / after)"
        rows.append(rec)
    return rows


def position_rows(before: dict[str, Any], after: dict[str, Any], positions: dict[tuple[str, str], Position],
                  drafted: set[tuple[str, str]], base: str = "USD") -> list[dict[str, Any]]:
    """Per position: instrument, quantity with its unit, component margin before and after."""
    b = {(r.get("account"), r["id"]): r for r in before.get("positions", [])}
    rows = []
    for r in after.get("positions", []):
        key = (r.get("account"), r["id"])
        p = positions.get(key)
        cb = b.get(key, {}).get("component_margin")
        ca = r.get("component_margin")
        rows.append({
            "key": f"{key[0]}/{key[1]}", "account": key[0], "id": r["id"],
            "instrument": label(p) if p else r["id"], "quantity": p.quantity if p else None,
            "unit": quantity_unit(p.kind, p.settlement, p.underlying, base) if p else "",
            "component_before": cb, "component_after": ca,
            "change": None if cb is None or ca is None else ca - cb,
            "drafted": "draft" if key in drafted else "",
            "_tip": f"{r['id']}: IM component (Euler; components and collateral add up to the IM)",
        })
    return rows
