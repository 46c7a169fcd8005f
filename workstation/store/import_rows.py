"""Positions, balances and market snapshot imports: staged rows checked against the database
and written in the import's transaction (`import_run.run`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from workstation.core.model import Quote, VenueFigures
from workstation.store import book_read, book_write, from_csv, validate
from workstation.store.codec import now_utc, parse_iso, position_row
from workstation.store.connection import Database
from workstation.store.errors import ImportFileError
from workstation.store.import_run import (
    ImportResult,
    Mode,
    check_book,
    check_row,
    empty,
    pause,
    run,
)
from workstation.store.staging import StagedBalance, StagedPosition, StagedQuote


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


def import_positions(
    db: Database,
    path: str | Path,
    kind: str,
    staged: list[StagedPosition],
    mode: Mode,
    account: str | None,
) -> ImportResult:
    file = str(path)
    if not staged:
        empty(file, kind, account, mode)
    accounts = list(dict.fromkeys(s.account for s in staged)) or _given(account)
    # closed entries (zero size): a merge deletes the positions they close; a replacing
    # import already drops every position of the account
    closed = [(s.account, s.closed_id) for s in staged if s.position is None and s.closed_id]
    staged = [s for s in staged if s.position is not None]

    def write() -> tuple[int, list[str]]:
        snap = book_read.current_snapshot(db)
        if snap is None and staged:
            raise ImportFileError(file, None, "market", "no market snapshot: import one first")
        quotes = book_read.market(db)
        as_of = parse_iso(snap["as_of"]) if snap else now_utc()
        modes, missing = _modes(db, file, accounts)
        base = _base(db)
        from workstation.store.venue_import import fit_to_book  # imported once, not per row

        valid = []
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
            if acc_mode == "portfolio" and pos.leverage is not None:
                pos = replace(pos, leverage=None)  # portfolio margin ignores leverage
            pos = fit_to_book(item, pos, quotes, base)  # venue figures in a priced currency
            pos = check_row(
                item, validate.position, pos, "p", market=quotes, as_of=as_of, mode=acc_mode
            )
            valid.append((item.account, pos))
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
        rows = [position_row(acc, pos, seqs.of(acc, pos.id)) for acc, pos in valid]
        _insert_positions(db, rows)
        check_book(db, file)
        return len(valid) + deleted, accounts

    return run(db, file, kind, mode, accounts, write)


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
    # optional columns (leverage, venue figures...) are in the rows that set them: write the
    # union, NULL where a row leaves one out
    cols = list(dict.fromkeys(c for r in rows for c in r))
    names = ", ".join(f'"{c}"' for c in cols)
    sql = (
        f"INSERT INTO positions({names}) "
        f"VALUES ({', '.join('?' * len(cols))}) ON CONFLICT(account_id, id) DO UPDATE SET "
        + ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in ("account_id", "id"))
    )
    half = max(len(rows) // 2, 1)
    db.conn.executemany(sql, [[r.get(c) for c in cols] for r in rows[:half]])
    pause(half, len(rows))
    db.conn.executemany(sql, [[r.get(c) for c in cols] for r in rows[half:]])


def _base(db: Database) -> str:
    row = db.conn.execute("SELECT value FROM meta WHERE key = 'base_currency'").fetchone()
    return row[0] if row else "USD"


# ---------------------------------------------------------------- balances
def import_balances(
    db: Database,
    path: str | Path,
    kind: str,
    staged: list[StagedBalance],
    mode: Mode,
    account: str | None,
    account_figures: tuple[VenueFigures, ...] | None = None,
) -> ImportResult:
    """`account_figures`: the venue's account figures of a ccxt balance dump (for `account`):
    they replace the account's (none clears them), or with `--merge` update them when given."""
    file = str(path)
    if not staged:
        empty(file, kind, account, mode)
    accounts = list(dict.fromkeys(s.account for s in staged)) or _given(account)

    def write() -> tuple[int, list[str]]:
        quotes = book_read.market(db)
        _, missing = _modes(db, file, accounts)
        figures = None
        if account_figures is not None and account:
            from workstation.store.venue_import import check_account_figures

            figures = check_account_figures(file, account_figures, quotes, _base(db))
        rows = []
        for item in staged:
            if item.amount == 0 and (item.asset not in quotes or not mode.merge):
                continue  # nothing held: leave it out (an unpriced dust code is no error)
            check_row(item, validate.asset, item.asset, "asset", quotes)
            rows.append(item)
        _create_accounts(db, missing)
        if figures is not None and account and (figures or not mode.merge):
            book_write.set_account_figures(db, account, figures)
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
            pause(done, len(rows))
        check_book(db, file)
        return len(rows), accounts

    return run(db, file, kind, mode, accounts, write)


# ---------------------------------------------------------------- market
def import_market_csv(
    db: Database,
    path: str | Path,
    *,
    as_of: datetime | None = None,
    rate: float | None = None,
    mode: Mode | None = None,
) -> ImportResult:
    """A new current snapshot: the file's quotes, plus the current ones it does not list.

    `as_of` defaults to now; `rate` to the current snapshot's rate.
    """
    mode = mode or Mode(False, False, False, False, None)
    file = str(path)
    staged: list[StagedQuote] = from_csv.market_csv(path)
    quotes: dict[str, Quote] = {}
    for item in staged:
        price = check_row(item, validate.number, item.price, "price", positive=True)
        vol = check_row(item, validate.number, item.vol, "vol", minimum=0, optional=True)
        quotes[item.asset] = Quote(price=price, vol=vol)
    if not quotes:
        raise ImportFileError(file, None, "(rows)", "the file lists no quotes")

    def write() -> tuple[int, list[str]]:
        snap = book_read.current_snapshot(db)
        merged = book_read.market(db)
        merged.update(quotes)
        value = validate.number(rate if rate is not None else (snap["rate"] if snap else 0.0),
                                "--rate")
        when = validate.utc(as_of, "--as-of") or now_utc().replace(microsecond=0)
        book_write.insert_snapshot(db, when, value or 0.0, merged)
        pause(1, 1)
        check_book(db, file)
        return len(quotes), []

    return run(db, file, "market-csv", mode, [], write)
