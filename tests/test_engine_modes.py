"""Isolated mode, hedge suggestions, window details and invariants on synthetic books."""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_paths import EXAMPLES as _SHARED_EXAMPLES

from workstation.core import details
from workstation.core.portfolio_io import portfolio_from_dict, read_portfolio
from workstation.core.report import build_report
from workstation.core.whatif import suggest, whatif

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_margin import synthetic_book

EXAMPLES = _SHARED_EXAMPLES

FLAT = {"name": "flat", "tiers": {"*": [{"max_notional": 1e30, "initial_rate": 0.01,
                                          "maintenance_rate": 0.004, "maintenance_amount": 0.0}]},
        "haircuts": {"*": 0.0}, "stablecoins": ["USDT"]}


def _doc(mode: str, positions: list[dict], collateral: dict | None = None) -> dict:
    return {"format": "margin-workstation/portfolio@1", "as_of": "2026-11-25T08:00:00Z",
            "market": {"BTC": {"price": 50_000.0, "vol": 0.5}, "USDT": {"price": 1.0}},
            "accounts": [{"id": "a", "margin_mode": mode, "profile": "flat",
                          "collateral": collateral or {"USDT": 0.0}, "positions": positions}],
            "profiles": {"flat": FLAT}}


def test_isolated_liquidation_matches_binance_isolated_formula():
    # Long 1 BTC at 50,000 with 5,000 isolated margin, MMR 0.4 %, no maintenance amount:
    # 5,000 + (LP - 50,000) = 0.004 * LP  ->  LP = 45,000 / 0.996 = 45,180.7229 (down 9.6386 %)
    pos = {"id": "p", "kind": "perpetual", "underlying": "BTC", "settlement": "linear",
           "quantity": 1.0, "entry_price": 50_000.0, "isolated_margin": 5_000.0}
    r = build_report(portfolio_from_dict(_doc("isolated", [pos])), "account:a")
    liq = r["liquidation"]["BTC"]
    assert liq["down_price"] == pytest.approx(45_000 / 0.996, rel=1e-6)
    assert liq["up_pct"] is None
    # the isolated margin is collateral of the account: equity = 0 + 5,000 + uPnL 0
    assert r["equity"] == pytest.approx(5_000.0)
    assert r["maintenance_margin"] == pytest.approx(200.0)  # 50,000 * 0.4 %
    assert r["initial_margin"] == pytest.approx(500.0)  # 50,000 * 1 %


def test_suggest_delta_margin_and_liquidation():
    p = read_portfolio(EXAMPLES / "usdm-perps-cross.json")
    hedge = replace(p.account("binance-usdm").positions[0], id="h", quantity=0.0)  # BTC perp
    d = suggest(p, "binance-usdm", hedge, "delta")
    # the account is short 3.25 BTC on a linear perp (delta 1 per unit): buy 3.25
    assert d["suggestion"]["quantity"] == pytest.approx(3.25, rel=1e-12)
    assert d["after"]["greeks"]["BTC"]["delta"] == pytest.approx(0.0, abs=1e-9)
    # cross mode adds per-position requirements: a separate hedge position only adds margin
    assert suggest(p, "binance-usdm", hedge, "margin")["suggestion"]["quantity"] == 0.0
    # portfolio mode nets: the margin-minimising BTC perp is found and lowers IM
    book = read_portfolio(EXAMPLES / "deribit-options-book.json")
    perp = replace(book.account("deribit-btc").positions[-1], id="h", quantity=0.0)
    m = suggest(book, "deribit-btc", perp, "margin")
    q = m["suggestion"]["quantity"]
    assert q != 0.0
    assert m["after"]["initial_margin"] < m["before"]["initial_margin"]
    im = m["after"]["initial_margin"]
    for nudge in (0.9, 1.1):  # a local minimum in q
        nearby = whatif(book, "deribit-btc", [replace(perp, quantity=q * nudge)])["after"]["initial_margin"]
        assert nearby >= im * (1 - 1e-9)
    liq = suggest(p, "binance-usdm", hedge, "liquidation")
    assert liq["after"]["liquidation"]["BTC"]["up_pct"] is None or (
        liq["after"]["liquidation"]["BTC"]["up_pct"] > liq["before"]["liquidation"]["BTC"]["up_pct"])


