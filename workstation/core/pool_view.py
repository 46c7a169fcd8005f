"""A pool seen from its members: is it margined together at a venue, and which account goes first.

A pool in the portfolio file pools collateral and risk across accounts. Venues only do that
for accounts they hold together (a unified or portfolio-margin account spanning sub-accounts);
accounts at different venues are always margined apart, so there the pool's figures are a
comparison (what pooling would save) and liquidation happens account by account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workstation.core.model import Portfolio


@dataclass(frozen=True)
class Margining:
    together: bool  # True: one venue could margin the members together
    venues: tuple[str, ...]
    text: str


def pool_margining(portfolio: Portfolio, pool_id: str) -> Margining:
    pool = portfolio.pool(pool_id)
    venues = tuple(dict.fromkeys((portfolio.account(a).venue or "unknown venue") for a in pool.accounts))
    if len(venues) == 1 and venues[0] != "unknown venue":
        return Margining(True, venues, f"All members are at {venues[0]}: margined together only if "
                                       f"{venues[0]} pools these accounts (one unified or portfolio-margin "
                                       "account); otherwise each is margined on its own")
    where = ", ".join(venues)
    return Margining(False, venues, f"Compared here only: the members are at {len(venues)} venues "
                                    f"({where}), which margin and liquidate each account on its own")


@dataclass(frozen=True)
class Nearest:
    account: str
    underlying: str  # or "all"
    pct: float
    price: float | None


def nearest_liquidation(report: dict[str, Any]) -> tuple[str, float, float | None] | None:
    """(underlying, signed move in percent, price) of the report's nearest liquidation."""
    best: tuple[str, float, float | None] | None = None
    for und, liq in (report.get("liquidation") or {}).items():
        for side in ("down", "up"):
            pct = liq.get(f"{side}_pct")
            if pct is None:
                continue
            if best is None or abs(pct) < abs(best[1]):
                best = (und, float(pct), liq.get(f"{side}_price"))
    return best


def first_to_liquidate(members: dict[str, dict[str, Any]]) -> Nearest | None:
    """Among member reports (each margined on its own), the account whose nearest liquidation
    is the smallest move; None when no member liquidates within the searched range."""
    best: Nearest | None = None
    for account, report in members.items():
        near = nearest_liquidation(report)
        if near is not None and (best is None or abs(near[1]) < abs(best.pct)):
            best = Nearest(account, near[0], near[1], near[2])
    return best
