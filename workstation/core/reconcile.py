"""Reconciliation: the figures a venue reports beside ours (venues.md "Venue figures").

An account report whose account or positions carry `venue_figures` gains, where they do:

    "venue_figures": {"initial_margin": 1.47, "maintenance_margin": 1.07, "liquidation_price": 1.74,
                      "currency": "USD", "venue_currency": "BTC", "as_of": ..., "source": ...,
                      "conversion": {"initial_margin": "BTC x 7,466.79 (index at the record's time)",
                                     "liquidation_price": "none (in USD)", ...}}
    "venue_diff":    {"initial_margin": 0.4 - 1.47, "initial_margin_pct": -72.8, ...,
                      "computed": {"initial_margin": 0.4, "maintenance_margin": 0.2, ...}}

Venue figures are converted to the base currency: margins at the `index_price` of the record
(its time), else at the book's price of their currency; a position's liquidation price is
quoted as its instrument (linear: in the margin currency, inverse: in USD) and converted at
that currency's price; an account's liquidation price and every `margin_usage` need none.
`venue_diff` is computed - venue, in money and in percent of |venue| (null when the venue's
figure is 0 or ours is not computed).

Ours, per position: IM and MM of the position (cross and isolated: its bracket or option
margin; portfolio: IM is its Euler component, MM is not split by position); its liquidation
price (isolated: the position alone on its isolated margin; otherwise the account's price for
its underlying on the side the position loses, by the sign of its delta); `margin_usage`
(isolated only: MM / (isolated margin + value)). Per account: the report's IM, MM and usage,
and the liquidation price when one underlying moves the account.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workstation.core.model import Account, Portfolio, Position, VenueFigures
from workstation.core.portfolio_io import format_time

FIGURES = ("initial_margin", "maintenance_margin", "liquidation_price", "margin_usage")
MONEY = ("initial_margin", "maintenance_margin")


# ---------------------------------------------------------------- conversion
def _num(x: float) -> str:
    return f"{x:,.10g}" if abs(x) < 1e6 else f"{x:,.2f}"


def currency_rate(currency: str | None, index: float | None, portfolio: Portfolio) -> tuple[float | None, str]:
    """(price of `currency` in the base currency, how it was found); None when it has none."""
    base = portfolio.base_currency
    if currency is None or currency == base:
        return 1.0, f"none (in {base})"
    if index is not None:
        return index, f"{currency} x {_num(index)} (index at the record's time)"
    quote = portfolio.market.get(currency)
    if quote is not None:
        return quote.price, f"{currency} x {_num(quote.price)} (the book's price)"
    return None, f"none: no price for {currency}"


def _quote_of(pos: Position | None, vf: VenueFigures, portfolio: Portfolio) -> str | None:
    """Currency a liquidation price is quoted in: linear instruments in their margin currency,
    inverse ones in USD; an account's in the base currency."""
    if pos is None:
        return portfolio.base_currency
    if pos.settlement == "inverse":
        return "USD"
    return vf.currency


def to_base(vf: VenueFigures, portfolio: Portfolio, pos: Position | None = None) -> dict[str, Any]:
    """One venue record in the base currency, with the conversion applied."""
    base = portfolio.base_currency
    out: dict[str, Any] = {}
    notes: dict[str, str] = {}
    rate, how = currency_rate(vf.currency, vf.index_price, portfolio)
    for key in MONEY:
        value = getattr(vf, key)
        if value is not None:
            out[key] = None if rate is None else value * rate
            notes[key] = how
    if vf.liquidation_price is not None:
        quote = _quote_of(pos, vf, portfolio)
        index = vf.index_price if quote == vf.currency else None
        rate, how = currency_rate(quote, index, portfolio)
        out["liquidation_price"] = None if rate is None else vf.liquidation_price * rate
        notes["liquidation_price"] = how
    if vf.margin_usage is not None:
        out["margin_usage"] = vf.margin_usage
        notes["margin_usage"] = "none (a ratio: MM / equity)"
    out["currency"] = base
    out["venue_currency"] = vf.currency or base
    if vf.as_of is not None:
        out["as_of"] = format_time(vf.as_of)
    if vf.source is not None:
        out["source"] = vf.source
    out["conversion"] = notes
    return out


