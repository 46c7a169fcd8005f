"""The book in the database: load it for the engine, and edit it one transaction at a time.

The *current* market snapshot is the one added last. Every write runs in one `transaction()`;
edits of the book end with a check of the whole book by the portfolio reader's rules, so the
database always holds a book that exports to a valid portfolio file.
History and scenarios live in `workstation.store.records` and are re-exported here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlite_utils

from workstation.core.errors import PortfolioError
from workstation.core.model import FORMAT, Account, Pool, Portfolio, Position, Quote
from workstation.core.portfolio_io import FUNDING_LIMIT, portfolio_from_dict, portfolio_to_dict
from workstation.store import validate
from workstation.store.codec import (
    account_figures_from_json,
    account_figures_json,
    iso,
    loads,
    now_utc,
    parse_iso,
    position_from_row,
    position_row,
)
from workstation.store.db import book_counter, reading, transaction
from workstation.store.errors import InvalidInput, NotFoundError, StaleBookError, StoreError
from workstation.store.forwards import checked_extras, insert_forwards, quote_from_row, read_forwards
from workstation.store.records import (
    delete_scenario,
    history,
    list_scenarios,
    load_scenario,
    record_history,
    save_scenario,
)

Database = sqlite_utils.Database


# ---------------------------------------------------------------- reading
def current_snapshot(db: Database) -> dict[str, Any] | None:
    """The current snapshot row (id, as_of, rate, created_at), or None in an empty database."""
    rows = list(db.query("SELECT * FROM snapshots ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def snapshots(db: Database) -> list[dict[str, Any]]:
    """Every market snapshot, oldest first, with as_of as a datetime."""
    rows = db.query("SELECT id, as_of, rate, created_at FROM snapshots ORDER BY id")
    return [{**r, "as_of": parse_iso(r["as_of"])} for r in rows]


def market(db: Database, snapshot_id: int | None = None) -> dict[str, Quote]:
    """Quotes of a snapshot (default: the current one), in the order they were given."""
    if snapshot_id is None:
        snap = current_snapshot(db)
        if snap is None:
            return {}
        snapshot_id = snap["id"]
    funding = ", funding_rate" if _has_funding(db) else ", NULL AS funding_rate"
    rows = db.query(
        "SELECT asset, price, vol, confidence, moves_with, peg_price" + funding + " FROM quotes "
        "WHERE snapshot_id = ? ORDER BY seq", [snapshot_id]
    )
    forwards = read_forwards(db, snapshot_id)
    return {r["asset"]: replace(quote_from_row(r, forwards), funding_rate=r["funding_rate"]) for r in rows}


def _has_funding(db: Database) -> bool:
    """Whether `quotes` has the funding-rate column (a database opened at an older schema
    version, as the migration tests do, has not)."""
    return any(r[1] == "funding_rate" for r in db.conn.execute("PRAGMA table_info(quotes)"))


def _meta(db: Database, key: str, default: str) -> str:
    rows = list(db.query("SELECT value FROM meta WHERE key = ?", [key]))
    return rows[0]["value"] if rows else default


def _accounts(db: Database) -> list[Account]:
    collateral: dict[str, dict[str, float]] = {}
    for r in db.query("SELECT account_id, asset, amount FROM collateral ORDER BY account_id, seq"):
        collateral.setdefault(r["account_id"], {})[r["asset"]] = r["amount"]
    positions: dict[str, list[Position]] = {}
    for r in db.query("SELECT * FROM positions ORDER BY account_id, seq"):
        positions.setdefault(r["account_id"], []).append(position_from_row(r))
    return [
        Account(
            id=r["id"],
            margin_mode=r["margin_mode"],
            collateral=collateral.get(r["id"], {}),
            positions=positions.get(r["id"], []),
            name=r["name"],
            venue=r["venue"],
            profile=r["profile"],
            venue_figures=account_figures_from_json(r.get("venue_figures")),
        )
        for r in db.query("SELECT * FROM accounts ORDER BY seq")
    ]


def _pools(db: Database) -> list[Pool]:
    members: dict[str, list[str]] = {}
    for r in db.query("SELECT pool_id, account_id FROM pool_members ORDER BY pool_id, seq"):
        members.setdefault(r["pool_id"], []).append(r["account_id"])
    return [
        Pool(
            id=r["id"],
            accounts=members.get(r["id"], []),
            margin_mode=r["margin_mode"],
            profile=r["profile"],
            name=r["name"],
        )
        for r in db.query("SELECT * FROM pools ORDER BY seq")
    ]


def load_portfolio(db: Database) -> Portfolio:
    """The book at the current snapshot, as the engine takes it.

    A stored value that cannot be read back (a damaged file) raises `DatabaseUnusable`."""
    try:
        return _load_portfolio(db)
    except (ValueError, TypeError, KeyError, OverflowError, sqlite3.DatabaseError) as exc:
        from workstation.store.db import db_file
        from workstation.store.health import translate, unusable

        where = db_file(db) or "the database"
        if isinstance(exc, sqlite3.DatabaseError):
            raise translate(exc, where) from None
        raise unusable(where, f"the database holds a value that cannot be read back ({exc}); "
                              f"the file may be damaged") from None


def load_book(db: Database) -> tuple[Portfolio, int]:
    """The book and the change counter it was read at (`db.book_counter`), read together: an
    edit made from this book can check that nothing changed since (`require_counter`)."""
    with reading(db):
        return load_portfolio(db), book_counter(db)


def require_counter(db: Database, expected: int | None) -> None:
    """Refuse (`StaleBookError`) when the book changed since it was read at `expected`."""
    if expected is not None and book_counter(db) != expected:
        raise StaleBookError(
            "the book changed in the database since this window loaded it (another window or "
            "a command wrote to it), so this change was not saved: it would have overwritten "
            "the newer data. The window now shows the book as it is: check it and try again."
        )


def _load_portfolio(db: Database) -> Portfolio:
    with reading(db):
        snap = current_snapshot(db)
        if snap is None:
            raise StoreError(
                "the database holds no market snapshot yet: import a portfolio or a market CSV"
            )
        profiles = {
            r["name"]: loads(r["body"])
            for r in db.query("SELECT name, body FROM profiles ORDER BY seq")
        }
        return Portfolio(
            as_of=parse_iso(snap["as_of"]),
            market=market(db, snap["id"]),
            accounts=_accounts(db),
            pools=_pools(db),
            base_currency=_meta(db, "base_currency", "USD"),
            rate=snap["rate"],
            profiles=profiles,
        )


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


def _check_book(db: Database) -> None:
    if current_snapshot(db) is not None:
        check_portfolio(load_portfolio(db))


def _account_row(db: Database, account_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM accounts WHERE id = ?", [account_id]))
    if not rows:
        raise NotFoundError(f"no account {account_id!r}")
    return rows[0]


def _require_snapshot(db: Database) -> dict[str, Any]:
    snap = current_snapshot(db)
    if snap is None:
        raise StoreError("no market snapshot yet: import a portfolio or a market CSV first")
    return snap


def _next_seq(db: Database, table: str, where: str = "1", params: list[Any] | None = None) -> int:
    sql = f"SELECT coalesce(max(seq), -1) + 1 FROM {table} WHERE {where}"
    return int(db.conn.execute(sql, params or []).fetchone()[0])


def _ensure_assets(db: Database, codes: list[str]) -> None:
    db.conn.executemany("INSERT OR IGNORE INTO assets(code) VALUES (?)", [(c,) for c in codes])


# ---------------------------------------------------------------- whole book
def save_portfolio(db: Database, portfolio: Portfolio) -> None:
    """Replace the whole book (accounts, pools, profiles, market) in one transaction.

    History is kept, so are the scenarios of accounts that remain. The market becomes a new
    current snapshot unless it equals the current one.
    """
    check_portfolio(portfolio)
    with transaction(db):
        _write_portfolio(db, portfolio)


def _write_portfolio(db: Database, p: Portfolio) -> None:
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
        _insert_snapshot(db, p.as_of, p.rate, p.market)
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
        _insert_account_contents(db, acc)
    for seq, pool in enumerate(p.pools):
        _insert_pool(db, pool, seq)
    for seq, (name, body) in enumerate(p.profiles.items()):
        conn.execute(
            "INSERT INTO profiles(name, seq, body) VALUES (?, ?, ?)",
            (name, seq, validate.json_dumps(body, f"profiles.{name}")),
        )


def set_account_figures(db: Database, account_id: str, figures: tuple[Any, ...]) -> None:
    """Store (or clear) an account's venue figures. The column is written only when the schema
    has it (a book without venue figures fits an older schema)."""
    text = account_figures_json(figures)
    if text is None and not _has_column(db, "accounts", "venue_figures"):
        return
    db.conn.execute("UPDATE accounts SET venue_figures = ? WHERE id = ? AND venue_figures IS NOT ?",
                    (text, account_id, text))


def _has_column(db: Database, table: str, column: str) -> bool:
    return any(r[1] == column for r in db.conn.execute(f"PRAGMA table_info({table})"))


def _insert_snapshot(
    db: Database, as_of: datetime, rate: float, quotes: Mapping[str, Quote]
) -> int:
    cur = db.conn.execute(
        "INSERT INTO snapshots(as_of, rate, created_at) VALUES (?, ?, ?)",
        (iso(as_of), rate, iso(now_utc())),
    )
    snapshot_id = int(cur.lastrowid or 0)
    _ensure_assets(db, list(quotes))
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


def _insert_account_contents(db: Database, acc: Account) -> None:
    _ensure_assets(db, list(acc.collateral))
    db.conn.executemany(
        "INSERT INTO collateral(account_id, asset, seq, amount) VALUES (?, ?, ?, ?)",
        [(acc.id, a, i, amt) for i, (a, amt) in enumerate(acc.collateral.items())],
    )
    for seq, pos in enumerate(acc.positions):
        _insert_position(db, acc.id, pos, seq)


def _insert_position(db: Database, account_id: str, pos: Position, seq: int) -> None:
    row = position_row(account_id, pos, seq)
    cols = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" * len(row))
    # replaced whole: columns the row leaves out (unset optional fields) become NULL
    db.conn.execute("DELETE FROM positions WHERE account_id = ? AND id = ?", (account_id, pos.id))
    db.conn.execute(f"INSERT INTO positions({cols}) VALUES ({marks})", list(row.values()))


def _insert_pool(db: Database, pool: Pool, seq: int) -> None:
    db.conn.execute(
        "INSERT INTO pools(id, seq, name, margin_mode, profile) VALUES (?, ?, ?, ?, ?)",
        (pool.id, seq, pool.name, pool.margin_mode, pool.profile),
    )
    db.conn.executemany(
        "INSERT INTO pool_members(pool_id, account_id, seq) VALUES (?, ?, ?)",
        [(pool.id, a, i) for i, a in enumerate(pool.accounts)],
    )


# ---------------------------------------------------------------- positions and balances
def upsert_position(db: Database, account_id: str, position: Position) -> None:
    """Add `position` to the account, or replace the one with the same id (keeping its place)."""
    with transaction(db):
        acc = _account_row(db, account_id)
        snap = _require_snapshot(db)
        pos = validate.position(
            position,
            f"accounts[{account_id}].positions[{getattr(position, 'id', '?')}]",
            market=market(db, snap["id"]),
            as_of=parse_iso(snap["as_of"]),
            mode=acc["margin_mode"],
        )
        rows = list(
            db.query(
                "SELECT seq FROM positions WHERE account_id = ? AND id = ?", [account_id, pos.id]
            )
        )
        seq = rows[0]["seq"] if rows else _next_seq(db, "positions", "account_id = ?", [account_id])
        _insert_position(db, account_id, pos, seq)
        _check_book(db)


def apply_trades(db: Database, account_id: str, trades: list[Position],
                 collateral_changes: Mapping[str, float] | None = None) -> None:
    """Book drafted what-if trades: add the positions (ids must be new in the account) and move
    the collateral by `collateral_changes` (asset -> change; the trades' premiums and fees paid,
    negative) in one transaction, so one Undo can take all of it back."""
    with transaction(db):
        acc = _account_row(db, account_id)
        snap = _require_snapshot(db)
        quotes = market(db, snap["id"])
        as_of = parse_iso(snap["as_of"])
        for trade in trades:
            pos = validate.position(trade, f"accounts[{account_id}].positions[{getattr(trade, 'id', '?')}]",
                                    market=quotes, as_of=as_of, mode=acc["margin_mode"])
            if db.conn.execute("SELECT 1 FROM positions WHERE account_id = ? AND id = ?",
                               (account_id, pos.id)).fetchone():
                raise InvalidInput(f"accounts[{account_id}].positions[{pos.id}].id",
                                   "a new position id (a drafted trade never replaces a position)")
            _insert_position(db, account_id, pos, _next_seq(db, "positions", "account_id = ?", [account_id]))
        for asset, change in (collateral_changes or {}).items():
            field = f"accounts[{account_id}].collateral.{asset}"
            validate.asset(asset, field, quotes)
            delta = validate.number(change, field)
            row = db.conn.execute("SELECT amount FROM collateral WHERE account_id = ? AND asset = ?",
                                  (account_id, asset)).fetchone()
            amount = (row[0] if row else 0.0) + delta
            db.conn.execute(
                "INSERT INTO collateral(account_id, asset, seq, amount) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(account_id, asset) DO UPDATE SET amount = excluded.amount",
                (account_id, asset, _next_seq(db, "collateral", "account_id = ?", [account_id]), amount),
            )
        _check_book(db)


def delete_position(db: Database, account_id: str, position_id: str) -> None:
    with transaction(db):
        _account_row(db, account_id)
        cur = db.conn.execute(
            "DELETE FROM positions WHERE account_id = ? AND id = ?", (account_id, position_id)
        )
        if cur.rowcount == 0:
            raise NotFoundError(f"no position {position_id!r} in account {account_id!r}")


def set_collateral(db: Database, account_id: str, asset: str, amount: float) -> None:
    """Set the amount of `asset` the account holds (negative: borrowed)."""
    with transaction(db):
        _account_row(db, account_id)
        _require_snapshot(db)
        field = f"accounts[{account_id}].collateral.{asset}"
        validate.asset(asset, field, market(db))
        value = validate.number(amount, field)
        db.conn.execute(
            "INSERT INTO collateral(account_id, asset, seq, amount) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(account_id, asset) DO UPDATE SET amount = excluded.amount",
            (account_id, asset, _next_seq(db, "collateral", "account_id = ?", [account_id]), value),
        )


def delete_collateral(db: Database, account_id: str, asset: str) -> None:
    with transaction(db):
        _account_row(db, account_id)
        cur = db.conn.execute(
            "DELETE FROM collateral WHERE account_id = ? AND asset = ?", (account_id, asset)
        )
        if cur.rowcount == 0:
            raise NotFoundError(f"account {account_id!r} holds no {asset!r}")


# ---------------------------------------------------------------- market
def _quote(asset: str, quote: Quote | float, field: str) -> Quote:
    validate.text(asset, field)
    if not isinstance(quote, Quote):
        quote = Quote(price=quote)  # type: ignore[arg-type]
    price = validate.number(quote.price, f"{field}.price", positive=True)
    vol = validate.number(quote.vol, f"{field}.vol", minimum=0, optional=True)
    funding = validate.number(quote.funding_rate, f"{field}.funding_rate", optional=True)
    if funding is not None and abs(funding) > FUNDING_LIMIT:
        raise InvalidInput(f"{field}.funding_rate",
                           f"a funding rate per 8 hours within +/-{FUNDING_LIMIT:g}, got {funding!r}")
    assert price is not None
    return checked_extras(replace(quote, price=price, vol=vol, funding_rate=funding), field)


_KEEP = object()


def set_quote(db: Database, asset: str, price: float, vol: float | None = None,
              funding_rate: Any = _KEEP) -> None:
    """Set (or add) one asset's price and vol in the current snapshot; `funding_rate` (per 8 h)
    is kept as it is unless given (None clears it)."""
    with transaction(db):
        snap = _require_snapshot(db)
        if funding_rate is _KEEP:
            funding_rate = market(db, snap["id"]).get(asset, Quote(price)).funding_rate
        quote = _quote(asset, Quote(price=price, vol=vol, funding_rate=funding_rate), f"market.{asset}")
        _ensure_assets(db, [asset])
        db.conn.execute(
            "INSERT INTO quotes(snapshot_id, asset, seq, price, vol, funding_rate) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(snapshot_id, asset) DO UPDATE SET price = excluded.price, "
            "vol = excluded.vol, funding_rate = excluded.funding_rate",
            (
                snap["id"],
                asset,
                _next_seq(db, "quotes", "snapshot_id = ?", [snap["id"]]),
                quote.price,
                quote.vol,
                quote.funding_rate,
            ),
        )
        _check_book(db)


def add_snapshot(
    db: Database,
    as_of: datetime,
    rate: float | None,
    quotes: Mapping[str, Quote | float],
    *,
    carry_forward: bool = True,
) -> int:
    """Add a market snapshot and make it current; return its id.

    `rate` None keeps the current rate. With `carry_forward`, assets priced in the current
    snapshot but absent from `quotes` keep their quote. The older snapshots stay.
    """
    when = validate.utc(as_of, "as_of", optional=False)
    assert when is not None
    checked = {a: _quote(a, q, f"market.{a}") for a, q in quotes.items()}
    with transaction(db):
        snap = current_snapshot(db)
        if rate is None:
            rate = snap["rate"] if snap else 0.0
        value = validate.number(rate, "rate")
        assert value is not None
        merged = dict(market(db)) if carry_forward else {}
        for a, q in checked.items():  # a new quote keeps what the asset moves with
            if q.moves_with is None and a in merged and merged[a].moves_with is not None:
                q = replace(q, moves_with=merged[a].moves_with)
            merged[a] = q
        if not merged:
            raise InvalidInput("market", "a snapshot needs at least one quote")
        snapshot_id = _insert_snapshot(db, when, value, merged)
        _check_book(db)
        return snapshot_id


# ---------------------------------------------------------------- accounts and pools
def set_account_mode(
    db: Database,
    account_id: str,
    margin_mode: str,
    profile: str | None = None,
    isolated_margins: Mapping[str, float] | None = None,
) -> None:
    """Change an account's margin mode (and profile, if given).

    Leaving `isolated` drops the positions' isolated_margin; entering it needs
    `isolated_margins` (position id -> collateral set aside) for every position.
    """
    mode = validate.margin_mode(margin_mode, f"accounts[{account_id}].margin_mode")
    if profile is not None:
        validate.text(profile, f"accounts[{account_id}].profile")
    with transaction(db):
        _account_row(db, account_id)
        db.conn.execute(
            "UPDATE accounts SET margin_mode = ?, profile = coalesce(?, profile) WHERE id = ?",
            (mode, profile, account_id),
        )
        if mode != "isolated":
            db.conn.execute(
                "UPDATE positions SET isolated_margin = NULL WHERE account_id = ?", (account_id,)
            )
        else:
            margins = dict(isolated_margins or {})
            ids = [r["id"] for r in db.query(
                "SELECT id FROM positions WHERE account_id = ? ORDER BY seq", [account_id]
            )]
            for pid in ids:
                field = f"accounts[{account_id}].positions[{pid}].isolated_margin"
                if pid in margins:
                    amount = validate.number(margins.pop(pid), field, minimum=0)
                    db.conn.execute(
                        "UPDATE positions SET isolated_margin = ? WHERE account_id = ? AND id = ?",
                        (amount, account_id, pid),
                    )
                elif (
                    db.conn.execute(
                        "SELECT isolated_margin FROM positions WHERE account_id = ? AND id = ?",
                        (account_id, pid),
                    ).fetchone()[0]
                    is None
                ):
                    raise InvalidInput(field, "required to switch the account to isolated")
            if margins:
                raise NotFoundError(f"no position {next(iter(margins))!r} in {account_id!r}")
        _check_book(db)


def add_account(db: Database, account: Account) -> None:
    """Add an account with its collateral and positions."""
    field = f"accounts[{getattr(account, 'id', '?')}]"
    validate.text(account.id, f"{field}.id")
    mode = validate.margin_mode(account.margin_mode, f"{field}.margin_mode")
    with transaction(db):
        # scopes are namespaced (account:ID, pool:ID), as in the portfolio file: a pool may
        # share an account's id
        taken = db.conn.execute("SELECT 1 FROM accounts WHERE id = ?", (account.id,)).fetchone()
        if taken:
            raise InvalidInput(f"{field}.id", f"{account.id!r} is already an account")
        snap = current_snapshot(db)
        quotes = market(db)
        if (account.collateral or account.positions) and snap is None:
            raise StoreError("no market snapshot yet: import a portfolio or a market CSV first")
        collateral = {
            validate.asset(a, f"{field}.collateral.{a}", quotes): validate.number(
                amt, f"{field}.collateral.{a}"
            )
            for a, amt in account.collateral.items()
        }
        positions: list[Position] = []
        for pos in account.positions:
            pfield = f"{field}.positions[{getattr(pos, 'id', '?')}]"
            checked = validate.position(
                pos, pfield, market=quotes, as_of=parse_iso(snap["as_of"]), mode=mode
            ) if snap else pos
            if any(p.id == checked.id for p in positions):
                raise InvalidInput(f"{pfield}.id", "a position id unique within its account")
            positions.append(checked)
        db.conn.execute(
            "INSERT INTO accounts(id, seq, name, venue, margin_mode, profile) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                account.id,
                _next_seq(db, "accounts"),
                account.name,
                account.venue,
                mode,
                account.profile or "default",
            ),
        )
        stored = Account(account.id, mode, collateral, positions)  # type: ignore[arg-type]
        _insert_account_contents(db, stored)
        _check_book(db)


def delete_account(db: Database, account_id: str) -> None:
    """Delete an account with its positions, balances, pool memberships and scenarios."""
    with transaction(db):
        cur = db.conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
        if cur.rowcount == 0:
            raise NotFoundError(f"no account {account_id!r}")


def add_pool(db: Database, pool: Pool) -> None:
    """Add a pool of existing accounts margined together."""
    field = f"pools[{getattr(pool, 'id', '?')}]"
    validate.text(pool.id, f"{field}.id")
    validate.margin_mode(pool.margin_mode, f"{field}.margin_mode")
    with transaction(db):
        taken = db.conn.execute("SELECT 1 FROM pools WHERE id = ?", (pool.id,)).fetchone()
        if taken:
            raise InvalidInput(f"{field}.id", f"{pool.id!r} is already a pool")
        for i, aid in enumerate(pool.accounts):
            if not isinstance(aid, str) or not db.conn.execute(
                "SELECT 1 FROM accounts WHERE id = ?", (aid,)
            ).fetchone():
                raise InvalidInput(f"{field}.accounts[{i}]", f"no account {aid!r}")
            if aid in pool.accounts[:i]:
                raise InvalidInput(f"{field}.accounts[{i}]", f"{aid!r} is listed twice")
        _insert_pool(db, pool, _next_seq(db, "pools"))
        _check_book(db)


def delete_pool(db: Database, pool_id: str) -> None:
    with transaction(db):
        cur = db.conn.execute("DELETE FROM pools WHERE id = ?", (pool_id,))
        if cur.rowcount == 0:
            raise NotFoundError(f"no pool {pool_id!r}")


__all__ = [
    "add_account",
    "add_pool",
    "add_snapshot",
    "apply_trades",
    "check_portfolio",
    "current_snapshot",
    "delete_account",
    "delete_collateral",
    "delete_pool",
    "delete_position",
    "delete_scenario",
    "history",
    "list_scenarios",
    "load_book",
    "load_portfolio",
    "load_scenario",
    "market",
    "record_history",
    "require_counter",
    "save_portfolio",
    "save_scenario",
    "set_account_mode",
    "set_collateral",
    "set_quote",
    "snapshots",
    "upsert_position",
]
