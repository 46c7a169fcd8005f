"""Edits of the market: a new snapshot, one asset's quote, and the current snapshot's optional
fields (an asset's forwards per expiry, its confidence, moves_with and peg price). One
transaction each, ending with the whole-book check (so a new `as_of` past an unsettled
option's expiry, or a moves_with that points nowhere, is refused)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from workstation.core.model import Forward, Quote
from workstation.core.portfolio_io import FUNDING_LIMIT
from workstation.store import validate
from workstation.store.book_read import current_snapshot, market
from workstation.store.book_write import check_book, ensure_assets, insert_snapshot, next_seq, require_snapshot
from workstation.store.connection import Database, transaction
from workstation.store.errors import InvalidInput, NotFoundError
from workstation.store.forwards import checked_extras, insert_forwards


def _current_quote(db: Database, asset: str):
    snap = require_snapshot(db)
    quotes = market(db, snap["id"])
    if asset not in quotes:
        raise NotFoundError(f"no quote for {asset!r} in the current snapshot")
    return snap, quotes[asset]


def set_forwards(db: Database, asset: str, forwards: Sequence[Forward]) -> None:
    """Replace `asset`'s forwards (at most one per expiry) in the current snapshot."""
    validate.text(asset, "asset")
    with transaction(db):
        snap, quote = _current_quote(db, asset)
        checked = checked_extras(replace(quote, forwards=tuple(forwards)), f"market.{asset}")
        db.conn.execute("DELETE FROM forwards WHERE snapshot_id = ? AND asset = ?", (snap["id"], asset))
        insert_forwards(db, snap["id"], asset, checked.forwards)
        check_book(db)


def set_quote_details(db: Database, asset: str, *, confidence: float | None = None,
                      moves_with: str | None = None, peg_price: float | None = None) -> None:
    """Set `asset`'s confidence, moves_with and peg price in the current snapshot (None: absent)."""
    validate.text(asset, "asset")
    with transaction(db):
        snap, quote = _current_quote(db, asset)
        checked = checked_extras(replace(quote, confidence=confidence, moves_with=moves_with or None,
                                         peg_price=peg_price), f"market.{asset}")
        db.conn.execute(
            "UPDATE quotes SET confidence = ?, moves_with = ?, peg_price = ? WHERE snapshot_id = ? AND asset = ?",
            (checked.confidence, checked.moves_with, checked.peg_price, snap["id"], asset))
        check_book(db)


def _quote(asset: str, quote: Quote | float, field: str) -> Quote:
    validate.text(asset, field)
    if not isinstance(quote, Quote):
        quote = Quote(price=quote)  # type: ignore[arg-type]
    price = validate.number(quote.price, f"{field}.price", positive=True)
    vol = validate.number(quote.vol, f"{field}.vol", minimum=0, optional=True)
    funding = validate.number(quote.funding_rate, f"{field}.funding_rate", optional=True)
    if funding is not None and abs(funding) > FUNDING_LIMIT:
        raise InvalidInput(f"{field}.funding_rate",
                           f"a funding rate per 8 hours within +/-{FUNDING_LIMIT:g}, got {funding!r}")
    assert price is not None
    return checked_extras(replace(quote, price=price, vol=vol, funding_rate=funding), field)


_KEEP = object()


def set_quote(db: Database, asset: str, price: float, vol: float | None = None,
              funding_rate: Any = _KEEP) -> None:
    """Set (or add) one asset's price and vol in the current snapshot; `funding_rate` (per 8 h)
    is kept as it is unless given (None clears it)."""
    with transaction(db):
        snap = require_snapshot(db)
        if funding_rate is _KEEP:
            funding_rate = market(db, snap["id"]).get(asset, Quote(price)).funding_rate
        quote = _quote(asset, Quote(price=price, vol=vol, funding_rate=funding_rate), f"market.{asset}")
        ensure_assets(db, [asset])
        db.conn.execute(
            "INSERT INTO quotes(snapshot_id, asset, seq, price, vol, funding_rate) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(snapshot_id, asset) DO UPDATE SET price = excluded.price, "
            "vol = excluded.vol, funding_rate = excluded.funding_rate",
            (
                snap["id"],
                asset,
                next_seq(db, "quotes", "snapshot_id = ?", [snap["id"]]),
                quote.price,
                quote.vol,
                quote.funding_rate,
            ),
        )
        check_book(db)


def add_snapshot(
    db: Database,
    as_of: datetime,
    rate: float | None,
    quotes: Mapping[str, Quote | float],
    *,
    carry_forward: bool = True,
) -> int:
    """Add a market snapshot and make it current; return its id.

    `rate` None keeps the current rate. With `carry_forward`, assets priced in the current
    snapshot but absent from `quotes` keep their quote. The older snapshots stay.
    """
    when = validate.utc(as_of, "as_of", optional=False)
    assert when is not None
    checked = {a: _quote(a, q, f"market.{a}") for a, q in quotes.items()}
    with transaction(db):
        snap = current_snapshot(db)
        if rate is None:
            rate = snap["rate"] if snap else 0.0
        value = validate.number(rate, "rate")
        assert value is not None
        merged = dict(market(db)) if carry_forward else {}
        for a, q in checked.items():  # a new quote keeps what the asset moves with
            if q.moves_with is None and a in merged and merged[a].moves_with is not None:
                q = replace(q, moves_with=merged[a].moves_with)
            merged[a] = q
        if not merged:
            raise InvalidInput("market", "a snapshot needs at least one quote")
        snapshot_id = insert_snapshot(db, when, value, merged)
        check_book(db)
        return snapshot_id
