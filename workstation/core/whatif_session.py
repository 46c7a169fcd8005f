"""A what-if session: the "before" of a scope prepared once, the "after" of drafts computed by
recomputing only what the drafts touch (core/incremental.py).

    session = WhatIfSession(portfolio, "account:deribit-pm")   # or "pool:all"
    trades = session.resolve("deribit-pm", drafts)             # unique ids
    legs = session.cash_legs("deribit-pm", trades, liquidity="taker")
    after = session.after("deribit-pm", trades, legs)          # Prepared, the scope after
    after.report()                                             # as build_report() would give

From a pool, drafts go into one member account; the pool's figures and that member's move
(the other members' stay as they were). Each `Prepared` keeps its margin method, its marks and
Greeks and a memo of its columns' pieces, so a size slider's next "after" revalues the drafts and
the columns they touch, and the liquidation search reuses every untouched column's pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any

import numpy as np

from workstation.core.book import Book
from workstation.core.cash import CashLeg, cash_leg, debit
from workstation.core.errors import ScopeError, WorkstationError
from workstation.core.incremental import ColumnMemo, concat_books, reuse_rows, seed_snapshot
from workstation.core.methods import method_for
from workstation.core.methods.base import Scope
from workstation.core.model import Portfolio, Position
from workstation.core.profiles import Profile, get_profile
from workstation.core.report import _f, _profiles, check_finite, make_scope, report_for_method
from workstation.core.valuation import Greeks, Marks, greeks, marks
from workstation.core.warm_liquidation import WarmLiquidation


def _concat(a: Any, b: Any, cls: type) -> Any:
    return cls(**{k: np.concatenate([getattr(a, k), getattr(b, k)]) for k in a.__dataclass_fields__})


class Prepared:
    """One scope's margin method with its per-position figures and column memo.

    `before`/`drafts`: this scope is `before`'s book plus the rows of `drafts` (None: built from
    scratch); `touched`: the columns whose positions or collateral differ from `before`'s.
    """

    def __init__(self, scope: Scope, before: Prepared | None = None, drafts: Book | None = None,
                 touched: set[int] | None = None, with_liquidation: bool = True, light: bool = False):
        self.scope = scope
        self.with_liquidation = with_liquidation
        self.method = method_for(scope)
        self.memo = ColumnMemo(self.method)
        self._before = before
        self._drafts = drafts
        self._untouched: set[int] = set()
        if before is not None:
            reuse_rows(self.method, before.method)
            self._untouched = set(range(self.method.n_assets)) - (touched or set())
            if not light:
                self.memo.seed(before.memo, self._untouched)
            else:  # figures at current prices and moved states only: no per-position results
                seed_snapshot(self.method, before.method, set(range(self.method.n_assets)) - self._untouched)

    @cached_property
    def marks(self) -> Marks:
        if self._before is not None and self._drafts is not None:
            return _concat(self._before.marks, marks(self._drafts), Marks)
        return marks(self.method.book)

    @cached_property
    def greeks(self) -> Greeks:
        if self._before is not None and self._drafts is not None:
            return _concat(self._before.greeks, greeks(self._drafts), Greeks)
        return greeks(self.method.book)

    @cached_property
    def liquidation(self) -> dict[str, Any]:
        if not self.with_liquidation:
            return {}
        before = self._before.liquidation_trail() if self._before is not None else None
        search = WarmLiquidation(self.memo, before)
        out = search.report()
        self._trail = search.trail
        if self._before is not None:  # the untouched columns' new pieces are the before's too
            self._before.memo.seed(self.memo, self._untouched)
        return out

    def liquidation_trail(self) -> dict:
        """The samples of this scope's liquidation searches (a warm start for an after's)."""
        self.liquidation  # noqa: B018
        return getattr(self, "_trail", {})

    def requirement(self) -> tuple[float, float]:
        return self.method.requirement()

    def snapshot_requirement(self) -> tuple[float, float]:
        """(IM, MM) combined from the snapshot's pieces (no per-position results needed)."""
        im, mm = self.method.combine(self.method.snapshot().terms)
        return float(im[0]), float(mm[0])

    def equity(self) -> float:
        """Equity from the snapshot (collateral, positions and isolated margin)."""
        return float(self.method.snapshot().equity[0].sum() + self.method.isolated_total())

    def report(self) -> dict[str, Any]:
        with np.errstate(all="ignore"):
            return report_for_method(self.method, self.liquidation, mk=self.marks, g=self.greeks)


