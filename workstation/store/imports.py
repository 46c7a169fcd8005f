"""Atomic imports: a file's rows all land, or none do.

Every import reads and checks the whole file first (syntax, numbers, symbols, columns), then,
inside one `BEGIN IMMEDIATE` transaction, checks the rows against the database (accounts,
priced assets, margin modes, expiries), writes them, checks the whole book, and commits.
Any error raises `ImportFileError` (`FILE:LINE: FIELD: message`) and rolls everything back.

Positions and balances imports *replace* the positions / collateral of each account named in
the file (a venue dump is the account's whole state) unless `merge=True`, which adds to and
updates them (and deletes the positions that closed entries, of zero size, name). Accounts
named in the file that do not exist are created (cross margin).
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
from workstation.core.model import Quote
from workstation.core.portfolio_io import loads_portfolio
from workstation.store import from_ccxt, from_csv, repository, validate
from workstation.store.codec import now_utc, parse_iso
from workstation.store.db import transaction
from workstation.store.errors import ImportFileError, InvalidInput
from workstation.store.locate import import_error
from workstation.store.staging import Staged, StagedBalance, StagedPosition, StagedQuote
from workstation.store.tabular import read_text

Database = sqlite_utils.Database
T = TypeVar("T")
KINDS = ("portfolio", "ccxt-positions", "ccxt-balance", "positions-csv", "balances-csv",
         "market-csv")
# Test hook: seconds to sleep inside the import transaction once half the rows are written.
PAUSE_ENV = "MARGIN_WORKSTATION_TEST_PAUSE_IMPORT"


@dataclass
class ImportResult:
    kind: str
    file: str
    rows: int
    accounts: list[str]

    def __str__(self) -> str:
        where = f" into {', '.join(self.accounts)}" if self.accounts else ""
        return f"imported {self.rows} row(s) of {self.kind} from {self.file}{where}"


def import_file(
    db: Database,
    kind: str,
    path: str | Path,
    *,
    account: str | None = None,
    merge: bool = False,
    venue: str | None = None,
    as_of: datetime | None = None,
    rate: float | None = None,
) -> ImportResult:
    """Import `path` as `kind` (one of KINDS)."""
    if kind == "portfolio":
        return import_portfolio(db, path)
    if kind == "market-csv":
        return import_market_csv(db, path, as_of=as_of, rate=rate)
    if kind in ("ccxt-positions", "ccxt-balance") and not account:
        raise ImportFileError(path, None, "--account", f"{kind} imports need an account")
    venues = _venues(db, venue)
    if kind == "ccxt-positions":
        staged = from_ccxt.ccxt_positions(path, account or "", venues(account or ""))
        return _import_positions(db, path, kind, staged, merge, account)
    if kind == "positions-csv":
        staged = from_csv.positions_csv(path, account, venues)
        return _import_positions(db, path, kind, staged, merge, account)
    if kind == "ccxt-balance":
        balances = from_ccxt.ccxt_balance(path, account or "")
        return _import_balances(db, path, kind, balances, merge, account)
    if kind == "balances-csv":
        balances = from_csv.balances_csv(path, account)
        return _import_balances(db, path, kind, balances, merge, account)
    raise ImportFileError(path, None, "kind", f"unknown import kind {kind!r}; one of {KINDS}")


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
def import_portfolio(db: Database, path: str | Path) -> ImportResult:
    """Replace the whole book with a portfolio file (history and scenarios are kept)."""
    file = str(path)
    text = read_text(path)
    try:
        book = loads_portfolio(text)
    except PortfolioError as err:
        raise import_error(file, text, err) from None
    except WorkstationError as err:
        raise ImportFileError(file, None, "profiles", str(err)) from None
    with transaction(db):
        repository._write_portfolio(db, book)
        _pause(1, 1)
    count = sum(len(a.positions) + len(a.collateral) for a in book.accounts)
    return ImportResult("portfolio", file, count, [a.id for a in book.accounts])


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
    merge: bool,
    account: str | None,
) -> ImportResult:
    file = str(path)
    accounts = list(dict.fromkeys(s.account for s in staged)) or _given(account)
    # closed entries (zero size): a merge deletes the positions they close; a replacing
    # import already drops every position of the account
    closed = [(s.account, s.closed_id) for s in staged if s.position is None and s.closed_id]
    staged = [s for s in staged if s.position is not None]
    with transaction(db):
        snap = repository.current_snapshot(db)
        if snap is None and staged:
            raise ImportFileError(file, None, "market", "no market snapshot: import one first")
        quotes = repository.market(db)
        as_of = parse_iso(snap["as_of"]) if snap else now_utc()
        modes, missing = _modes(db, file, accounts)
        checked = []
        for item in staged:
            pos = item.position
            assert pos is not None
            mode = modes[item.account]
            if mode != "isolated" and pos.isolated_margin == 0:
                pos = replace(pos, isolated_margin=None)  # a venue's 0 outside isolated margin
            if mode == "isolated" and pos.isolated_margin is None and item.isolated_amount:
                price = 1.0 if item.isolated_currency == _base(db) else None
                quote = quotes.get(item.isolated_currency or "")
                price = quote.price if quote else price
                if price is None:
                    raise item.error("isolated_margin", f"no price for {item.isolated_currency}")
                pos = replace(pos, isolated_margin=item.isolated_amount * price)
            pos = _checked(
                item, validate.position, pos, "p", market=quotes, as_of=as_of, mode=mode
            )
            checked.append((item.account, pos))
        _create_accounts(db, missing)
        deleted = 0
        if not merge:
            db.conn.executemany(
                "DELETE FROM positions WHERE account_id = ?", [(a,) for a in accounts]
            )
        else:
            for acc, pid in dict.fromkeys(closed):
                deleted += db.conn.execute(
                    "DELETE FROM positions WHERE account_id = ? AND id = ?", (acc, pid)
                ).rowcount
        for done, (acc, pos) in enumerate(checked, start=1):
            row = db.conn.execute(
                "SELECT seq FROM positions WHERE account_id = ? AND id = ?", (acc, pos.id)
            ).fetchone()
            seq = row[0] if row else db.conn.execute(
                "SELECT coalesce(max(seq), -1) + 1 FROM positions WHERE account_id = ?", (acc,)
            ).fetchone()[0]
            repository._insert_position(db, acc, pos, seq)
            _pause(done, len(checked))
        _check_book(db, file)
    return ImportResult(kind, file, len(checked) + deleted, accounts)


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
    merge: bool,
    account: str | None,
) -> ImportResult:
    file = str(path)
    accounts = list(dict.fromkeys(s.account for s in staged)) or _given(account)
    with transaction(db):
        quotes = repository.market(db)
        _, missing = _modes(db, file, accounts)
        rows = []
        for item in staged:
            if item.amount == 0 and (item.asset not in quotes or not merge):
                continue  # nothing held: leave it out (an unpriced dust code is no error)
            _checked(item, validate.asset, item.asset, "asset", quotes)
            rows.append(item)
        _create_accounts(db, missing)
        if not merge:
            db.conn.executemany(
                "DELETE FROM collateral WHERE account_id = ?", [(a,) for a in accounts]
            )
        for done, item in enumerate(rows, start=1):
            if item.amount == 0:
                db.conn.execute(
                    "DELETE FROM collateral WHERE account_id = ? AND asset = ?",
                    (item.account, item.asset),
                )
            else:
                seq = db.conn.execute(
                    "SELECT coalesce(max(seq), -1) + 1 FROM collateral WHERE account_id = ?",
                    (item.account,),
                ).fetchone()[0]
                db.conn.execute(
                    "INSERT INTO collateral(account_id, asset, seq, amount) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(account_id, asset) DO UPDATE SET amount = excluded.amount",
                    (item.account, item.asset, seq, item.amount),
                )
            _pause(done, len(rows))
        _check_book(db, file)
    return ImportResult(kind, file, len(rows), accounts)


# ---------------------------------------------------------------- market
def import_market_csv(
    db: Database,
    path: str | Path,
    *,
    as_of: datetime | None = None,
    rate: float | None = None,
) -> ImportResult:
    """A new current snapshot: the file's quotes, plus the current ones it does not list.

    `as_of` defaults to now; `rate` to the current snapshot's rate.
    """
    file = str(path)
    staged: list[StagedQuote] = from_csv.market_csv(path)
    quotes: dict[str, Quote] = {}
    for item in staged:
        price = _checked(item, validate.number, item.price, "price", positive=True)
        vol = _checked(item, validate.number, item.vol, "vol", minimum=0, optional=True)
        quotes[item.asset] = Quote(price=price, vol=vol)
    if not quotes:
        raise ImportFileError(file, None, "(rows)", "the file lists no quotes")
    with transaction(db):
        snap = repository.current_snapshot(db)
        merged = repository.market(db)
        merged.update(quotes)
        value = validate.number(rate if rate is not None else (snap["rate"] if snap else 0.0),
                                "--rate")
        when = validate.utc(as_of, "--as-of") or now_utc().replace(microsecond=0)
        repository._insert_snapshot(db, when, value or 0.0, merged)
        _pause(1, 1)
        _check_book(db, file)
    return ImportResult("market-csv", file, len(quotes), [])
