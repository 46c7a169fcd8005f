"""Opening the SQLite file and the schema migrations (`MIGRATIONS`).

The schema version is `PRAGMA user_version`: migration N (1-based) in `MIGRATIONS` brings a
database from version N-1 to N. Each migration runs in its own `BEGIN IMMEDIATE` transaction
together with the version bump, so a crash leaves the database at a whole version; a backup
is taken before migrating a database that holds data.

Opening checks the file first (`health`: empty, foreign, newer, damaged) and opens it
read-only when it cannot be written. A new database is built in a private temporary file and
hard-linked into place, so no process ever sees a half-made database and no process deletes
a file it did not create.

The connection settings and the transactions are in `connection.py` (re-exported here).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workstation.store import files, health
from workstation.store.connection import (
    BUSY_TIMEOUT_S,
    Database,
    book_counter,
    checkpoint,
    connect,
    db_file,
    has_column,
    integrity_ok,
    read_only_reason,
    reading,
    transaction,
    use_wal,
)
from workstation.store.errors import ReadOnlyDatabase, StoreError

# the connection's names are re-exported: callers import them from here
__all__ = [
    "BOOK_TABLES", "BUSY_TIMEOUT_S", "MIGRATIONS", "SCHEMA_VERSION", "book_counter", "checkpoint",
    "connect", "create_database", "db_file", "has_column", "integrity_ok", "migrate", "open_db",
    "read_only_reason", "reading", "schema_version", "transaction", "use_wal",
]


_SCHEMA_1 = [
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE assets (
        code TEXT PRIMARY KEY CHECK (length(code) > 0)
    )""",
    """CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        as_of TEXT NOT NULL,
        rate REAL NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE quotes (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        asset TEXT NOT NULL REFERENCES assets(code),
        seq INTEGER NOT NULL,
        price REAL NOT NULL CHECK (price >= 0),
        vol REAL CHECK (vol IS NULL OR vol >= 0),
        PRIMARY KEY (snapshot_id, asset)
    )""",
    """CREATE TABLE accounts (
        id TEXT PRIMARY KEY CHECK (length(id) > 0),
        seq INTEGER NOT NULL,
        name TEXT,
        venue TEXT,
        margin_mode TEXT NOT NULL CHECK (margin_mode IN ('isolated', 'cross', 'portfolio')),
        profile TEXT NOT NULL DEFAULT 'default'
    )""",
    """CREATE TABLE pools (
        id TEXT PRIMARY KEY CHECK (length(id) > 0),
        seq INTEGER NOT NULL,
        name TEXT,
        margin_mode TEXT NOT NULL DEFAULT 'portfolio'
            CHECK (margin_mode IN ('isolated', 'cross', 'portfolio')),
        profile TEXT NOT NULL DEFAULT 'default'
    )""",
    """CREATE TABLE pool_members (
        pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        PRIMARY KEY (pool_id, account_id)
    )""",
    """CREATE TABLE collateral (
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        asset TEXT NOT NULL REFERENCES assets(code),
        seq INTEGER NOT NULL,
        amount REAL NOT NULL,
        PRIMARY KEY (account_id, asset)
    )""",
    """CREATE TABLE positions (
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('spot', 'perpetual', 'future', 'option')),
        underlying TEXT NOT NULL REFERENCES assets(code),
        settlement TEXT NOT NULL CHECK (settlement IN ('linear', 'inverse')),
        quantity REAL NOT NULL,
        entry_price REAL NOT NULL,
        expiry TEXT,
        "right" TEXT CHECK ("right" IS NULL OR "right" IN ('call', 'put')),
        strike REAL CHECK (strike IS NULL OR strike > 0),
        vol REAL CHECK (vol IS NULL OR vol >= 0),
        isolated_margin REAL,
        expired INTEGER NOT NULL DEFAULT 0 CHECK (expired IN (0, 1)),
        settlement_price REAL,
        PRIMARY KEY (account_id, id)
    )""",
    """CREATE TABLE profiles (
        name TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        body TEXT NOT NULL CHECK (json_valid(body))
    )""",
    """CREATE TABLE scenarios (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        trades TEXT NOT NULL CHECK (json_valid(trades))
    )""",
]

_SCHEMA_2 = [
    """CREATE TABLE margin_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recorded_at TEXT NOT NULL,
        scope TEXT NOT NULL,
        snapshot_as_of TEXT,
        base_currency TEXT,
        collateral_value REAL,
        equity REAL,
        initial_margin REAL,
        maintenance_margin REAL,
        margin_usage REAL,
        standalone_initial_margin REAL,
        "offset" REAL,
        segregated_initial_margin REAL,
        liquidation TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(liquidation))
    )""",
    "CREATE INDEX margin_history_scope_time ON margin_history(scope, recorded_at)",
    "CREATE INDEX scenarios_account ON scenarios(account_id)",
    "CREATE INDEX positions_underlying ON positions(underlying)",
]

