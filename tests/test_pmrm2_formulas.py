"""Each PMRM_2 formula (shared/spec/derive-pmrm2.md, "Formulas") against a hand computation:
static discount, skew shock, basis contingency, confidence charge, peg loss, fixing window,
vol floor and the 30-day boundary, dte_floor = 0, dampening above 1, options at expiry,
haircut_in_scenarios and IM haircuts. Expected values come from `pmrm2_helpers.b76` (math.erf)
and the formulas written out here, never from the engine."""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pmrm2_helpers import YEAR, b76, option, perp, portfolio

from workstation.core.liquidation import Liquidation
from workstation.core.methods import method_for
from workstation.core.portfolio_io import portfolio_from_dict
from workstation.core.report import build_report, make_scope

REL = 1e-12
TEN_DAYS = 10 * 86400.0
TAU10 = TEN_DAYS / YEAR


def report(doc: dict) -> dict:
    return build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)


def fwd_market(F: float = 2100.0, r: float = 0.05, seconds: float = TEN_DAYS, conf: float | None = None,
               spot: float = 2000.0, **extra) -> dict:
    from pmrm2_helpers import iso

    entry = {"expiry": iso(seconds), "forward": F, "rate": r}
    if conf is not None:
        entry["confidence"] = conf
    return {"ETH": {"price": spot, "forwards": [entry], **extra}, "USDC": {"price": 1.0}}


SD = {"base": 0.95, "base_neg": 1.04, "long_rate_mult": 1.0, "long_rate_add": 0.08, "short_rate_mult": 0.5,
      "short_rate_add": 0.08}


# ------------------------------------------------------------------------------ static discount
def test_static_discount_long_expiry():
    # long 2 calls K 2200 on F 2100, r 5 %, 10 days, vol 0.6; one row (0, none, 1)
    # V = 2 b76(...); sdp = 0.95 exp(-tau (0.05*1 + 0.08)); P = V sdp - V; MM = L = V (1 - sdp)
    V = 2 * b76(2100.0, 2200.0, TAU10, 0.6, 0.05, True)
    sdp = 0.95 * math.exp(-TAU10 * (0.05 * 1.0 + 0.08))
    rep = report(portfolio([option("c", "call", 2200.0, TEN_DAYS, 2.0, 0.6)], market=fwd_market(),
                           keys={"static_discount": SD}))
    assert rep["maintenance_margin"] == pytest.approx(V * (1 - sdp), rel=1e-10)
    assert rep["initial_margin"] == pytest.approx(V * (1 - sdp), rel=1e-10)  # im_factor 1


def test_static_discount_short_expiry_capped_at_one_over_df():
    # short call: V < 0, sdn = min(1/df, 1.04 exp(tau (0.05*0.5 + 0.08))) = 1/df = exp(r tau)
    # (1.04 > 1.0014); P = V sdn - V = V (sdn - 1) < 0
    V = -b76(2100.0, 2200.0, TAU10, 0.6, 0.05, True)
    sdn = min(math.exp(0.05 * TAU10), 1.04 * math.exp(TAU10 * (0.05 * 0.5 + 0.08)))
    assert sdn == math.exp(0.05 * TAU10)
    rep = report(portfolio([option("c", "call", 2200.0, TEN_DAYS, -1.0, 0.6)], market=fwd_market(),
                           keys={"static_discount": SD}))
    assert rep["maintenance_margin"] == pytest.approx(-V * (sdn - 1), rel=1e-9)
    # with base_neg 1.0 and no add-on the cap does not bind: sdn = exp(tau r 0.5)
    sd2 = SD | {"base_neg": 1.0, "short_rate_add": 0.0}
    rep = report(portfolio([option("c", "call", 2200.0, TEN_DAYS, -1.0, 0.6)], market=fwd_market(),
                           keys={"static_discount": sd2}))
    assert rep["maintenance_margin"] == pytest.approx(-V * (math.exp(TAU10 * 0.025) - 1), rel=1e-9)


