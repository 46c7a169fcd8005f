"""The portfolio-format additions of shared/spec/derive-pmrm2.md ("Portfolio file") under every
method: per-expiry forwards and rates, confidences, moves_with, peg_price, perpetual marks.
Read, written back losslessly, refused by JSON path when wrong, and priced on everywhere
(valuation, Greeks, scenarios, liquidation) by the generic method too."""

from __future__ import annotations

import copy
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from shared_paths import EXAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pmrm2_helpers import YEAR, b76, iso, option, perp

from workstation.core.book import Book
from workstation.core.errors import PortfolioError
from workstation.core.methods import method_for
from workstation.core.portfolio_io import loads_portfolio, portfolio_from_dict
from workstation.core.portfolio_write import dumps_portfolio, portfolio_to_dict
from workstation.core.report import build_report, make_scope
from workstation.core.valuation import greeks, values

DAY = 86400.0
T20 = 20 * DAY
TAU20 = T20 / YEAR


def generic_doc(positions, *, market=None, collateral=None, portfolio_keys=None) -> dict:
    prof = {"stablecoins": ["USDC"], "haircuts": {"USDC": 0.0}}
    if portfolio_keys:
        prof["portfolio"] = portfolio_keys
    return {"format": "margin-workstation/portfolio@1", "as_of": iso(0), "base_currency": "USDC", "rate": 0.03,
            "market": market or {"ETH": {"price": 2000.0, "vol": 0.6, "forwards": [
                {"expiry": iso(T20), "forward": 2050.0, "rate": 0.08, "confidence": 0.7}]},
                "USDC": {"price": 1.0}},
            "accounts": [{"id": "a", "margin_mode": "portfolio", "profile": "g",
                          "collateral": collateral or {"USDC": 50_000.0}, "positions": positions}],
            "profiles": {"g": prof}}


