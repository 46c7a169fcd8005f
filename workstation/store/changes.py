"""What a change did to the book: accounts, positions, balances, pools, profiles added,
changed or deleted. An import captures the book before and after its writes (inside its
transaction) and compares them, so what it reports, refuses or previews is exactly what it did.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from workstation.store.connection import Database

_SHOWN = 5  # ids named per list before "and N more"


@dataclass
class Delta:
    """Ids added, changed (same id, other values) and removed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def counts(self) -> str:
        """`+2 added, 1 changed, 3 deleted` (only the non-zero parts), or `no change`."""
        parts = [f"{len(ids)} {word}" for ids, word in (
            (self.added, "added"), (self.changed, "changed"), (self.removed, "deleted")) if ids]
        return ", ".join(parts) or "no change"


@dataclass
class AccountChanges:
    account: str
    status: str  # "new", "deleted" or "kept"
    settings: bool = False  # name, venue, margin mode or profile changed
    positions: Delta = field(default_factory=Delta)
    balances: Delta = field(default_factory=Delta)
    scenarios_deleted: int = 0


@dataclass
class Changes:
    accounts: list[AccountChanges] = field(default_factory=list)
    pools: Delta = field(default_factory=Delta)
    profiles: Delta = field(default_factory=Delta)
    new_snapshot: bool = False
    base_currency: tuple[str, str] | None = None  # (before, after) when it changed

    @property
    def deletes(self) -> bool:
        """Does the change delete anything (an account, position, balance, pool, profile)?"""
        return bool(self.pools.removed or self.profiles.removed or any(
            a.status == "deleted" or a.positions.removed or a.balances.removed
            for a in self.accounts
        ))

    @property
    def overwrites(self) -> bool:
        """Does it delete or change anything that was there (so a backup is worth taking)?"""
        return self.deletes or bool(
            self.pools.changed or self.profiles.changed or self.base_currency
            or any(a.settings or a.positions.changed or a.balances.changed
                   for a in self.accounts)
        )

    def deletions(self) -> list[str]:
        """Each deletion, named: `account iso (1 position, 1 balance, 2 scenarios)`,
        `2 positions of account main: btc-perp, eth-c3000`, `pool both`, ..."""
        out = []
        for a in self.accounts:
            if a.status == "deleted":
                held = [_count(len(a.positions.removed), "position"),
                        _count(len(a.balances.removed), "balance"),
                        _count(a.scenarios_deleted, "saved scenario")]
                out.append(f"account {a.account} ({', '.join(held)})")
                continue
            for ids, noun in ((a.positions.removed, "position"), (a.balances.removed, "balance")):
                if ids:
                    out.append(f"{_count(len(ids), noun)} of account {a.account}: {_names(ids)}")
        for ids, noun in ((self.pools.removed, "pool"), (self.profiles.removed, "profile")):
            if ids:
                out.append(f"{_count(len(ids), noun)}: {_names(ids)}")
        return out

    def summary(self) -> list[str]:
        """One line per account touched, then pools, profiles and the market."""
        lines = []
        for a in self.accounts:
            if a.status == "deleted":
                lines.append(f"account {a.account}: deleted with "
                             f"{_count(len(a.positions.removed), 'position')}, "
                             f"{_count(len(a.balances.removed), 'balance')}, "
                             f"{_count(a.scenarios_deleted, 'saved scenario')}")
                continue
            head = "new account" if a.status == "new" else "account"
            parts = [f"{noun} {delta.counts()}" for delta, noun in (
                (a.positions, "positions"), (a.balances, "balances")) if delta]
            if a.settings:
                parts.append("settings changed")
            lines.append(f"{head} {a.account}: {'; '.join(parts) or 'no change'}")
        for delta, noun in ((self.pools, "pools"), (self.profiles, "profiles")):
            if delta:
                lines.append(f"{noun}: {delta.counts()}")
        if self.base_currency:
            lines.append(f"base currency: {self.base_currency[0]} -> {self.base_currency[1]}")
        if self.new_snapshot:
            lines.append("market: a new current snapshot (the older ones are kept)")
        return lines or ["no change"]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


