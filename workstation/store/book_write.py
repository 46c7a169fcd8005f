"""Writing the book: the whole-book check every edit ends with, replacing the whole book, and
the row writers the edits and imports share.

Every edit of the book ends with `check_book` (the portfolio reader's rules on the book as it
now stands), so the database always holds a book that exports to a valid portfolio file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from workstation.core.errors import PortfolioError
from workstation.core.model import FORMAT, Account, Pool, Portfolio, Position, Quote
from workstation.core.portfolio_io import portfolio_from_dict
from workstation.core.portfolio_write import portfolio_to_dict
from workstation.store import validate
from workstation.store.book_read import current_snapshot, load_portfolio, market
from workstation.store.codec import account_figures_json, iso, now_utc, parse_iso, position_row
from workstation.store.connection import Database, has_column, transaction
from workstation.store.errors import InvalidInput, NotFoundError, StoreError
from workstation.store.forwards import insert_forwards


# ---------------------------------------------------------------- checks
def _readable(path: str, book: Portfolio) -> str:
    """`accounts[1].positions[2].strike` -> `accounts[main].positions[btc-c65].strike`."""

    def account(m: re.Match[str]) -> str:
        i = int(m.group(1))
        if i >= len(book.accounts):
            return m.group(0)
        acc = book.accounts[i]
        if m.group(2) is None:
            return f"accounts[{acc.id}]"
        j = int(m.group(2))
        pid = acc.positions[j].id if j < len(acc.positions) else j
        return f"accounts[{acc.id}].positions[{pid}]"

    path = re.sub(r"accounts\[(\d+)\](?:\.positions\[(\d+)\])?", account, path)
    return re.sub(
        r"^pools\[(\d+)\]",
        lambda m: f"pools[{book.pools[int(m.group(1))].id}]"
        if int(m.group(1)) < len(book.pools)
        else m.group(0),
        path,
    )


def check_portfolio(book: Portfolio) -> None:
    """Raise InvalidInput unless the portfolio reader accepts `book` as it stands."""
    try:
        portfolio_from_dict(portfolio_to_dict(book))
    except PortfolioError as err:
        got = "" if err.got is None else f" (got {err.got!r})"
        raise InvalidInput(_readable(err.path, book), f"expected {err.expected}{got}") from None
    except (TypeError, ValueError, AttributeError) as err:
        raise InvalidInput("portfolio", f"not a valid book: {err}") from None


def check_book(db: Database) -> None:
    """The whole-book check every edit ends with (nothing to check before the first snapshot)."""
    if current_snapshot(db) is not None:
        check_portfolio(load_portfolio(db))


def account_row(db: Database, account_id: str) -> dict[str, Any]:
    """The account's row; `NotFoundError` when there is none."""
    rows = list(db.query("SELECT * FROM accounts WHERE id = ?", [account_id]))
    if not rows:
        raise NotFoundError(f"no account {account_id!r}")
    return rows[0]


def require_snapshot(db: Database) -> dict[str, Any]:
    """The current snapshot's row; `StoreError` before the first one."""
    snap = current_snapshot(db)
    if snap is None:
        raise StoreError("no market snapshot yet: import a portfolio or a market CSV first")
    return snap


def next_seq(db: Database, table: str, where: str = "1", params: list[Any] | None = None) -> int:
    """The place after the last row of `table` matching `where` (rows keep the order given)."""
    sql = f"SELECT coalesce(max(seq), -1) + 1 FROM {table} WHERE {where}"
    return int(db.conn.execute(sql, params or []).fetchone()[0])


def ensure_assets(db: Database, codes: list[str]) -> None:
    db.conn.executemany("INSERT OR IGNORE INTO assets(code) VALUES (?)", [(c,) for c in codes])


# ---------------------------------------------------------------- whole book
def save_portfolio(db: Database, portfolio: Portfolio) -> None:
    """Replace the whole book (accounts, pools, profiles, market) in one transaction.

    History is kept, so are the scenarios of accounts that remain. The market becomes a new
    current snapshot unless it equals the current one.
    """
    check_portfolio(portfolio)
    with transaction(db):
        write_portfolio(db, portfolio)


def write_portfolio(db: Database, p: Portfolio) -> None:
    """`save_portfolio` inside the caller's transaction, unchecked (imports check afterwards)."""
    conn = db.conn
    for key, value in (("format", FORMAT), ("base_currency", p.base_currency)):
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
    snap = current_snapshot(db)
    same = (
        snap is not None
        and parse_iso(snap["as_of"]) == p.as_of
        and snap["rate"] == p.rate
        and list(market(db, snap["id"]).items()) == list(p.market.items())
    )
    if not same:
        insert_snapshot(db, p.as_of, p.rate, p.market)
    keep = [a.id for a in p.accounts]
    marks = ",".join("?" * len(keep))
    conn.execute(f"DELETE FROM accounts WHERE id NOT IN ({marks})", keep)
    conn.execute("DELETE FROM pools")
    conn.execute("DELETE FROM profiles")
    conn.execute("DELETE FROM positions")
    conn.execute("DELETE FROM collateral")
    for seq, acc in enumerate(p.accounts):
        conn.execute(
            "INSERT INTO accounts(id, seq, name, venue, margin_mode, profile) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, "
            "name = excluded.name, venue = excluded.venue, "
            "margin_mode = excluded.margin_mode, profile = excluded.profile",
            (acc.id, seq, acc.name, acc.venue, acc.margin_mode, acc.profile),
        )
        set_account_figures(db, acc.id, acc.venue_figures)
        insert_account_contents(db, acc)
    for seq, pool in enumerate(p.pools):
        insert_pool(db, pool, seq)
    for seq, (name, body) in enumerate(p.profiles.items()):
        conn.execute(
            "INSERT INTO profiles(name, seq, body) VALUES (?, ?, ?)",
            (name, seq, validate.json_dumps(body, f"profiles.{name}")),
        )