def test_whatif_keeps_the_original_book():
    p = read_portfolio(EXAMPLES / "usdm-perps-cross.json")
    n = len(p.account("binance-usdm").positions)
    trade = replace(p.account("binance-usdm").positions[0], id="btcusdt", quantity=1.0)
    out = whatif(p, "binance-usdm", [trade])
    assert len(p.account("binance-usdm").positions) == n
    ids = [x["id"] for x in out["after"]["positions"]]
    assert len(set(ids)) == len(ids) == n + 1  # the clashing id was made unique


def test_details_curve_passes_through_the_liquidation_price():
    p = read_portfolio(EXAMPLES / "usdm-perps-cross.json")
    r = build_report(p, "account:binance-usdm")
    up = r["liquidation"]["BTC"]["up_pct"] / 100
    c = details.pnl_curve(p, "account:binance-usdm", "BTC", np.array([0.0, up]))
    assert c["pnl"][0] == 0.0
    assert c["equity"][0] == pytest.approx(r["equity"], rel=1e-12)
    assert c["maintenance_margin"][0] == pytest.approx(r["maintenance_margin"], rel=1e-12)
    assert c["equity"][1] == pytest.approx(c["maintenance_margin"][1], rel=1e-5)
    lines = {x["asset"]: x for x in details.collateral_lines(p, "account:binance-usdm")}
    assert lines["USDT"]["value"] == 185_000.0
    h = details.scenario_heatmap(p, "account:binance-usdm", "BTC")
    mid = h["spot_moves"].size // 2
    assert h["pnl"][:, mid] == pytest.approx(0.0, abs=1e-9)  # no move, no P&L at any vol
    # short 3.25 BTC perp: +10 % costs 3.25 * 9,125
    k = int(np.argmin(np.abs(h["spot_moves"] - 0.1)))
    assert h["pnl"][0, k] == pytest.approx(-3.25 * 91_250 * h["spot_moves"][k], rel=1e-12)


@pytest.mark.parametrize("mode", ["portfolio", "cross"])
def test_synthetic_book_invariants(mode):
    p = synthetic_book(300, mode)
    r = build_report(p, "account:book")
    comp = sum(x["component_margin"] for x in r["positions"]) + sum(r["collateral_components"].values())
    assert comp == pytest.approx(r["initial_margin"], rel=1e-9)
    assert r["offset"] == pytest.approx(r["standalone_initial_margin"] - r["initial_margin"], rel=1e-12)
    for u, liq in r["liquidation"].items():
        for side in ("down_pct", "up_pct"):
            x = liq[side]
            assert x is None or (-99.0 <= x <= 500.0), (u, side, x)


@settings(max_examples=25, deadline=None)
@given(q=st.floats(0.1, 20), k=st.floats(0.6, 1.4), rho=st.floats(-0.9, 0.99))
def test_correlated_euler_components_sum(q, k, rho):
    doc = {"format": "margin-workstation/portfolio@1", "as_of": "2026-11-25T08:00:00Z",
           "market": {"BTC": {"price": 90_000.0, "vol": 0.5}, "ETH": {"price": 3_000.0, "vol": 0.7},
                      "USDT": {"price": 1.0}},
           "accounts": [{"id": "a", "margin_mode": "portfolio", "profile": "corr",
                         "collateral": {"USDT": 1e6, "ETH": 5.0}, "positions": [
                             {"id": "c", "kind": "option", "underlying": "BTC", "right": "call",
                              "strike": 90_000 * k, "expiry": "2027-01-29T08:00:00Z",
                              "settlement": "inverse", "quantity": -q, "entry_price": 0.05},
                             {"id": "e", "kind": "perpetual", "underlying": "ETH", "settlement": "linear",
                              "quantity": 10 * q, "entry_price": 2_900.0}]}],
           "profiles": {"corr": {"portfolio": {"aggregation": "correlated",
                                               "correlation": {"BTC/ETH": rho}}}}}
    r = build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)
    comp = sum(x["component_margin"] for x in r["positions"]) + sum(r["collateral_components"].values())
    assert comp == pytest.approx(r["initial_margin"], rel=1e-9)
    # correlated aggregation never exceeds the plain sum of the same losses
    doc["profiles"]["corr"]["portfolio"]["aggregation"] = "sum"
    r_sum = build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)
    assert r["initial_margin"] <= r_sum["initial_margin"] * (1 + 1e-12)
    assert math.isfinite(r["initial_margin"])


