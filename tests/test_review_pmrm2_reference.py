"""Review: the engine's PMRM_2 against an independent reimplementation of the spec
(`review_pmrm2_reference.py`, plain math, validated on the 69 published Derive cases), on
random portfolios: several expiries (one at tau = 0, one inside the fixing window, one at
exactly 30 days), forwards with rates and confidences, perpetuals with marks, collateral with
haircuts and `moves_with`, skew and basis keys on and off, dampening above 1. Also the
invariants the spec asks for: components add up to IM."""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from review_pmrm2_reference import reference
from shared_paths import SHARED

from workstation.core.portfolio_io import portfolio_from_dict
from workstation.core.report import build_report

AS_OF = datetime(2021, 8, 26, 17, 46, 40, tzinfo=UTC)
DERIVE = SHARED / "examples" / "derive-pmrm2"


def iso(seconds: float) -> str:
    return (AS_OF + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


# expiries in seconds after as_of: at expiry, inside the fixing window, at its edge, 3 days,
# exactly 30 days (PMRM_2's inclusive boundary), just past it, 90 and 400 days
EXPIRIES = [0, 600, 1800, 3 * 86400, 30 * 86400, 30 * 86400 + 1, 90 * 86400, 400 * 86400]
REGULAR = [[m, d, 1.0] for m in (0.0, 0.045, -0.045, 0.09, -0.09, 0.135, -0.135) for d in ("up", "none", "down")] \
    + [[0.18, "up", 1.0], [-0.18, "up", 1.0]]
TAILS = [[-0.66, "up", 0.036 / 0.66], [-0.33, "up", 0.036 / 0.33], [0.5, "up", 0.072], [1.0, "up", 0.036],
         [2.0, "up", 0.018], [3.0, "up", 0.012]]

finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def books(draw):
    S = draw(st.floats(500.0, 5000.0, **finite))
    n_exp = draw(st.integers(1, 4))
    secs = draw(st.lists(st.sampled_from(EXPIRIES), min_size=n_exp, max_size=n_exp, unique=True))
    forwards = []
    fwd_of = {}
    for s in secs:
        if draw(st.booleans()):
            F = S * math.exp(draw(st.floats(-0.05, 0.1, **finite)))
            e = {"expiry": iso(s), "forward": F, "rate": draw(st.floats(0.0, 0.3, **finite))}
            if draw(st.booleans()):
                e["confidence"] = draw(st.floats(0.3, 1.0, **finite))
            forwards.append(e)
            fwd_of[s] = F
    file_rate = draw(st.sampled_from([0.0, 0.03]))
    positions = []
    for i in range(draw(st.integers(1, 8))):
        s = draw(st.sampled_from(secs))
        F = fwd_of.get(s, S * math.exp(file_rate * s / (365 * 86400.0)))
        K = round(F * math.exp(draw(st.floats(-0.5, 0.5, **finite))), 0)
        q = draw(st.sampled_from([-1.0, 1.0])) * draw(st.floats(0.01, 10.0, **finite))
        positions.append({"id": f"o{i}", "kind": "option", "underlying": "ETH",
                          "right": draw(st.sampled_from(["call", "put"])), "strike": K, "expiry": iso(s),
                          "settlement": "linear", "quantity": q, "entry_price": 0.0,
                          "vol": draw(st.floats(0.2, 2.0, **finite))})
    if draw(st.booleans()):  # a strike group with a call and a put netting
        o = dict(positions[0])
        o["id"], o["right"], o["quantity"] = "o-net", "put" if o["right"] == "call" else "call", -o["quantity"] / 2
        positions.append(o)
    if draw(st.booleans()):
        p = {"id": "perp", "kind": "perpetual", "underlying": "ETH", "settlement": "linear",
             "quantity": draw(st.floats(-20.0, 20.0, **finite)), "entry_price": S * 1.01}
        if draw(st.booleans()):
            p["mark_price"] = S * (1.0 + draw(st.floats(-0.01, 0.01, **finite)))
        if draw(st.booleans()):
            p["mark_confidence"] = draw(st.floats(0.3, 1.0, **finite))
        positions.append(p)
    market = {"ETH": {"price": S, "forwards": forwards},
              "USDC": {"price": 1.0, "peg_price": draw(st.floats(0.9, 1.01, **finite))},
              "LRT": {"price": S * 1.02, "moves_with": "ETH", "confidence": draw(st.floats(0.3, 1.0, **finite))},
              "DAI": {"price": 0.9998, "confidence": draw(st.floats(0.3, 1.0, **finite))}}
    if draw(st.booleans()):
        market["ETH"]["confidence"] = draw(st.floats(0.3, 1.0, **finite))
    if draw(st.booleans()):  # a second underlying: losses add up across underlyings
        B = draw(st.floats(20_000.0, 90_000.0, **finite))
        market["BTC"] = {"price": B, "vol": draw(st.floats(0.3, 1.5, **finite))}
        positions.append({"id": "btc-perp", "kind": "perpetual", "underlying": "BTC", "settlement": "linear",
                          "quantity": draw(st.floats(-2.0, 2.0, **finite)), "entry_price": B,
                          "mark_price": B * 1.001})
        positions.append({"id": "btc-c", "kind": "option", "underlying": "BTC", "right": "call",
                          "strike": round(B * 1.1), "expiry": iso(draw(st.sampled_from(EXPIRIES))),
                          "settlement": "linear", "quantity": draw(st.floats(-3.0, 3.0, **finite)),
                          "entry_price": 0.0})
    collateral = {"USDC": draw(st.floats(0.0, 200_000.0, **finite)),
                  "LRT": draw(st.floats(0.0, 30.0, **finite)),
                  "DAI": draw(st.floats(0.0, 5000.0, **finite)),
                  "ETH": draw(st.floats(-5.0, 10.0, **finite))}
    rows = [list(r) for r in REGULAR]
    if draw(st.booleans()):
        rows += [list(r) for r in TAILS]
    if draw(st.booleans()):  # dampening above 1 on a few rows
        for j in draw(st.lists(st.integers(0, len(rows) - 1), max_size=3)):
            rows[j][2] = draw(st.floats(1.0, 5.0, **finite))
    keys = {"scenarios": rows, "vol_shock_up": 0.5, "vol_shock_down": 0.275, "power_short": 0.3,
            "power_long": 0.13, "dte_floor": draw(st.sampled_from([0.0, 1.0])),
            "short_option_contingency": draw(st.sampled_from([0.0, 0.003])), "futures_contingency": 0.0,
            "mm_factor": draw(st.sampled_from([0.8, 1.0])), "im_factor": draw(st.sampled_from([1.0, 1.3])),
            "aggregation": "sum", "collateral_in_scenarios": True,
            "haircut_in_scenarios": draw(st.booleans())}
    if draw(st.booleans()):
        keys["vol_floor"] = 0.45
    if draw(st.booleans()):
        keys["static_discount"] = {"base": 0.95, "base_neg": 1.04, "long_rate_mult": 1.0, "long_rate_add": 0.08,
                                   "short_rate_mult": 0.5, "short_rate_add": 0.08}
    if draw(st.booleans()):
        keys["skew_shock"] = {"linear_scale_cap": 0.15, "linear_cbase": -0.05, "abs_scale_cap": 0.15,
                              "abs_cbase": -0.05, "min_k_star": draw(st.sampled_from([0.0, 0.01])),
                              "min_width_scale": 4.0, "vol_param_static": 0.6, "vol_param_scale": -0.1}
        keys["scenarios"] = [*rows, [0.0, "skew_linear", 1.0], [0.0, "skew_abs", draw(st.floats(0.5, 2.0))]]
    if draw(st.booleans()):
        keys["basis_contingency"] = {"spot_up": 0.045, "spot_down": -0.045, "add_factor": 0.5, "mult_factor": 2.0}
    if draw(st.booleans()):
        keys["forward_fixing_window"] = 1800
    if draw(st.booleans()):
        keys["perp_contingency"] = 0.015
    top = {}
    if draw(st.booleans()):
        keys |= {"im_loss_factor": draw(st.sampled_from([1.0, 1.2])), "perp_contingency_im": 0.005,
                 "short_option_contingency_im": 0.002,
                 "confidence_contingency": {"threshold": 0.55, "margin": 1.0},
                 "peg_loss": {"threshold": 0.98, "factor": 2.0}}
        top["im_haircuts"] = {"USDC": 0.0, "LRT": 0.015, "DAI": 0.02, "ETH": 0.05}
    prof = {"method": "pmrm2", "stablecoins": ["USDC", "DAI"],
            "haircuts": {"USDC": 0.0, "LRT": 0.03, "DAI": 0.08, "ETH": draw(st.sampled_from([0.0, 0.1]))},
            "portfolio": keys} | top
    return {"format": "margin-workstation/portfolio@1", "as_of": iso(0), "base_currency": "USDC",
            "rate": file_rate, "market": market,
            "accounts": [{"id": "a", "margin_mode": "portfolio", "profile": "p", "collateral": collateral,
                          "positions": positions}],
            "profiles": {"p": prof}}


def _scale(doc) -> float:
    """Gross size of the book in money (for an absolute tolerance next to the relative one)."""
    S = doc["market"]["ETH"]["price"]
    acc = doc["accounts"][0]
    gross = sum(abs(p["quantity"]) * S for p in acc["positions"])
    gross += sum(abs(a) * doc["market"][k]["price"] for k, a in acc["collateral"].items())
    return gross


def close(got: float, want: float, scale: float) -> bool:
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-10 * scale)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_engine_matches_independent_pmrm2(doc):
    want = reference(json.loads(json.dumps(doc)))
    rep = build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)
    scale = _scale(doc)
    for key in ("equity", "maintenance_margin", "initial_margin"):
        assert close(rep[key], want[key], scale), (key, rep[key], want[key])
    total = sum(p["component_margin"] for p in rep["positions"]) + sum(rep["collateral_components"].values())
    assert math.isclose(total, rep["initial_margin"], rel_tol=1e-9, abs_tol=1e-9 * scale)


