"""Opening the SQLite file, schema migrations and the write transaction.

The schema version is `PRAGMA user_version`: migration N (1-based) in `MIGRATIONS` brings a
database from version N-1 to N. Each migration runs in its own `BEGIN IMMEDIATE` transaction
together with the version bump, so a crash leaves the database at a whole version.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from workstation.store.errors import StoreError

BUSY_TIMEOUT_S = 5.0

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


def _statements(sql: list[str]) -> Callable[[sqlite_utils.Database], None]:
    def migrate(db: sqlite_utils.Database) -> None:
        for statement in sql:
            db.conn.execute(statement)

    return migrate


# MIGRATIONS[i] brings the schema from version i to version i + 1. Append, never edit.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _statements(_SCHEMA_1),  # 1: the book, snapshots, profiles, scenarios
    _statements(_SCHEMA_2),  # 2: margin history, indexes
    _statements(_SCHEMA_STRESS),  # 3: stress scenarios, price histories
]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open `path` with the store's connection settings, without migrating."""
    # isolation_level=None: the driver never opens transactions behind our back;
    # `transaction()` issues BEGIN IMMEDIATE / COMMIT / ROLLBACK itself.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # FULL: the WAL is synced at every commit, so a book kept for months keeps its last
        # commits through a power loss (NORMAL may lose them; it only guarantees consistency)
        conn.execute("PRAGMA synchronous = FULL")
        return sqlite_utils.Database(conn, execute_plugins=False)
    except BaseException:
        conn.close()
        raise


def open_db(path: str | Path, *, version: int | None = None) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path` and migrate it to the current schema.

    `version` stops the migrations at that schema version (tests build old databases so).
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        db = connect(path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the database: {exc}") from exc
    try:
        migrate(db, version)
    except BaseException:
        db.close()
        raise
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database, target: int | None = None) -> int:
    """Apply the pending migrations up to `target` (default: all); return the new version."""
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


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.

    BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so two
    writers queue instead of failing half-way. Nested use becomes a savepoint of the outer one.
    """
    conn = db.conn
    if conn.in_transaction:
        name = f"sp_{secrets.token_hex(8)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise StoreError(f"the database is busy or read-only: {exc}") from exc
    try:
        yield db
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StoreError(f"database error, nothing was written: {exc}") from exc
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"database error, nothing was written: {exc}") from exc


@contextlib.contextmanager
def reading(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A read transaction: every query inside sees the same committed state."""
    if db.conn.in_transaction:
        yield db
        return
    db.conn.execute("BEGIN")
    try:
        yield db
    finally:
        if db.conn.in_transaction:
            db.conn.execute("COMMIT")


def checkpoint(db: sqlite_utils.Database) -> None:
    """Copy the WAL into the main file (so the .db file alone holds every commit)."""
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def integrity_ok(db: sqlite_utils.Database) -> bool:
    rows = db.conn.execute("PRAGMA integrity_check").fetchall()
    fk = db.conn.execute("PRAGMA foreign_key_check").fetchall()
    return rows == [("ok",)] and not fk