def _book(mode: str, positions: list[dict], collateral: dict, *, rate: float = 0.0, profile: str = "default",
          pools: list | None = None) -> dict:
    return {"format": "margin-workstation/portfolio@1", "as_of": "2026-11-25T08:00:00Z", "rate": rate,
            "market": {"BTC": {"price": 60_000.0, "vol": 0.5}, "USD": {"price": 1.0}, "SOL": {"price": 140.0}},
            "accounts": [{"id": "a", "margin_mode": mode, "profile": profile, "collateral": collateral,
                          "positions": positions}], "pools": pools or []}


@pytest.mark.parametrize("profile", ["default", "deribit-pm", "binance-usdm", "okx-pm", "bybit-pm"])
def test_base_currency_cash_takes_no_haircut(profile):
    # 10,000 USD of cash in a USD-based book is worth 10,000 whatever the profile's "*" haircut
    r = build_report(portfolio_from_dict(_book("cross", [], {"USD": 10_000.0}, profile=profile)), "account:a")
    assert r["collateral_value"] == 10_000.0


def test_default_profile_takes_no_haircut_on_unlisted_coins():
    # method.md's example lists BTC and USDT only: 100 SOL at 140 count 14,000
    r = build_report(portfolio_from_dict(_book("cross", [], {"SOL": 100.0})), "account:a")
    assert r["collateral_value"] == 14_000.0


def test_rate_conventions_for_futures():
    # r = 10 %, one year (365 days from as_of): F = 60,000 e^0.1 = 66,310.25
    f = 60_000 * math.exp(0.1)
    fut = {"id": "f", "kind": "future", "underlying": "BTC", "settlement": "linear", "quantity": 0.83,
           "entry_price": 60_000.0, "expiry": "2027-11-25T08:00:00Z"}
    r = build_report(portfolio_from_dict(_book("cross", [fut], {"USD": 1e5}, rate=0.1)), "account:a")
    p = r["positions"][0]
    assert p["mark_price"] == pytest.approx(f, rel=1e-12)
    assert p["market_value"] == pytest.approx(0.83 * (f - 60_000), rel=1e-12)
    # tier notional is |q| * S = 49,800 (method: N = |q| S): tier 1 of default, IM 0.8 %
    assert r["initial_margin"] == pytest.approx(49_800 * 0.008, rel=1e-12)
    inv = {"id": "i", "kind": "future", "underlying": "BTC", "settlement": "inverse", "quantity": 60_000.0,
           "entry_price": 60_000.0, "expiry": "2027-11-25T08:00:00Z"}
    r = build_report(portfolio_from_dict(_book("cross", [inv], {"USD": 1e5}, rate=0.1)), "account:a")
    p = r["positions"][0]
    # coin P&L 60,000 (1/60,000 - 1/F) converted at the mark F: 60,000 (F/60,000 - 1) = F - 60,000
    assert p["market_value"] == pytest.approx(f - 60_000, rel=1e-12)
    assert p["delta"] == pytest.approx(math.exp(0.1), rel=1e-12)  # d/dS of q (S e^{rT}/entry - 1)


