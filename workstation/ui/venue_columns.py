"""The venue's own figures beside ours (core.reconcile), for the positions table and the
dashboard. No margin maths: the engine's report already holds both, converted and compared.

`VENUE_COLUMNS` are the positions table's extra columns (hidden while no position carries venue
figures); `venue_cells(position)` flattens a report position's `venue_figures` / `venue_diff`
into those columns' keys; `venue_line(report, fmt)` is the dashboard's account-level line.
"""

from __future__ import annotations

from typing import Any

from workstation.ui.formatting import DASH, NumberFormat
from workstation.ui.table_model import Column

_DIFF = "ours − venue, in the base currency"
VENUE_COLUMNS: tuple[Column, ...] = (
    Column("Venue IM", "venue_im", "money", "Initial margin the venue reports, in the base currency"),
    Column("Δ IM", "venue_im_diff", "money", "Initial margin: " + _DIFF, blank=DASH),
    Column("Δ IM %", "venue_im_pct", "pct", "Initial margin: ours − venue, in percent of the venue's",
           blank=DASH),
    Column("MM", "ours_mm", "money", "Maintenance margin of the position (ours; a portfolio account "
                                     "does not split it by position)", blank=DASH),
    Column("Venue MM", "venue_mm", "money", "Maintenance margin the venue reports, in the base currency"),
    Column("Δ MM", "venue_mm_diff", "money", "Maintenance margin: " + _DIFF, blank=DASH),
    Column("Δ MM %", "venue_mm_pct", "pct", "Maintenance margin: ours − venue, in percent of the venue's",
           blank=DASH),
    Column("Liq. price", "ours_liq", "price", "Liquidation price (ours): the position alone on its "
                                              "isolated margin, else the account's for its underlying",
           blank=DASH),
    Column("Venue liq.", "venue_liq", "price", "Liquidation price the venue reports"),
    Column("Δ liq. %", "venue_liq_pct", "pct", "Liquidation price: ours − venue, in percent of the venue's",
           blank=DASH),
)
VENUE_KEYS = tuple(c.key for c in VENUE_COLUMNS)
_FIGURES = (("im", "initial_margin"), ("mm", "maintenance_margin"), ("liq", "liquidation_price"))


def venue_cells(position: dict[str, Any]) -> dict[str, Any]:
    """The venue columns of one report position (all None when it has no venue figures)."""
    cells: dict[str, Any] = dict.fromkeys(VENUE_KEYS)
    venue = position.get("venue_figures")
    if not venue:
        return cells
    diff = position.get("venue_diff") or {}
    computed = diff.get("computed") or {}
    for short, key in _FIGURES:
        cells[f"venue_{short}"] = venue.get(key)
        if f"venue_{short}_diff" in cells:
            cells[f"venue_{short}_diff"] = diff.get(key)
        cells[f"venue_{short}_pct"] = diff.get(f"{key}_pct")
    cells["ours_mm"] = computed.get("maintenance_margin")
    cells["ours_liq"] = computed.get("liquidation_price")
    cells["venue_source"] = venue.get("source") or "venue"
    return cells


def has_venue_figures(rows: list[dict[str, Any]]) -> bool:
    return any(r.get("venue_source") for r in rows)


def venue_line(report: dict[str, Any] | None, fmt: NumberFormat) -> str:
    """`Venue's figures (as of 2024-01-17 06:49, reported in USD): IM 8.57 USD, ours − venue
    −8.57 (−100.0 %)  ·  MM …`,
    or "" when the account has no venue figures."""
    if not report or not report.get("venue_figures"):
        return ""
    venue, diff = report["venue_figures"], report.get("venue_diff") or {}
    parts = []
    for label, key in (("IM", "initial_margin"), ("MM", "maintenance_margin")):
        if key in venue:
            parts.append(f"{label} {fmt.money(venue[key], unit=True)}, ours − venue "
                         f"{_signed(diff.get(key), fmt.money)} ({_signed(diff.get(f'{key}_pct'), fmt.percent)})")
    if "margin_usage" in venue:
        d = diff.get("margin_usage")
        parts.append(f"usage {fmt.ratio(venue['margin_usage'], 2)}, ours − venue "
                     f"{_signed(None if d is None else 100.0 * d, lambda x: fmt.number(x, 2))} pt")
    if "liquidation_price" in venue:
        parts.append(f"liquidation {fmt.price(venue['liquidation_price'])}, ours − venue "
                     f"{_signed(diff.get('liquidation_price_pct'), fmt.percent)}")
    when = (venue.get("as_of") or "").replace("T", " ").rstrip("Z")[:16]
    head = ", ".join(x for x in (f"as of {when}" if when else "",
                                 f"reported in {venue.get('venue_currency')}") if x)
    return f"Venue's figures ({head}): " + "  ·  ".join(parts)


def _signed(value: float | None, write: Any) -> str:
    """`write(value)` with a + on a positive figure (negative ones carry their minus)."""
    text = write(value)
    shown_zero = not any(c in "123456789" for c in text)
    return f"+{text}" if value is not None and value > 0 and not shown_zero else text