_SCHEMA_WHATIF = [
    # the perpetual funding rate per 8 hours of each quote (portfolio `market.<asset>.funding_rate`)
    """ALTER TABLE quotes ADD COLUMN funding_rate REAL
        CHECK (funding_rate IS NULL OR (funding_rate >= -0.1 AND funding_rate <= 0.1))""",
]


_SCHEMA_STRESS = [  # user stress scenarios and imported price histories (store/stress_store.py)
    """CREATE TABLE stress_scenarios (
        name TEXT PRIMARY KEY CHECK (length(name) > 0),
        created_at TEXT NOT NULL,
        body TEXT NOT NULL CHECK (json_valid(body))
    )""",
    """CREATE TABLE price_histories (
        name TEXT PRIMARY KEY CHECK (length(name) > 0),
        source TEXT,
        imported_at TEXT NOT NULL
    )""",
    """CREATE TABLE price_history_rows (
        history TEXT NOT NULL REFERENCES price_histories(name) ON DELETE CASCADE,
        date TEXT NOT NULL,
        asset TEXT NOT NULL,
        price REAL NOT NULL CHECK (price > 0),
        PRIMARY KEY (history, date, asset)
    )""",
]

# venues.md "Leverage": a perpetual's or future's own leverage (IM = notional / leverage)
_SCHEMA_LEVERAGE = [
    "ALTER TABLE positions ADD COLUMN leverage REAL CHECK (leverage IS NULL OR leverage >= 1)",
]


# Forwards per expiry, oracle confidences, moves_with, a stable's peg price, perpetual marks
# (shared/spec/derive-pmrm2.md, "Portfolio file"); every new column NULL = absent.
_SCHEMA_FORWARDS = [
    "ALTER TABLE quotes ADD COLUMN confidence REAL "
    "CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1))",
    "ALTER TABLE quotes ADD COLUMN moves_with TEXT",
    "ALTER TABLE quotes ADD COLUMN peg_price REAL CHECK (peg_price IS NULL OR peg_price > 0)",
    """CREATE TABLE forwards (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        asset TEXT NOT NULL REFERENCES assets(code),
        expiry TEXT NOT NULL,
        seq INTEGER NOT NULL,
        forward REAL NOT NULL CHECK (forward > 0),
        rate REAL,
        confidence REAL CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
        PRIMARY KEY (snapshot_id, asset, expiry)
    )""",
    "ALTER TABLE positions ADD COLUMN mark_price REAL CHECK (mark_price IS NULL OR mark_price > 0)",
    "ALTER TABLE positions ADD COLUMN mark_confidence REAL "
    "CHECK (mark_confidence IS NULL OR (mark_confidence >= 0 AND mark_confidence <= 1))",
]


# Reconciliation (venues.md "Venue figures", core/portfolio_venue.py): what the venue reports
# for a position or an account, as the portfolio file's `venue_figures` JSON (NULL: none), and
# the venue figures and differences of each recorded report (NULL: the report had none).
_SCHEMA_VENUE_FIGURES = [
    "ALTER TABLE positions ADD COLUMN venue_figures TEXT "
    "CHECK (venue_figures IS NULL OR json_valid(venue_figures))",
    "ALTER TABLE accounts ADD COLUMN venue_figures TEXT "
    "CHECK (venue_figures IS NULL OR json_valid(venue_figures))",
    "ALTER TABLE margin_history ADD COLUMN venue TEXT CHECK (venue IS NULL OR json_valid(venue))",
]


# Tables that make up the book: every row written to them bumps `book_changes.counter`, the
# change counter an editor compares with the one its data was loaded at (stale edits are
# refused). History and scenarios are not the book: recording a report changes nothing here.
BOOK_TABLES = ("meta", "assets", "snapshots", "quotes", "accounts", "pools", "pool_members",
               "collateral", "positions", "profiles", "forwards")

_SCHEMA_BOOK_CHANGES = [
    f"PRAGMA application_id = {health.APPLICATION_ID}",
    """CREATE TABLE book_changes (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        counter INTEGER NOT NULL
    )""",
    "INSERT INTO book_changes(id, counter) VALUES (1, 0)",
    *(
        f"CREATE TRIGGER book_changes_{table}_{op.lower()} AFTER {op} ON {table} "
        "BEGIN UPDATE book_changes SET counter = counter + 1 WHERE id = 1; END"
        for table in BOOK_TABLES
        for op in ("INSERT", "UPDATE", "DELETE")
    ),
]


