"""Edits of the current market snapshot's optional fields: an asset's forwards per expiry, and
its confidence, moves_with and peg price. One transaction each, ending with the whole-book
check (so a moves_with that points nowhere, or at an asset holding positions, is refused)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import sqlite_utils

from workstation.core.model import Forward
from workstation.store import validate
from workstation.store.db import transaction
from workstation.store.errors import NotFoundError
from workstation.store.forwards import checked_extras, insert_forwards
from workstation.store.repository import _check_book, _require_snapshot, market

Database = sqlite_utils.Database


def _current_quote(db: Database, asset: str):
    snap = _require_snapshot(db)
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
        _check_book(db)


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
        _check_book(db)
