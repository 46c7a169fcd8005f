"""Venue symbols -> instruments (kind, underlying, settlement, expiry, right, strike).

Understood forms (expiries are at 08:00 UTC, the venues' common settlement time):

- ccxt: `BTC/USDT` spot; `BTC/USDT:USDT` perpetual (`BTC/USD:BTC`: inverse, settled in the
  base coin); `BTC/USDT:USDT-261225` future (YYMMDD); `BTC/USD:BTC-261225-100000-C` option.
- Deribit: `BTC-PERPETUAL`, `BTC-27MAR26`, `BTC-27MAR26-100000-C` are inverse;
  `BTC_USDC-PERPETUAL`, `XRP_USDC-27MAR26-0d625-C` linear (`d` is the decimal point).
- Bybit: `BTC-PERP`, `BTC-27MAR26-100000-C-USDT`, and Deribit forms with venue `bybit`: linear.
- OKX: `BTC-USDT-SWAP`, `BTC-USD-SWAP`, `BTC-USD-261225`, `BTC-USD-261225-100000-C`
  (USD-quoted: inverse).
- Binance / Bybit: `BTCUSDT`, `BTCUSD_PERP`, `BTCUSD_261225`, `BTCUSD` (perpetual or future;
  USD-quoted: inverse).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from workstation.core.errors import shown

EXPIRY_HOUR_UTC = 8
_MONTHS = {m: i + 1 for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
)}
_STABLE_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI")

_CCXT = re.compile(
    r"^(?P<base>[^/:\s]+)/(?P<quote>[^/:\s]+)"
    r"(?::(?P<settle>[^-\s]+)(?:-(?P<date>\d{6})(?:-(?P<strike>[0-9.]+)-(?P<cp>[CP]))?)?)?$"
)
_DERIBIT = re.compile(
    r"^(?P<base>[A-Z0-9]+)(?:_(?P<quote>[A-Z]+))?-"
    r"(?:(?P<perp>PERPETUAL|PERP)|(?P<date>\d{1,2}[A-Z]{3}\d{2})"
    r"(?:-(?P<strike>[0-9]+(?:[.d][0-9]+)?)-(?P<cp>[CP]))?)(?:-(?P<suffix>USDT|USDC))?$"
)
_OKX = re.compile(
    r"^(?P<base>[A-Z0-9]+)-(?P<quote>[A-Z]+)"
    r"(?:-(?P<swap>SWAP)|-(?P<date>\d{6})(?:-(?P<strike>[0-9.]+)-(?P<cp>[CP]))?)?$"
)
_CONCAT = re.compile(
    r"^(?P<base>[A-Z0-9]+?)(?P<quote>USDT|USDC|BUSD|FDUSD|USD)(?:_PERP|_(?P<date>\d{6}))?$"
)


@dataclass(frozen=True)
class Instrument:
    kind: str
    underlying: str
    settlement: str
    expiry: datetime | None = None
    right: str | None = None
    strike: float | None = None
    settle: str | None = None  # currency the venue settles / margins it in


def _yymmdd(text: str) -> datetime:
    return datetime(
        2000 + int(text[:2]), int(text[2:4]), int(text[4:6]), EXPIRY_HOUR_UTC, tzinfo=UTC
    )


def _dmmmyy(text: str) -> datetime:
    day, month, year = text[:-5], text[-5:-2], text[-2:]
    if month not in _MONTHS:
        raise ValueError(f"unknown month {shown(month)}")
    return datetime(2000 + int(year), _MONTHS[month], int(day), EXPIRY_HOUR_UTC, tzinfo=UTC)


def _instrument(
    base: str,
    settle: str,
    date: datetime | None,
    strike: str | None = None,
    cp: str | None = None,
) -> Instrument:
    settlement = "inverse" if settle == base else "linear"
    if strike is not None and cp is not None:
        assert date is not None
        return Instrument(
            "option", base, settlement, date, "call" if cp == "C" else "put",
            float(strike.replace("d", ".")), settle,
        )
    if date is not None:
        return Instrument("future", base, settlement, date, settle=settle)
    return Instrument("perpetual", base, settlement, settle=settle)


def parse_symbol(symbol: str, venue: str | None = None) -> Instrument:
    """The instrument a venue or ccxt symbol names; ValueError if the form is not understood.

    `venue` settles the one ambiguity: Deribit-style names are inverse on Deribit, but
    USDC-settled (linear) on Bybit.
    """
    text = symbol.strip()
    try:
        return _parse(text, (venue or "").strip().lower())
    except ValueError as err:
        raise ValueError(f"cannot read symbol {shown(symbol)}: {err}") from None


def _parse(text: str, venue: str) -> Instrument:
    m = _CCXT.match(text)
    if m:
        base, quote, settle = m["base"], m["quote"], m["settle"]
        if settle is None:
            return Instrument("spot", base, "linear", settle=quote)
        if settle not in (base, quote):
            raise ValueError(f"settled in {settle}, neither its base nor its quote currency")
        date = _yymmdd(m["date"]) if m["date"] else None
        return _instrument(base, settle, date, m["strike"], m["cp"])
    m = _DERIBIT.match(text)
    if m:
        settle = m["quote"] or m["suffix"]
        if settle is None and (venue == "bybit" or m["perp"] == "PERP"):
            settle = "USDC"
        date = _dmmmyy(m["date"]) if m["date"] else None
        return _instrument(m["base"], settle or m["base"], date, m["strike"], m["cp"])
    m = _OKX.match(text)
    if m:
        base, quote = m["base"], m["quote"]
        if m["swap"] is None and m["date"] is None:
            return Instrument("spot", base, "linear", settle=quote)
        date = _yymmdd(m["date"]) if m["date"] else None
        return _instrument(base, base if quote == "USD" else quote, date, m["strike"], m["cp"])
    m = _CONCAT.match(text)
    if m:
        base, quote = m["base"], m["quote"]
        date = _yymmdd(m["date"]) if m["date"] else None
        return _instrument(base, base if quote == "USD" else quote, date)
    raise ValueError("not a ccxt, Deribit, Bybit, OKX or Binance symbol")