def _statements(sql: list[str]) -> Callable[[Database], None]:
    def migrate(db: Database) -> None:
        for statement in sql:
            db.conn.execute(statement)

    return migrate


# MIGRATIONS[i] brings the schema from version i to version i + 1. Append, never edit.
MIGRATIONS: list[Callable[[Database], None]] = [
    _statements(_SCHEMA_1),  # 1: the book, snapshots, profiles, scenarios
    _statements(_SCHEMA_2),  # 2: margin history, indexes
    _statements(_SCHEMA_STRESS),  # 3: stress scenarios, price histories
    _statements(_SCHEMA_FORWARDS),  # 4: forwards per expiry, confidences, peg price, marks
    _statements(_SCHEMA_BOOK_CHANGES),  # 5: application id, the book's change counter
    _statements(_SCHEMA_LEVERAGE),  # 6: positions' leverage
    _statements(_SCHEMA_WHATIF),  # 7: quotes.funding_rate (what-if funding carry)
    _statements(_SCHEMA_VENUE_FIGURES),  # 8: venue figures of positions, accounts, history
]
SCHEMA_VERSION = len(MIGRATIONS)


def open_db(
    path: str | Path,
    *,
    version: int | None = None,
    read_only: bool | None = None,
    check: bool = True,
) -> Database:
    """Open the database at `path` (creating it if missing) and migrate it to the current
    schema.

    An existing file is checked first (`health`): an empty, foreign, damaged or newer file
    raises `DatabaseUnusable`. A file this process cannot write is opened read-only (so is
    any file with `read_only=True`). `version` stops the migrations at that schema version
    (tests build old databases so).
    """
    path = Path(path)
    if not path.exists() and not read_only:
        create_database(path, version=version)
    if check:
        health.check_file(path)
    if read_only is None:
        read_only = not health.is_writable(path)
    try:
        db = connect(path, read_only=read_only, wal=False)
    except sqlite3.DatabaseError as exc:
        raise health.translate(exc, path) from None
    try:
        if check:
            current = health.check_schema(db.conn, path, SCHEMA_VERSION)
            health.quick_check(db.conn, path)
        else:
            current = schema_version(db)
        if not read_only:
            use_wal(db.conn)
        target = SCHEMA_VERSION if version is None else version
        if current < target and read_only:
            raise ReadOnlyDatabase(
                f"{path}: the database needs an upgrade (schema {current} to {target}) but is "
                f"read-only: {read_only_reason(db)}"
            )
        if current < target:
            migrate(db, version)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise health.translate(exc, path) from None
    except BaseException:
        db.close()
        raise
    return db


def create_database(
    path: str | Path,
    *,
    version: int | None = None,
    prepare: Callable[[Database], Any] | None = None,
) -> bool:
    """Make a new database at `path`, atomically; False if `path` exists (nothing is done).

    The database is built (schema, then `prepare(db)`, e.g. seeding or an import) in a
    temporary file of its own (0600) next to `path` and hard-linked to `path` only when
    complete. If `prepare` raises, or another process made `path` first, only the temporary
    file is removed: never a file this call did not create.
    """
    path = Path(path)
    files.make_private_dir(path.parent)
    if path.exists():
        return False
    tmp = files.private_temp(path.parent, f".{path.name}.", ".new")
    try:
        db = connect(tmp)
        try:
            migrate(db, version, backup=False)
            if prepare is not None:
                prepare(db)
            checkpoint(db)
        finally:
            db.close()
        return files.publish_new(tmp, path)
    finally:
        files.remove_own_files(tmp)


def schema_version(db: Database) -> int:
    return int(db.conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, target: int | None = None, *, backup: bool = True) -> int:
    """Apply the pending migrations up to `target` (default: all); return the new version.

    With `backup`, a database that holds a schema already is backed up first.
    """
    target = SCHEMA_VERSION if target is None else target
    try:
        current = schema_version(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"not a margin-workstation database: {exc}") from exc
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {current} is newer than this program's "
            f"({SCHEMA_VERSION}); upgrade margin-workstation"
        )
    if backup and 0 < current < target:
        from workstation.store.backups import backup_before

        backup_before(db, f"before-migration-{current}-to-{target}")
    while current < target:
        with transaction(db):
            # Another process may have migrated while we waited for the write lock.
            current = schema_version(db)
            if current >= target:
                break
            MIGRATIONS[current](db)
            current += 1
            db.conn.execute(f"PRAGMA user_version = {current}")
    return current


