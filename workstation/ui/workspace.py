"""Where the book comes from (the database, or a portfolio file read-only) and its recompute.

Saving happens on the GUI thread (the SQLite connection belongs to it); the engine runs in a
worker on a snapshot of the portfolio. Requests made while a recompute runs are coalesced: only
the latest one runs next. Opening the window and reloading after a change made elsewhere read
the book on a worker too (`load_in_background`: its own read-only connection; a 10,000-position
book takes 60-100 ms to read); a reload after an edit of this window reads it on the GUI thread
(`load`), which then holds the new change counter at once.

The book is read with its change counter (`book_counter`), which every edit hands back so a
change made from stale data is refused. A timer polls `PRAGMA data_version`: when another
window or command committed to the database and the book changed, the workspace reloads
(`changed_elsewhere`), except while a modal dialog is open (it reloads when that closes).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from workstation.core.model import Portfolio
from workstation.ui.compute import ScopeView, compute_scope, default_scope
from workstation.ui.worker import start_worker


class Workspace(QObject):
    """Holds the current portfolio, selected scope and the latest engine results."""

    loaded = Signal(object)  # Portfolio
    computed = Signal(object)  # ScopeView
    busy_changed = Signal(bool)
    failed = Signal(object)  # exception from loading, saving or the engine
    changed_elsewhere = Signal()  # another window or command changed the book: reloaded

    POLL_MS = 1000

    def __init__(
        self,
        db: Any = None,
        db_path: Path | None = None,
        file: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.db_path = db_path
        self.file = file
        self.portfolio: Portfolio | None = None
        self.scope: str | None = None
        self.underlying: str | None = None
        self.view: ScopeView | None = None
        self.reports: list[dict[str, Any]] = []
        self._serial = 0
        self._running = False
        self._pending: tuple[bool, bool] | None = None  # (all_reports, record)
        self.book_counter: int | None = None  # the change counter the book was loaded at
        self._data_version: int | None = None
        self._load_serial = 0  # the latest load; a background read of an older one is dropped
        self._reading = 0  # background reads running
        self._watch = QTimer(self)
        self._watch.setInterval(self.POLL_MS)
        self._watch.timeout.connect(self.check_for_changes)
        if db is not None:
            self._watch.start()

    # -- sources --------------------------------------------------------------------------
    @classmethod
    def from_database(cls, path: Path | None = None, parent: QObject | None = None) -> Workspace:
        """Open (create, with the demo book, on first start) the database at `path`."""
        from workstation.store.paths import default_db_path, ensure_database

        db_path = Path(path) if path else Path(default_db_path())
        return cls(db=ensure_database(db_path), db_path=db_path, parent=parent)

    @classmethod
    def from_file(cls, path: Path, parent: QObject | None = None) -> Workspace:
        """A portfolio file, read-only."""
        return cls(file=Path(path), parent=parent)

    @property
    def read_only(self) -> bool:
        return self.db is None or self.read_only_reason() is not None

    def read_only_reason(self) -> str | None:
        """Why the database cannot be written (read-only media, no permission), or None."""
        if self.db is None:
            return "a portfolio file is opened read-only"
        from workstation.store.db import read_only_reason

        return read_only_reason(self.db)

    def source_label(self) -> str:
        if self.file is not None:
            return f"{self.file} (read-only)"
        label = str(self.db_path) if self.db_path else "in-memory database"
        return f"{label} (read-only: {self.read_only_reason()})" if self.read_only else label

    # -- loading and editing --------------------------------------------------------------
    def load(self, record: bool = True) -> bool:
        """Read the book from the source, announce it and recompute everything; the reports are
        appended to the margin history (every report the app computes is kept)."""
        self._load_serial += 1
        try:
            if self.db is not None:
                from workstation.store.repository import load_book

                self._data_version = self._poll_data_version()
                portfolio, counter = load_book(self.db)
            else:
                from workstation.core.portfolio_io import read_portfolio

                portfolio, counter = read_portfolio(self.file), None
        except Exception as exc:
            self.failed.emit(exc)
            return False
        self._take(portfolio, counter, record)
        return True

    def load_in_background(self, record: bool = True) -> None:
        """`load`, with the book read on a worker: from the database file through a read-only
        connection of its own (the change counter read with the book, in one transaction), or
        from the portfolio file. The data version is taken on this window's connection before
        the read, so a commit made meanwhile is seen by the next poll. An in-memory database
        (no file to open twice) is read here."""
        if self.db is not None and self.db_path is None:
            self.load(record)
            return
        self._load_serial += 1
        serial = self._load_serial
        if self.db is not None:
            self._data_version = self._poll_data_version()
        self._reading += 1

        def done() -> None:
            self._reading -= 1

        start_worker(_read_book, self.db_path if self.db is not None else None, self.file,
                     on_returned=lambda result: self._on_read(result, serial, record),
                     on_errored=lambda exc: self.failed.emit(exc) if serial == self._load_serial else None,
                     on_finished=done)

    def _on_read(self, result: tuple[Portfolio, int | None], serial: int, record: bool) -> None:
        if serial == self._load_serial:  # else a later load has shown a newer book
            self._take(*result, record)

    def _take(self, portfolio: Portfolio, counter: int | None, record: bool) -> None:
        if self.db is not None:
            self.book_counter = counter
        self.portfolio = portfolio
        scopes = _scopes(portfolio)
        if self.scope not in scopes:
            self.scope = default_scope(portfolio)
        self.loaded.emit(portfolio)
        self.recompute(all_reports=True, record=record)

    # -- changes made elsewhere ----------------------------------------------------------
    def _poll_data_version(self) -> int:
        return int(self.db.conn.execute("PRAGMA data_version").fetchone()[0])

    def check_for_changes(self) -> bool:
        """Reload if another connection changed the book since it was loaded; True if so.

        Called by the timer; waits while a modal dialog is open (an edit in progress is
        checked against the counter it started from, and refused if stale)."""
        if self.db is None or self._reading or QApplication.activeModalWidget() is not None:
            return False
        try:
            if self.db.conn.in_transaction:
                return False
            version = self._poll_data_version()
            if version == self._data_version:
                return False
            self._data_version = version
            from workstation.store.db import book_counter

            if book_counter(self.db) == self.book_counter:
                return False  # history or scenarios only: the book is as shown
        except sqlite3.ProgrammingError:
            self._watch.stop()  # the connection was closed: this workspace is done
            return False
        except Exception as exc:
            self._watch.stop()  # a damaged database: say it once, not every second
            self.failed.emit(exc)
            return False
        self.load_in_background(record=True)
        self.changed_elsewhere.emit()
        return True

    def close(self) -> None:
        """Stop watching and close the database."""
        self._watch.stop()
        if self.db is not None:
            self.db.close()

    def select(self, scope: str, underlying: str | None = None) -> None:
        """Show `scope` (and `underlying` in the charts); recompute that scope only."""
        same = scope == self.scope and underlying in (None, self.underlying)
        if same and (self.view is not None or self._running):
            return
        self.scope, self.underlying = scope, underlying
        self.recompute(all_reports=False)

    # -- recompute ------------------------------------------------------------------------
    def recompute(self, all_reports: bool = True, record: bool = False) -> None:
        """Start the engine in a worker, or queue this request behind the running one."""
        if self.portfolio is None or self.scope is None:
            return
        if self._running:
            prev = self._pending or (False, False)
            self._pending = (prev[0] or all_reports, prev[1] or record)
            return
        self._serial += 1
        self._running = True
        self.busy_changed.emit(True)
        serial = self._serial
        as_of = self.portfolio.as_of  # the snapshot these reports are computed from
        start_worker(
            compute_scope, self.portfolio, self.scope, self.underlying, all_reports, self.reports,
            on_returned=lambda view: self._on_result(view, serial, record, as_of),
            on_errored=self.failed.emit,
            on_finished=self._on_finished,
        )

    def is_busy(self) -> bool:
        """A book is being read in the background, or the engine is running."""
        return self._running or self._reading > 0

    def _on_result(self, view: ScopeView, serial: int, record: bool, as_of: Any = None) -> None:
        view.serial = serial
        if view.reports is not None:
            self.reports = view.reports
            if record and self.db is not None:
                self._record(view.reports, as_of)
        if view.scope != self.scope:
            return  # the user moved on; the pending request will show the new scope
        self.underlying = view.underlying
        self.view = view
        self.computed.emit(view)

    def _on_finished(self) -> None:
        self._running = False
        if self._pending is not None:
            all_reports, record = self._pending
            self._pending = None
            self.recompute(all_reports, record)
        else:
            self.busy_changed.emit(False)

    def _record(self, reports: list[dict[str, Any]], as_of: Any = None) -> None:
        if self.read_only:
            return  # history cannot be kept in a read-only database
        try:
            from workstation.store.db import transaction
            from workstation.store.repository import record_history

            with transaction(self.db):  # one set of scopes, all or none
                for report in reports:
                    record_history(self.db, report, as_of=as_of)
        except Exception as exc:
            self.failed.emit(exc)


def _read_book(db_path: Path | None, file: Path | None) -> tuple[Portfolio, int | None]:
    """(book, change counter) from the database file (a read-only connection of this thread's
    own, closed after) or (book, None) from a portfolio file. Runs on a worker."""
    if db_path is None:
        from workstation.core.portfolio_io import read_portfolio

        return read_portfolio(file), None
    from workstation.store.db import connect
    from workstation.store.repository import load_book

    reader = connect(db_path, read_only=True)
    try:
        return load_book(reader)
    finally:
        reader.conn.close()


def _scopes(portfolio: Portfolio) -> set[str]:
    return {f"account:{a.id}" for a in portfolio.accounts} | {f"pool:{p.id}" for p in portfolio.pools}
