"""PMRM_2 beyond the requirement: components add up to IM (Euler, hypothesis), marginal and
standalone margins equal the brute-force recomputation, the liquidation distance is where
equity = MM recomputed at the moved state, what-if and suggestions work, and with none of the
PMRM_2 keys the method is the generic risk array."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pmrm2_helpers import iso, option, perp

from workstation.core.methods import method_for
from workstation.core.model import Position
from workstation.core.portfolio_io import portfolio_from_dict
from workstation.core.report import build_report, make_scope
from workstation.core.whatif import suggest, whatif

PROPS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = 86400.0
EXPIRIES = (3 * DAY, 20 * DAY, 30 * DAY, 75 * DAY, 200 * DAY)


def _market(fwd_flags: list[bool]) -> dict[str, Any]:
    forwards = [{"expiry": iso(t), "forward": 2000.0 * (1.0 + 0.01 * k), "rate": 0.02 * k, "confidence": 0.5 + 0.1 * k}
                for k, (t, on) in enumerate(zip(EXPIRIES, fwd_flags, strict=False)) if on]
    return {"ETH": {"price": 2000.0, "confidence": 0.9, "forwards": forwards},
            "BTC": {"price": 60_000.0, "forwards": [{"expiry": iso(EXPIRIES[1]), "forward": 60_500.0, "rate": 0.03}]},
            "LRT": {"price": 2100.0, "confidence": 0.5, "moves_with": "ETH"},
            "SDAI": {"price": 1.1, "confidence": 0.4},
            "USDC": {"price": 1.0, "peg_price": 0.97}}


def _doc(positions: list[dict], collateral: dict[str, float], *, fwd_flags: list[bool], im_loss: bool,
         correlated: bool, shipped: bool = True) -> dict[str, Any]:
    port: dict[str, Any] = {"aggregation": "correlated" if correlated else "sum",
                            "correlation": {"BTC/ETH": 0.6}}
    if not im_loss:
        port["im_factor"] = 1.25
    prof: dict[str, Any] = {"stablecoins": ["USDC", "SDAI"], "haircuts": {"USDC": 0.0, "LRT": 0.05, "SDAI": 0.1},
                            "im_haircuts": {"LRT": 0.02, "SDAI": 0.03}, "portfolio": port}
    doc = {"format": "margin-workstation/portfolio@1", "as_of": iso(0), "base_currency": "USDC", "rate": 0.01,
           "market": _market(fwd_flags),
           "accounts": [{"id": "a", "margin_mode": "portfolio", "profile": "derive-pmrm2",
                         "collateral": collateral, "positions": positions}],
           "profiles": {"derive-pmrm2": prof}}
    if not im_loss:
        # a profile without im_loss_factor: IM = im_factor * MM (built on the shipped one
        # minus that key is not expressible by overlay, so a new profile on `default`)
        body = copy.deepcopy(prof)
        body["method"] = "pmrm2"
        body["portfolio"] |= {"scenarios": [[0.1, "up", 1.0], [0.0, "none", 1.0], [-0.1, "down", 1.0],
                                            [-0.3, "up", 0.2], [0.0, "skew_abs", 1.0]],
                              "skew_shock": {"linear_scale_cap": 0.15, "linear_cbase": -0.05, "abs_scale_cap": 0.15,
                                             "abs_cbase": -0.05, "min_k_star": 0.01, "min_width_scale": 4.0,
                                             "vol_param_static": 0.6, "vol_param_scale": -0.1},
                              "static_discount": {"base": 0.95, "base_neg": 1.04, "long_rate_mult": 1.0,
                                                  "long_rate_add": 0.08, "short_rate_mult": 0.5,
                                                  "short_rate_add": 0.08},
                              "perp_contingency": 0.01, "short_option_contingency": 0.003}
        del body["im_haircuts"]
        doc["profiles"] = {"pm-mm": body}
        doc["accounts"][0]["profile"] = "pm-mm"
    return doc


@st.composite
def books(draw):
    n_opt = draw(st.integers(1, 7))
    positions = []
    for k in range(n_opt):
        und = draw(st.sampled_from(["ETH", "ETH", "BTC"]))
        s = 2000.0 if und == "ETH" else 60_000.0
        t = EXPIRIES[1] if und == "BTC" else draw(st.sampled_from(EXPIRIES))
        strike = round(s * draw(st.floats(0.7, 1.3)), 0)
        positions.append(option(f"o{k}", draw(st.sampled_from(["call", "put"])), strike, t,
                                draw(st.sampled_from([-3.0, -1.0, -0.5, 1.0, 2.0])), draw(st.floats(0.3, 1.2)), und))
    if draw(st.booleans()):
        positions.append(perp("pe", draw(st.sampled_from([-2.0, 1.5])), 1990.0, mark=2005.0, conf=0.4))
    if draw(st.booleans()):
        positions.append(perp("pb", -0.1, 59_000.0, und="BTC"))
    collateral = {"USDC": draw(st.sampled_from([-20_000.0, 5_000.0, 50_000.0]))}
    if draw(st.booleans()):
        collateral["LRT"] = draw(st.sampled_from([0.5, 3.0]))
    if draw(st.booleans()):
        collateral["SDAI"] = 1000.0
    flags = [draw(st.booleans()) for _ in EXPIRIES]
    return positions, collateral, flags


def _report(doc: dict) -> dict:
    return build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)


def _im(doc: dict) -> float:
    return method_for(make_scope(portfolio_from_dict(doc), "account:a")).requirement()[0]


@PROPS
@given(books(), st.booleans(), st.booleans())
def test_components_add_up_to_im(book, im_loss: bool, correlated: bool):
    positions, collateral, flags = book
    rep = _report(_doc(positions, collateral, fwd_flags=flags, im_loss=im_loss, correlated=correlated))
    total = sum(p["component_margin"] for p in rep["positions"]) + sum(rep["collateral_components"].values())
    assert total == pytest.approx(rep["initial_margin"], rel=1e-9, abs=1e-7)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.booleans(), st.booleans())
def test_marginal_and_standalone_equal_recomputation(book, im_loss: bool, correlated: bool):
    positions, collateral, flags = book
    doc = _doc(positions, collateral, fwd_flags=flags, im_loss=im_loss, correlated=correlated)
    rep = _report(doc)
    for i, p in enumerate(rep["positions"]):
        without = copy.deepcopy(doc)
        del without["accounts"][0]["positions"][i]
        assert p["marginal_margin"] == pytest.approx(rep["initial_margin"] - _im(without), rel=1e-9, abs=1e-6)
        alone = copy.deepcopy(doc)
        alone["accounts"][0]["positions"] = [positions[i]]
        alone["accounts"][0]["collateral"] = {}
        expected = _im(alone)
        if positions[i]["quantity"] > 0 and positions[i]["kind"] == "option":
            expected = min(expected, max(p["market_value"], 0.0))
        assert p["standalone_margin"] == pytest.approx(expected, rel=1e-9, abs=1e-6)


def _moved(doc: dict, und: str, x: float) -> dict:
    """The portfolio with `und`, its forwards, its perpetuals' marks and the assets moving with
    it all moved by x (the method's moved state)."""
    out = copy.deepcopy(doc)
    for asset, q in out["market"].items():
        if asset == und or q.get("moves_with") == und:
            q["price"] *= 1.0 + x
            for f in q.get("forwards", []):
                f["forward"] *= 1.0 + x
    for p in out["accounts"][0]["positions"]:
        if p["underlying"] == und and "mark_price" in p:
            p["mark_price"] *= 1.0 + x
    return out


def _f(doc: dict) -> float:
    m = method_for(make_scope(portfolio_from_dict(doc), "account:a"))
    return m.equity() - m.requirement()[1]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_liquidation_is_where_equity_meets_mm_at_the_moved_state(book):
    positions, collateral, flags = book
    doc = _doc(positions, collateral, fwd_flags=flags, im_loss=True, correlated=False)
    rep = build_report(portfolio_from_dict(doc), "account:a")
    scale = 1.0 + sum(abs(p["market_value"]) for p in rep["positions"]) + rep["maintenance_margin"]
    for und, liq in rep["liquidation"].items():
        if und == "all":
            continue
        for side in ("down", "up"):
            pct = liq[f"{side}_pct"]
            if pct is None or pct == 0.0:
                continue
            x = pct / 100.0
            assert _f(_moved(doc, und, x)) <= 1e-6 * scale
            assert _f(_moved(doc, und, x * (1 - 1e-4))) > -1e-6 * scale


def test_liquidation_of_a_short_put_book_is_found():
    doc = _doc([option("p", "put", 1900.0, EXPIRIES[2], -10.0, 0.7)], {"USDC": 12_000.0}, fwd_flags=[True] * 5,
               im_loss=True, correlated=False)
    rep = build_report(portfolio_from_dict(doc), "account:a")
    down = rep["liquidation"]["ETH"]["down_pct"]
    assert down is not None and -60 < down < 0
    x = down / 100.0
    assert abs(_f(_moved(doc, "ETH", x))) < 1e-3
    assert _f(_moved(doc, "ETH", x * 0.99)) > 0 > _f(_moved(doc, "ETH", x * 1.01))


def test_whatif_and_suggestions_under_pmrm2():
    doc = _doc([option("c", "call", 2200.0, EXPIRIES[1], -5.0, 0.6),
                option("p", "put", 1800.0, EXPIRIES[3], -5.0, 0.6)], {"USDC": 20_000.0},
               fwd_flags=[True] * 5, im_loss=True, correlated=False)
    pf = portfolio_from_dict(doc)
    hedge = Position(id="h", kind="perpetual", underlying="ETH", quantity=1.0, entry_price=2000.0,
                     settlement="linear")
    res = whatif(pf, "a", [hedge])
    with_trade = copy.deepcopy(doc)
    with_trade["accounts"][0]["positions"].append({"id": "h", "kind": "perpetual", "underlying": "ETH",
                                                   "settlement": "linear", "quantity": 1.0, "entry_price": 2000.0})
    direct = build_report(portfolio_from_dict(with_trade), "account:a")
    assert res["after"]["initial_margin"] == pytest.approx(direct["initial_margin"], rel=1e-12)
    assert res["delta"]["initial_margin"] == pytest.approx(direct["initial_margin"] - res["before"]["initial_margin"])
    best = suggest(pf, "a", hedge, "margin")
    assert best["suggestion"]["initial_margin_after"] <= best["suggestion"]["initial_margin_before"] + 1e-9
    assert best["after"]["initial_margin"] == pytest.approx(best["suggestion"]["initial_margin_after"], rel=1e-9)
    liq = suggest(pf, "a", hedge, "liquidation")
    assert liq["suggestion"]["distance_after_pct"] >= liq["suggestion"]["distance_before_pct"] - 1e-9


def test_scenario_vectors_shape():
    doc = _doc([option("c", "call", 2200.0, EXPIRIES[1], -5.0, 0.6), perp("pe", 1.0, 1990.0, mark=2005.0)],
               {"USDC": 20_000.0, "LRT": 1.0}, fwd_flags=[True] * 5, im_loss=True, correlated=False)
    rep = _report(doc)
    vec = rep["scenarios"]["ETH"]
    assert set(vec) == {"numeraire", "entries", "worst", "addons"}
    assert vec["numeraire"] == "USDC" and len(vec["entries"]) == 31
    pnl = [e["pnl"] for e in vec["entries"]]
    assert vec["worst"] == pnl.index(min(pnl))
    assert {e["vol"] for e in vec["entries"]} == {"up", "none", "down", "skew_linear", "skew_abs"}
    assert set(vec["addons"]) == {"basis_contingency", "contingency_mm", "contingency_im"}
    # MM = 0.8 max(worst loss, basis) + MM contingencies
    loss = max(-min(pnl), vec["addons"]["basis_contingency"], 0.0)
    assert rep["maintenance_margin"] == pytest.approx(0.8 * loss + vec["addons"]["contingency_mm"], rel=1e-12)


@PROPS
@given(books())
def test_without_pmrm2_keys_it_is_the_generic_risk_array(book):
    positions, collateral, flags = book
    # no option exactly at 30 days (PMRM_2's boundary is inclusive, the generic method's not)
    positions = [p for p in positions if p.get("expiry") != iso(30 * DAY)]
    if not positions:
        return
    doc = _doc(positions, collateral, fwd_flags=flags, im_loss=True, correlated=False)
    doc["profiles"] = {"g": {"stablecoins": ["USDC", "SDAI"], "haircuts": {"USDC": 0.0, "LRT": 0.05, "SDAI": 0.1}}}
    doc["accounts"][0]["profile"] = "g"
    generic = _report(doc)
    doc["profiles"]["g"]["method"] = "pmrm2"
    pm = _report(doc)
    for key in ("equity", "initial_margin", "maintenance_margin"):
        assert pm[key] == pytest.approx(generic[key], rel=1e-11, abs=1e-9)
    for a, b in zip(pm["positions"], generic["positions"], strict=True):
        assert a["component_margin"] == pytest.approx(b["component_margin"], rel=1e-9, abs=1e-7)
        assert a["standalone_margin"] == pytest.approx(b["standalone_margin"], rel=1e-9, abs=1e-7)


def test_position_vectors_and_collateral_rows_add_up_to_the_scenario_vectors():
    # `--scenarios`: each position's own rows; with the collateral's rows they give each entry
    import numpy as np
    from shared_paths import EXAMPLES

    from workstation.core.portfolio_io import read_portfolio

    path = sorted((EXAMPLES / "derive-pmrm2").glob("test_61_*.json"))[0]
    p = read_portfolio(path)
    rep = build_report(p, "account:derive", position_vectors=True)
    m = method_for(make_scope(p, "account:derive"))
    coll = np.zeros(m.rows.n)
    coll[m.rows.reg] = m.risk().coll.sum(-1)
    for doc in rep["scenarios"].values():
        per = np.array(list(doc["by_position"].values())).sum(0)
        entries = np.array([e["pnl"] for e in doc["entries"]])
        np.testing.assert_allclose(per + coll, entries, rtol=1e-12, atol=1e-9 * np.abs(entries).max())