def test_static_discount_acts_on_the_net_value_of_the_expiry():
    # long call K 2000 (value ~) and short call K 2300 in one expiry: net V_e > 0, so one sdp for
    # both: P = sdp V_e - V_e; the short leg alone would use sdn
    c1 = b76(2100.0, 2000.0, TAU10, 0.6, 0.05, True)
    c2 = b76(2100.0, 2300.0, TAU10, 0.6, 0.05, True)
    Ve = c1 - c2
    sdp = 0.95 * math.exp(-TAU10 * 0.13)
    rep = report(portfolio([option("l", "call", 2000.0, TEN_DAYS, 1.0, 0.6),
                            option("s", "call", 2300.0, TEN_DAYS, -1.0, 0.6)],
                           market=fwd_market(), keys={"static_discount": SD}))
    assert rep["maintenance_margin"] == pytest.approx(Ve * (1 - sdp), rel=1e-9)


# ------------------------------------------------------------------------------ skew shock
SKEW = {"linear_scale_cap": 0.15, "linear_cbase": -0.05, "abs_scale_cap": 0.2, "abs_cbase": -0.05,
        "min_k_star": 0.01, "min_width_scale": 4.0, "vol_param_static": 0.6, "vol_param_scale": -0.1}


def _skew_vol(K: float, F: float, tau: float, vol: float, kind: str) -> float:
    cap = (SKEW[f"{kind}_cbase"] * math.sqrt(tau) + SKEW[f"{kind}_scale_cap"])
    kstar = max(SKEW["min_k_star"], math.sqrt(tau) * SKEW["min_width_scale"]
                * (SKEW["vol_param_static"] + math.sqrt(tau) * SKEW["vol_param_scale"]))
    k = math.log(K / F)
    if kind == "abs":
        k = abs(k)
    s = min(cap, k * cap / kstar) if k >= 0 else max(-cap, k * cap / kstar)
    return vol * max(0.0, 1 + s)


@pytest.mark.parametrize("kind", ["linear", "abs"])
def test_skew_rows_take_minus_the_absolute_pnl_of_each_expiry(kind: str):
    # expiry 1 (10 d, F 2100): long put K 1800 (k < 0); expiry 2 (40 d, F 2150): short call K 2600.
    # Row (0, skew_<kind>, 1): P = -|V1' - V1| - |V2' - V2| (no static discount)
    from pmrm2_helpers import iso

    t2 = 40 * 86400.0
    tau2 = t2 / YEAR
    market = {"ETH": {"price": 2000.0, "forwards": [
        {"expiry": iso(TEN_DAYS), "forward": 2100.0, "rate": 0.05},
        {"expiry": iso(t2), "forward": 2150.0, "rate": 0.04}]}, "USDC": {"price": 1.0}}
    v1 = b76(2100.0, 1800.0, TAU10, 0.7, 0.05, False)
    v1s = b76(2100.0, 1800.0, TAU10, _skew_vol(1800.0, 2100.0, TAU10, 0.7, kind), 0.05, False)
    v2 = -3 * b76(2150.0, 2600.0, tau2, 0.65, 0.04, True)
    v2s = -3 * b76(2150.0, 2600.0, tau2, _skew_vol(2600.0, 2150.0, tau2, 0.65, kind), 0.04, True)
    expected = abs(v1s - v1) + abs(v2s - v2)
    rep = report(portfolio([option("p", "put", 1800.0, TEN_DAYS, 1.0, 0.7),
                            option("c", "call", 2600.0, t2, -3.0, 0.65)], market=market,
                           keys={"scenarios": [[0.0, f"skew_{kind}", 1.0]], "skew_shock": SKEW}))
    assert rep["maintenance_margin"] == pytest.approx(expected, rel=1e-9)
    entry = rep["scenarios"]["ETH"]["entries"][0]
    assert entry["vol"] == f"skew_{kind}" and entry["pnl"] == pytest.approx(-expected, rel=1e-9)