def account_to_base(figures: Sequence[VenueFigures], portfolio: Portfolio) -> dict[str, Any]:
    """An account's venue records (one per currency) summed in the base currency."""
    if len(figures) == 1:
        return to_base(figures[0], portfolio)
    parts = [to_base(vf, portfolio) for vf in figures]
    out: dict[str, Any] = {}
    for key in MONEY:
        values = [p[key] for p in parts if key in p]
        if values:
            out[key] = None if any(v is None for v in values) else float(sum(values))
    out["currency"] = portfolio.base_currency
    out["venue_currency"] = " + ".join(p["venue_currency"] for p in parts)
    times = [vf.as_of for vf in figures if vf.as_of is not None]
    if times:
        out["as_of"] = format_time(max(times))
    sources = list(dict.fromkeys(vf.source for vf in figures if vf.source))
    if sources:
        out["source"] = "; ".join(sources)
    out["conversion"] = {key: " + ".join(p["conversion"][key] for p in parts if key in p["conversion"])
                         for key in MONEY if key in out}
    return out


def diff(venue: Mapping[str, Any], computed: Mapping[str, float | None]) -> dict[str, Any]:
    """computed - venue per figure the venue gives, in money and in percent of |venue|."""
    out: dict[str, Any] = {}
    for key in FIGURES:
        if key not in venue:
            continue
        v, c = venue[key], computed.get(key)
        d = None if v is None or c is None else c - v
        out[key] = d
        out[f"{key}_pct"] = None if d is None or v == 0 else 100.0 * d / abs(v)
    out["computed"] = {k: computed.get(k) for k in FIGURES if k in venue}
    return out


# ---------------------------------------------------------------- our figures
def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _side_price(liq: Mapping[str, Any] | None, delta: float) -> float | None:
    """The liquidation price on the side a position with this delta loses."""
    if not liq or delta == 0:
        return None
    return _finite(liq.get("down_price") if delta > 0 else liq.get("up_price"))


def _account_liquidation_price(report: Mapping[str, Any]) -> float | None:
    """The nearer liquidation price when one underlying moves the account, else None."""
    liq = {k: v for k, v in (report.get("liquidation") or {}).items() if k != "all"}
    if len(liq) != 1:
        return None
    (entry,) = liq.values()
    sides = [(abs(entry[f"{s}_pct"]), entry[f"{s}_price"]) for s in ("down", "up")
             if entry.get(f"{s}_pct") is not None and entry.get(f"{s}_price") is not None]
    return _finite(min(sides)[1]) if sides else None


def _isolated_liquidation(portfolio: Portfolio, acc: Account, pos: Position, profile: Any,
                          delta: float) -> float | None:
    """The liquidation price of an isolated position alone on its isolated margin."""
    from workstation.core.book import Book
    from workstation.core.liquidation import liquidation
    from workstation.core.methods import IsolatedMethod, Scope

    scope = Scope(name=f"account:{acc.id}", book=Book.from_positions([(acc.id, pos)], portfolio),
                  collateral={}, profile=profile, mode="isolated", base_currency=portfolio.base_currency)
    return _side_price(liquidation(IsolatedMethod(scope)).get(pos.underlying), delta)


