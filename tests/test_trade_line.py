"""The What-if's one-line trade entry (`workstation/ui/trade_line.py`, no Qt): the README's
examples on the demo book, and lines the book cannot take refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from workstation.core.portfolio_io import read_portfolio
from workstation.core.profiles import get_profile, load_profiles
from workstation.ui.trade_line import parse_line, ticket_position

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"


@pytest.fixture(scope="module")
def demo():
    return read_portfolio(DEMO)


def _sized(demo, account: str, line: str):
    acc = demo.account(account)
    profile = get_profile(acc.profile, load_profiles(demo.profiles or None, as_of=demo.as_of))
    return ticket_position(parse_line(line, venue=acc.venue), demo, profile, "t")


def test_the_readmes_lines_on_the_demo_book(demo) -> None:
    spot = demo.market["BTC"].price  # 91,245.5
    # 3 BTC of Deribit's inverse perpetual: 273,736.5 USD -> 27,374 contracts of 10 USD
    s = _sized(demo, "deribit-pm", "-3 BTC-PERPETUAL")
    assert (s.position.kind, s.position.settlement) == ("perpetual", "inverse")
    assert s.position.quantity == -273_740.0 and s.sizing.contracts == -27_374.0
    assert s.sizing.coins == pytest.approx(-273_740.0 / spot, rel=1e-12) and s.at_mark
    # a Deribit option name: inverse put, expiry 08:00 UTC, 5 coins
    s = _sized(demo, "deribit-pm", "+5 BTC-25DEC26-80000-P")
    p = s.position
    assert (p.kind, p.right, p.strike, p.settlement, p.quantity) == ("option", "put", 80_000.0, "inverse", 5.0)
    assert p.expiry == datetime(2026, 12, 25, 8, tzinfo=UTC) and p.entry_price > 0
    # a ccxt linear symbol on Binance: 2 ETH short at the mark
    s = _sized(demo, "binance-usdm", "sell 2 ETH/USDT:USDT")
    assert (s.position.settlement, s.position.quantity, s.position.entry_price) == ("linear", -2.0, 3018.4)
    # contracts and a price: 10 contracts of 10 USD = 100 USD at 91,000
    s = _sized(demo, "deribit-pm", "buy 10 contracts BTC-PERPETUAL @ 91000")
    assert (s.position.quantity, s.position.entry_price, s.at_mark) == (100.0, 91_000.0, False)


@pytest.mark.parametrize(("line", "reason"), [
    ("sell -3 BTC-PERPETUAL", "positive size"),
    ("-3 BTC-20NOV26", "expired on 2026-11-20"),
    ("+2 DOGE/USDT:USDT", "no market price for DOGE"),
    ("-3 BTC-PERPETUAL @ 0", "needs a positive price"),
    # numbers beyond what a portfolio file may hold (README "Bad input, decided") made the
    # after-figures overflow to inf / NaN: -1e20 BTC is 9e24 USD of contracts; an inverse entry of
    # 1e-300 gives q (mark / entry - 1) = -inf; a strike of 0 has no Black-76 price
    ("-1e20 BTC-PERPETUAL", "expected a number between -1e+15 and 1e+15"),
    ("-3 BTC-PERPETUAL @ 1e-300", "price 1e-300: expected a positive number between 1e-12"),
    ("+5 BTC-25DEC26-80000-P @ 1e300", "price 1e+300: expected a number between"),
    ("+5 BTC-25DEC26-0-P", "strike 0: expected a positive number"),
])
def test_lines_the_book_cannot_take_say_why(demo, line: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("+", r"\+")):
        _sized(demo, "deribit-pm", line)


def test_before_after_rows_give_the_liquidation_price_and_move(demo) -> None:
    # Binance account of the demo: BTC up +36.0 % liquidates it before; shorting 1 more BTC
    # brings that nearer. The rows carry the engine's prices beside the moves, before and after,
    # and the price is spot x (1 + move).
    from workstation.core.whatif import whatif
    from workstation.ui.whatif_rows import liquidation_rows

    trade = _sized(demo, "binance-usdm", "sell 1 BTC/USDT:USDT").position
    res = whatif(demo, "binance-usdm", [trade])
    rows = {r["key"]: r for r in liquidation_rows(res["before"], res["after"])}
    up = rows["liq_up:BTC"]
    before, after = res["before"]["liquidation"]["BTC"], res["after"]["liquidation"]["BTC"]
    assert up["before"] == pytest.approx(36.046, abs=1e-3) and 0 < up["after"] < up["before"]
    assert (up["before"], up["after"]) == (before["up_pct"], after["up_pct"])
    spot = demo.market["BTC"].price
    for pct, price in ((up["before"], up["before_price"]), (up["after"], up["after_price"])):
        assert price == pytest.approx(spot * (1 + pct / 100), rel=1e-12)
    assert rows["liq_down:BTC"]["before_price"] is None  # no liquidation down: no price
