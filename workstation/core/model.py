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
class Forward:
    """A market's forward for one expiry (a venue's futures price for that date): options and
    futures of that expiry price on `forward`, discounted at `rate` (None: the file's rate);
    `confidence` is the oracle's, in [0, 1] (None: 1)."""

    expiry: datetime
    forward: float
    rate: float | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Quote:
    """Price of an asset in the base currency, and the implied vol of options on it.

    Optional (None or empty: absent, today's behaviour): `confidence` of the price oracle in
    [0, 1]; `moves_with`, the asset whose relative moves this one follows (it is then no
    underlying of its own); `peg_price`, a stable's own price (the peg-loss rule); `forwards`,
    one `Forward` per expiry; `funding_rate`, the funding rate of its perpetuals (a fraction per
    8 hours, paid by longs to shorts when positive; the what-if's funding carry).
    """

    price: float
    vol: float | None = None
    confidence: float | None = None
    moves_with: str | None = None
    peg_price: float | None = None
    forwards: tuple[Forward, ...] = ()
    funding_rate: float | None = None

    def forward_for(self, expiry: datetime) -> Forward | None:
        """The forward entry of exactly `expiry`, if the market gives one."""
        for f in self.forwards:
            if f.expiry == expiry:
                return f
        return None


@dataclass(frozen=True)
class VenueFigures:
    """What a venue reports for a position or an account (venues.md "Venue figures"), kept
    beside what we compute. Margins are in `currency` (None: the book's base currency);
    `index_price` is that currency's price in the base currency at `as_of`, the record's time
    (None: the book's price); a position's `liquidation_price` is quoted as its instrument is
    (linear: in `currency`, inverse: in USD), an account's in the base currency;
    `margin_usage` is MM / equity (OKX's mgnRatio inverted). Absent figures are None."""

    initial_margin: float | None = None
    maintenance_margin: float | None = None
    liquidation_price: float | None = None
    margin_usage: float | None = None
    currency: str | None = None
    index_price: float | None = None
    as_of: datetime | None = None
    source: str | None = None


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
    mark_price: float | None = None  # perpetuals: the venue's mark (None: the underlying's price)
    mark_confidence: float | None = None  # perpetuals: the mark oracle's confidence (None: 1)
    leverage: float | None = None  # perpetuals/futures in cross/isolated: IM = notional / leverage
    venue_figures: VenueFigures | None = None  # what the venue reports for it (reconciliation)


@dataclass
class Account:
    id: str
    margin_mode: str
    collateral: dict[str, float]
    positions: list[Position]
    name: str | None = None
    venue: str | None = None
    profile: str = "default"
    venue_figures: tuple[VenueFigures, ...] = ()  # the venue's account figures, one per currency


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
