"""One-line trade entry in the venues' own names: `-3 BTC-PERPETUAL`, `+5 BTC-27DEC26-80000-P`,
`sell 2 ETH/USDT:USDT`, `buy 10 contracts BTC-PERPETUAL @ 91000`. No Qt here.

    [buy|sell|long|short] [+|-]SIZE [coin|BTC|usd|$|contracts] SYMBOL [@ PRICE]

The symbol is read by the store's symbol mapping (`workstation.store.symbols`: ccxt, Deribit,
Bybit, OKX, Binance forms; the account's venue settles Deribit-style names). The size is in the
unit written, else the panel's default unit; the price is per unit in the settlement currency
(coin for inverse options), else the engine's mark. Anything else is refused with the reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from workstation.core import limits
from workstation.core.cash import mark_price
from workstation.core.model import Portfolio, Position
from workstation.core.profiles import Profile
from workstation.core.units import UNITS, Sizing, size_trade
from workstation.store.symbols import Instrument, parse_symbol

_SIDES = {"buy": 1.0, "long": 1.0, "sell": -1.0, "short": -1.0}
_UNIT_WORDS = {"coin": "coin", "coins": "coin", "usd": "usd", "$": "usd", "dollars": "usd",
               "contract": "contracts", "contracts": "contracts", "ct": "contracts", "cts": "contracts",
               "lots": "contracts"}
_NUMBER = re.compile(r"^[+-]?(\d[\d,_]*\.?\d*|\.\d+)(e[+-]?\d+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Ticket:
    """A parsed trade line."""

    text: str
    amount: float  # signed, in `unit`
    unit: str
    symbol: str
    instrument: Instrument
    price: float | None  # None: at the mark


def _number(token: str) -> float | None:
    if not _NUMBER.match(token):
        return None
    return float(token.replace(",", "").replace("_", ""))


def parse_line(text: str, *, default_unit: str = "coin", venue: str | None = None) -> Ticket:
    """The ticket a line describes; ValueError saying what is wrong."""
    if default_unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    line = text.strip()
    if not line:
        raise ValueError("type a trade, e.g. -3 BTC-PERPETUAL or sell 2 ETH/USDT:USDT")
    tokens = line.replace("@", " @ ").split()
    side: float | None = None
    amount: float | None = None
    unit: str | None = None
    unit_word: str | None = None
    symbol: tuple[str, Instrument] | None = None
    price: float | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.lower()
        if low in ("@", "at"):
            if i + 1 >= len(tokens):
                raise ValueError("a price after @ (or leave it out to trade at the mark)")
            nxt = tokens[i + 1]
            if nxt.lower() != "mark":
                price = _number(nxt)
                if price is None or not math.isfinite(price) or price < 0:
                    raise ValueError(f"price {nxt!r} is not a price")
            i += 2
            continue
        if low in _SIDES and side is None and amount is None:
            side = _SIDES[low]
        elif amount is None and _number(tok) is not None:
            amount = _number(tok)
        elif low in _UNIT_WORDS and unit is None:
            unit = _UNIT_WORDS[low]
        elif symbol is None:
            try:
                symbol = (tok, parse_symbol(tok, venue))
            except ValueError as exc:
                if unit is None and amount is not None and tok.isalpha() and tok.isupper() and len(tok) <= 6:
                    unit, unit_word = "coin", tok  # "-3 BTC BTC-PERPETUAL": a coin amount
                else:
                    raise ValueError(f"{tok!r} is not a size, unit or symbol: {exc}") from None
        else:
            raise ValueError(f"{tok!r}: one size, one symbol and one price at most")
        i += 1
    if amount is None or not math.isfinite(amount):
        raise ValueError("a size is missing, e.g. -3 or sell 3")
    if symbol is None:
        raise ValueError("a symbol is missing, e.g. BTC-PERPETUAL, BTC-27DEC26-80000-P or ETH/USDT:USDT")
    if side is not None:
        if amount < 0:
            raise ValueError(f"{'buy' if side > 0 else 'sell'} takes a positive size (or drop the word)")
        amount *= side
    if amount == 0:
        raise ValueError("the size must not be zero")
    text_symbol, instrument = symbol
    if unit_word is not None and unit_word != instrument.underlying:
        raise ValueError(f"{unit_word} is not the coin of {text_symbol} ({instrument.underlying})")
    return Ticket(line, amount, unit or default_unit, text_symbol, instrument, price)


@dataclass(frozen=True)
class Sized:
    """A ticket (or a dialog's trade) as an engine position, with how its size was read."""

    position: Position
    sizing: Sizing
    at_mark: bool
    settle: str | None  # the settlement coin a linear symbol names (USDT in ETH/USDT:USDT)


def instrument_mark(portfolio: Portfolio, kind: str, underlying: str, expiry) -> float:
    """Base currency per coin for size conversions: the forward for futures, else the spot."""
    spot = portfolio.market[underlying].price
    if kind == "future" and expiry is not None:
        years = (expiry - portfolio.as_of).total_seconds() / (365 * 86400)
        return spot * math.exp(portfolio.rate * years)
    return spot


def size_position(portfolio: Portfolio, profile: Profile, base: Position, amount: float, unit: str,
                  price: float | None) -> tuple[Position, Sizing, bool]:
    """`base` (quantity ignored) sized `amount` `unit` on the profile's contracts, at `price` or at
    the engine's mark; ValueError when the size rounds to nothing."""
    spec = profile.trading.contract(base.underlying, base.kind, base.settlement)
    mark = instrument_mark(portfolio, base.kind, base.underlying, base.expiry)
    sizing = size_trade(amount, unit, base.kind, base.settlement, mark, spec)
    if sizing.quantity == 0:
        step = spec.step
        raise ValueError(f"the size is below half a lot ({step:g} {_unit_name(base, portfolio)})"
                         if step else "the size must not be zero")
    wrong = limits.magnitude(sizing.quantity)
    if wrong is not None:  # the ranges a portfolio file's positions are held to (README, "Bad input")
        raise ValueError(f"the size gives a quantity of {sizing.quantity:g}; expected {wrong}")
    pos = Position(base.id, base.kind, base.underlying, sizing.quantity, 0.0, base.settlement, base.expiry,
                   base.right, base.strike, base.vol, base.isolated_margin)
    at_mark = price is None
    entry = mark_price(portfolio, pos) if at_mark else float(price)  # type: ignore[arg-type]
    if pos.kind in ("perpetual", "future") and not entry > 0:
        raise ValueError("a perpetual or future needs a positive price")
    wrong = limits.price(entry) if pos.kind in ("perpetual", "future") else (
        limits.magnitude(entry) if entry >= 0 else "a price of at least 0")
    if wrong is not None:
        raise ValueError(f"price {entry:g}: expected {wrong}")
    from dataclasses import replace

    return replace(pos, entry_price=entry), sizing, at_mark


def _unit_name(pos: Position, portfolio: Portfolio) -> str:
    from workstation.core.units import quantity_unit

    return quantity_unit(pos.kind, pos.settlement, pos.underlying, portfolio.base_currency)


def ticket_position(ticket: Ticket, portfolio: Portfolio, profile: Profile, ident: str) -> Sized:
    """The engine position of a ticket; ValueError when the book cannot take it."""
    ins = ticket.instrument
    if ins.underlying not in portfolio.market:
        raise ValueError(f"{ticket.symbol}: no market price for {ins.underlying} in this book")
    if ins.expiry is not None and ins.expiry <= portfolio.as_of:
        raise ValueError(f"{ticket.symbol}: expired on {ins.expiry:%Y-%m-%d} (the book is as of "
                         f"{portfolio.as_of:%Y-%m-%d %H:%M} UTC)")
    if ins.strike is not None and (wrong := limits.price(ins.strike)) is not None:
        raise ValueError(f"{ticket.symbol}: strike {ins.strike:g}: expected {wrong}")
    if ins.strike is not None and (wrong := limits.price(ins.strike)) is not None:
        raise ValueError(f"{ticket.symbol}: strike {ins.strike:g}: expected {wrong}")
    if ins.kind == "option" and portfolio.market[ins.underlying].vol is None:
        raise ValueError(f"{ticket.symbol}: no implied vol for {ins.underlying} in the market; "
                         "use the Add dialog to give the option a vol")
    base = Position(ident, ins.kind, ins.underlying, 1.0, 0.0, ins.settlement if ins.kind != "spot" else "linear",
                    ins.expiry, ins.right, ins.strike)
    pos, sizing, at_mark = size_position(portfolio, profile, base, ticket.amount, ticket.unit, ticket.price)
    settle = ins.settle if ins.settlement == "linear" and ins.settle in portfolio.market else None
    return Sized(pos, sizing, at_mark, settle)