# ------------------------------------------------------------------------------ read / write
@pytest.mark.parametrize("path", sorted((EXAMPLES / "derive-pmrm2").glob("test_*.json"))[:12], ids=lambda p: p.stem)
def test_examples_round_trip(path: Path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    again = json.loads(dumps_portfolio(loads_portfolio(path.read_text(encoding="utf-8"))))
    for key in ("market", "accounts"):
        assert again[key] == doc[key]


def test_optional_fields_round_trip_and_stay_absent():
    doc = generic_doc([perp("f", 1.0, 1990.0, mark=2001.5, conf=0.8), perp("g", -1.0, 1990.0)])
    doc["market"]["ETH"]["forwards"].append({"expiry": iso(40 * DAY), "forward": 2070.0})
    doc["market"]["ETH"]["confidence"] = 0.95
    doc["market"]["USDC"]["peg_price"] = 0.999
    doc["market"]["LRT"] = {"price": 2100.0, "moves_with": "ETH"}
    out = portfolio_to_dict(portfolio_from_dict(doc))
    assert out["market"] == doc["market"]
    assert out["accounts"][0]["positions"] == doc["accounts"][0]["positions"]
    plain = portfolio_to_dict(portfolio_from_dict(generic_doc([])))
    assert "confidence" not in plain["market"]["USDC"] and "peg_price" not in plain["market"]["USDC"]


def _bad(doc: dict, path: str) -> None:
    with pytest.raises(PortfolioError) as err:
        portfolio_from_dict(doc)
    assert err.value.path == path, str(err.value)


@pytest.mark.parametrize(("edit", "path"), [
    (lambda d: d["market"]["ETH"].update(confidence=1.5), "market.ETH.confidence"),
    (lambda d: d["market"]["ETH"].update(confidence=True), "market.ETH.confidence"),
    (lambda d: d["market"]["USDC"].update(peg_price=0.0), "market.USDC.peg_price"),
    (lambda d: d["market"]["ETH"].update(forwards={}), "market.ETH.forwards"),
    (lambda d: d["market"]["ETH"]["forwards"].append(dict(d["market"]["ETH"]["forwards"][0])),
     "market.ETH.forwards[1].expiry"),
    (lambda d: d["market"]["ETH"]["forwards"][0].update(forward=-1.0), "market.ETH.forwards[0].forward"),
    (lambda d: d["market"]["ETH"]["forwards"][0].update(confidence=-0.1), "market.ETH.forwards[0].confidence"),
    (lambda d: d["market"]["ETH"]["forwards"][0].update(rate="x"), "market.ETH.forwards[0].rate"),
    (lambda d: d["market"]["ETH"]["forwards"][0].update(expiry="soon"), "market.ETH.forwards[0].expiry"),
    (lambda d: d["market"]["ETH"]["forwards"][0].update(spot=1.0), "market.ETH.forwards[0].spot"),
    (lambda d: d["market"]["ETH"]["forwards"][0].pop("forward"), "market.ETH.forwards[0].forward"),
    (lambda d: d["market"].update(LRT={"price": 1.0, "moves_with": "XYZ"}), "market.LRT.moves_with"),
    (lambda d: d["market"].update(LRT={"price": 1.0, "moves_with": "LRT"}), "market.LRT.moves_with"),
    (lambda d: d["market"].update(LRT={"price": 1.0, "moves_with": "ETH"}, L2={"price": 1.0, "moves_with": "LRT"}),
     "market.L2.moves_with"),
])
def test_bad_market_fields_are_refused_by_path(edit, path):
    doc = generic_doc([])
    edit(doc)
    _bad(doc, path)


def test_bad_position_fields_are_refused_by_path():
    doc = generic_doc([option("o", "call", 2000.0, T20, 1.0, 0.6) | {"mark_price": 10.0}])
    _bad(doc, "accounts[0].positions[0].mark_price")
    doc = generic_doc([perp("f", 1.0, 2000.0, mark=2000.0, conf=1.2)])
    _bad(doc, "accounts[0].positions[0].mark_confidence")
    doc = generic_doc([perp("f", 1.0, 2000.0, mark=0.0)])
    _bad(doc, "accounts[0].positions[0].mark_price")
    doc = generic_doc([perp("f", 1.0, 2000.0, und="LRT")])
    doc["market"]["LRT"] = {"price": 2100.0, "moves_with": "ETH"}
    _bad(doc, "accounts[0].positions[0].underlying")


def test_option_expiring_at_as_of_is_live_and_before_is_refused():
    doc = generic_doc([option("o", "call", 1900.0, 0.0, 1.0, 0.6)])
    pf = portfolio_from_dict(doc)
    rep = build_report(pf, "account:a", with_liquidation=False)
    assert rep["positions"][0]["market_value"] == pytest.approx(100.0, rel=1e-15)  # intrinsic at S (no entry)
    _bad(generic_doc([option("o", "call", 1900.0, -1.0, 1.0, 0.6)]), "accounts[0].positions[0].expiry")


# ------------------------------------------------------------------------------ valuation
def test_options_futures_and_perpetuals_price_on_forwards_and_marks():
    fut = {"id": "fu", "kind": "future", "underlying": "ETH", "expiry": iso(T20), "settlement": "linear",
           "quantity": 2.0, "entry_price": 2000.0}
    fut40 = fut | {"id": "fu40", "expiry": iso(40 * DAY)}
    positions = [option("c", "call", 2100.0, T20, 3.0, 0.6), option("c40", "call", 2100.0, 40 * DAY, 1.0, 0.6),
                 fut, fut40, perp("pe", -1.5, 1950.0, mark=2010.0)]
    rep = build_report(portfolio_from_dict(generic_doc(positions)), "account:a", with_liquidation=False)
    pos = {p["id"]: p for p in rep["positions"]}
    # on the entry: F 2050, r 8 %
    assert pos["c"]["market_value"] == pytest.approx(3 * b76(2050.0, 2100.0, TAU20, 0.6, 0.08, True), rel=1e-12)
    # no entry for 40 days: F = S exp(0.03 T), the file rate
    tau40 = 40 * DAY / YEAR
    assert pos["c40"]["market_value"] == pytest.approx(
        b76(2000.0 * math.exp(0.03 * tau40), 2100.0, tau40, 0.6, 0.03, True), rel=1e-12)
    assert pos["fu"]["market_value"] == pytest.approx(2 * (2050.0 - 2000.0), rel=1e-12)
    assert pos["fu"]["mark_price"] == pytest.approx(2050.0, rel=1e-15)
    assert pos["fu40"]["market_value"] == pytest.approx(2 * (2000.0 * math.exp(0.03 * tau40) - 2000.0), rel=1e-12)
    assert pos["pe"]["market_value"] == pytest.approx(-1.5 * (2010.0 - 1950.0), rel=1e-12)
    assert pos["pe"]["mark_price"] == pytest.approx(2010.0, rel=1e-15)


def test_greeks_on_a_forward_entry_match_differences():
    # F moves with S (F = S g, g = 2050/2000); theta holds S with the forward's carry b = ln(g)/T
    doc = generic_doc([option("c", "call", 2100.0, T20, 2.0, 0.6), option("p", "put", 1900.0, T20, -1.0, 0.5)])
    book = make_scope(portfolio_from_dict(doc), "account:a").book
    g = greeks(book)
    h = 0.01
    up, dn, mid = (values(book, book.spot * 0 + s) for s in (2000.0 + h, 2000.0 - h, 2000.0))
    np.testing.assert_allclose(g.delta, (up - dn) / (2 * h), rtol=1e-6)
    np.testing.assert_allclose(g.gamma, (up - 2 * mid + dn) / h**2, rtol=1e-4)
    b = math.log(2050.0 / 2000.0) / TAU20

    def v(T: float, K: float, vol: float, call: bool) -> float:
        return b76(2000.0 * math.exp(b * T), K, T, vol, 0.08, call)

    dt = 1e-6
    theta_c = -2 * (v(TAU20 + dt, 2100.0, 0.6, True) - v(TAU20 - dt, 2100.0, 0.6, True)) / (2 * dt) / 365
    theta_p = 1 * (v(TAU20 + dt, 1900.0, 0.5, False) - v(TAU20 - dt, 1900.0, 0.5, False)) / (2 * dt) / 365
    np.testing.assert_allclose(g.theta, [theta_c, theta_p], rtol=1e-5)


def test_generic_scenarios_and_liquidation_move_the_forward():
    # generic risk array, one row (-0.1, none): long call on F 2050: L = V(F) - V(0.9 F)
    keys = {"scenarios": [[-0.1, "none", 1.0]], "short_option_contingency": 0.0, "futures_contingency": 0.0,
            "mm_factor": 1.0, "im_factor": 1.0}
    doc = generic_doc([option("c", "call", 2100.0, T20, 1.0, 0.6)], portfolio_keys=keys)
    rep = build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)
    V = b76(2050.0, 2100.0, TAU20, 0.6, 0.08, True)
    assert rep["maintenance_margin"] == pytest.approx(V - b76(0.9 * 2050.0, 2100.0, TAU20, 0.6, 0.08, True), rel=1e-10)
    # at a moved state (+20 %) the option is worth V(1.2 F)
    m = method_for(make_scope(portfolio_from_dict(doc), "account:a"))
    P = m.parts(np.array([[0.2, 0.0]]))
    assert P.equity[0, 0] == pytest.approx(b76(1.2 * 2050.0, 2100.0, TAU20, 0.6, 0.08, True), rel=1e-10)


