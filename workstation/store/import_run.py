"""The transaction every import runs in: the book compared before and after, deletions refused
unless asked for, a backup before committing a loss, or a rollback for a dry run."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from workstation.store import book_write
from workstation.store.backups import backup_before
from workstation.store.changes import Changes, capture, compare
from workstation.store.connection import Database
from workstation.store.db import book_counter, transaction
from workstation.store.errors import ImportFileError, InvalidInput, ReplaceRefused, StaleBookError
from workstation.store.staging import Staged

T = TypeVar("T")
# Test hook: seconds to sleep inside the import transaction once half the rows are written.
PAUSE_ENV = "MARGIN_WORKSTATION_TEST_PAUSE_IMPORT"


@dataclass
class ImportResult:
    kind: str
    file: str
    rows: int
    accounts: list[str]
    changes: Changes | None = None
    backup: Path | None = None  # the state before the import, when it deleted or changed data
    counter: int | None = None  # the book's change counter after the import
    dry_run: bool = False

    def __str__(self) -> str:
        where = f" into {', '.join(self.accounts)}" if self.accounts else ""
        verb = "would import" if self.dry_run else "imported"
        text = f"{verb} {self.rows} row(s) of {self.kind} from {self.file}{where}"
        if self.changes is not None and self.changes.deletes:
            text += f"; deleted {'; '.join(self.changes.deletions())}"
        if self.backup is not None:
            text += f"; the state before is backed up in {self.backup}"
        return text


class DryRun(Exception):
    """Raised at the end of a dry run to roll it back; carries the result."""

    def __init__(self, result: ImportResult):
        self.result = result


@dataclass
class Mode:
    merge: bool
    replace: bool
    allow_empty: bool
    dry_run: bool
    expected_counter: int | None


def run(
    db: Database,
    file: str,
    kind: str,
    mode: Mode,
    scope: Sequence[str] | None,
    write: Callable[[], tuple[int, list[str]]],
) -> ImportResult:
    """Run `write` in one transaction, comparing the book (`scope`'s accounts, or all of it)
    before and after: refuse unasked deletions, back up before committing a loss."""
    with transaction(db):
        if mode.expected_counter is not None and book_counter(db) != mode.expected_counter:
            raise StaleBookError("the book changed in the database since the preview (another "
                                 "window or command wrote to it): look at the preview again")
        before = capture(db, scope)
        rows, accounts = write()
        changes = compare(before, capture(db, scope))
        result = ImportResult(kind, file, rows, accounts, changes, dry_run=mode.dry_run)
        if mode.dry_run:
            raise DryRun(result)
        if changes.deletes and not (mode.replace or mode.merge):
            raise ReplaceRefused(refusal(file, kind, changes), changes)
        if changes.overwrites:
            result.backup = backup_before(db, f"before-import-{kind}")
        result.counter = book_counter(db)
    return result


def refusal(file: str, kind: str, changes: Changes) -> str:
    gone = "; ".join(changes.deletions())
    if kind == "portfolio":
        return (f"{file}: importing this portfolio replaces the whole book and would delete "
                f"{gone}. Pass --replace to replace the book (a backup is taken first), or "
                f"--merge to add the file's accounts and replace those of the same id, keeping "
                f"the others")
    return (f"{file}: this import replaces the accounts' {what(kind)} and would delete {gone}. "
            f"Pass --replace to replace them (a backup is taken first), or --merge to add and "
            f"update only")


def what(kind: str) -> str:
    return "balances" if "balance" in kind else "positions"


def empty(file: str, kind: str, account: str | None, mode: Mode) -> None:
    """Refuse a file that lists nothing (`{}`, `[]`, a bare header) unless `allow_empty`."""
    if mode.allow_empty:
        return
    whose = f"account {account}" if account else "the account"
    raise ImportFileError(file, None, "(file)", f"the file lists no {what(kind)}: a venue "
                          f"dump this empty would leave {whose} with none, and is more likely "
                          f"a failed download; if the account really holds none, pass "
                          f"--allow-empty")


def pause(done: int, total: int) -> None:
    """The test hook: after half the rows, announce it and sleep (inside the transaction)."""
    seconds = os.environ.get(PAUSE_ENV)
    if seconds and done == max(total // 2, 1):
        print(f"import paused after {done} of {total} rows", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def book_error(file: str, err: InvalidInput) -> ImportFileError:
    return ImportFileError(file, None, err.field, f"{err.message} (after the import)")


def check_row(item: Staged, check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a check of one staged row; an InvalidInput becomes an error naming its line."""
    try:
        return check(*args, **kwargs)
    except InvalidInput as err:
        raise item.error(err.field.rsplit(".", 1)[-1], err.message) from None


def check_book(db: Database, file: str) -> None:
    try:
        book_write.check_book(db)
    except InvalidInput as err:
        raise book_error(file, err) from None


