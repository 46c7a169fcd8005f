"""Domain objects of a portfolio: plain dataclasses, as read from `portfolio@1` files.

The engine turns these into column arrays (`workstation.core.book.Book`) before any maths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FORMAT = "margin-workstation/portfolio@1"
KINDS = ("spot", "perpetual", "future", "option")
SETTLEMENTS = ("linear", "inverse")
RIGHTS = ("call", "put")
MARGIN_MODES = ("isolated", "cross", "portfolio")


@dataclass(frozen=True)
class Quote:
    """Price of an asset in the base currency, the implied vol of options on it and the funding
    rate of its perpetuals (a fraction per 8 hours, paid by longs to shorts when positive)."""

    price: float
    vol: float | None = None
    funding_rate: float | None = None


@dataclass
class Position:
    id: str
    kind: str
    underlying: str
    quantity: float
    entry_price: float
    settlement: str = "linear"
    expiry: datetime | None = None
    right: str | None = None
    strike: float | None = None
    vol: float | None = None
    isolated_margin: float | None = None
    expired: bool = False
    settlement_price: float | None = None


@dataclass
class Account:
    id: str
    margin_mode: str
    collateral: dict[str, float]
    positions: list[Position]
    name: str | None = None
    venue: str | None = None
    profile: str = "default"


@dataclass
class Pool:
    id: str
    accounts: list[str]
    margin_mode: str = "portfolio"
    profile: str = "default"
    name: str | None = None


@dataclass
class Portfolio:
    as_of: datetime
    market: dict[str, Quote]
    accounts: list[Account]
    pools: list[Pool] = field(default_factory=list)
    base_currency: str = "USD"
    rate: float = 0.0
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def account(self, account_id: str) -> Account:
        for acc in self.accounts:
            if acc.id == account_id:
                return acc
        raise KeyError(account_id)

    def pool(self, pool_id: str) -> Pool:
        for pool in self.pools:
            if pool.id == pool_id:
                return pool
        raise KeyError(pool_id)
