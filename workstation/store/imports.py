"""Atomic imports: a file's rows all land, or none do; nothing is lost without `replace`.

Every import reads and checks the whole file first (syntax, numbers, symbols, columns), then,
inside one `BEGIN IMMEDIATE` transaction, checks the rows against the database (accounts,
priced assets, margin modes, expiries), writes them, checks the whole book, and compares the
book before and after (`changes`). Any error raises `ImportFileError` (`FILE:LINE: FIELD:
message`) and rolls everything back.

- A portfolio file replaces the whole book; positions and balances files replace the
  positions / collateral of each account they name (a venue dump is the account's whole
  state). When that would delete anything, the import is refused (`ReplaceRefused`, naming
  what would go) unless `replace=True`.
- `merge=True` adds and updates instead: positions and balances are added to the accounts
  (closed entries, of zero size, delete their position); a portfolio file's accounts, pools
  and profiles replace those of the same id and the rest of the book is kept.
- A file that lists no positions or balances is refused unless `allow_empty=True`.
- Before committing an import that deletes or changes anything, the database is backed up
  (`backups`); `dry_run=True` does everything but commit and returns what would change.
Accounts named in the file that do not exist are created (cross margin).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from workstation.core.errors import PortfolioError, WorkstationError
from workstation.core.model import Portfolio
from workstation.core.portfolio_io import loads_portfolio
from workstation.store import book_write, from_ccxt, from_csv
from workstation.store.connection import Database
from workstation.store.errors import ImportFileError, InvalidInput
from workstation.store.import_rows import import_balances, import_market_csv, import_positions
from workstation.store.import_run import PAUSE_ENV, DryRun, ImportResult, Mode, book_error, pause, run
from workstation.store.locate import import_error
from workstation.store.tabular import read_text

KINDS = ("portfolio", "ccxt-positions", "ccxt-balance", "positions-csv", "balances-csv",
         "market-csv")
VENUE_KINDS = ("ccxt-positions", "ccxt-balance", "positions-csv", "balances-csv")
__all__ = ["KINDS", "PAUSE_ENV", "VENUE_KINDS", "ImportResult", "import_file", "import_market_csv",
           "import_portfolio"]


def import_file(
    db: Database,
    kind: str,
    path: str | Path,
    *,
    account: str | None = None,
    merge: bool = False,
    replace: bool = False,
    allow_empty: bool = False,
    venue: str | None = None,
    as_of: datetime | None = None,
    rate: float | None = None,
    dry_run: bool = False,
    expected_counter: int | None = None,
) -> ImportResult:
    """Import `path` as `kind` (one of KINDS); see the module's docstring for the options.

    `expected_counter` refuses (`StaleBookError`) if the book changed since that change
    counter (the window's preview was made from it).
    """
    _check_options(kind, path, merge, replace, allow_empty)
    mode = Mode(merge, replace, allow_empty, dry_run, expected_counter)
    try:
        if kind == "portfolio":
            return import_portfolio(db, path, mode)
        if kind == "market-csv":
            return import_market_csv(db, path, as_of=as_of, rate=rate, mode=mode)
        if kind in ("ccxt-positions", "ccxt-balance") and not account:
            raise ImportFileError(path, None, "--account", f"{kind} imports need an account")
        venues = _venues(db, venue)
        if kind == "ccxt-positions":
            staged = from_ccxt.ccxt_positions(path, account or "", venues(account or ""))
            return import_positions(db, path, kind, staged, mode, account)
        if kind == "positions-csv":
            staged = from_csv.positions_csv(path, account, venues)
            return import_positions(db, path, kind, staged, mode, account)
        if kind == "ccxt-balance":
            balances = from_ccxt.ccxt_balance(path, account or "")
            return import_balances(db, path, kind, balances, mode, account, _account_figures(path))
        balances = from_csv.balances_csv(path, account)
        return import_balances(db, path, kind, balances, mode, account)
    except DryRun as done:
        return done.result


def _account_figures(path: str | Path) -> tuple:
    """The venue's account figures in a ccxt balance dump's `info` (store.venue_import)."""
    from workstation.store.venue_import import balance_figures

    return balance_figures(path)


def _check_options(kind: str, path: str | Path, merge: bool, replace: bool,
                   allow_empty: bool) -> None:
    if kind not in KINDS:
        raise ImportFileError(path, None, "kind", f"unknown import kind {kind!r}; one of {KINDS}")
    if merge and replace:
        raise ImportFileError(path, None, "--merge", "give --merge or --replace, not both")
    if kind == "market-csv" and (merge or replace):
        flag = "--merge" if merge else "--replace"
        raise ImportFileError(path, None, flag, "means nothing for a market-csv import: it adds a "
                              "snapshot (assets it does not list keep their quotes) and deletes "
                              "nothing")
    if allow_empty and kind not in VENUE_KINDS:
        raise ImportFileError(path, None, "--allow-empty",
                              f"means nothing for a {kind} import (only for positions and "
                              f"balances files)")


def _venues(db: Database, venue: str | None) -> Callable[[str], str | None]:
    known = {r["id"]: r["venue"] for r in db.query("SELECT id, venue FROM accounts")}
    return lambda account: venue or known.get(account)


# ---------------------------------------------------------------- portfolio
def import_portfolio(db: Database, path: str | Path, mode: Mode | None = None) -> ImportResult:
    """Replace the whole book with a portfolio file (history is kept), or with `mode.merge`
    add its accounts, pools and profiles, replacing those of the same id."""
    from workstation.store.merge import merge_portfolio

    mode = mode or Mode(False, False, False, False, None)
    file = str(path)
    book = _read_portfolio(file, path)

    def write() -> tuple[int, list[str]]:
        if mode.merge:
            try:
                merge_portfolio(db, book)
            except InvalidInput as err:
                raise book_error(file, err) from None
        else:
            book_write.write_portfolio(db, book)
        pause(1, 1)
        count = sum(len(a.positions) + len(a.collateral) for a in book.accounts)
        return count, [a.id for a in book.accounts]

    return run(db, file, "portfolio", mode, None, write)


def _read_portfolio(file: str, path: str | Path) -> Portfolio:
    text = read_text(path)
    try:
        return loads_portfolio(text)
    except PortfolioError as err:
        raise import_error(file, text, err) from None
    except WorkstationError as err:
        raise ImportFileError(file, None, "profiles", str(err)) from None


