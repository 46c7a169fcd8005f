"""Store: venue / ccxt symbols -> instruments, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workstation.store.symbols import Instrument, parse_symbol


def _t(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 8, tzinfo=UTC)


CASES = [
    # symbol, venue, kind, underlying, settlement, expiry, right, strike, settle
    ("BTC/USDT:USDT", None, "perpetual", "BTC", "linear", None, None, None, "USDT"),
    ("BTC/USD:BTC", None, "perpetual", "BTC", "inverse", None, None, None, "BTC"),
    ("ETH/USDC:USDC", None, "perpetual", "ETH", "linear", None, None, None, "USDC"),
    ("1000PEPE/USDT:USDT", None, "perpetual", "1000PEPE", "linear", None, None, None, "USDT"),
    ("BTC/USDT", None, "spot", "BTC", "linear", None, None, None, "USDT"),
    ("BTC/USDT:USDT-261225", None, "future", "BTC", "linear", _t(2026, 12, 25), None, None,
     "USDT"),
    ("BTC/USD:BTC-270326", None, "future", "BTC", "inverse", _t(2027, 3, 26), None, None, "BTC"),
    ("BTC/USD:BTC-261225-100000-C", None, "option", "BTC", "inverse", _t(2026, 12, 25), "call",
     100000.0, "BTC"),
    ("ETH/USDC:USDC-261225-3000.5-P", None, "option", "ETH", "linear", _t(2026, 12, 25), "put",
     3000.5, "USDC"),
    ("BTC-27MAR26-100000-C", None, "option", "BTC", "inverse", _t(2026, 3, 27), "call",
     100000.0, "BTC"),
    ("BTC-5DEC25-90000-P", "deribit", "option", "BTC", "inverse", _t(2025, 12, 5), "put",
     90000.0, "BTC"),
    ("BTC-PERPETUAL", None, "perpetual", "BTC", "inverse", None, None, None, "BTC"),
    ("BTC-27MAR26", None, "future", "BTC", "inverse", _t(2026, 3, 27), None, None, "BTC"),
    ("BTC_USDC-PERPETUAL", None, "perpetual", "BTC", "linear", None, None, None, "USDC"),
    ("XRP_USDC-27MAR26-0d625-C", None, "option", "XRP", "linear", _t(2026, 3, 27), "call",
     0.625, "USDC"),
    ("BTC-27MAR26-100000-C", "Bybit", "option", "BTC", "linear", _t(2026, 3, 27), "call",
     100000.0, "USDC"),
    ("ETH-29JAN27-3500-C-USDT", None, "option", "ETH", "linear", _t(2027, 1, 29), "call",
     3500.0, "USDT"),
    ("BTC-PERP", None, "perpetual", "BTC", "linear", None, None, None, "USDC"),
    ("BTC-USDT-SWAP", None, "perpetual", "BTC", "linear", None, None, None, "USDT"),
    ("BTC-USD-SWAP", None, "perpetual", "BTC", "inverse", None, None, None, "BTC"),
    ("BTC-USD-261225", None, "future", "BTC", "inverse", _t(2026, 12, 25), None, None, "BTC"),
    ("BTC-USD-261225-100000-P", None, "option", "BTC", "inverse", _t(2026, 12, 25), "put",
     100000.0, "BTC"),
    ("BTCUSDT", None, "perpetual", "BTC", "linear", None, None, None, "USDT"),
    ("BTCUSD_PERP", None, "perpetual", "BTC", "inverse", None, None, None, "BTC"),
    ("BTCUSD_261225", None, "future", "BTC", "inverse", _t(2026, 12, 25), None, None, "BTC"),
    ("BTCUSD", None, "perpetual", "BTC", "inverse", None, None, None, "BTC"),
    ("ETHUSDT_261225", None, "future", "ETH", "linear", _t(2026, 12, 25), None, None, "USDT"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}|{c[1]}" for c in CASES])
def test_symbol(case: tuple) -> None:
    symbol, venue, kind, underlying, settlement, expiry, right, strike, settle = case
    assert parse_symbol(symbol, venue) == Instrument(
        kind, underlying, settlement, expiry, right, strike, settle
    )


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        ("BTC/USDT:ETH", "neither its base nor its quote"),
        ("FOO", "not a ccxt"),
        ("BTC-27XYZ26", "unknown month"),
        ("BTC-32MAR26", "day is out of range"),
        ("BTC-27ABC26-100-C", "unknown month"),
        ("BTC/USDT:USDT-261399", "month"),
        ("", "not a ccxt"),
    ],
)
def test_bad_symbol(symbol: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        parse_symbol(symbol)
    assert repr(symbol) in str(err.value)
