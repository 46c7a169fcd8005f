"""The SQLite connection: its settings, read-only opening, and the read and write transactions.

Every connection runs in autocommit mode (`isolation_level=None`): `transaction()` issues
BEGIN IMMEDIATE / COMMIT / ROLLBACK itself, `reading()` wraps a group of reads in one
transaction so that they see one committed state. Opening, checking and migrating a file is
`db.py`'s.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from workstation.store.errors import ReadOnlyDatabase, StoreError

BUSY_TIMEOUT_S = 5.0


def connect(path: str | Path, *, read_only: bool = False, wal: bool = True) -> sqlite_utils.Database:
    """Open `path` with the store's connection settings, without checking or migrating.

    `read_only` opens it with `mode=ro` (or `immutable=1` when even the -shm file cannot be
    made, as on read-only media); `db.read_only` then says why and writes are refused.
    `wal=False` leaves the journal mode alone (`open_db` checks the file before changing it).
    """
    # isolation_level=None: the driver never opens transactions behind our back;
    # `transaction()` issues BEGIN IMMEDIATE / COMMIT / ROLLBACK itself.
    if read_only:
        conn = _connect_read_only(Path(path))
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not read_only and wal:
            use_wal(conn)
        # FULL: the WAL is synced at every commit, so a book kept for months keeps its last
        # commits through a power loss (NORMAL may lose them; it only guarantees consistency)
        conn.execute("PRAGMA synchronous = FULL")
        db = sqlite_utils.Database(conn, execute_plugins=False)
    except BaseException:
        conn.close()
        raise
    db.read_only = (  # type: ignore[attr-defined]
        "the file or its folder cannot be written (read-only media or no permission)"
        if read_only else None
    )
    return db


def use_wal(conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")


def _connect_read_only(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                           isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        # a WAL database on read-only media: its -shm cannot be created; nobody can write
        # the file there either, so reading it as immutable is safe
        conn.close()
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=BUSY_TIMEOUT_S,
                           isolation_level=None)


def read_only_reason(db: sqlite_utils.Database) -> str | None:
    """Why `db` was opened read-only, or None when it can be written."""
    return getattr(db, "read_only", None)


def db_file(db: sqlite_utils.Database) -> Path | None:
    """The file of the main database, or None for an in-memory one."""
    for _, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


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
    reason = read_only_reason(db)
    if reason:
        raise ReadOnlyDatabase(f"the database is open read-only ({reason}): nothing can be saved")
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


def book_counter(db: sqlite_utils.Database) -> int:
    """The book's change counter: it grows with every row written to the book's tables."""
    row = db.conn.execute("SELECT counter FROM book_changes WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def checkpoint(db: sqlite_utils.Database) -> None:
    """Copy the WAL into the main file (so the .db file alone holds every commit)."""
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def integrity_ok(db: sqlite_utils.Database) -> bool:
    rows = db.conn.execute("PRAGMA integrity_check").fetchall()
    fk = db.conn.execute("PRAGMA foreign_key_check").fetchall()
    return rows == [("ok",)] and not fk


def has_column(db: sqlite_utils.Database, table: str, column: str) -> bool:
    """Whether `table` has `column` (a database opened at an older schema version, as the
    migration tests do, lacks the later ones)."""
    return any(r[1] == column for r in db.conn.execute(f'PRAGMA table_info("{table}")'))
