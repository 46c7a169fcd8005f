"""Files the store makes: private folders, new databases put in place without a race, exports.

Nothing here deletes or overwrites a file this process did not create, except an export's
target, which is replaced whole (a temporary file of our own, fsynced, then `os.replace`) and
never when it is the database, its -wal / -shm / -journal, or any other SQLite file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from workstation.store.errors import StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"
COMPANIONS = ("-wal", "-shm", "-journal")


def make_private_dir(folder: Path) -> None:
    """Create `folder` (and its parents) if missing; the folder itself is made 0700."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def remove_own_files(path: Path) -> None:
    """Remove a database file this process created, with its -wal / -shm / -journal."""
    for name in (path, *(Path(f"{path}{s}") for s in COMPANIONS)):
        with contextlib.suppress(OSError):
            name.unlink(missing_ok=True)


def private_temp(folder: Path, prefix: str, suffix: str) -> Path:
    """A new empty file of our own (0600, unpredictable name) in `folder`."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    os.close(fd)
    return Path(name)


def publish_new(tmp: Path, path: Path) -> bool:
    """Give the complete file `tmp` the name `path`, only if `path` does not exist yet.

    A hard link is atomic and never replaces a file; False when `path` exists (another
    process made it first). `tmp` stays for the caller to remove.
    """
    fsync_file(tmp)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        return _publish_by_copy(tmp, path)  # a filesystem without hard links
    fsync_dir(path.parent)
    return True


def _publish_by_copy(tmp: Path, path: Path) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out, open(tmp, "rb") as src:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
    fsync_dir(path.parent)
    return True


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def check_export_target(target: Path, protect: Iterable[Path] = ()) -> None:
    """Refuse to write an export over a database, its companions or any SQLite file."""
    for db in protect:
        for name in (db, *(Path(f"{db}{s}") for s in COMPANIONS)):
            if _same_file(target, name):
                raise StoreError(f"{target}: that is the database file {name}; an export never "
                                 f"overwrites it: choose another file")
    if target.exists() and _is_sqlite(target):
        raise StoreError(f"{target}: that file is an SQLite database; an export never "
                         f"overwrites one: choose another file")
    if target.name.endswith(COMPANIONS):
        raise StoreError(f"{target}: a name ending in -wal, -shm or -journal belongs to a "
                         f"database; choose another file for the export")


def write_export(text: str, target: str | Path, protect: Iterable[Path] = ()) -> Path:
    """Write an export atomically: a temporary file of our own (0600) in the target folder,
    fsynced, then renamed over `target`. Refuses the database files in `protect`."""
    target = Path(target)
    check_export_target(target, protect)
    folder = target.parent if str(target.parent) else Path(".")
    tmp = private_temp(folder, f".{target.name}.", ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(folder)
    return target
