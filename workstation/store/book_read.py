"""Reading the book from the database: the current market snapshot, accounts and pools, as
the engine's `Portfolio`.

The *current* market snapshot is the one added last. Reads run in one read transaction
(`reading`), so a book is never mixed from two states.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

from workstation.core.model import Account, Pool, Portfolio, Position, Quote
from workstation.store.codec import account_figures_from_json, loads, parse_iso, positions_from_cursor
from workstation.store.connection import Database, book_counter, has_column, reading
from workstation.store.errors import StaleBookError, StoreError
from workstation.store.forwards import quote_from_row, read_forwards


def current_snapshot(db: Database) -> dict[str, Any] | None:
    """The current snapshot row (id, as_of, rate, created_at), or None in an empty database."""
    rows = list(db.query("SELECT * FROM snapshots ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def snapshots(db: Database) -> list[dict[str, Any]]:
    """Every market snapshot, oldest first, with as_of as a datetime."""
    rows = db.query("SELECT id, as_of, rate, created_at FROM snapshots ORDER BY id")
    return [{**r, "as_of": parse_iso(r["as_of"])} for r in rows]


def market(db: Database, snapshot_id: int | None = None) -> dict[str, Quote]:
    """Quotes of a snapshot (default: the current one), in the order they were given."""
    if snapshot_id is None:
        snap = current_snapshot(db)
        if snap is None:
            return {}
        snapshot_id = snap["id"]
    # a database opened at an older schema version (the migration tests) has no funding rate
    funding = ", funding_rate" if has_column(db, "quotes", "funding_rate") else ", NULL AS funding_rate"
    rows = db.query(
        "SELECT asset, price, vol, confidence, moves_with, peg_price" + funding + " FROM quotes "
        "WHERE snapshot_id = ? ORDER BY seq", [snapshot_id]
    )
    forwards = read_forwards(db, snapshot_id)
    return {r["asset"]: replace(quote_from_row(r, forwards), funding_rate=r["funding_rate"]) for r in rows}


def _meta(db: Database, key: str, default: str) -> str:
    rows = list(db.query("SELECT value FROM meta WHERE key = ?", [key]))
    return rows[0]["value"] if rows else default


def _accounts(db: Database) -> list[Account]:
    collateral: dict[str, dict[str, float]] = {}
    for r in db.query("SELECT account_id, asset, amount FROM collateral ORDER BY account_id, seq"):
        collateral.setdefault(r["account_id"], {})[r["asset"]] = r["amount"]
    positions: dict[str, list[Position]] = {}
    # the cursor itself rather than db.query: a book of 20,000 positions is read at the end of
    # every import (the whole-book check), and this is most of that read
    cur = db.conn.execute("SELECT * FROM positions ORDER BY account_id, seq")
    for account_id, position in positions_from_cursor(cur):
        positions.setdefault(account_id, []).append(position)
    return [
        Account(
            id=r["id"],
            margin_mode=r["margin_mode"],
            collateral=collateral.get(r["id"], {}),
            positions=positions.get(r["id"], []),
            name=r["name"],
            venue=r["venue"],
            profile=r["profile"],
            venue_figures=account_figures_from_json(r.get("venue_figures")),
        )
        for r in db.query("SELECT * FROM accounts ORDER BY seq")
    ]


def _pools(db: Database) -> list[Pool]:
    members: dict[str, list[str]] = {}
    for r in db.query("SELECT pool_id, account_id FROM pool_members ORDER BY pool_id, seq"):
        members.setdefault(r["pool_id"], []).append(r["account_id"])
    return [
        Pool(
            id=r["id"],
            accounts=members.get(r["id"], []),
            margin_mode=r["margin_mode"],
            profile=r["profile"],
            name=r["name"],
        )
        for r in db.query("SELECT * FROM pools ORDER BY seq")
    ]


def load_portfolio(db: Database) -> Portfolio:
    """The book at the current snapshot, as the engine takes it.

    A stored value that cannot be read back (a damaged file) raises `DatabaseUnusable`."""
    try:
        return _load_portfolio(db)
    except (ValueError, TypeError, KeyError, OverflowError, sqlite3.DatabaseError) as exc:
        from workstation.store.connection import db_file
        from workstation.store.health import translate, unusable

        where = db_file(db) or "the database"
        if isinstance(exc, sqlite3.DatabaseError):
            raise translate(exc, where) from None
        raise unusable(where, f"the database holds a value that cannot be read back ({exc}); "
                              f"the file may be damaged") from None


def load_book(db: Database) -> tuple[Portfolio, int]:
    """The book and the change counter it was read at (`db.book_counter`), read together: an
    edit made from this book can check that nothing changed since (`require_counter`)."""
    with reading(db):
        return load_portfolio(db), book_counter(db)


def require_counter(db: Database, expected: int | None) -> None:
    """Refuse (`StaleBookError`) when the book changed since it was read at `expected`."""
    if expected is not None and book_counter(db) != expected:
        raise StaleBookError(
            "the book changed in the database since this window loaded it (another window or "
            "a command wrote to it), so this change was not saved: it would have overwritten "
            "the newer data. The window now shows the book as it is: check it and try again."
        )


def _load_portfolio(db: Database) -> Portfolio:
    with reading(db):
        snap = current_snapshot(db)
        if snap is None:
            raise StoreError(
                "the database holds no market snapshot yet: import a portfolio or a market CSV"
            )
        profiles = {
            r["name"]: loads(r["body"])
            for r in db.query("SELECT name, body FROM profiles ORDER BY seq")
        }
        return Portfolio(
            as_of=parse_iso(snap["as_of"]),
            market=market(db, snap["id"]),
            accounts=_accounts(db),
            pools=_pools(db),
            base_currency=_meta(db, "base_currency", "USD"),
            rate=snap["rate"],
            profiles=profiles,
        )