def test_reference_reproduces_the_published_half():
    """The reference itself is right: it gives Derive's figures on every published case."""
    exp = json.loads((DERIVE / "expected.json").read_text())["cases"]
    assert len(exp) == 69
    for name, e in exp.items():
        r = reference(json.loads((DERIVE / f"{name}.json").read_text()))
        for got, x in ((r["equity"] - r["maintenance_margin"], e["mm"]), (r["equity"] - r["initial_margin"], e["im"])):
            assert abs(got - x) <= 1e-6 * max(abs(x), 1), name


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])


# ------------------------------------------------------------------------------ liquidation
def moved(doc: dict, x: float) -> dict:
    """The book with ETH and everything moving with it (forwards, LRT, the perpetual's mark) moved
    by x (no fixing window here: its fixed part cannot be written as a book)."""
    d = json.loads(json.dumps(doc))
    m = d["market"]
    m["ETH"]["price"] *= 1.0 + x
    for e in m["ETH"]["forwards"]:
        e["forward"] *= 1.0 + x
    m["LRT"]["price"] *= 1.0 + x
    for p in d["accounts"][0]["positions"]:
        if "mark_price" in p and p["underlying"] == "ETH":
            p["mark_price"] *= 1.0 + x
    return d


def surplus(doc: dict, x: float) -> float:
    r = reference(moved(doc, x))
    return r["equity"] - r["maintenance_margin"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(books())
def test_liquidation_distance_against_the_reference(doc):
    doc["profiles"]["p"]["portfolio"].pop("forward_fixing_window", None)
    rep = build_report(portfolio_from_dict(doc), "account:a")
    liq = rep["liquidation"].get("ETH")
    if liq is None:
        return
    f0 = surplus(doc, 0.0)
    scale = _scale(doc)
    for key in ("down_pct", "up_pct"):
        pct = liq[key]
        side = -1.0 if key == "down_pct" else 1.0
        if pct is None:
            # none between now and the limit: no sampled move liquidates
            limit = -0.99 if side < 0 else 5.0
            for t in (0.1, 0.25, 0.5, 0.75, 1.0):
                assert surplus(doc, limit * t) > -1e-9 * scale, (key, limit * t)
            continue
        x = pct / 100.0
        if f0 <= 0:
            assert x == 0.0
            continue
        # the reported move is (to 0.01 % of price) where equity - MM crosses 0 ...
        assert surplus(doc, x + side * 1e-4) <= 1e-9 * scale, (key, x)
        assert surplus(doc, x - side * 1e-4) >= -1e-9 * scale, (key, x)
        # ... and no nearer sampled move liquidates
        for t in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
            assert surplus(doc, x * t) > -1e-9 * scale, (key, x * t)


def test_pmrm2_rows_that_differ_by_underlying_are_refused_where_they_are_given():
    # PMRM_2 shares its scenario rows (move, vol kind, dampening) across underlyings; a profile whose
    # `moves` give BTC 3 rows and ETH 5 cannot be margined: the error names the profile and the key
    from workstation.core.errors import ProfileError

    doc = {"format": "margin-workstation/portfolio@1", "as_of": iso(0), "base_currency": "USD",
           "market": {"BTC": {"price": 60_000.0, "vol": 0.5}, "ETH": {"price": 3_000.0, "vol": 0.6},
                      "USDC": {"price": 1.0}},
           "accounts": [{"id": "a", "margin_mode": "portfolio", "profile": "p", "collateral": {"USDC": 1e5},
                         "positions": [{"id": "b", "kind": "perpetual", "underlying": "BTC", "settlement": "linear",
                                        "quantity": 1.0, "entry_price": 60_000.0},
                                       {"id": "e", "kind": "perpetual", "underlying": "ETH", "settlement": "linear",
                                        "quantity": 1.0, "entry_price": 3_000.0}]}],
           "profiles": {"p": {"method": "pmrm2", "portfolio": {"moves": {"BTC": [-0.1, 0.0, 0.1],
                                                                          "*": [-0.2, -0.1, 0.0, 0.1, 0.2]}}}}}
    with pytest.raises(ProfileError) as err:
        build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)
    assert "portfolio.moves" in str(err.value) and "p" in err.value.source


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_marginal_margin_is_im_less_im_without_the_position(doc):
    rep = build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)
    scale = _scale(doc)
    for i, pos in enumerate(doc["accounts"][0]["positions"]):
        d = json.loads(json.dumps(doc))
        del d["accounts"][0]["positions"][i]
        without = build_report(portfolio_from_dict(d), "account:a", with_liquidation=False)
        got = next(p["marginal_margin"] for p in rep["positions"] if p["id"] == pos["id"])
        want = rep["initial_margin"] - without["initial_margin"]
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * scale), (pos["id"], got, want)
