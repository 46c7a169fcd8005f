"""Edits made from a book the editor loaded earlier (the window): refused when stale.

The window reads the book together with its change counter (`repository.load_book`) and
hands that counter back with every edit: if another window or command changed the book in
between, the edit is refused (`StaleBookError`) instead of overwriting what it did not see.
A batch of edits (the What-if's "Apply to book") is also backed up first, so it can be undone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workstation.core.model import Position
from workstation.store.account_edits import apply_trades as book_trades
from workstation.store.backups import backup_before
from workstation.store.book_read import require_counter
from workstation.store.connection import Database
from workstation.store.db import book_counter, transaction


@dataclass(frozen=True)
class EditResult:
    counter: int  # the book's change counter after the edit
    backup: Path | None = None  # the state before it (batches only)


def guarded_edit(
    db: Database, expected_counter: int | None, edit: Callable[..., Any], *args: Any
) -> EditResult:
    """Run `edit(db, *args)` in one transaction, unless the book changed since
    `expected_counter` (None: no check)."""
    with transaction(db):
        require_counter(db, expected_counter)
        edit(db, *args)
        return EditResult(book_counter(db))


def apply_trades(
    db: Database,
    account_id: str,
    trades: Sequence[Position],
    collateral_changes: Mapping[str, float] | None = None,
    *,
    expected_counter: int | None = None,
) -> EditResult:
    """Save drafted trades to an account and pay their cash legs (`collateral_changes`: asset ->
    change, the premiums and fees), all or none, after backing up the database."""
    with transaction(db):
        require_counter(db, expected_counter)
        book_trades(db, account_id, list(trades), collateral_changes)
        backup = backup_before(db, f"before-apply-to-book-{account_id}")
        return EditResult(book_counter(db), backup)
