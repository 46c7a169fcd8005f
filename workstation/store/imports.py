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

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from workstation.core.errors import PortfolioError, WorkstationError
from workstation.core.model import Portfolio, Quote
from workstation.core.portfolio_io import loads_portfolio
from workstation.store import from_ccxt, from_csv, repository, validate
from workstation.store.backups import backup_before
from workstation.store.changes import Changes, capture, compare
from workstation.store.codec import now_utc, parse_iso, position_row
from workstation.store.db import book_counter, transaction
from workstation.store.errors import ImportFileError, InvalidInput, ReplaceRefused, StaleBookError
from workstation.store.locate import line_of
from workstation.store.staging import Staged, StagedBalance, StagedPosition, StagedQuote
from workstation.store.tabular import read_text

Database = sqlite_utils.Database
T = TypeVar("T")
KINDS = ("portfolio", "ccxt-positions", "ccxt-balance", "positions-csv", "balances-csv",
         "market-csv")
VENUE_KINDS = ("ccxt-positions", "ccxt-balance", "positions-csv", "balances-csv")
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


class _DryRun(Exception):
    def __init__(self, result: ImportResult):
        self.result = result


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
    mode = _Mode(merge, replace, allow_empty, dry_run, expected_counter)
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
            return _import_positions(db, path, kind, staged, mode, account)
        if kind == "positions-csv":
            staged = from_csv.positions_csv(path, account, venues)
            return _import_positions(db, path, kind, staged, mode, account)
        if kind == "ccxt-balance":
            balances = from_ccxt.ccxt_balance(path, account or "")
            return _import_balances(db, path, kind, balances, mode, account)
        balances = from_csv.balances_csv(path, account)
        return _import_balances(db, path, kind, balances, mode, account)
    except _DryRun as done:
        return done.result


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


@dataclass
class _Mode:
    merge: bool
    replace: bool
    allow_empty: bool
    dry_run: bool
    expected_counter: int | None


