"""Automatic backups of the database, and bringing one back.

A backup is a whole copy of the database made with SQLite's online backup API from a
connection of its own, so it holds the last commit even while this process is inside a write
transaction: taken just before an import, edit batch or migration commits, it is exactly the
state that change replaced. Backups live in `<db stem>-backups/` next to the database (0700
folder, 0600 files), named `<UTC time>-<reason>.db`; the newest `KEEP` are kept.

`restore` copies a backup's book into the live database in one transaction (other windows see
the change and reload), after backing up the current state; the margin history recorded since
and the scenarios saved since (of accounts the backup has) are kept. A database too damaged to
open is moved aside (never deleted) and the backup put in its place.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workstation.store import files, health
from workstation.store.connection import Database
from workstation.store.errors import DatabaseUnusable, StaleBookError, StoreError

KEEP = 20
_NAME = re.compile(r"^(\d{8}T\d{12})Z-([a-z0-9-]+)\.db$")
# Not the book: merged on restore, not replaced (history and scenarios outlive a restore).
# not the book: a restore keeps what was recorded or saved since, and adds the backup's rows
_UNION_TABLES = ("margin_history", "stress_scenarios", "price_histories", "price_history_rows")
_KEPT_TABLES = ("scenarios", "book_changes", *_UNION_TABLES)


@dataclass(frozen=True)
class Backup:
    path: Path
    taken: datetime
    reason: str
    size: int


@dataclass(frozen=True)
class RestoreResult:
    backup: Path  # the backup brought back
    saved: Path | None  # the state before the restore: its backup, or the file set aside
    set_aside: bool  # True when the database could not be opened and was moved to `saved`

    def __str__(self) -> str:
        if self.set_aside:
            return (f"restored {self.backup.name}; the unusable database was moved to "
                    f"{self.saved}")
        before = f"; the state before it is backup {self.saved}" if self.saved else ""
        return f"restored {self.backup.name}{before}"


def backup_dir(db_path: str | Path) -> Path:
    path = Path(db_path)
    return path.parent / f"{path.stem}-backups"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def _slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")[:60] or "backup"


def take_backup(db_path: str | Path, reason: str) -> Path:
    """Copy the last commit of the database at `db_path` into a new backup; return its path."""
    db_path = Path(db_path)
    folder = backup_dir(db_path)
    files.make_private_dir(folder)
    tmp = files.private_temp(folder, ".", ".partial")
    try:
        src = sqlite3.connect(str(db_path), timeout=5.0)
        try:
            dst = sqlite3.connect(str(tmp))
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            finally:
                dst.close()
        finally:
            src.close()
        for n in range(100):
            final = folder / f"{_stamp()}Z-{_slug(reason)}{'' if n == 0 else f'-{n + 1}'}.db"
            if files.publish_new(tmp, final):
                break
        else:  # pragma: no cover - a hundred names taken in the same microsecond
            raise StoreError(f"{folder}: cannot name a new backup")
    except sqlite3.Error as exc:
        raise health.translate(exc, db_path) from None
    finally:
        files.remove_own_files(tmp)
    rotate(db_path)
    return final


def backup_before(db: Database, reason: str) -> Path | None:
    """Back up `db`'s file before a change that replaces or deletes data (None in memory)."""
    from workstation.store.db import db_file, read_only_reason

    path = db_file(db)
    if path is None or read_only_reason(db):
        return None
    return take_backup(path, reason)


def list_backups(db_path: str | Path) -> list[Backup]:
    """The backups of the database at `db_path`, newest first."""
    folder = backup_dir(db_path)
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if not m or not entry.is_file():
            continue
        taken = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        found.append(Backup(entry, taken, m.group(2), entry.stat().st_size))
    found.sort(key=lambda b: b.path.name, reverse=True)
    return found


def rotate(db_path: str | Path, keep: int = KEEP) -> list[Path]:
    """Delete all but the newest `keep` backups (only files named as this module names them)."""
    removed = []
    for old in list_backups(db_path)[keep:]:
        with contextlib.suppress(OSError):
            old.path.unlink()
            removed.append(old.path)
    return removed


def resolve(db_path: str | Path, which: str | int) -> Path:
    """A backup by its number in `list_backups` (1 = newest), or a backup file's path."""
    text = str(which).strip()
    if text.isdigit():
        found = list_backups(db_path)
        n = int(text)
        if not 1 <= n <= len(found):
            raise StoreError(f"no backup number {n}: {len(found)} backup(s) of {db_path} in "
                             f"{backup_dir(db_path)}")
        return found[n - 1].path
    path = Path(text).expanduser()
    if not path.is_file():
        raise StoreError(f"{path}: no such backup file")
    return path