class WhatIfSession:
    """The prepared "before" of `scope` (account:ID or pool:ID) and its what-ifs."""

    def __init__(self, portfolio: Portfolio, scope: str, *, with_liquidation: bool = True):
        self.portfolio = portfolio
        self.scope_name = scope
        self.with_liquidation = with_liquidation
        self.profiles = _profiles(portfolio)  # each shipped profile in its version on as_of
        self.scope = make_scope(portfolio, scope, self.profiles)
        self.before = Prepared(self.scope, with_liquidation=with_liquidation)
        self.kind, _, self.ident = scope.partition(":")
        self._members: dict[str, Prepared] = {}
        self._index = {a: i for i, a in enumerate(self.scope.book.assets)}

    # -------------------------------------------------------------- the accounts drafts go into
    def accounts(self) -> list[str]:
        """The accounts drafts may go into: the account itself, or the pool's members."""
        return list(self.scope.members) if self.kind == "pool" else [self.ident]

    def profile(self, account_id: str) -> Profile:
        return get_profile(self.portfolio.account(account_id).profile, self.profiles)

    def member(self, account_id: str) -> Prepared:
        """The before of one member account of a pool (the scope itself for an account)."""
        if self.kind == "account":
            return self.before
        if account_id not in self._members:
            sc = make_scope(self.portfolio, f"account:{account_id}", self.profiles)
            self._members[account_id] = Prepared(sc, with_liquidation=self.with_liquidation)
        return self._members[account_id]

    def _check_account(self, account_id: str) -> None:
        if account_id not in self.accounts():
            raise ScopeError(f"account {account_id!r} is not in {self.scope_name}")

    # -------------------------------------------------------------- drafts
    def resolve(self, account_id: str, trades: Sequence[Position]) -> list[Position]:
        """The trades with ids unique in the account, checked (`resolve_trades`)."""
        self._check_account(account_id)
        return resolve_trades(self.portfolio, account_id, trades)

    def cash_legs(self, account_id: str, trades: Sequence[Position], liquidity: str | None = None,
                  settle: dict[str, str] | None = None) -> list[CashLeg]:
        """The premium and fee of each trade, paid from the account's collateral."""
        acc = self.portfolio.account(account_id)
        profile = self.profile(account_id)
        return [cash_leg(t, self.portfolio, acc, profile, liquidity, (settle or {}).get(t.id)) for t in trades]

    def _after_scope(self, base: Scope, account_id: str, trades: Sequence[Position],
                     legs: Sequence[CashLeg], drafts: Book | None = None) -> tuple[Scope, Book, set[int]]:
        if drafts is None:
            drafts = Book.from_positions([(account_id, t) for t in trades], self.portfolio)
        touched = {int(u) for u in drafts.und}
        collateral = debit(base.collateral, legs)
        for leg in legs:
            touched.add(self._index[leg.asset])
        scope = replace(base, book=concat_books(base.book, drafts), collateral=collateral)
        return scope, drafts, touched

    def _drivers(self, prepared: Prepared, touched: set[int]) -> set[int]:
        """Collateral moves in its driver's column: touch those too."""
        return touched | {int(prepared.method.driver[a]) for a in touched}

    def after(self, account_id: str, trades: Sequence[Position], legs: Sequence[CashLeg] = (), *,
              light: bool = False, book: Book | None = None) -> Prepared:
        """The scope with `trades` (resolved) in `account_id` and `legs` paid; `light`: for figures
        from the snapshot and moved states only (suggestion objectives), not for a report; `book`:
        the trades' rows when the caller has them (`Book.from_positions` of them)."""
        self._check_account(account_id)
        scope, drafts, touched = self._after_scope(self.scope, account_id, trades, legs, book)
        return Prepared(scope, self.before, drafts, self._drivers(self.before, touched),
                        with_liquidation=self.with_liquidation, light=light)

    def member_after(self, account_id: str, trades: Sequence[Position], legs: Sequence[CashLeg] = ()) -> Prepared:
        """The member account with `trades` and `legs` (the scope itself for an account)."""
        base = self.member(account_id)
        scope, drafts, touched = self._after_scope(base.scope, account_id, trades, legs)
        return Prepared(scope, base, drafts, self._drivers(base, touched), with_liquidation=self.with_liquidation)

    # -------------------------------------------------------------- reports
    @cached_property
    def funding_per_day(self) -> float:
        """Funding carry of the scope's perpetuals over a day, as booked."""
        from workstation.core.cash import funding_carry

        held = [p for a in self.accounts() for p in self.portfolio.account(a).positions]
        return funding_carry(held, self.portfolio.market, 24.0)

    @cached_property
    def before_report(self) -> dict[str, Any]:
        return self._finish(self.before.report(), {m: self.member(m) for m in self.accounts()})

    def _finish(self, report: dict[str, Any], members: dict[str, Prepared]) -> dict[str, Any]:
        if self.kind == "pool":
            report["segregated_initial_margin"] = _f(sum(p.requirement()[0] for p in members.values()))
        check_finite(report)
        return report

    def after_report(self, after: Prepared, account_id: str | None = None,
                     member_after: Prepared | None = None) -> dict[str, Any]:
        members = {m: self.member(m) for m in self.accounts()} if self.kind == "pool" else {}
        if account_id is not None and member_after is not None and self.kind == "pool":
            members[account_id] = member_after
        return self._finish(after.report(), members)


def resolve_trades(portfolio: Portfolio, account_id: str, trades: Sequence[Position]) -> list[Position]:
    """The trades with ids unique in the account (drafts never overwrite a position), checked
    against the account's margin mode and the market."""
    try:
        acc = portfolio.account(account_id)
    except KeyError:
        raise WorkstationError(f"no account {account_id!r}") from None
    taken = {p.id for p in acc.positions}
    out = []
    for k, trade in enumerate(trades, 1):
        pid = trade.id or f"trade-{k}"
        base, n = pid, 1
        while pid in taken:
            n += 1
            pid = f"{base}-{n}"
        taken.add(pid)
        if acc.margin_mode == "isolated" and trade.isolated_margin is None:
            raise WorkstationError(f"trade {pid}: an isolated account needs isolated_margin")
        if acc.margin_mode != "isolated" and trade.isolated_margin is not None:
            raise WorkstationError(f"trade {pid}: no isolated_margin outside an isolated account "
                                   f"({account_id} is {acc.margin_mode})")
        if trade.underlying not in portfolio.market:
            raise WorkstationError(f"trade {pid}: no market price for {trade.underlying}")
        out.append(replace(trade, id=pid))
    return out
