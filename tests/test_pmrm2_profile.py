"""PMRM_2's profile keys (shared/spec/derive-pmrm2.md, "Profile keys") and the shipped
`derive-pmrm2` profile: Derive's defaults, a file's profile of that name laid over it, bad keys
refused by name, and the keys refused under any other method."""

from __future__ import annotations

import math

import pytest

from workstation.core.errors import ProfileError
from workstation.core.profiles import load_profiles, shipped_profiles


def test_shipped_profile_holds_derives_defaults():
    p = shipped_profiles()["derive-pmrm2"]
    assert p.method == "pmrm2"
    pp, x = p.portfolio, p.pmrm2
    rows = pp.scenarios
    assert len(rows) == 31
    regular = [r for r in rows[:23]]
    assert {(m, d) for m, d, _ in regular} == (
        {(m, d) for m in (0.0, 0.045, 0.09, 0.135, -0.045, -0.09, -0.135) for d in ("up", "none", "down")}
        | {(0.18, "up"), (-0.18, "up")})
    for m, d, w in rows[23:29]:
        assert d == "up" and w == pytest.approx(0.036 / abs(m), rel=1e-15)
    assert [r[1] for r in rows[29:]] == ["skew_linear", "skew_abs"]
    assert (pp.vol_shock_up, pp.vol_shock_down, pp.power_short, pp.power_long, pp.dte_floor, pp.vol_floor) == (
        0.5, 0.275, 0.3, 0.13, 1.0, 0.45)
    assert (pp.mm_factor, x.im_loss_factor, pp.short_option_contingency, x.short_option_contingency_im) == (
        0.8, 1.0, 0.003, 0.002)
    assert (x.perp_contingency, x.perp_contingency_im, x.forward_fixing_window, x.haircut_in_scenarios) == (
        0.015, 0.005, 1800.0, False)
    assert x.static_discount.base == 0.95 and x.static_discount.base_neg == 1.04
    assert x.skew_shock.min_width_scale == 4.0 and x.basis_contingency.mult_factor == 2.0
    assert (x.confidence_contingency.threshold, x.peg_loss.threshold, x.peg_loss.factor) == (0.55, 0.98, 2.0)
    assert "v2-core" in p.source and "PMRMLib_2" in p.source


def test_file_profile_of_the_same_name_is_laid_over_it():
    prof = load_profiles({"derive-pmrm2": {"portfolio": {"mm_factor": 0.5, "peg_loss": {"threshold": 0.9,
                                                                                            "factor": 1.0}}}})
    p = prof["derive-pmrm2"]
    assert p.method == "pmrm2"  # the overlay keeps the shipped method
    assert p.portfolio.mm_factor == 0.5 and p.pmrm2.peg_loss.threshold == 0.9
    assert p.pmrm2.static_discount.base == 0.95 and len(p.portfolio.scenarios) == 31


@pytest.mark.parametrize(("body", "key"), [
    ({"portfolio": {"static_discount": {"base": 1.0}}}, "portfolio.static_discount.base_neg"),
    ({"portfolio": {"skew_shock": {"linear_scale_cap": 0.1, "bogus": 1}}}, "portfolio.skew_shock.bogus"),
    ({"portfolio": {"basis_contingency": {"spot_up": 0.05, "spot_down": 0.05, "add_factor": 0.5,
                                          "mult_factor": 2.0}}}, "portfolio.basis_contingency.spot_down"),
    ({"portfolio": {"forward_fixing_window": 0}}, "portfolio.forward_fixing_window"),
    ({"portfolio": {"perp_contingency": -0.1}}, "portfolio.perp_contingency"),
    ({"portfolio": {"haircut_in_scenarios": "no"}}, "portfolio.haircut_in_scenarios"),
    ({"portfolio": {"confidence_contingency": {"threshold": 1.5, "margin": 1.0}}},
     "portfolio.confidence_contingency.threshold"),
    ({"portfolio": {"im_loss_factor": 0}}, "portfolio.im_loss_factor"),
    ({"im_haircuts": {"ETH": 1.5}}, "im_haircuts.ETH"),
    ({"portfolio": {"scenarios": [[0.1, "sideways", 1.0]]}}, "portfolio.scenarios[0][1]"),
    ({"portfolio": {"scenarios": [[0.1, "up", -1.0]]}}, "portfolio.scenarios[0][2]"),
])
def test_bad_pmrm2_keys_are_named(body, key):
    with pytest.raises(ProfileError) as err:
        load_profiles({"derive-pmrm2": body})
    assert err.value.key == key, str(err.value)


def test_pmrm2_rules_under_pmrm2_only():
    # dampening above 1, dte_floor 0 and skew rows (with skew_shock) are fine under pmrm2 ...
    p = load_profiles({"derive-pmrm2": {"portfolio": {"dte_floor": 0, "scenarios": [[-0.66, "up", 5.0],
                                                                                    [0.0, "skew_abs", 1.0]]}}})
    assert p["derive-pmrm2"].portfolio.dte_floor == 0 and p["derive-pmrm2"].portfolio.scenarios[0][2] == 5.0
    # ... and refused under the generic method, as are the PMRM_2 keys
    for body, key in (({"portfolio": {"static_discount": {}}}, "portfolio.static_discount"),
                      ({"im_haircuts": {"USDC": 0.0}}, "im_haircuts"),
                      ({"portfolio": {"scenarios": [[0.0, "skew_linear", 1.0]]}}, "portfolio.scenarios[0][1]"),
                      ({"portfolio": {"dte_floor": 0}}, "portfolio.dte_floor"),
                      ({"portfolio": {"scenarios": [[0.1, "up", 2.0]]}}, "portfolio.scenarios[0][2]")):
        with pytest.raises(ProfileError) as err:
            load_profiles({"mine": body})
        assert err.value.key == key, str(err.value)
    # a skew row needs skew_shock
    with pytest.raises(ProfileError, match="skew_shock"):
        load_profiles({"mine": {"method": "pmrm2", "portfolio": {"scenarios": [[0.0, "skew_abs", 1.0]]}}})


def test_peg_factor_and_confidence_charge():
    x = shipped_profiles()["derive-pmrm2"].pmrm2
    assert x.peg_factor(0.95) == pytest.approx(1.0 + 0.03 * 2.0, rel=1e-15)
    assert x.peg_factor(1.0) == 1.0
    assert float(x.confidence_charge(0.5, 1000.0)) == pytest.approx(500.0)
    assert float(x.confidence_charge(0.55, 1000.0)) == 0.0  # not below the threshold
    sdp, sdn = x.static_discount.factors(0.5, 0.1, math.exp(-0.05))
    assert sdp == pytest.approx(0.95 * math.exp(-0.5 * (0.1 + 0.08)), rel=1e-15)
    assert sdn == pytest.approx(min(math.exp(0.05), 1.04 * math.exp(0.5 * (0.05 + 0.08))), rel=1e-15)
