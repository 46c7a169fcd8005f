"""What-if: the report of an account or a pool before and after hypothetical trades.

`whatif(portfolio, account_id, trades)` adds the trades to the account and pays their cash legs
from its collateral (core/cash.py: premiums of options and spot at the entry price, optionally
the venue's fee); with `scope="pool:ID"` the figures are the pool's, the trades going into its
member `account_id`. The "before" is prepared once and the "after" recomputes only what the
trades touch (core/whatif_session.py). Suggestions: core/suggest.py (re-exported here).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workstation.core.cash import CashLeg, debit, funding_carry
from workstation.core.errors import WorkstationError
from workstation.core.model import Portfolio, Position
from workstation.core.whatif_session import Prepared, WhatIfSession, resolve_trades

MONEY_KEYS = ("collateral_value", "equity", "initial_margin", "maintenance_margin", "margin_usage",
              "standalone_initial_margin", "offset", "segregated_initial_margin")
HOURS_PER_DAY = 24.0


@dataclass
class Comparison:
    """Before and after of one set of trades, with what was needed to get there."""

    account: str
    trades: list[Position]
    legs: list[CashLeg]
    before: dict[str, Any]
    after: dict[str, Any]
    funding: dict[str, float]  # per day, before / after / of the trades
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # pool: member -> before/after
    prepared: Prepared | None = None  # the after state (curves reuse it)

    @property
    def delta(self) -> dict[str, float]:
        return delta_of(self.before, self.after)

    def as_dict(self) -> dict[str, Any]:
        out = {"before": self.before, "after": self.after, "delta": self.delta,
               "cash": [leg.as_dict() for leg in self.legs], "funding_per_day": self.funding}
        if self.members:
            out["members"] = self.members
        return out


def delta_of(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key in MONEY_KEYS:
        a, b = after.get(key), before.get(key)
        if isinstance(a, int | float) and isinstance(b, int | float):
            out[key] = a - b
    return out


def with_trades(portfolio: Portfolio, account_id: str, trades: Sequence[Position],
                legs: Sequence[CashLeg] = ()) -> Portfolio:
    """A copy of `portfolio` with `trades` added to the account (ids made unique) and the cash
    legs paid from its collateral: the book as Apply to book would leave it."""
    session_trades = resolve_trades(portfolio, account_id, trades)
    new = copy.deepcopy(portfolio)
    acc = new.account(account_id)
    acc.positions.extend(session_trades)
    acc.collateral = debit(acc.collateral, legs)
    return new


def scope_positions(portfolio: Portfolio, accounts: Sequence[str]) -> list[Position]:
    return [p for a in accounts for p in portfolio.account(a).positions]


def compare(session: WhatIfSession, account_id: str, trades: Sequence[Position], *,
            liquidity: str | None = None, cash: bool = True, settle: dict[str, str] | None = None,
            members: bool = False) -> Comparison:
    """Before and after of `trades` in `account_id`, in the session's scope (pool members side by
    side with `members`)."""
    resolved = session.resolve(account_id, trades)
    legs = session.cash_legs(account_id, resolved, liquidity, settle) if cash else []
    after = session.after(account_id, resolved, legs)
    member_after = session.member_after(account_id, resolved, legs) if session.kind == "pool" else None
    before_report = session.before_report
    after_report = session.after_report(after, account_id, member_after)
    f0 = session.funding_per_day
    ft = funding_carry(resolved, session.portfolio.market, HOURS_PER_DAY)
    out = Comparison(account_id, resolved, legs, before_report, after_report,
                     {"before": f0, "after": f0 + ft, "trades": ft}, prepared=after)
    if members and session.kind == "pool":
        for m in session.accounts():
            b = session.member(m).report()
            a = member_after.report() if m == account_id and member_after is not None else b
            out.members[m] = {"before": b, "after": a}
    return out


def whatif(portfolio: Portfolio, account_id: str, trades: Sequence[Position], *, scope: str | None = None,
           liquidity: str | None = None, cash: bool = True) -> dict[str, Any]:
    """{"before", "after", "delta", "cash", "funding_per_day"} of `trades` in `account_id`."""
    try:
        portfolio.account(account_id)
    except KeyError:
        raise WorkstationError(f"no account {account_id!r}") from None
    session = WhatIfSession(portfolio, scope or f"account:{account_id}")
    return compare(session, account_id, trades, liquidity=liquidity, cash=cash).as_dict()


from workstation.core.suggest import OBJECTIVES, suggest  # noqa: E402  (re-export)

__all__ = ["MONEY_KEYS", "OBJECTIVES", "Comparison", "compare", "delta_of", "scope_positions", "suggest",
           "whatif", "with_trades"]
