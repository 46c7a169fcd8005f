"""Errors of the local store. All derive from `WorkstationError`, so the CLI reports them alike."""

from __future__ import annotations

from pathlib import Path

from workstation.core.errors import WorkstationError, printable

MAX_MESSAGE = 600  # characters of a message (the values in it are cut by core.errors.shown)


class StoreError(WorkstationError):
    """The database cannot do what was asked (unknown id, newer schema, locked file, ...)."""


class NotFoundError(StoreError):
    """An account, pool, position, balance or scenario asked for does not exist."""


class InvalidInput(StoreError):
    """A value handed to the store breaks a rule of the portfolio format.

    `field` names the value (e.g. `positions[btc-perp].strike`); str is `FIELD: message`.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{printable(field)}: {printable(message, MAX_MESSAGE)}")


class ImportFileError(StoreError):
    """A file being imported is malformed; nothing was written.

    str is `FILE:LINE: FIELD: message` (LINE is omitted when unknown).
    """

    def __init__(self, file: str | Path, line: int | None, field: str, message: str):
        self.file = str(file)
        self.line = line
        self.field = field
        self.message = message
        where = printable(self.file) + (f":{line}" if line is not None else "")
        super().__init__(f"{where}: {printable(field)}: {printable(message, MAX_MESSAGE)}")


class DatabaseUnusable(StoreError):
    """The file cannot serve as the book: damaged, foreign, empty, or from a newer program.

    str is `PATH: problem. hint`; the hint points to `db backups` / `db restore`.
    """

    def __init__(self, path: str | Path, problem: str, hint: str = ""):
        self.path = str(path)
        self.problem = problem
        text = f"{self.path}: {problem}"
        super().__init__(f"{text}. {hint}" if hint else text)


class ReadOnlyDatabase(StoreError):
    """A write was asked of a database opened read-only (read-only media, no write access)."""


class StaleBookError(StoreError):
    """An edit was made from a book that has changed in the database since it was loaded."""


class ReplaceRefused(StoreError):
    """An import would delete data and was not given `replace=True` (`--replace`).

    `changes` is the `workstation.store.changes.Changes` the import would have made.
    """

    def __init__(self, message: str, changes: object):
        self.changes = changes
        super().__init__(message)