def test_skew_row_without_skew_shock_is_refused():
    from workstation.core.errors import PortfolioError

    with pytest.raises(PortfolioError, match=r"scenarios\[0\]\[1\].*skew_shock"):
        portfolio_from_dict(portfolio([], keys={"scenarios": [[0.0, "skew_abs", 1.0]]}))


# ------------------------------------------------------------------------------ basis contingency
def test_basis_contingency_is_the_worse_leg_times_its_factor():
    # long call K 2100 on F 2100: B = min(V(1.045 F) - V, V(0.955 F) - V, 0) (0.5 + 2 tau);
    # the only row (0, none) loses nothing (no static discount): L = -B
    V = b76(2100.0, 2100.0, TAU10, 0.6, 0.05, True)
    up = b76(2100.0 * 1.045, 2100.0, TAU10, 0.6, 0.05, True)
    dn = b76(2100.0 * 0.955, 2100.0, TAU10, 0.6, 0.05, True)
    B = min(up - V, dn - V, 0.0) * (0.5 + 2.0 * TAU10)
    assert B < 0
    rep = report(portfolio([option("c", "call", 2100.0, TEN_DAYS, 1.0, 0.6)], market=fwd_market(),
                           keys={"basis_contingency": {"spot_up": 0.045, "spot_down": -0.045,
                                                       "add_factor": 0.5, "mult_factor": 2.0}}))
    assert rep["maintenance_margin"] == pytest.approx(-B, rel=1e-9)
    assert rep["scenarios"]["ETH"]["addons"]["basis_contingency"] == pytest.approx(-B, rel=1e-9)


# ------------------------------------------------------------------------------ confidence charge
def test_confidence_charge_on_perpetual_expiry_and_collateral():
    # threshold 0.55, margin 2: kappa(c, N) = (1 - c) 2 N where c < 0.55
    # perp 2 @ S 2000, c = min(c_U 0.9, mark 0.3) = 0.3: 0.7*2*4000 = 5600
    # expiry: c = min(0.9, 0.5) = 0.5, N = (1 + 3) 2000: 0.5*2*8000 = 8000
    # collateral LRT (moves with ETH) c 0.4, v = 1.5 * 2100: 0.6*2*3150 = 3780
    # collateral SDAI c 0.6 >= 0.55: 0 ; the base USDC: never
    market = fwd_market(conf=0.5, confidence=0.9)
    market["LRT"] = {"price": 2100.0, "confidence": 0.4, "moves_with": "ETH"}
    market["SDAI"] = {"price": 1.1, "confidence": 0.6}
    market["USDC"]["confidence"] = 0.1
    positions = [perp("f", 2.0, 2000.0, mark=2000.0, conf=0.3),
                 option("c", "call", 2200.0, TEN_DAYS, 1.0, 0.6), option("p", "put", 1900.0, TEN_DAYS, -3.0, 0.6)]
    keys = {"im_loss_factor": 1.0, "confidence_contingency": {"threshold": 0.55, "margin": 2.0}}
    rep = report(portfolio(positions, market=market, collateral={"USDC": 50_000.0, "LRT": 1.5, "SDAI": 100.0},
                           keys=keys))
    assert rep["initial_margin"] - rep["maintenance_margin"] == pytest.approx(5600 + 8000 + 3780, rel=1e-12)
    comp = {p["id"]: p["component_margin"] for p in rep["positions"]}
    loss_only = report(portfolio(positions, market=market, collateral={"USDC": 50_000.0, "LRT": 1.5, "SDAI": 100.0},
                                 keys={"im_loss_factor": 1.0}))
    comp0 = {p["id"]: p["component_margin"] for p in loss_only["positions"]}
    # each charge goes to what causes it: the option charge by |q| (1 : 3)
    assert comp["f"] - comp0["f"] == pytest.approx(5600, rel=1e-9)
    assert comp["c"] - comp0["c"] == pytest.approx(2000, rel=1e-9)
    assert comp["p"] - comp0["p"] == pytest.approx(6000, rel=1e-9)
    assert rep["collateral_components"]["LRT"] - loss_only["collateral_components"]["LRT"] == pytest.approx(3780)