def test_moves_with_collateral_moves_in_the_generic_method():
    # 2 LRT moving with ETH (price 2100) in the generic risk array: in ETH's row -0.1 it loses
    # 0.1 * 4200 = 420, like 2.1 ETH would; without moves_with (LRT in stablecoins) nothing
    keys = {"scenarios": [[-0.1, "none", 1.0]], "short_option_contingency": 0.0, "futures_contingency": 0.0,
            "mm_factor": 1.0, "im_factor": 1.0}
    market = {"ETH": {"price": 2000.0}, "LRT": {"price": 2100.0, "moves_with": "ETH"}, "USDC": {"price": 1.0}}
    doc = generic_doc([perp("f", 0.0, 2000.0)], market=market, collateral={"LRT": 2.0}, portfolio_keys=keys)
    rep = build_report(portfolio_from_dict(doc), "account:a")
    assert rep["maintenance_margin"] == pytest.approx(420.0, rel=1e-12)
    assert rep["collateral_components"]["LRT"] == pytest.approx(420.0, rel=1e-12)
    assert "LRT" not in rep["liquidation"]
    # the book's driver column: LRT follows ETH
    book = Book.from_positions([], portfolio_from_dict(copy.deepcopy(doc)))
    assert book.assets[book.driver[book.assets.index("LRT")]] == "ETH"


def test_stress_scenarios_move_forwards_marks_and_assets_moving_with():
    from workstation.core.stress import Scenario, apply_scenario

    path = EXAMPLES / "derive-pmrm2" / "test_61_general_general_test_1.json"
    pf = loads_portfolio(path.read_text(encoding="utf-8"))
    # no shock: the same portfolio, every new field kept, the same figures
    same = apply_scenario(pf, Scenario("none"))
    assert dumps_portfolio(same) == dumps_portfolio(pf)
    # ETH -20 %: its forwards, the perpetual's mark and the assets moving with ETH (not named)
    # move by -20 %; BTC (named nowhere, not moving with ETH, in stablecoins) stays
    shocked = apply_scenario(pf, Scenario("eth", shocks={"ETH": -0.2}))
    assert shocked.market["ETH"].forwards[0].forward == pytest.approx(0.8 * pf.market["ETH"].forwards[0].forward)
    assert shocked.market["RSWETH"].price == pytest.approx(0.8 * pf.market["RSWETH"].price)
    assert shocked.market["BTC"].price == pf.market["BTC"].price
    assert shocked.account("derive").positions[0].mark_price == pytest.approx(0.8 * 4000.0)
    assert shocked.market["USDC"].peg_price == pf.market["USDC"].peg_price
    # which is the PMRM_2 method's own moved state: equity and MM agree with its parts at -20 %
    m = method_for(make_scope(pf, "account:derive"))
    X = np.zeros((1, m.n_assets))
    X[0, list(pf.market).index("ETH")] = -0.2
    eq, mm = m.eq_mm_all(m.parts(X))
    rep = build_report(shocked, "account:derive", with_liquidation=False)
    assert rep["equity"] == pytest.approx(float(eq[0]), rel=1e-9)
    assert rep["maintenance_margin"] == pytest.approx(float(mm[0]), rel=1e-9)
