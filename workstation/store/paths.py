"""Where the database lives, and creating it (with the demo book) on first use.

A new database is made complete (schema, demo book) in a private file and only then put in
place (`db.create_database`); an existing file is checked before use (`health`), so an empty
(0-byte) file is refused, never filled with the demo book.
"""

from __future__ import annotations

import os
from pathlib import Path

from workstation.core.portfolio_io import read_portfolio
from workstation.store.book_write import write_portfolio
from workstation.store.connection import Database
from workstation.store.db import create_database, open_db, read_only_reason, transaction

APP_NAME = "margin-workstation"
DB_ENV = "MARGIN_WORKSTATION_DB"  # overrides the default database path
DB_FILE = "workstation.db"


def default_db_path() -> Path:
    """`$MARGIN_WORKSTATION_DB`, else `workstation.db` in the user data dir (platformdirs)."""
    override = os.environ.get(DB_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs  # 6 ms, only when no path is given

    return platformdirs.user_data_path(APP_NAME, appauthor=False) / DB_FILE


def demo_portfolio_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo-portfolio.json"


def ensure_database(
    path: str | Path | None = None, *, demo: bool = True, empty: bool = False
) -> Database:
    """Open (creating and migrating) the database; on first creation import the demo book.

    "First creation" is recorded in `meta.seeded`, so the demo comes in once, even if two
    processes start together, and never again after the trader empties the book. `empty`
    (`db init --empty`) records the database as seeded without the demo, so it never comes in
    later; `demo=False` alone just skips seeding this time.
    """
    target = Path(path) if path is not None else default_db_path()
    if not target.exists():
        if empty:
            create_database(target, prepare=mark_seeded)
        elif demo:
            create_database(target, prepare=_seed)
    db = open_db(target)
    if read_only_reason(db):
        return db  # read-only media: shown as it is, never seeded
    try:
        if empty:
            mark_seeded(db)
        elif demo:
            _seed(db)
    except BaseException:
        db.close()
        raise
    return db


def mark_seeded(db: Database, value: str = "empty") -> None:
    """Record the database as seeded (keeping an earlier record): the demo never comes in."""
    with transaction(db):
        db.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('seeded', ?)", (value,))


def _seed(db: Database) -> None:
    demo = demo_portfolio_path()
    with transaction(db):
        if db.conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone():
            return
        empty = not db.conn.execute(
            "SELECT 1 FROM accounts UNION ALL SELECT 1 FROM snapshots LIMIT 1"
        ).fetchone()
        if empty and not demo.exists():
            return  # no demo book shipped (yet): leave the database empty, try next time
        if empty:
            write_portfolio(db, read_portfolio(demo))
        db.conn.execute("INSERT INTO meta(key, value) VALUES ('seeded', ?)", (demo.name,))