def _open_backup(path: Path) -> sqlite3.Connection:
    from workstation.store.db import SCHEMA_VERSION

    try:
        health.check_file(path)
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            health.check_schema(conn, path, SCHEMA_VERSION)
            health.quick_check(conn, path)
        except BaseException:
            conn.close()
            raise
    except DatabaseUnusable as exc:
        raise StoreError(f"{path}: this backup cannot be brought back: {exc.problem}; "
                         f"choose another (`db backups` lists them)") from None
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: this backup cannot be read ({exc}); choose another") from None
    return conn


def _staged_copy(source: Path, folder: Path) -> Path:
    """A private copy of the backup `source`, migrated to this program's schema."""
    from workstation.store.db import connect, migrate

    tmp = files.private_temp(folder, ".restore-", ".db")
    try:
        src = _open_backup(source)
        try:
            dst = sqlite3.connect(str(tmp))
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        db = connect(tmp)
        try:
            migrate(db, backup=False)
        finally:
            db.close()
    except BaseException:
        files.remove_own_files(tmp)
        raise
    return tmp


def restore(
    db_path: str | Path, which: str | int | Path, *, expected_counter: int | None = None
) -> RestoreResult:
    """Bring back a backup (a number from `list_backups` or a file) into the database.

    The current state is backed up first. `expected_counter` (the window's Undo) refuses with
    `StaleBookError` when the book changed since that change counter.
    """
    from workstation.store.db import open_db

    db_path = Path(db_path)
    source = which if isinstance(which, Path) else resolve(db_path, which)
    folder = backup_dir(db_path)
    files.make_private_dir(folder)
    staged = _staged_copy(source, folder)
    try:
        if not db_path.exists() and files.publish_new(staged, db_path):
            return RestoreResult(source, None, False)
        try:
            db = open_db(db_path)
        except DatabaseUnusable:
            if expected_counter is not None:
                raise
            aside = _set_aside(db_path, folder)
            if not files.publish_new(staged, db_path):
                raise StoreError(f"{db_path}: another process made a new database here while "
                                 f"restoring; the backup is still {source}") from None
            return RestoreResult(source, aside, True)
        try:
            saved = take_backup(db_path, "before-restore")
            _copy_book(db, staged, expected_counter)
        finally:
            db.close()
        return RestoreResult(source, saved, False)
    finally:
        files.remove_own_files(staged)


def _set_aside(db_path: Path, folder: Path) -> Path:
    """Move an unusable database (and its -wal / -shm) into the backup folder, unchanged."""
    aside = folder / f"{_stamp()}Z-{db_path.name}.set-aside"
    os.rename(db_path, aside)
    for suffix in files.COMPANIONS:
        companion = Path(f"{db_path}{suffix}")
        if companion.exists():
            os.rename(companion, Path(f"{aside}{suffix}"))
    return aside


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")')]


def _copy_book(db: Database, staged: Path, expected_counter: int | None) -> None:
    """Replace the book of `db` by the staged backup's, in one transaction."""
    from workstation.store.db import book_counter, transaction

    conn = db.conn
    conn.execute("ATTACH DATABASE ? AS bak", (str(staged),))
    try:
        with transaction(db):
            if expected_counter is not None and book_counter(db) != expected_counter:
                raise StaleBookError(
                    "the book changed in the database after that change (another window or "
                    "command wrote to it), so undoing it would lose the newer change; "
                    "`db restore` can still bring that backup back"
                )
            conn.execute("PRAGMA defer_foreign_keys = ON")
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY rootpage"
            ) if r[0] not in _KEPT_TABLES]
            conn.execute("CREATE TEMP TABLE restore_kept AS SELECT * FROM main.scenarios")
            conn.execute("DELETE FROM main.scenarios")
            for table in reversed(tables):
                conn.execute(f'DELETE FROM main."{table}"')
            for table in [*tables, "scenarios"]:
                cols = ", ".join(f'"{c}"' for c in _columns(conn, "main", table))
                conn.execute(f'INSERT INTO main."{table}" ({cols}) SELECT {cols} FROM bak."{table}"')
            conn.execute(
                "INSERT OR IGNORE INTO main.scenarios SELECT * FROM temp.restore_kept "
                "WHERE account_id IN (SELECT id FROM main.accounts)"
            )
            for table in _UNION_TABLES:
                cols = ", ".join(f'"{c}"' for c in _columns(conn, "main", table))
                conn.execute(f'INSERT OR IGNORE INTO main."{table}" ({cols}) SELECT {cols} FROM bak."{table}"')
            conn.execute("DROP TABLE temp.restore_kept")
    finally:
        conn.execute("DETACH DATABASE bak")
