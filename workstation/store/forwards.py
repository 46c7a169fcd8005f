"""The market snapshot's optional fields in the database (schema version 4): per-expiry forwards
(table `forwards`) and a quote's confidence, moves_with and peg price (columns of `quotes`).
Low-level reading and writing for `repository`; the edits a trader makes are in
`market_edits`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from workstation.core.errors import PortfolioError
from workstation.core.model import Forward, Quote
from workstation.core.portfolio_extras import quote_extras, quote_extras_to_dict
from workstation.store.codec import iso, parse_iso
from workstation.store.connection import Database
from workstation.store.errors import InvalidInput


def read_forwards(db: Database, snapshot_id: int) -> dict[str, tuple[Forward, ...]]:
    """asset -> its forwards in the order they were given."""
    out: dict[str, list[Forward]] = {}
    for r in db.query("SELECT asset, expiry, forward, rate, confidence FROM forwards "
                      "WHERE snapshot_id = ? ORDER BY asset, seq", [snapshot_id]):
        out.setdefault(r["asset"], []).append(
            Forward(expiry=parse_iso(r["expiry"]), forward=r["forward"], rate=r["rate"], confidence=r["confidence"]))
    return {a: tuple(v) for a, v in out.items()}


def quote_from_row(row: Mapping, forwards: Mapping[str, tuple[Forward, ...]]) -> Quote:
    return Quote(price=row["price"], vol=row["vol"], confidence=row["confidence"], moves_with=row["moves_with"],
                 peg_price=row["peg_price"], forwards=forwards.get(row["asset"], ()))


def insert_forwards(db: Database, snapshot_id: int, asset: str, forwards: tuple[Forward, ...]) -> None:
    db.conn.executemany(
        "INSERT INTO forwards(snapshot_id, asset, expiry, seq, forward, rate, confidence) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(snapshot_id, asset, iso(f.expiry), i, f.forward, f.rate, f.confidence) for i, f in enumerate(forwards)],
    )


def checked_extras(quote: Quote, field: str) -> Quote:
    """`quote` with its optional fields checked by the portfolio reader's rules (moves_with's
    target is checked with the whole book)."""
    try:
        extras = quote_extras(quote_extras_to_dict(quote), field)
    except PortfolioError as err:
        got = "" if err.got is None else f" (got {err.got!r})"
        raise InvalidInput(err.path, f"expected {err.expected}{got}") from None
    except (TypeError, ValueError, AttributeError) as err:
        raise InvalidInput(field, f"not a valid quote: {err}") from None
    return replace(quote, confidence=extras.get("confidence"), moves_with=extras.get("moves_with"),
                   peg_price=extras.get("peg_price"), forwards=extras.get("forwards", ()))
