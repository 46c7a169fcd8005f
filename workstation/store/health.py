"""Is this file our database, and is it whole? Checks made whenever a database is opened.

A damaged, foreign, zero-length or newer-version file gives one `DatabaseUnusable` whose text
says what is wrong and how to bring back a backup (`db backups`, `db restore`). SQLite errors
met later while reading (flipped bytes that `quick_check` does not see) are turned into the
same error by `damage_guard`, so no command ends in a traceback on a damaged file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workstation.store.errors import DatabaseUnusable, ReadOnlyDatabase, StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"
# `PRAGMA application_id` of a margin-workstation database ("MWS1"); 0 in databases made
# before schema version 5, which are recognised by their tables instead.
APPLICATION_ID = 0x4D575331
OUR_TABLES = {"meta", "accounts", "positions", "snapshots"}


def restore_hint(path: str | Path) -> str:
    """Where the backups are and the commands that bring one back."""
    from workstation.store.backups import backup_dir, list_backups

    try:
        found = list_backups(path)
    except (OSError, StoreError):
        found = []
    where = f"--db {path}"
    if not found:
        return (f"No automatic backup of it exists (they are kept in {backup_dir(path)}); "
                f"to start afresh, move the file away")
    newest = found[0]
    return (f"{len(found)} backup(s) exist, the newest from {newest.taken:%Y-%m-%d %H:%M} UTC: "
            f"list them with `python -m workstation db backups {where}` and bring one back with "
            f"`python -m workstation db restore 1 {where}`")


def unusable(path: str | Path, problem: str) -> DatabaseUnusable:
    return DatabaseUnusable(path, problem, restore_hint(path))


def check_file(path: Path) -> None:
    """Refuse, before SQLite sees it, a file that cannot be a database of ours."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the database file: {exc.strerror or exc}") from None
    if size == 0:
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return  # a database whose pages are all still in its WAL: SQLite reads it
        raise unusable(path, "the file is empty (0 bytes), so it holds no book; it was not "
                             "filled with the demo book")
    if head != SQLITE_MAGIC:
        raise unusable(path, "not a margin-workstation database (not an SQLite file at all)")


def check_schema(conn: sqlite3.Connection, path: str | Path, newest: int) -> int:
    """Refuse a foreign or newer database; return its schema version."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )}
    except sqlite3.DatabaseError as exc:
        raise unusable(path, f"the file is damaged or not a database ({exc})") from None
    if app_id not in (0, APPLICATION_ID):
        raise unusable(path, f"not a margin-workstation database (application id {app_id:#x})")
    if version == 0 and tables:
        names = ", ".join(sorted(tables)[:5])
        raise unusable(path, f"not a margin-workstation database (it holds other tables: {names})")
    if version > 0 and not tables >= OUR_TABLES:
        raise unusable(path, "not a margin-workstation database (its tables are not ours)")
    if version > newest:
        raise unusable(path, f"the database was written by a newer margin-workstation (schema "
                             f"version {version}; this program reads up to {newest}): upgrade "
                             f"the program, or bring back an older backup")
    return int(version)


def quick_check(conn: sqlite3.Connection, path: str | Path) -> None:
    """`PRAGMA quick_check`: refuse a database whose pages are damaged."""
    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.DatabaseError as exc:
        raise unusable(path, f"the database is damaged ({exc})") from None
    if rows != [("ok",)]:
        first = "; ".join(str(r[0]) for r in rows)[:200]
        raise unusable(path, f"the database is damaged (quick_check: {first})")


def is_writable(path: Path) -> bool:
    """Can this process write the database and create its -wal / -shm files next to it?"""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


@contextlib.contextmanager
def damage_guard(path: str | Path | None) -> Iterator[None]:
    """Turn SQLite errors and unreadable stored values met while reading into one clear
    `DatabaseUnusable` naming the file and pointing to `db restore`."""
    try:
        yield
    except StoreError:
        raise
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise translate(exc, path) from None


def translate(exc: BaseException, path: str | Path | None) -> StoreError:
    """The store's error for an SQLite error: busy, read-only, or damage."""
    where: Any = path if path is not None else "the database"
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError):
        if "locked" in text or "busy" in text:
            return StoreError(f"{where}: the database is busy (another program holds its write "
                              f"lock): {text}")
        if "readonly" in text or "read-only" in text:
            return ReadOnlyDatabase(f"{where}: the database is open read-only: {text}")
        if "unable to open" in text or "disk I/O" in text:
            return StoreError(f"{where}: cannot use the database file: {text}")
    return unusable(where, f"the database is damaged ({text})")