def test_trade_with_isolated_margin_in_a_cross_account_is_refused(tmp_path):
    import json
    import subprocess

    book = tmp_path / "book.json"
    book.write_text(json.dumps(_book("cross", [], {"USD": 10_000.0})))
    trade = tmp_path / "trade.json"
    trade.write_text(json.dumps([{"kind": "perpetual", "underlying": "BTC", "settlement": "linear",
                                  "quantity": -1, "entry_price": 60_000, "isolated_margin": 5_000}]))
    out = subprocess.run([sys.executable, "-m", "workstation", "whatif", str(book), "--account", "a",
                          "--trade", str(trade), "--json"], capture_output=True, text=True, check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert "isolated_margin" in out.stderr


def test_overflowing_book_is_refused_by_name(tmp_path):
    import json
    import subprocess

    pos = {"id": "p", "kind": "perpetual", "underlying": "BTC", "settlement": "linear", "quantity": 1e308,
           "entry_price": 60_000}
    book = tmp_path / "book.json"
    book.write_text(json.dumps(_book("cross", [pos], {"USD": 10_000.0})))
    out = subprocess.run([sys.executable, "-m", "workstation", "margin", str(book), "--json"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2 and out.stdout == ""
    # the reader holds quantities to +/-1e15 (core.limits), so the book never reaches the engine
    assert f"{book}:1: accounts[0].positions[0].quantity: expected a number between" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_pool_may_share_an_account_id():
    p = portfolio_from_dict(_book("cross", [], {"USD": 1.0}, pools=[{"id": "a", "accounts": ["a"]}]))
    assert build_report(p, "pool:a", with_liquidation=False)["scope"] == "pool:a"


def test_liquidation_suggestion_searches_past_the_delta_hedge():
    # 2 BTC collateral, short 5 inverse 65k calls, portfolio mode: the best inverse-perp hedge for
    # liquidation distance lies beyond twice the delta hedge; the search widens until it is inside
    doc = _book("portfolio", [{"id": "c", "kind": "option", "underlying": "BTC", "right": "call",
                               "strike": 65_000, "expiry": "2026-12-25T08:00:00Z", "settlement": "inverse",
                               "quantity": -5, "entry_price": 0.03}], {"BTC": 2.0})
    p = portfolio_from_dict(doc)
    from workstation.core.model import Position

    hedge = Position(id="h", kind="perpetual", underlying="BTC", quantity=0.0, entry_price=60_000.0,
                     settlement="inverse")
    res = suggest(p, "a", hedge, "liquidation")
    s = res["suggestion"]
    assert s["distance_after_pct"] >= s["distance_before_pct"]
    q = s["quantity"]
    for nudge in (0.8, 1.25):  # no better quantity nearby
        other = whatif(p, "a", [replace(hedge, quantity=q * nudge)])["after"]["liquidation"]["BTC"]
        dist = min(-(other["down_pct"] or -500.0), other["up_pct"] or 500.0)
        assert dist <= s["distance_after_pct"] + 1e-6


def test_snapshot_from_risk_equals_revalued_snapshot():
    from workstation.core.methods import method_for
    from workstation.core.report import make_scope

    m = method_for(make_scope(synthetic_book(200), "account:book"))
    shortcut = m.snapshot()  # built from the scenario results
    revalued = m._parts(np.zeros((1, m.n_assets)), None)  # every position revalued
    np.testing.assert_allclose(shortcut.equity, revalued.equity, rtol=1e-12, atol=1e-9)
    for key in ("loss", "cont"):
        np.testing.assert_allclose(shortcut.terms[key], revalued.terms[key], rtol=1e-12, atol=1e-9)


def test_stablecoin_underlyings_are_held_at_par_in_scenarios():
    # a long perpetual on USDC itself (quoted in USD) against USDC collateral:
    # the profile holds stablecoins at par, so neither side is shocked and no scenario loss arises
    doc = {"format": "margin-workstation/portfolio@1", "as_of": "2026-11-25T08:00:00Z",
           "market": {"USDC": {"price": 1.0}, "BTC": {"price": 60_000.0, "vol": 0.5}},
           "accounts": [{"id": "a", "margin_mode": "portfolio", "collateral": {"USDC": 5_000.0},
                         "positions": [{"id": "p", "kind": "perpetual", "underlying": "USDC",
                                        "settlement": "linear", "quantity": 1_000.0, "entry_price": 1.0}]}]}
    profile = {"portfolio": {"futures_contingency": 0.0, "short_option_contingency": 0.0}}
    doc["profiles"] = {"default": profile}
    r = build_report(portfolio_from_dict(doc), "account:a")
    assert r["initial_margin"] == 0.0
    assert "USDC" not in r["liquidation"]
