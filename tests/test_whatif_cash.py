"""Cash legs of drafted trades (premium, fee), funding carry, units and the profile's [trading] table."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.core.cash import cash_leg, funding_carry, mark_price
from workstation.core.errors import ProfileError
from workstation.core.model import Position, Quote
from workstation.core.portfolio_io import read_portfolio
from workstation.core.profiles import load_profiles, shipped_profiles
from workstation.core.trading import ContractSpec
from workstation.core.units import round_to_lot, size_trade
from workstation.core.whatif import whatif

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"
BTC = 91_245.5  # the demo's BTC price
DEC25 = datetime(2026, 12, 25, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo():
    return read_portfolio(DEMO)


def put(q: float, entry: float = 0.0, settlement: str = "inverse") -> Position:
    return Position("t", "option", "BTC", q, entry, settlement, DEC25, "put", 91_000.0, 0.52)


def test_a_bought_option_at_its_own_mark_leaves_equity_unchanged_before_fees(demo) -> None:
    trade = put(5.89)
    trade = replace(trade, entry_price=mark_price(demo, trade))  # coin per unit (inverse)
    out = whatif(demo, "deribit-pm", [trade])
    b, a = out["before"], out["after"]
    assert a["equity"] == pytest.approx(b["equity"], rel=1e-12)
    # the premium, q * entry coins, left the BTC collateral (no haircut on BTC at deribit-pm)
    leg = out["cash"][0]
    assert leg["asset"] == "BTC" and leg["premium"] == pytest.approx(5.89 * trade.entry_price, rel=1e-15)
    assert a["collateral_value"] - b["collateral_value"] == pytest.approx(-leg["premium"] * BTC, rel=1e-9)
    # without the cash leg the same trade would have looked like a gain of the premium
    free = whatif(demo, "deribit-pm", [trade], cash=False)
    assert free["after"]["equity"] - b["equity"] == pytest.approx(leg["premium_base"], rel=1e-9)


def test_linear_option_and_spot_pay_in_the_profiles_settlement_coin(demo) -> None:
    call = Position("c", "option", "ETH", 2.0, 0.0, "linear", DEC25, "call", 3_200.0, 0.6)
    call = replace(call, entry_price=mark_price(demo, call))
    spot = Position("s", "spot", "ETH", 1.5, 3_018.4)
    out = whatif(demo, "bybit-uta", [call, spot])
    legs = {leg["trade"]: leg for leg in out["cash"]}
    assert legs["c"]["asset"] == legs["s"]["asset"] == "USDC"  # bybit-pm: trading.settle
    assert legs["s"]["premium"] == pytest.approx(1.5 * 3_018.4, rel=1e-15)
    # both at their marks, USDC at par without haircut: equity unchanged
    assert out["after"]["equity"] == pytest.approx(out["before"]["equity"], rel=1e-12)


def test_fees_follow_the_venue_schedule(demo) -> None:
    profiles = load_profiles()
    deribit = shipped_profiles()["deribit-pm"]
    acc = demo.account("deribit-pm")
    # option: 0.03 % of the underlying per contract (0.0003 BTC), capped at 12.5 % of the price
    cheap = put(10.0, entry=0.0001)
    assert cash_leg(cheap, demo, acc, deribit, "taker").fee == pytest.approx(10 * 0.125 * 0.0001, rel=1e-15)
    dear = put(10.0, entry=0.05)
    assert cash_leg(dear, demo, acc, deribit, "maker").fee == pytest.approx(10 * 0.0003, rel=1e-15)
    # inverse perpetual: 0.05 % of the USD amount in coin at the trade price; maker 0 %
    perp = Position("p", "perpetual", "BTC", -273_740.0, BTC, "inverse")
    assert cash_leg(perp, demo, acc, deribit, "taker").fee == pytest.approx(0.0005 * 273_740 / BTC, rel=1e-15)
    assert cash_leg(perp, demo, acc, deribit, "maker").fee == 0.0
    assert cash_leg(perp, demo, acc, deribit, None).fee == 0.0
    # linear perpetual at Binance: 0.05 % of q * price in USDT
    binance = profiles["binance-usdm"]
    lin = Position("l", "perpetual", "SOL", 100.0, 139.82, "linear")
    leg = cash_leg(lin, demo, demo.account("binance-usdm"), binance, "taker")
    assert leg.asset == "USDT" and leg.fee == pytest.approx(0.0005 * 100 * 139.82, rel=1e-15)
    # the fee lowers equity by its value, nothing else moves at the mark
    out = whatif(demo, "binance-usdm", [lin], liquidity="taker")
    assert out["after"]["equity"] - out["before"]["equity"] == pytest.approx(-leg.fee, rel=1e-9)


def test_funding_carry_per_day() -> None:
    market = {"BTC": Quote(100_000.0, 0.5, funding_rate=0.0001), "ETH": Quote(3_000.0, 0.6, funding_rate=-0.0002)}
    long_lin = Position("a", "perpetual", "BTC", 2.0, 99_000.0, "linear")
    short_inv = Position("b", "perpetual", "ETH", -30_000.0, 3_000.0, "inverse")
    fut = Position("c", "future", "BTC", 1.0, 100_000.0, "linear", DEC25)
    # long 2 BTC at 100,000, 0.01 % per 8 h, 3 periods a day: pays 2 * 100,000 * 0.0001 * 3 = 60
    assert funding_carry([long_lin], market, 24) == pytest.approx(-60.0, rel=1e-15)
    # short 30,000 USD inverse, -0.02 %: shorts pay when negative: 30,000 * 0.0002 * 3 = 18
    assert funding_carry([short_inv], market, 24) == pytest.approx(-18.0, rel=1e-15)
    assert funding_carry([fut], market, 24) == 0.0  # futures carry no funding
    assert funding_carry([long_lin, short_inv], market, 8) == pytest.approx(-26.0, rel=1e-15)


def test_three_btc_of_deribit_perpetual_is_in_usd_contracts() -> None:
    spec = shipped_profiles()["deribit-pm"].trading.contract("BTC", "perpetual", "inverse")
    assert (spec.size, spec.lot) == (10.0, 1.0)
    s = size_trade(-3.0, "coin", "perpetual", "inverse", BTC, spec)
    # 3 x 91,245.5 = 273,736.5 USD = 27,373.65 contracts of 10 USD -> 27,374 contracts
    assert s.quantity == -273_740.0 and s.contracts == -27_374.0
    assert s.coins == pytest.approx(-273_740 / BTC, rel=1e-15) and s.rounded
    assert size_trade(-27_374, "contracts", "perpetual", "inverse", BTC, spec).quantity == -273_740.0
    assert size_trade(-273_740, "usd", "perpetual", "inverse", BTC, spec).coins == pytest.approx(s.coins)
    option = shipped_profiles()["deribit-pm"].trading.contract("BTC", "option", "inverse")
    assert size_trade(5.89, "coin", "option", "inverse", BTC, option).quantity == 5.9  # 0.1 BTC lots
    assert size_trade(0.04, "coin", "option", "inverse", BTC, option).quantity == 0.0  # below half a lot


@settings(max_examples=60, deadline=None)
@given(q=st.floats(-1e7, 1e7, allow_nan=False), size=st.sampled_from([0.001, 0.01, 0.1, 1.0, 10.0, 100.0]),
       lot=st.sampled_from([0.01, 0.1, 1.0]))
def test_rounding_to_lots(q: float, size: float, lot: float) -> None:
    spec = ContractSpec(size, lot, listed=True)
    r = round_to_lot(q, spec)
    step = size * lot
    assert abs(r - q) <= 0.5 * step * (1 + 1e-9) + 1e-9 * abs(q)
    n = r / step
    assert math.isclose(n, round(n), rel_tol=1e-9, abs_tol=1e-9)
    assert r == 0.0 or math.copysign(1.0, r) == math.copysign(1.0, q)


def test_trading_table_is_checked() -> None:
    with pytest.raises(ProfileError, match=r"trading\.taker_fee"):
        load_profiles({"x": {"trading": {"taker_fee": 0.5}}})
    with pytest.raises(ProfileError, match=r"trading\.contracts\.BTC\.swap"):
        load_profiles({"x": {"trading": {"contracts": {"BTC": {"swap": [1, 1]}}}}})
    with pytest.raises(ProfileError, match=r"trading\.contracts\.BTC\.option"):
        load_profiles({"x": {"trading": {"contracts": {"BTC": {"option": [1, 0]}}}}})
    with pytest.raises(ProfileError, match=r"trading\.colour"):
        load_profiles({"x": {"trading": {"colour": "red"}}})
    p = load_profiles({"x": {"trading": {"taker_fee": 0.001, "contracts": {"*": {"future-linear": [0.1, 1]}}}}})["x"]
    assert p.trading.fee_rate("future", "taker") == 0.001 and p.trading.fee_rate("option", "taker") == 0.0
    assert p.trading.contract("SOL", "future", "linear").size == 0.1
    assert not p.trading.contract("SOL", "future", "inverse").listed
