"""The venue's figures of each report position as table cells (no Qt: built on the worker).

`venue_cells(position)` flattens a report position's `venue_figures` / `venue_diff` into the
positions table's venue columns (`venue_columns.VENUE_COLUMNS`, same keys).
"""

from __future__ import annotations

from typing import Any

import numpy as np

VENUE_KEYS = ("venue_im", "venue_im_diff", "venue_im_pct", "ours_mm", "venue_mm", "venue_mm_diff",
              "venue_mm_pct", "ours_liq", "venue_liq", "venue_liq_pct")
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


def venue_arrays(positions: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The venue columns of the report's positions as float arrays (nan where none), for the
    positions table's `PositionTable.num`."""
    cells = [venue_cells(p) for p in positions]
    return {k: np.array([c[k] if c[k] is not None else np.nan for c in cells], dtype=float)
            for k in VENUE_KEYS}