# ------------------------------------------------------------------------------ peg loss
def test_peg_loss_scales_the_im_loss():
    # perp 1, mark 2050, row (-0.1, none, 1): L = 205 ; mm_factor 0.8: MM = 164
    # peg 0.9 < 0.98: f_IM = 1 + (0.98 - 0.9) 2 = 1.16: IM = 1.16 * 205 = 237.8
    market = {"ETH": {"price": 2000.0}, "USDC": {"price": 1.0, "peg_price": 0.9}}
    keys = {"scenarios": [[-0.1, "none", 1.0]], "mm_factor": 0.8, "im_loss_factor": 1.0,
            "peg_loss": {"threshold": 0.98, "factor": 2.0}}
    rep = report(portfolio([perp("f", 1.0, 2000.0, mark=2050.0)], market=market, keys=keys))
    assert rep["maintenance_margin"] == pytest.approx(164.0, rel=REL)
    assert rep["initial_margin"] == pytest.approx(237.8, rel=REL)
    assert rep["positions"][0]["component_margin"] == pytest.approx(237.8, rel=REL)
    market["USDC"]["peg_price"] = 0.99  # above the threshold: no add-on
    assert report(portfolio([perp("f", 1.0, 2000.0, mark=2050.0)], market=market, keys=keys))[
        "initial_margin"] == pytest.approx(205.0, rel=REL)


# ------------------------------------------------------------------------------ fixing window
def test_fixing_window_moves_only_the_variable_part_of_the_forward():
    # 900 s to expiry, window 1800: phi = 0.5; row (+0.1, none, 1): F' = F (1 - phi) + F phi 1.1
    # = 1.05 F. Long put K 2150 on F 2100: P = V(1.05 F) - V(F)
    sec = 900.0
    tau = sec / YEAR
    V = b76(2100.0, 2150.0, tau, 0.8, 0.05, False)
    Vm = b76(2100.0 * 1.05, 2150.0, tau, 0.8, 0.05, False)
    doc = portfolio([option("p", "put", 2150.0, sec, 1.0, 0.8)], market=fwd_market(seconds=sec),
                    keys={"scenarios": [[0.1, "none", 1.0]], "forward_fixing_window": 1800})
    rep = report(doc)
    assert rep["maintenance_margin"] == pytest.approx(V - Vm, rel=1e-9)
    # at a moved state the fixed half stays: ETH +20 % moves the forward by 10 %
    m = method_for(make_scope(portfolio_from_dict(doc), "account:a"))
    parts = m.parts(np.array([[0.2, 0.0]]))
    assert parts.equity[0, 0] == pytest.approx(b76(2100.0 * 1.1, 2150.0, tau, 0.8, 0.05, False), rel=1e-9)
    # without the key the whole forward moves: P = V(1.1 F) - V
    del doc["profiles"]["p"]["portfolio"]["forward_fixing_window"]
    Vf = b76(2100.0 * 1.1, 2150.0, tau, 0.8, 0.05, False)
    assert report(doc)["maintenance_margin"] == pytest.approx(V - Vf, rel=1e-9)


