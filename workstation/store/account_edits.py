"""Edits of the accounts in the book: positions, balances, margin modes, accounts and pools.

One transaction each, ending with the whole-book check (`book_write.check_book`). Errors:
`NotFoundError`, `InvalidInput`, `StoreError`.
"""

from __future__ import annotations

from collections.abc import Mapping

from workstation.core.model import Account, Pool, Position
from workstation.store import validate
from workstation.store.book_read import current_snapshot, market
from workstation.store.book_write import (
    account_row,
    check_book,
    insert_account_contents,
    insert_pool,
    insert_position,
    next_seq,
    require_snapshot,
)
from workstation.store.codec import parse_iso
from workstation.store.connection import Database, transaction
from workstation.store.errors import InvalidInput, NotFoundError, StoreError


# ---------------------------------------------------------------- positions and balances
def upsert_position(db: Database, account_id: str, position: Position) -> None:
    """Add `position` to the account, or replace the one with the same id (keeping its place)."""
    with transaction(db):
        acc = account_row(db, account_id)
        snap = require_snapshot(db)
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
        seq = rows[0]["seq"] if rows else next_seq(db, "positions", "account_id = ?", [account_id])
        insert_position(db, account_id, pos, seq)
        check_book(db)


def apply_trades(db: Database, account_id: str, trades: list[Position],
                 collateral_changes: Mapping[str, float] | None = None) -> None:
    """Book drafted what-if trades: add the positions (ids must be new in the account) and move
    the collateral by `collateral_changes` (asset -> change; the trades' premiums and fees paid,
    negative) in one transaction, so one Undo can take all of it back."""
    with transaction(db):
        acc = account_row(db, account_id)
        snap = require_snapshot(db)
        quotes = market(db, snap["id"])
        as_of = parse_iso(snap["as_of"])
        for trade in trades:
            pos = validate.position(trade, f"accounts[{account_id}].positions[{getattr(trade, 'id', '?')}]",
                                    market=quotes, as_of=as_of, mode=acc["margin_mode"])
            if db.conn.execute("SELECT 1 FROM positions WHERE account_id = ? AND id = ?",
                               (account_id, pos.id)).fetchone():
                raise InvalidInput(f"accounts[{account_id}].positions[{pos.id}].id",
                                   "a new position id (a drafted trade never replaces a position)")
            insert_position(db, account_id, pos, next_seq(db, "positions", "account_id = ?", [account_id]))
        for asset, change in (collateral_changes or {}).items():
            field = f"accounts[{account_id}].collateral.{asset}"
            validate.asset(asset, field, quotes)
            delta = validate.number(change, field)
            row = db.conn.execute("SELECT amount FROM collateral WHERE account_id = ? AND asset = ?",
                                  (account_id, asset)).fetchone()
            _put_collateral(db, account_id, asset, (row[0] if row else 0.0) + delta)
        check_book(db)


def _put_collateral(db: Database, account_id: str, asset: str, amount: float) -> None:
    """Set the account's amount of `asset` (a new asset goes last)."""
    db.conn.execute(
        "INSERT INTO collateral(account_id, asset, seq, amount) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(account_id, asset) DO UPDATE SET amount = excluded.amount",
        (account_id, asset, next_seq(db, "collateral", "account_id = ?", [account_id]), amount),
    )


def _delete(db: Database, sql: str, params: tuple[str, ...], missing: str,
            account_id: str | None = None) -> None:
    """Run one DELETE in its own transaction; `NotFoundError(missing)` when it deletes nothing
    (or when `account_id` names no account)."""
    with transaction(db):
        if account_id is not None:
            account_row(db, account_id)
        if db.conn.execute(sql, params).rowcount == 0:
            raise NotFoundError(missing)


def delete_position(db: Database, account_id: str, position_id: str) -> None:
    _delete(db, "DELETE FROM positions WHERE account_id = ? AND id = ?", (account_id, position_id),
            f"no position {position_id!r} in account {account_id!r}", account_id)


def set_collateral(db: Database, account_id: str, asset: str, amount: float) -> None:
    """Set the amount of `asset` the account holds (negative: borrowed)."""
    with transaction(db):
        account_row(db, account_id)
        require_snapshot(db)
        field = f"accounts[{account_id}].collateral.{asset}"
        validate.asset(asset, field, market(db))
        _put_collateral(db, account_id, asset, validate.number(amount, field))


def delete_collateral(db: Database, account_id: str, asset: str) -> None:
    _delete(db, "DELETE FROM collateral WHERE account_id = ? AND asset = ?", (account_id, asset),
            f"account {account_id!r} holds no {asset!r}", account_id)


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
        account_row(db, account_id)
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
        check_book(db)


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
                next_seq(db, "accounts"),
                account.name,
                account.venue,
                mode,
                account.profile or "default",
            ),
        )
        stored = Account(account.id, mode, collateral, positions)  # type: ignore[arg-type]
        insert_account_contents(db, stored)
        check_book(db)


def delete_account(db: Database, account_id: str) -> None:
    """Delete an account with its positions, balances, pool memberships and scenarios."""
    _delete(db, "DELETE FROM accounts WHERE id = ?", (account_id,), f"no account {account_id!r}")


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
        insert_pool(db, pool, next_seq(db, "pools"))
        check_book(db)


def delete_pool(db: Database, pool_id: str) -> None:
    _delete(db, "DELETE FROM pools WHERE id = ?", (pool_id,), f"no pool {pool_id!r}")