def set_account_figures(db: Database, account_id: str, figures: tuple[Any, ...]) -> None:
    """Store (or clear) an account's venue figures. The column is written only when the schema
    has it (a book without venue figures fits an older schema)."""
    text = account_figures_json(figures)
    if text is None and not has_column(db, "accounts", "venue_figures"):
        return
    db.conn.execute("UPDATE accounts SET venue_figures = ? WHERE id = ? AND venue_figures IS NOT ?",
                    (text, account_id, text))


def insert_snapshot(
    db: Database, as_of: datetime, rate: float, quotes: Mapping[str, Quote]
) -> int:
    """Add a snapshot with its quotes and forwards (becoming the current one); its id."""
    cur = db.conn.execute(
        "INSERT INTO snapshots(as_of, rate, created_at) VALUES (?, ?, ?)",
        (iso(as_of), rate, iso(now_utc())),
    )
    snapshot_id = int(cur.lastrowid or 0)
    ensure_assets(db, list(quotes))
    rows = [(snapshot_id, a, i, q.price, q.vol, q.confidence, q.moves_with, q.peg_price)
            for i, (a, q) in enumerate(quotes.items())]
    if any(r[5:] != (None, None, None) for r in rows):  # schema 4 columns only when used
        db.conn.executemany(
            "INSERT INTO quotes(snapshot_id, asset, seq, price, vol, confidence, moves_with, peg_price) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    else:
        db.conn.executemany("INSERT INTO quotes(snapshot_id, asset, seq, price, vol) VALUES (?, ?, ?, ?, ?)",
                            [r[:5] for r in rows])
    funding = [(q.funding_rate, snapshot_id, a) for a, q in quotes.items() if q.funding_rate is not None]
    if funding:  # the what-if column only when used
        db.conn.executemany("UPDATE quotes SET funding_rate = ? WHERE snapshot_id = ? AND asset = ?", funding)
    for a, q in quotes.items():
        if q.forwards:
            insert_forwards(db, snapshot_id, a, q.forwards)
    return snapshot_id


def insert_account_contents(db: Database, acc: Account) -> None:
    """Add the account's collateral and positions (the account row exists)."""
    ensure_assets(db, list(acc.collateral))
    db.conn.executemany(
        "INSERT INTO collateral(account_id, asset, seq, amount) VALUES (?, ?, ?, ?)",
        [(acc.id, a, i, amt) for i, (a, amt) in enumerate(acc.collateral.items())],
    )
    insert_positions(db, acc.id, acc.positions)


def insert_position(db: Database, account_id: str, pos: Position, seq: int) -> None:
    """Write `pos` at place `seq`, replacing a position of the same id whole."""
    _insert_row(db, position_row(account_id, pos, seq))


def _insert_row(db: Database, row: dict[str, Any]) -> None:
    cols = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" * len(row))
    # replaced whole: columns the row leaves out (unset optional fields) become NULL
    db.conn.execute("DELETE FROM positions WHERE account_id = ? AND id = ?",
                    (row["account_id"], row["id"]))
    db.conn.execute(f"INSERT INTO positions({cols}) VALUES ({marks})", list(row.values()))


def insert_positions(db: Database, account_id: str, positions: Sequence[Position],
                     first_seq: int = 0) -> None:
    """`insert_position` of each position at places `first_seq`, `first_seq + 1`, ... in two
    prepared statements (a DELETE and an INSERT run over all rows) instead of two per row."""
    rows = [position_row(account_id, pos, seq) for seq, pos in enumerate(positions, first_seq)]
    if not rows:
        return
    if len({r["id"] for r in rows}) != len(rows):
        for row in rows:  # an id given twice: the later replaces the earlier, one row at a time
            _insert_row(db, row)
        return
    db.conn.executemany("DELETE FROM positions WHERE account_id = ? AND id = ?",
                        [(account_id, r["id"]) for r in rows])
    # optional columns (leverage, venue figures...) are in the rows that set them: write the
    # union, NULL where a row leaves one out (as `_insert_row` leaves it out: no column has a
    # default), so that a book without them still fits an older schema
    cols = list(dict.fromkeys(c for r in rows for c in r))
    names = ", ".join(f'"{c}"' for c in cols)
    db.conn.executemany(f"INSERT INTO positions({names}) VALUES ({', '.join('?' * len(cols))})",
                        [[r.get(c) for c in cols] for r in rows])


def insert_pool(db: Database, pool: Pool, seq: int) -> None:
    """Add the pool and its members at place `seq`."""
    db.conn.execute(
        "INSERT INTO pools(id, seq, name, margin_mode, profile) VALUES (?, ?, ?, ?, ?)",
        (pool.id, seq, pool.name, pool.margin_mode, pool.profile),
    )
    db.conn.executemany(
        "INSERT INTO pool_members(pool_id, account_id, seq) VALUES (?, ?, ?)",
        [(pool.id, a, i) for i, a in enumerate(pool.accounts)],
    )
