"""Merging a portfolio file into the book account by account (`db import portfolio --merge`).

The file's accounts replace those of the same id (their settings, positions and collateral)
or are added after the others; the book's other accounts are kept as they are, with their
scenarios. Pools and profiles of the file likewise replace those of the same name or are
added. The file's market becomes the current snapshot, as of the file's `as_of` and at its
rate, with the current quotes of assets the file does not price carried forward. Both must be
in one base currency. The caller runs this inside a transaction and checks the whole book.
"""

from __future__ import annotations

from workstation.core.model import FORMAT, Portfolio
from workstation.store import book_read, book_write, validate
from workstation.store.codec import parse_iso
from workstation.store.connection import Database
from workstation.store.errors import InvalidInput


def _seq(db: Database, table: str, key_column: str, key: str) -> int:
    row = db.conn.execute(f"SELECT seq FROM {table} WHERE {key_column} = ?", (key,)).fetchone()
    if row is not None:
        return int(row[0])
    return int(db.conn.execute(f"SELECT coalesce(max(seq), -1) + 1 FROM {table}").fetchone()[0])


def merge_portfolio(db: Database, p: Portfolio) -> None:
    """Add or replace the file's accounts, pools and profiles; keep the rest of the book."""
    conn = db.conn
    snap = book_read.current_snapshot(db)
    row = conn.execute("SELECT value FROM meta WHERE key = 'base_currency'").fetchone()
    if snap is not None and row is not None and row[0] != p.base_currency:
        raise InvalidInput("base_currency", f"the book is in {row[0]} and the file in "
                                            f"{p.base_currency}: a merge needs one base currency")
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('format', ?)", (FORMAT,))
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('base_currency', ?)",
                 (p.base_currency,))

    market = book_read.market(db) if snap is not None else {}
    market.update(p.market)
    same = (
        snap is not None
        and parse_iso(snap["as_of"]) == p.as_of
        and snap["rate"] == p.rate
        and list(book_read.market(db, snap["id"]).items()) == list(market.items())
    )
    if not same:
        book_write.insert_snapshot(db, p.as_of, p.rate, market)

    for acc in p.accounts:
        conn.execute(
            "INSERT INTO accounts(id, seq, name, venue, margin_mode, profile) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
            "venue = excluded.venue, margin_mode = excluded.margin_mode, "
            "profile = excluded.profile",
            (acc.id, _seq(db, "accounts", "id", acc.id), acc.name, acc.venue, acc.margin_mode,
             acc.profile),
        )
        book_write.set_account_figures(db, acc.id, acc.venue_figures)
        conn.execute("DELETE FROM positions WHERE account_id = ?", (acc.id,))
        conn.execute("DELETE FROM collateral WHERE account_id = ?", (acc.id,))
        book_write.insert_account_contents(db, acc)

    for pool in p.pools:
        conn.execute(
            "INSERT INTO pools(id, seq, name, margin_mode, profile) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
            "margin_mode = excluded.margin_mode, profile = excluded.profile",
            (pool.id, _seq(db, "pools", "id", pool.id), pool.name, pool.margin_mode,
             pool.profile),
        )
        conn.execute("DELETE FROM pool_members WHERE pool_id = ?", (pool.id,))
        conn.executemany(
            "INSERT INTO pool_members(pool_id, account_id, seq) VALUES (?, ?, ?)",
            [(pool.id, a, i) for i, a in enumerate(pool.accounts)],
        )

    for name, body in p.profiles.items():
        conn.execute(
            "INSERT INTO profiles(name, seq, body) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET body = excluded.body",
            (name, _seq(db, "profiles", "name", name),
             validate.json_dumps(body, f"profiles.{name}")),
        )
    book_write.check_book(db)