# ------------------------------------------------------------------------------ vol shocks
def test_vol_floor_applies_to_the_up_shock_only():
    # short call, 60 d, vol 0.2: up = max(0.45, 0.2 (1 + 0.5 (30/60)^0.13)) = 0.45;
    # down = 0.2 max(0, 1 - 0.275 (0.5)^0.13)
    sec = 60 * 86400.0
    tau = sec / YEAR
    x = (30 / 60) ** 0.13
    assert 0.2 * (1 + 0.5 * x) < 0.45
    keys = {"scenarios": [[0.0, "up", 1.0]], "vol_shock_up": 0.5, "vol_shock_down": 0.275,
            "power_short": 0.3, "power_long": 0.13, "vol_floor": 0.45}
    V = b76(2100.0, 2300.0, tau, 0.2, 0.05, True)
    rep = report(portfolio([option("c", "call", 2300.0, sec, -1.0, 0.2)], market=fwd_market(seconds=sec), keys=keys))
    assert rep["maintenance_margin"] == pytest.approx(b76(2100.0, 2300.0, tau, 0.45, 0.05, True) - V, rel=1e-9)
    keys["scenarios"] = [[0.0, "down", 1.0]]
    rep = report(portfolio([option("c", "call", 2300.0, sec, 1.0, 0.2)], market=fwd_market(seconds=sec), keys=keys))
    down = 0.2 * max(0.0, 1 - 0.275 * x)
    assert rep["maintenance_margin"] == pytest.approx(V - b76(2100.0, 2300.0, tau, down, 0.05, True), rel=1e-9)


def test_thirty_days_exactly_take_the_short_power():
    # 30 d to expiry, dte_floor 60: x = 0.5; PMRM_2 (sec <= 30 d): p = power_short 0.3
    sec = 30 * 86400.0
    tau = sec / YEAR
    keys = {"scenarios": [[0.0, "up", 1.0]], "vol_shock_up": 0.5, "power_short": 0.3, "power_long": 0.13,
            "dte_floor": 60}
    up = 0.6 * (1 + 0.5 * 0.5**0.3)
    V = b76(2100.0, 2300.0, tau, 0.6, 0.05, True)
    rep = report(portfolio([option("c", "call", 2300.0, sec, -1.0, 0.6)], market=fwd_market(seconds=sec), keys=keys))
    assert rep["maintenance_margin"] == pytest.approx(b76(2100.0, 2300.0, tau, up, 0.05, True) - V, rel=1e-9)


def test_dte_floor_zero_and_an_option_at_expiry():
    # expiry = as_of: tau = 0, worth its intrinsic value on the forward (fixed: phi = 0).
    # Short call K 1900 on F 2000 (forward entry at as_of), perp 1 @ S: dte_floor 0 neither
    # divides by zero for the perpetual nor warns. Row (-0.1, up, 1): option P = 0 (fixed
    # forward), perp P = -0.1*2000; naked short contingency 0.003 * 1 * S counts at expiry.
    market = fwd_market(F=2000.0, r=0.0, seconds=0.0)
    keys = {"scenarios": [[-0.1, "up", 1.0], [0.0, "down", 1.0]], "dte_floor": 0, "vol_shock_up": 0.5,
            "vol_shock_down": 0.275, "forward_fixing_window": 1800, "short_option_contingency": 0.003}
    doc = portfolio([option("c", "call", 1900.0, 0.0, -1.0, 0.6), perp("f", 1.0, 2000.0)], market=market, keys=keys)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = method_for(make_scope(portfolio_from_dict(doc), "account:a"))
        _, mm = m.requirement()
        Liquidation(m).search()
    assert mm == pytest.approx(200.0 + 0.003 * 2000.0, rel=REL)
    rep = report(doc)
    assert rep["positions"][0]["market_value"] == pytest.approx(-100.0, rel=REL)


def test_dampening_above_one():
    # row (-0.2, none, 2.5): a perp of 1 at mark 2000 loses 2.5 * 0.2 * 2000 = 1000
    keys = {"scenarios": [[-0.2, "none", 2.5]]}
    rep = report(portfolio([perp("f", 1.0, 2000.0)], keys=keys))
    assert rep["maintenance_margin"] == pytest.approx(1000.0, rel=REL)
    assert rep["scenarios"]["ETH"]["entries"][0]["weight"] == 2.5