def _position_figures(portfolio: Portfolio, acc: Account, scope: Any, report: Mapping[str, Any],
                      wanted: Sequence[int]) -> dict[int, dict[str, float | None]]:
    """Our figures for the positions at `wanted` (indices into the report's positions)."""
    rows = report["positions"]
    im = mm = None
    if acc.margin_mode in ("cross", "isolated"):
        from workstation.core.methods.per_position import PositionRequirements

        with np.errstate(all="ignore"):
            im, mm = PositionRequirements(scope.book, scope.profile).at()
    out: dict[int, dict[str, float | None]] = {}
    for i in wanted:
        row, pos = rows[i], acc.positions[i]
        delta = float(row.get("delta") or 0.0)
        figures: dict[str, float | None] = {
            "initial_margin": _finite(im[i]) if im is not None else _finite(row.get("component_margin")),
            "maintenance_margin": _finite(mm[i]) if mm is not None else None,
            "liquidation_price": None, "margin_usage": None,
        }
        vf = pos.venue_figures
        if acc.margin_mode == "isolated":
            if vf is not None and vf.liquidation_price is not None:
                figures["liquidation_price"] = _isolated_liquidation(portfolio, acc, pos, scope.profile, delta)
            equity = (pos.isolated_margin or 0.0) + float(row.get("market_value") or 0.0)
            if mm is not None and equity > 0:
                figures["margin_usage"] = float(mm[i]) / equity
        else:
            figures["liquidation_price"] = _side_price(report.get("liquidation", {}).get(pos.underlying), delta)
        out[i] = figures
    return out


def attach(report: dict[str, Any], portfolio: Portfolio, scope: Any) -> None:
    """Add `venue_figures` and `venue_diff` to an account report and its positions, where the
    account or the positions carry venue figures (nothing is added otherwise)."""
    kind, _, ident = str(report.get("scope", "")).partition(":")
    if kind != "account":
        return
    acc = portfolio.account(ident)
    wanted = [i for i, p in enumerate(acc.positions) if p.venue_figures is not None]
    if not wanted and not acc.venue_figures:
        return
    rows = report["positions"]
    if [r["id"] for r in rows] != [p.id for p in acc.positions]:  # pragma: no cover - book order
        raise AssertionError("report rows are not the account's positions")
    ours = _position_figures(portfolio, acc, scope, report, wanted)
    for i in wanted:
        pos = acc.positions[i]
        assert pos.venue_figures is not None
        venue = to_base(pos.venue_figures, portfolio, pos)
        rows[i]["venue_figures"] = venue
        rows[i]["venue_diff"] = diff(venue, ours[i])
    if acc.venue_figures:
        venue = account_to_base(acc.venue_figures, portfolio)
        computed = {"initial_margin": report.get("initial_margin"),
                    "maintenance_margin": report.get("maintenance_margin"),
                    "margin_usage": report.get("margin_usage"),
                    "liquidation_price": _account_liquidation_price(report)}
        report["venue_figures"] = venue
        report["venue_diff"] = diff(venue, computed)


# ---------------------------------------------------------------- the reconciliation table
LABELS = {"initial_margin": "initial margin", "maintenance_margin": "maintenance margin",
          "liquidation_price": "liquidation price", "margin_usage": "margin usage"}


def table_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per figure the venue gives, the account's first, then each position's: venue,
    ours, difference (ours - venue) in money and percent, and the conversion applied."""
    account = str(report.get("scope", "")).partition(":")[2]
    items: list[tuple[str | None, Mapping[str, Any]]] = []
    if "venue_figures" in report:
        items.append((None, report))
    items += [(str(p["id"]), p) for p in report.get("positions", []) if "venue_figures" in p]
    rows = []
    for position, item in items:
        venue, d = item["venue_figures"], item["venue_diff"]
        for key in FIGURES:
            if key not in venue:
                continue
            rows.append({
                "account": account, "position": position, "figure": key, "venue": venue[key],
                "computed": d["computed"].get(key), "diff": d.get(key), "pct": d.get(f"{key}_pct"),
                "currency": venue.get("currency"), "venue_currency": venue.get("venue_currency"),
                "conversion": (venue.get("conversion") or {}).get(key, ""),
                "as_of": venue.get("as_of"), "source": venue.get("source"),
            })
    return rows
