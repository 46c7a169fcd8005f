"""Decisions on inputs the spec leaves open, each pinned by a test (see README, "Bad input")."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from workstation.core.errors import PortfolioError
from workstation.core.portfolio_io import loads_portfolio, portfolio_from_dict
from workstation.core.portfolio_write import dumps_portfolio
from workstation.core.report import build_report

BASE = {
    "format": "margin-workstation/portfolio@1", "as_of": "2026-11-25T08:00:00Z",
    "market": {"BTC": {"price": 60_000.0, "vol": 0.5}, "ETH": {"price": 3_000.0}, "USDT": {"price": 1.0}},
    "accounts": [{"id": "a", "margin_mode": "cross", "collateral": {"USDT": 10_000.0}, "positions": [
        {"id": "p", "kind": "perpetual", "underlying": "BTC", "settlement": "linear", "quantity": 0.1,
         "entry_price": 59_000.0},
        {"id": "o", "kind": "option", "underlying": "BTC", "right": "call", "strike": 65_000,
         "expiry": "2026-12-25T08:00:00Z", "settlement": "inverse", "quantity": -1, "entry_price": 0.02},
    ]}],
}


def _refused(mutate, path: str) -> None:
    doc = copy.deepcopy(BASE)
    mutate(doc)
    with pytest.raises(PortfolioError) as err:
        portfolio_from_dict(doc)
    assert err.value.path == path
    assert path in str(err.value)


def test_zero_market_price_is_refused():
    # a zero price makes inverse P&L and option pricing undefined: refused, not valued at 0
    _refused(lambda d: d["market"]["ETH"].update(price=0.0), "market.ETH.price")


def test_zero_entry_price_of_a_perpetual_is_refused_but_a_free_option_is_read():
    _refused(lambda d: d["accounts"][0]["positions"][0].update(entry_price=0), "accounts[0].positions[0].entry_price")
    doc = copy.deepcopy(BASE)
    doc["accounts"][0]["positions"][1]["entry_price"] = 0.0  # a premium of 0 (e.g. a gifted option)
    assert portfolio_from_dict(doc).accounts[0].positions[1].entry_price == 0.0


def test_option_without_any_vol_is_refused_at_its_vol():
    # ETH has no market vol: an ETH option must carry its own
    _refused(lambda d: d["accounts"][0]["positions"].append(
        {"id": "e", "kind": "option", "underlying": "ETH", "right": "put", "strike": 2_800,
         "expiry": "2026-12-25T08:00:00Z", "settlement": "linear", "quantity": 1, "entry_price": 50}),
        "accounts[0].positions[2].vol")


def test_option_past_expiry_needs_expired_and_settlement_price():
    _refused(lambda d: d["accounts"][0]["positions"][1].update(expiry="2026-11-01T08:00:00Z"),
             "accounts[0].positions[1].expiry")
    _refused(lambda d: d["accounts"][0]["positions"][1].update(expiry="2026-11-01T08:00:00Z", expired=True),
             "accounts[0].positions[1].settlement_price")
    _refused(lambda d: d["accounts"][0]["positions"][1].update(expired=True, settlement_price=61_000),
             "accounts[0].positions[1].expired")  # not expired yet at as_of


def test_future_past_expiry_is_refused():
    _refused(lambda d: d["accounts"][0]["positions"].append(
        {"id": "f", "kind": "future", "underlying": "BTC", "settlement": "linear", "quantity": 1,
         "entry_price": 60_000, "expiry": "2026-11-24T08:00:00Z"}), "accounts[0].positions[2].expiry")


def test_unknown_asset_anywhere_is_refused():
    _refused(lambda d: d["accounts"][0]["positions"][0].update(underlying="DOGE"),
             "accounts[0].positions[0].underlying")
    _refused(lambda d: d["accounts"][0]["collateral"].update(DOGE=5.0), "accounts[0].collateral.DOGE")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals_are_read_then_refused_by_path(literal):
    text = json.dumps(BASE).replace('"quantity": 0.1', f'"quantity": {literal}')
    with pytest.raises(PortfolioError) as err:
        loads_portfolio(text, source="book.json")
    assert err.value.path == "accounts[0].positions[0].quantity"
    assert str(err.value).startswith("book.json:1: accounts[0].positions[0].quantity")


def test_a_pool_cannot_be_isolated():
    _refused(lambda d: d.update(pools=[{"id": "p", "accounts": ["a"], "margin_mode": "isolated"}]),
             "pools[0].margin_mode")


def test_unknown_profile_is_refused_by_path():
    _refused(lambda d: d["accounts"][0].update(profile="nope"), "accounts[0].profile")


def test_bad_file_profile_names_the_profile_and_key():
    _refused(lambda d: d.update(profiles={"mine": {"portfolio": {"price_steps": 4}}}),
             "profiles.mine.portfolio.price_steps")


def test_zero_quantity_position_is_valued_at_zero():
    doc = copy.deepcopy(BASE)
    doc["accounts"][0]["positions"][1]["quantity"] = 0
    r = build_report(portfolio_from_dict(doc), "account:a")
    o = r["positions"][1]
    assert o["market_value"] == 0.0 and o["component_margin"] == 0.0 and o["delta"] == 0.0
    assert 0 < o["mark_price"] < 1  # still marked, in coin


def test_round_trip_is_lossless_and_json_is_strict():
    p = portfolio_from_dict(copy.deepcopy(BASE))
    text = dumps_portfolio(p)
    assert loads_portfolio(text) == p
    assert "NaN" not in text and "Infinity" not in text


def test_trade_file_errors_name_the_file_and_path(tmp_path):
    book = tmp_path / "book.json"
    book.write_text(json.dumps(BASE))
    trade = tmp_path / "trade.json"
    trade.write_text(json.dumps([{"kind": "perpetual", "underlying": "BTC", "settlement": "linear",
                                  "quantity": "ten", "entry_price": 60_000}]))
    out = subprocess.run([sys.executable, "-m", "workstation", "whatif", str(book), "--account", "a",
                          "--trade", str(trade)], capture_output=True, text=True, check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert f"{trade}:1: [0].quantity: expected a number" in out.stderr


def test_record_without_a_database_is_refused(tmp_path):
    book = tmp_path / "book.json"
    book.write_text(json.dumps(BASE))
    out = subprocess.run([sys.executable, "-m", "workstation", "margin", str(book), "--record"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert "--record needs --db" in out.stderr