def _run(
    db: Database,
    file: str,
    kind: str,
    mode: _Mode,
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
            raise _DryRun(result)
        if changes.deletes and not (mode.replace or mode.merge):
            raise ReplaceRefused(_refusal(file, kind, changes), changes)
        if changes.overwrites:
            result.backup = backup_before(db, f"before-import-{kind}")
        result.counter = book_counter(db)
    return result


def _refusal(file: str, kind: str, changes: Changes) -> str:
    gone = "; ".join(changes.deletions())
    if kind == "portfolio":
        return (f"{file}: importing this portfolio replaces the whole book and would delete "
                f"{gone}. Pass --replace to replace the book (a backup is taken first), or "
                f"--merge to add the file's accounts and replace those of the same id, keeping "
                f"the others")
    return (f"{file}: this import replaces the accounts' {_what(kind)} and would delete {gone}. "
            f"Pass --replace to replace them (a backup is taken first), or --merge to add and "
            f"update only")


def _what(kind: str) -> str:
    return "balances" if "balance" in kind else "positions"


def _empty(file: str, kind: str, account: str | None, mode: _Mode) -> None:
    """Refuse a file that lists nothing (`{}`, `[]`, a bare header) unless `allow_empty`."""
    if mode.allow_empty:
        return
    whose = f"account {account}" if account else "the account"
    raise ImportFileError(file, None, "(file)", f"the file lists no {_what(kind)}: a venue "
                          f"dump this empty would leave {whose} with none, and is more likely "
                          f"a failed download; if the account really holds none, pass "
                          f"--allow-empty")


def _venues(db: Database, venue: str | None) -> Callable[[str], str | None]:
    known = {r["id"]: r["venue"] for r in db.query("SELECT id, venue FROM accounts")}
    return lambda account: venue or known.get(account)


def _pause(done: int, total: int) -> None:
    """The test hook: after half the rows, announce it and sleep (inside the transaction)."""
    seconds = os.environ.get(PAUSE_ENV)
    if seconds and done == max(total // 2, 1):
        print(f"import paused after {done} of {total} rows", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def _book_error(file: str, err: InvalidInput) -> ImportFileError:
    return ImportFileError(file, None, err.field, f"{err.message} (after the import)")


# ---------------------------------------------------------------- portfolio
def import_portfolio(db: Database, path: str | Path, mode: _Mode | None = None) -> ImportResult:
    """Replace the whole book with a portfolio file (history is kept), or with `mode.merge`
    add its accounts, pools and profiles, replacing those of the same id."""
    from workstation.store.merge import merge_portfolio

    mode = mode or _Mode(False, False, False, False, None)
    file = str(path)
    book = _read_portfolio(file, path)

    def write() -> tuple[int, list[str]]:
        if mode.merge:
            try:
                merge_portfolio(db, book)
            except InvalidInput as err:
                raise _book_error(file, err) from None
        else:
            repository._write_portfolio(db, book)
        _pause(1, 1)
        count = sum(len(a.positions) + len(a.collateral) for a in book.accounts)
        return count, [a.id for a in book.accounts]

    return _run(db, file, "portfolio", mode, None, write)


def _read_portfolio(file: str, path: str | Path) -> Portfolio:
    text = read_text(path)
    try:
        return loads_portfolio(text)
    except PortfolioError as err:
        if err.path.startswith("line "):  # JSON syntax: the reader names `line L column C`
            line = int(err.path.split()[1])
            raise ImportFileError(file, line, "(json)", f"expected {err.expected}") from None
        got = "" if err.got is None else f" (got {err.got!r})"
        raise ImportFileError(
            file, line_of(text, err.path), err.path, f"expected {err.expected}{got}"
        ) from None
    except WorkstationError as err:
        raise ImportFileError(file, None, "profiles", str(err)) from None


# ---------------------------------------------------------------- positions
def _checked(item: Staged, check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a check of one staged row; an InvalidInput becomes an error naming its line."""
    try:
        return check(*args, **kwargs)
    except InvalidInput as err:
        raise item.error(err.field.rsplit(".", 1)[-1], err.message) from None


def _modes(db: Database, file: str, accounts: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Margin mode of each account (cross for the ones to create) and the ones to create."""
    modes: dict[str, str] = {}
    missing: list[str] = []
    for acc in accounts:
        row = db.conn.execute("SELECT margin_mode FROM accounts WHERE id = ?", (acc,)).fetchone()
        if row is None:
            if not acc.strip():
                raise ImportFileError(file, None, "account", "an account id is required")
            if db.conn.execute("SELECT 1 FROM pools WHERE id = ?", (acc,)).fetchone():
                raise ImportFileError(file, None, "account", f"{acc!r} is a pool, not an account")
            missing.append(acc)
        modes[acc] = row[0] if row else "cross"
    return modes, missing


def _create_accounts(db: Database, accounts: Sequence[str]) -> None:
    for acc in accounts:
        seq = db.conn.execute("SELECT coalesce(max(seq), -1) + 1 FROM accounts").fetchone()[0]
        db.conn.execute(
            "INSERT INTO accounts(id, seq, margin_mode, profile) VALUES (?, ?, 'cross', 'default')",
            (acc, seq),
        )


def _given(account: str | None) -> list[str]:
    """An empty file still states the named account's whole state: it holds nothing."""
    return [account] if account else []


def _import_positions(
    db: Database,
    path: str | Path,
    kind: str,
    staged: list[StagedPosition],
    mode: _Mode,
    account: str | None,
) -> ImportResult:
    file = str(path)
    if not staged:
        _empty(file, kind, account, mode)
    accounts = list(dict.fromkeys(s.account for s in staged)) or _given(account)
    # closed entries (zero size): a merge deletes the positions they close; a replacing
    # import already drops every position of the account
    closed = [(s.account, s.closed_id) for s in staged if s.position is None and s.closed_id]
    staged = [s for s in staged if s.position is not None]

    def write() -> tuple[int, list[str]]:
        snap = repository.current_snapshot(db)
        if snap is None and staged:
            raise ImportFileError(file, None, "market", "no market snapshot: import one first")
        quotes = repository.market(db)
        as_of = parse_iso(snap["as_of"]) if snap else now_utc()
        modes, missing = _modes(db, file, accounts)
        base = _base(db)
        checked = []
        for item in staged:
            pos = item.position
            assert pos is not None
            acc_mode = modes[item.account]
            if acc_mode != "isolated" and pos.isolated_margin == 0:
                pos = replace(pos, isolated_margin=None)  # a venue's 0 outside isolated margin
            if acc_mode == "isolated" and pos.isolated_margin is None and item.isolated_amount:
                price = 1.0 if item.isolated_currency == base else None
                quote = quotes.get(item.isolated_currency or "")
                price = quote.price if quote else price
                if price is None:
                    raise item.error("isolated_margin", f"no price for {item.isolated_currency}")
                pos = replace(pos, isolated_margin=item.isolated_amount * price)
            pos = _checked(
                item, validate.position, pos, "p", market=quotes, as_of=as_of, mode=acc_mode
            )
            checked.append((item.account, pos))
        _create_accounts(db, missing)
        deleted = 0
        if not mode.merge:
            db.conn.executemany(
                "DELETE FROM positions WHERE account_id = ?", [(a,) for a in accounts]
            )
        else:
            for acc, pid in dict.fromkeys(closed):
                deleted += db.conn.execute(
                    "DELETE FROM positions WHERE account_id = ? AND id = ?", (acc, pid)
                ).rowcount
        seqs = _Seqs(db, "positions", "id", accounts)
        rows = [position_row(acc, pos, seqs.of(acc, pos.id)) for acc, pos in checked]
        _insert_positions(db, rows)
        _check_book(db, file)
        return len(checked) + deleted, accounts

    return _run(db, file, kind, mode, accounts, write)


class _Seqs:
    """Place (`seq`) of each row by account: a row keeps its place, a new one goes last.

    Read once per account, so an import stays linear in its rows."""

    def __init__(self, db: Database, table: str, key: str, accounts: Sequence[str]) -> None:
        self.known: dict[str, dict[str, int]] = {}
        self.next: dict[str, int] = {}
        for acc in accounts:
            rows = db.conn.execute(
                f"SELECT {key}, seq FROM {table} WHERE account_id = ?", (acc,)
            ).fetchall()
            self.known[acc] = dict(rows)
            self.next[acc] = max((seq for _, seq in rows), default=-1) + 1

    def of(self, account: str, key: str) -> int:
        seqs = self.known.setdefault(account, {})
        if key not in seqs:
            seqs[key] = self.next.get(account, 0)
            self.next[account] = seqs[key] + 1
        return seqs[key]


def _insert_positions(db: Database, rows: list[dict[str, Any]]) -> None:
    """Upsert position rows (half, then the test hook's pause, then the rest)."""
    if not rows:
        return
    cols = list(rows[0])
    names = ", ".join(f'"{c}"' for c in cols)
    sql = (
        f"INSERT INTO positions({names}) "
        f"VALUES ({', '.join('?' * len(cols))}) ON CONFLICT(account_id, id) DO UPDATE SET "
        + ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in ("account_id", "id"))
    )
    half = max(len(rows) // 2, 1)
    db.conn.executemany(sql, [list(r.values()) for r in rows[:half]])
    _pause(half, len(rows))
    db.conn.executemany(sql, [list(r.values()) for r in rows[half:]])


def _base(db: Database) -> str:
    row = db.conn.execute("SELECT value FROM meta WHERE key = 'base_currency'").fetchone()
    return row[0] if row else "USD"


def _check_book(db: Database, file: str) -> None:
    try:
        repository._check_book(db)
    except InvalidInput as err:
        raise _book_error(file, err) from None


# ---------------------------------------------------------------- balances
def _import_balances(
    db: Database,
    path: str | Path,
    kind: str,
    staged: list[StagedBalance],
    mode: _Mode,
    account: str | None,
) -> ImportResult:
    file = str(path)
    if not staged:
        _empty(file, kind, account, mode)
    accounts = list(dict.fromkeys(s.account for s in staged)) or _given(account)

    def write() -> tuple[int, list[str]]:
        quotes = repository.market(db)
        _, missing = _modes(db, file, accounts)
        rows = []
        for item in staged:
            if item.amount == 0 and (item.asset not in quotes or not mode.merge):
                continue  # nothing held: leave it out (an unpriced dust code is no error)
            _checked(item, validate.asset, item.asset, "asset", quotes)
            rows.append(item)
        _create_accounts(db, missing)
        if not mode.merge:
            db.conn.executemany(
                "DELETE FROM collateral WHERE account_id = ?", [(a,) for a in accounts]
            )
        seqs = _Seqs(db, "collateral", "asset", accounts)
        for done, item in enumerate(rows, start=1):
            if item.amount == 0:
                db.conn.execute(
                    "DELETE FROM collateral WHERE account_id = ? AND asset = ?",
                    (item.account, item.asset),
                )
            else:
                db.conn.execute(
                    "INSERT INTO collateral(account_id, asset, seq, amount) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(account_id, asset) DO UPDATE SET amount = excluded.amount",
                    (item.account, item.asset, seqs.of(item.account, item.asset), item.amount),
                )
            _pause(done, len(rows))
        _check_book(db, file)
        return len(rows), accounts

    return _run(db, file, kind, mode, accounts, write)


# ---------------------------------------------------------------- market
def import_market_csv(
    db: Database,
    path: str | Path,
    *,
    as_of: datetime | None = None,
    rate: float | None = None,
    mode: _Mode | None = None,
) -> ImportResult:
    """A new current snapshot: the file's quotes, plus the current ones it does not list.

    `as_of` defaults to now; `rate` to the current snapshot's rate.
    """
    mode = mode or _Mode(False, False, False, False, None)
    file = str(path)
    staged: list[StagedQuote] = from_csv.market_csv(path)
    quotes: dict[str, Quote] = {}
    for item in staged:
        price = _checked(item, validate.number, item.price, "price", positive=True)
        vol = _checked(item, validate.number, item.vol, "vol", minimum=0, optional=True)
        quotes[item.asset] = Quote(price=price, vol=vol)
    if not quotes:
        raise ImportFileError(file, None, "(rows)", "the file lists no quotes")

    def write() -> tuple[int, list[str]]:
        snap = repository.current_snapshot(db)
        merged = repository.market(db)
        merged.update(quotes)
        value = validate.number(rate if rate is not None else (snap["rate"] if snap else 0.0),
                                "--rate")
        when = validate.utc(as_of, "--as-of") or now_utc().replace(microsecond=0)
        repository._insert_snapshot(db, when, value or 0.0, merged)
        _pause(1, 1)
        _check_book(db, file)
        return len(quotes), []

    return _run(db, file, "market-csv", mode, [], write)
