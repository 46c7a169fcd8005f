"""Conversions between model objects and table rows (and the JSON kept in TEXT columns)."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from workstation.core.model import Position, VenueFigures


@lru_cache(maxsize=4096)  # equal times (the same instant, or naive: the same fields) give one text
def iso(dt: datetime, *, fixed: bool = False) -> str:
    """UTC ISO-8601 text with a `Z` (naive datetimes are taken as UTC); the year always has
    four digits (strftime's %Y writes `999`, which fromisoformat refuses).

    `fixed` always writes microseconds, so that the texts sort as the times do.
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if dt.microsecond or fixed:
        text += f".{dt.microsecond:06d}"
    return text + "Z"


_SHORT_YEAR = re.compile(r"\d{1,3}-")


@lru_cache(maxsize=4096)  # a book repeats a few expiries over thousands of positions
def parse_iso(text: str) -> datetime:
    """A time the store wrote. Also reads the unpadded years (`999-12-25T08:00:00Z`) that
    versions before the four-digit fix wrote, so that such a database can still be opened and
    exported."""
    if _SHORT_YEAR.match(text):
        year, rest = text.split("-", 1)
        text = f"{int(year):04d}-{rest}"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


POSITION_COLUMNS = (
    "id", "kind", "underlying", "settlement", "quantity", "entry_price", "expiry",
    "right", "strike", "vol", "isolated_margin", "expired", "settlement_price", "mark_price",
    "mark_confidence", "leverage", "venue_figures",
)


def position_row(account_id: str, position: Position, seq: int) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "id": position.id,
        "seq": seq,
        "kind": position.kind,
        "underlying": position.underlying,
        "settlement": position.settlement,
        "quantity": position.quantity,
        "entry_price": position.entry_price,
        "expiry": iso(position.expiry) if position.expiry is not None else None,
        "right": position.right,
        "strike": position.strike,
        "vol": position.vol,
        "isolated_margin": position.isolated_margin,
        "expired": 1 if position.expired else 0,
        "settlement_price": position.settlement_price,
    } | {  # columns of later schemas, written only when set (so a book without them fits any schema)
        k: v for k, v in (("mark_price", position.mark_price), ("mark_confidence", position.mark_confidence),
                          ("leverage", position.leverage), ("venue_figures", venue_figures_json(position)))
        if v is not None
    }


def position_from_row(row: dict[str, Any]) -> Position:
    return Position(
        id=row["id"],
        kind=row["kind"],
        underlying=row["underlying"],
        quantity=row["quantity"],
        entry_price=row["entry_price"],
        settlement=row["settlement"],
        expiry=parse_iso(row["expiry"]) if row["expiry"] is not None else None,
        right=row["right"],
        strike=row["strike"],
        vol=row["vol"],
        isolated_margin=row["isolated_margin"],
        expired=bool(row["expired"]),
        settlement_price=row["settlement_price"],
        mark_price=row.get("mark_price"),
        mark_confidence=row.get("mark_confidence"),
        leverage=row.get("leverage"),
        venue_figures=venue_figures_from_json(row.get("venue_figures")),
    )


_REQUIRED_COLUMNS = ("account_id", "id", "kind", "underlying", "quantity", "entry_price", "settlement",
                     "expiry", "right", "strike", "vol", "isolated_margin", "expired", "settlement_price")
_LATER_COLUMNS = ("mark_price", "mark_confidence", "leverage", "venue_figures")  # later schemas


def positions_from_cursor(cur: sqlite3.Cursor) -> Iterator[tuple[str, Position]]:
    """(account id, `position_from_row`) of each row of a `SELECT * FROM positions` cursor,
    read by column number: no dict per row (the whole-book check reads every position)."""
    names = [d[0] for d in cur.description]
    at = {name: n for n, name in enumerate(names)}
    a, i, k, u, q, e, s, x, r, st, v, im, ex, sp = (at[c] for c in _REQUIRED_COLUMNS)
    mp, mc, lv, vf = (at.get(c) for c in _LATER_COLUMNS)
    for row in cur:
        expiry = row[x]
        yield row[a], Position(
            id=row[i], kind=row[k], underlying=row[u], quantity=row[q], entry_price=row[e],
            settlement=row[s], expiry=parse_iso(expiry) if expiry is not None else None,
            right=row[r], strike=row[st], vol=row[v], isolated_margin=row[im],
            expired=bool(row[ex]), settlement_price=row[sp],
            mark_price=None if mp is None else row[mp],
            mark_confidence=None if mc is None else row[mc],
            leverage=None if lv is None else row[lv],
            venue_figures=None if vf is None or row[vf] is None else venue_figures_from_json(row[vf]),
        )


def venue_figures_json(position: Position) -> str | None:
    """The position's `venue_figures` as the portfolio file writes them (None: none)."""
    if position.venue_figures is None:
        return None
    from workstation.core.portfolio_venue import venue_figures_to_dict

    return dumps(venue_figures_to_dict(position.venue_figures))


def venue_figures_from_json(text: str | None) -> VenueFigures | None:
    if text is None:
        return None
    from workstation.core.portfolio_venue import venue_figures_from_dict

    return venue_figures_from_dict(loads(text), "venue_figures")


def account_figures_json(figures: tuple[VenueFigures, ...]) -> str | None:
    """An account's `venue_figures` as the portfolio file writes them (None: none)."""
    if not figures:
        return None
    from workstation.core.portfolio_venue import account_venue_figures_to_dict

    return dumps(account_venue_figures_to_dict(figures))


def account_figures_from_json(text: str | None) -> tuple[VenueFigures, ...]:
    if text is None:
        return ()
    from workstation.core.portfolio_venue import account_venue_figures

    return account_venue_figures(loads(text), "venue_figures")


def position_from_doc(doc: dict[str, Any]) -> Position:
    """A position from the object `position_to_dict` wrote (the store's own, trusted JSON)."""
    fields = dict(doc)
    fields.setdefault("id", "")
    if fields.get("expiry") is not None:
        fields["expiry"] = parse_iso(fields["expiry"])
    if fields.get("venue_figures") is not None:
        fields["venue_figures"] = venue_figures_from_json(dumps(fields["venue_figures"]))
    return Position(**fields)


def dumps(value: Any) -> str:
    """JSON for TEXT columns: compact, key order kept, NaN/Infinity refused."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    return json.loads(text)


def json_number(value: Any) -> float | None:
    """A float for JSON output: non-finite figures become None (JSON null)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
