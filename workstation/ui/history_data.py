"""The margin history of one scope as time series (pandas), read off the GUI thread.

No Qt here. Every recompute appends a row per scope to `margin_history`; repeated rows of the same
figures are collapsed to where they changed (keeping the latest), and long histories are thinned
to at most `MAX_POINTS` points per series (the last row of each time bucket) for drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAX_POINTS = 1500
READ_LIMIT = 20_000  # newest rows read per scope
FIGURES = ("equity", "initial_margin", "maintenance_margin", "margin_usage")


@dataclass
class HistorySeries:
    """Times (epoch seconds, UTC) and figures of one scope's history, oldest first."""

    scope: str
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    figures: dict[str, np.ndarray] = field(default_factory=dict)
    rows: int = 0  # rows read from the store (before collapsing)
    first: str = ""
    last: str = ""
    base_currency: str = "USD"

    def __len__(self) -> int:
        return int(self.times.size)


def history_series(scope: str, rows: list[dict[str, Any]], max_points: int = MAX_POINTS) -> HistorySeries:
    """Series of `rows` (as `store.records.history` returns them) for drawing."""
    import pandas as pd

    if not rows:
        return HistorySeries(scope)
    frame = pd.DataFrame.from_records(rows, columns=["recorded_at", "base_currency", *FIGURES])
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True)
    frame = frame.sort_values("recorded_at", kind="stable").set_index("recorded_at")
    values = frame[list(FIGURES)].astype(float)
    # keep a row where any figure changed, and the newest row (the figures now)
    changed = values.ne(values.shift()).any(axis=1)
    changed.iloc[-1] = True
    values = values[changed]
    if len(values) > max_points:
        span = (values.index[-1] - values.index[0]) / max_points
        values = values.resample(span, origin="start").last().dropna(how="all")
    seconds = values.index.as_unit("ns").asi8 / 1e9
    base = frame["base_currency"].dropna()
    return HistorySeries(
        scope=scope,
        times=np.asarray(seconds, dtype=float),
        figures={k: values[k].to_numpy(dtype=float, na_value=np.nan) for k in FIGURES},
        rows=len(rows),
        first=frame.index[0].strftime("%Y-%m-%d %H:%M"),
        last=frame.index[-1].strftime("%Y-%m-%d %H:%M"),
        base_currency=str(base.iloc[-1]) if len(base) else "USD",
    )


def read_history(db_path: Path, scope: str, limit: int = READ_LIMIT) -> HistorySeries:
    """Open the database read-only on the calling (worker) thread, read `scope`'s history."""
    from workstation.store.db import connect
    from workstation.store.records import history

    db = connect(db_path)
    try:
        rows = history(db, scope, limit)
    finally:
        db.close()
    return history_series(scope, rows)
