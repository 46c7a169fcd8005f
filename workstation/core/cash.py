"""Cash legs of a trade, and the funding carry of perpetuals.

A trade moves the account's collateral as the venue books it (method.md: premiums and spot
purchases are settled in the wallet when traded):

- premium: a bought option or spot purchase pays `q * entry` of the settlement asset (a sale
  receives it): inverse options in the underlying coin (entry is coin per unit), linear options
  and spot in the profile's linear settlement coin (`trading.settle`);
- fee (optional, maker or taker): perpetuals and futures `rate * notional` (inverse: `|q| / entry`
  coins, linear: `|q| * entry`); spot `rate * |q| * entry`; options `rate` per coin of underlying
  (inverse: coins, linear: times the spot), capped at `option_fee_cap * premium`.

So a bought option at its own mark leaves equity unchanged before fees: the collateral falls by
what the option adds.

Funding carry of a perpetual over `hours` (rate per 8 hours, positive: longs pay shorts), in
base currency: `-rate * notional * hours / 8`, notional `q * S` (linear) or `q` USD (inverse).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workstation.core.errors import WorkstationError
from workstation.core.model import Account, Portfolio, Position, Quote
from workstation.core.profiles import Profile

FUNDING_PERIOD_HOURS = 8.0


@dataclass(frozen=True)
class CashLeg:
    """What one trade pays (positive) or receives (negative), in its settlement asset."""

    trade_id: str
    asset: str
    premium: float
    fee: float
    price: float  # the asset's price in base currency
    liquidity: str | None  # maker, taker or None (no fee)

    @property
    def amount(self) -> float:
        """Total debited from the asset (premium + fee)."""
        return self.premium + self.fee

    @property
    def premium_base(self) -> float:
        return self.premium * self.price

    @property
    def fee_base(self) -> float:
        return self.fee * self.price

    def as_dict(self) -> dict[str, object]:
        return {"trade": self.trade_id, "asset": self.asset, "premium": self.premium, "fee": self.fee,
                "premium_base": self.premium_base, "fee_base": self.fee_base, "liquidity": self.liquidity}


def settlement_asset(trade: Position, account: Account, profile: Profile, market: Mapping[str, Quote],
                     base_currency: str = "USD") -> str:
    """The asset a trade's premium and fees are paid in: the underlying coin for inverse
    instruments; for linear ones the profile's settlement coin, else the base currency, else the
    stablecoin the account holds most of, else any priced stablecoin."""
    if trade.settlement == "inverse" and trade.kind != "spot":
        return trade.underlying
    candidates = [profile.trading.settle, base_currency]
    held = sorted((a for a in account.collateral if profile.is_stable(a)),
                  key=lambda a: -account.collateral[a])
    candidates += held + [a for a in market if profile.is_stable(a)]
    for asset in candidates:
        if asset and asset in market:
            return asset
    raise WorkstationError(f"trade {trade.id}: no priced settlement asset for a linear trade "
                           f"(set trading.settle in profile {profile.name} or price {base_currency})")


def trade_fee(trade: Position, profile: Profile, spot: float, liquidity: str | None) -> float:
    """The fee in the settlement asset (0 without `liquidity`)."""
    if liquidity is None:
        return 0.0
    rate = profile.trading.fee_rate(trade.kind, liquidity)
    size = abs(trade.quantity)
    if trade.kind == "option":
        per_coin = rate if trade.settlement == "inverse" else rate * spot
        fee = size * per_coin
        cap = profile.trading.option_fee_cap
        if cap is not None:
            fee = min(fee, cap * size * trade.entry_price) if fee >= 0 else fee
        return fee
    if trade.kind in ("perpetual", "future") and trade.settlement == "inverse":
        return rate * size / trade.entry_price
    return rate * size * trade.entry_price


def cash_leg(trade: Position, portfolio: Portfolio, account: Account, profile: Profile,
             liquidity: str | None = None, asset: str | None = None) -> CashLeg:
    """The cash leg of `trade` (entry price already resolved) booked into `account`."""
    market = portfolio.market
    asset = asset or settlement_asset(trade, account, profile, market, portfolio.base_currency)
    if asset not in market:
        raise WorkstationError(f"trade {trade.id}: settlement asset {asset} has no market price")
    premium = trade.quantity * trade.entry_price if trade.kind in ("option", "spot") else 0.0
    spot = market[trade.underlying].price
    fee = trade_fee(trade, profile, spot, liquidity)
    return CashLeg(trade.id, asset, premium, fee, market[asset].price, liquidity)


def mark_price(portfolio: Portfolio, position: Position) -> float:
    """The engine's mark of the instrument per unit, in its settlement currency (coin per unit
    for inverse options): the entry price of a trade done at the mark."""
    from dataclasses import replace

    from workstation.core.book import Book
    from workstation.core.valuation import marks

    quote = portfolio.market.get(position.underlying)
    if quote is None:
        raise WorkstationError(f"no market price for {position.underlying!r}")
    probe = replace(position, quantity=1.0, entry_price=quote.price or 1.0, isolated_margin=None)
    return float(marks(Book.from_positions([("what-if", probe)], portfolio)).mark_price[0])


def debit(collateral: Mapping[str, float], legs: Iterable[CashLeg]) -> dict[str, float]:
    """The collateral after paying the legs (an asset not held yet becomes a negative balance)."""
    out = dict(collateral)
    for leg in legs:
        if leg.amount:
            out[leg.asset] = out.get(leg.asset, 0.0) - leg.amount
    return out


def collateral_changes(legs: Iterable[CashLeg]) -> dict[str, float]:
    """Asset -> change of the balance (negative: paid)."""
    out: dict[str, float] = {}
    for leg in legs:
        out[leg.asset] = out.get(leg.asset, 0.0) - leg.amount
    return out


def funding_carry(positions: Iterable[Position], market: Mapping[str, Quote], hours: float) -> float:
    """Funding received (positive) or paid (negative) over `hours` by the perpetuals, base currency."""
    total = 0.0
    for p in positions:
        if p.kind != "perpetual":
            continue
        quote = market.get(p.underlying)
        rate = quote.funding_rate if quote is not None else None
        if not rate:
            continue
        notional = p.quantity if p.settlement == "inverse" else p.quantity * quote.price
        total -= rate * notional * hours / FUNDING_PERIOD_HOURS
    return total