# ---------------------------------------------------------------- capturing the book
@dataclass
class BookState:
    accounts: dict[str, tuple[Any, ...]]
    positions: dict[str, dict[str, tuple[Any, ...]]]
    balances: dict[str, dict[str, float]]
    scenarios: dict[str, int]
    pools: dict[str, tuple[Any, ...]] | None
    profiles: dict[str, str] | None
    snapshot: int | None
    base: str | None


_POSITION_SQL = (
    'SELECT account_id, id, kind, underlying, settlement, quantity, entry_price, expiry, "right", '
    "strike, vol, isolated_margin, expired, settlement_price FROM positions"
)


def capture(db: Database, accounts: Collection[str] | None = None) -> BookState:
    """The parts of the book a change can touch: of `accounts` only, or the whole book."""
    conn = db.conn
    where, params = "", []
    if accounts is not None:
        accounts = list(dict.fromkeys(accounts))
        where = f" WHERE {{}} IN ({','.join('?' * len(accounts))})"
        params = accounts
    acc_rows = conn.execute(
        "SELECT id, name, venue, margin_mode, profile FROM accounts" + where.format("id"), params
    )
    state = BookState({r[0]: tuple(r[1:]) for r in acc_rows}, {}, {}, {}, None, None, None, None)
    for row in conn.execute(_POSITION_SQL + where.format("account_id"), params):
        state.positions.setdefault(row[0], {})[row[1]] = tuple(row[2:])
    for acc, asset, amount in conn.execute(
        "SELECT account_id, asset, amount FROM collateral" + where.format("account_id"), params
    ):
        state.balances.setdefault(acc, {})[asset] = amount
    for acc, n in conn.execute(
        "SELECT account_id, count(*) FROM scenarios" + where.format("account_id")
        + " GROUP BY account_id", params
    ):
        state.scenarios[acc] = n
    if accounts is None:
        members: dict[str, list[str]] = {}
        for pool, acc in conn.execute(
            "SELECT pool_id, account_id FROM pool_members ORDER BY pool_id, seq"
        ):
            members.setdefault(pool, []).append(acc)
        state.pools = {
            r[0]: (*r[1:], tuple(members.get(r[0], ())))
            for r in conn.execute("SELECT id, name, margin_mode, profile FROM pools")
        }
        state.profiles = dict(conn.execute("SELECT name, body FROM profiles").fetchall())
    row = conn.execute("SELECT max(id) FROM snapshots").fetchone()
    state.snapshot = row[0] if row else None
    row = conn.execute("SELECT value FROM meta WHERE key = 'base_currency'").fetchone()
    state.base = row[0] if row else None
    return state


def _delta(before: dict[str, Any], after: dict[str, Any]) -> Delta:
    return Delta(
        added=[k for k in after if k not in before],
        changed=[k for k in after if k in before and before[k] != after[k]],
        removed=[k for k in before if k not in after],
    )


def compare(before: BookState, after: BookState) -> Changes:
    """What changed from `before` to `after` (two captures of the same accounts)."""
    changes = Changes()
    for acc in list(dict.fromkeys([*before.accounts, *after.accounts])):
        status = ("new" if acc not in before.accounts
                  else "deleted" if acc not in after.accounts else "kept")
        item = AccountChanges(
            acc, status,
            settings=status == "kept" and before.accounts[acc] != after.accounts[acc],
            positions=_delta(before.positions.get(acc, {}), after.positions.get(acc, {})),
            balances=_delta(before.balances.get(acc, {}), after.balances.get(acc, {})),
            scenarios_deleted=max(before.scenarios.get(acc, 0) - after.scenarios.get(acc, 0), 0),
        )
        if status != "kept" or item.settings or item.positions or item.balances \
                or item.scenarios_deleted:
            changes.accounts.append(item)
    if before.pools is not None and after.pools is not None:
        changes.pools = _delta(before.pools, after.pools)
    if before.profiles is not None and after.profiles is not None:
        changes.profiles = _delta(before.profiles, after.profiles)
    changes.new_snapshot = after.snapshot != before.snapshot
    if before.base is not None and after.base is not None and before.base != after.base:
        changes.base_currency = (before.base, after.base)
    return changes