# ------------------------------------------------------------------------------ collateral
@pytest.mark.parametrize(("in_scen", "loss"), [(False, 0.1 * 2100.0 * 2), (True, 0.1 * 2100.0 * 2 * 0.9)])
def test_haircut_in_scenarios(in_scen: bool, loss: float):
    # 2 LRT (moves with ETH, 2100, haircut 10 %) and a perp short 1 @ mark 2000 hedging nothing
    # else; row (-0.1, none, 1): gross P = -0.1 * 4200 (+ perp +200), haircut value -0.1 * 3780
    market = {"ETH": {"price": 2000.0}, "LRT": {"price": 2100.0, "moves_with": "ETH"}, "USDC": {"price": 1.0}}
    keys = {"scenarios": [[-0.1, "none", 1.0]], "haircut_in_scenarios": in_scen}
    doc = portfolio([perp("f", -1.0, 2000.0)], market=market, collateral={"LRT": 2.0}, keys=keys,
                    top={"haircuts": {"USDC": 0.0, "LRT": 0.1}})
    rep = report(doc)
    assert rep["maintenance_margin"] == pytest.approx(loss - 200.0, rel=REL)
    assert rep["equity"] == pytest.approx(2 * 2100.0 * 0.9, rel=REL)


def test_im_haircuts_and_perp_contingencies():
    # IM = MM + v im_haircut + |q| S perp_contingency_im ; MM = |q| S perp_contingency
    market = {"ETH": {"price": 2000.0}, "WBTC": {"price": 50_000.0}, "USDC": {"price": 1.0}}
    keys = {"perp_contingency": 0.015, "perp_contingency_im": 0.005, "im_loss_factor": 1.0}
    doc = portfolio([perp("f", -3.0, 2000.0, mark=2010.0)], market=market, collateral={"WBTC": 0.5}, keys=keys,
                    top={"stablecoins": ["USDC", "WBTC"], "haircuts": {"USDC": 0.0, "WBTC": 0.2},
                         "im_haircuts": {"WBTC": 0.05}})
    rep = report(doc)
    assert rep["maintenance_margin"] == pytest.approx(3 * 2000 * 0.015, rel=REL)
    assert rep["initial_margin"] == pytest.approx(3 * 2000 * 0.015 + 3 * 2000 * 0.005 + 25_000 * 0.05, rel=REL)
    assert rep["equity"] == pytest.approx(25_000 * 0.8 - 3 * 10.0, rel=REL)
    assert rep["collateral_components"]["WBTC"] == pytest.approx(1250.0, rel=REL)


def test_skew_with_zero_k_star_takes_the_cap_and_basis_down_to_zero():
    # min_k_star 0 and min_width_scale 0: k* = 0, so s = +cap above the forward (k > 0):
    # vol' = vol (1 + cap), cap = -0.05 sqrt(tau) + 0.15 (Derive would divide by zero here)
    skew = SKEW | {"min_k_star": 0.0, "min_width_scale": 0.0}
    cap = -0.05 * math.sqrt(TAU10) + 0.15
    V = b76(2100.0, 2400.0, TAU10, 0.6, 0.05, True)
    Vs = b76(2100.0, 2400.0, TAU10, 0.6 * (1 + cap), 0.05, True)
    rep = report(portfolio([option("c", "call", 2400.0, TEN_DAYS, -1.0, 0.6)], market=fwd_market(),
                           keys={"scenarios": [[0.0, "skew_linear", 1.0]], "skew_shock": skew}))
    assert rep["maintenance_margin"] == pytest.approx(Vs - V, rel=1e-9)
    # a basis leg down to a forward of 0 (spot_down = -1): a long put is worth df K there
    keys = {"basis_contingency": {"spot_up": 0.045, "spot_down": -1.0, "add_factor": 1.0, "mult_factor": 0.0}}
    rep = report(portfolio([option("p", "put", 2000.0, TEN_DAYS, -1.0, 0.6)], market=fwd_market(), keys=keys))
    Vp = b76(2100.0, 2000.0, TAU10, 0.6, 0.05, False)
    assert rep["maintenance_margin"] == pytest.approx(2000.0 * math.exp(-0.05 * TAU10) - Vp, rel=1e-9)
