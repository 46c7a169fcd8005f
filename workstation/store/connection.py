"""The SQLite connection: the store's handle on it (`Database`), its settings, read-only opening,
and the read and write transactions.

Every connection runs in autocommit mode (`isolation_level=None`): `transaction()` issues
BEGIN IMMEDIATE / COMMIT / ROLLBACK itself, `reading()` wraps a group of reads in one
transaction so that they see one committed state. Opening, checking and migrating a file is
`db.py`'s.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workstation.store.errors import ReadOnlyDatabase, StoreError

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_S = 5.0
_READS = frozenset({"SELECT", "WITH", "VALUES", "PRAGMA", "EXPLAIN"})


class Database:
    """The store's handle on one SQLite connection: `conn`, `query`, `close` and `read_only`.

    The store writes plain SQL through `conn` and reads rows as dicts through `query`, which is
    all it needs. sqlite-utils' `Database` over the same connection (`utils`: its table API,
    `table_names()`, for scripts and tests) is imported on first use only: importing sqlite-utils
    costs 70-90 ms, which the window no longer pays before its first figures."""

    def __init__(self, conn: sqlite3.Connection, read_only: str | None = None) -> None:
        self.conn = conn
        self.read_only = read_only  # why writes are refused (read-only media...), or None

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Iterator[dict[str, Any]]:
        """The rows of a read (SELECT, WITH, VALUES, PRAGMA, EXPLAIN) as dicts of column name to
        value, a repeated name suffixed `_2`, `_3`... as sqlite-utils does. The statement runs at
        once; the rows are fetched as they are iterated. Anything else is refused unrun."""
        words = sql.split(None, 1)
        if not words or words[0].upper() not in _READS:
            raise ValueError(f"query() is for reads (SELECT ...), not {sql[:40]!r}: use db.conn.execute")
        cursor = self.conn.execute(sql, params)
        if cursor.description is None:
            raise ValueError(f"query() is for statements that return rows, not {sql[:40]!r}")
        keys: list[str] = []
        for name, *_ in cursor.description:
            key, n = name, 1
            while key in keys:
                n += 1
                key = f"{name}_{n}"
            keys.append(key)
        return (dict(zip(keys, row, strict=True)) for row in cursor)

    def close(self) -> None:
        self.conn.close()

    @functools.cached_property
    def utils(self) -> sqlite_utils.Database:
        """sqlite-utils' view of this connection (imported now, if it was not yet)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn, execute_plugins=False)


def connect(path: str | Path, *, read_only: bool = False, wal: bool = True) -> Database:
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
        conn.execute("PRAGMA recursive_triggers = ON")  # as sqlite-utils sets it: a REPLACE fires DELETE triggers
        if not read_only and wal:
            use_wal(conn)
        # FULL: the WAL is synced at every commit, so a book kept for months keeps its last
        # commits through a power loss (NORMAL may lose them; it only guarantees consistency)
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return Database(
        conn, "the file or its folder cannot be written (read-only media or no permission)" if read_only else None
    )


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


def read_only_reason(db: Database) -> str | None:
    """Why `db` was opened read-only, or None when it can be written."""
    return db.read_only


def db_file(db: Database) -> Path | None:
    """The file of the main database, or None for an in-memory one."""
    for _, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
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
def reading(db: Database) -> Iterator[Database]:
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


def book_counter(db: Database) -> int:
    """The book's change counter: it grows with every row written to the book's tables."""
    row = db.conn.execute("SELECT counter FROM book_changes WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def checkpoint(db: Database) -> None:
    """Copy the WAL into the main file (so the .db file alone holds every commit)."""
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def integrity_ok(db: Database) -> bool:
    rows = db.conn.execute("PRAGMA integrity_check").fetchall()
    fk = db.conn.execute("PRAGMA foreign_key_check").fetchall()
    return rows == [("ok",)] and not fk


def has_column(db: Database, table: str, column: str) -> bool:
    """Whether `table` has `column` (a database opened at an older schema version, as the
    migration tests do, lacks the later ones)."""
    return any(r[1] == column for r in db.conn.execute(f'PRAGMA table_info("{table}")'))
