"""Tests of workstation.core.pricing against the stdlib, Hull's worked examples and
finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.core.pricing import black76, norm_cdf, norm_pdf, spot_greeks

SQRT2 = math.sqrt(2.0)
# One unit in the last place at 1.0. numpy's SIMD kernels (exp, log) round differently per CPU
# (AVX-512, AVX2, SSE), so computed values are compared to a few of these, relatively; exact
# comparisons are kept only where no rounding is involved (saturating branches, the same
# arithmetic on the same element: see test_results_do_not_depend_on_batch_size).
EPS = float(np.finfo(float).eps)


def ref_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / SQRT2)


def ref_bs(S: float, K: float, T: float, vol: float, r: float, call: bool) -> float:
    """Black-Scholes on spot with math.erfc (independent of the module under test)."""
    sd = vol * math.sqrt(T)
    d1 = (math.log(S / K) + (r + 0.5 * vol * vol) * T) / sd
    d2 = d1 - sd
    if call:
        return S * ref_cdf(d1) - K * math.exp(-r * T) * ref_cdf(d2)
    return K * math.exp(-r * T) * ref_cdf(-d2) - S * ref_cdf(-d1)


# ---------------------------------------------------------------- normal distribution


def test_norm_cdf_absolute_error_against_math_erfc() -> None:
    rng = np.random.default_rng(20240601)
    x = np.concatenate([np.linspace(-40.0, 40.0, 8001), rng.uniform(-40.0, 40.0, 2000)])
    ref = np.array([ref_cdf(v) for v in x])
    assert np.max(np.abs(norm_cdf(x) - ref)) < 2e-15


def test_norm_cdf_relative_error_in_the_lower_tail() -> None:
    t = np.linspace(0.0, 37.0, 7401)
    ref = np.array([0.5 * math.erfc(v / SQRT2) for v in t])
    assert np.all(ref > 0.0)
    assert np.max(np.abs(norm_cdf(-t) / ref - 1.0)) < 1e-12


def test_norm_cdf_known_values_and_special_inputs() -> None:
    # Textbook values: N(1.96) = 0.9750021048517795, N(-1) = 0.15865525393145707,
    # N(-10) = 7.61985302416047e-24 (relative check).
    assert norm_cdf(1.96) == pytest.approx(0.9750021048517795, rel=4 * EPS)
    assert norm_cdf(-1.0) == pytest.approx(0.15865525393145707, rel=4 * EPS)
    assert norm_cdf(-10.0) == pytest.approx(7.61985302416047e-24, rel=1e-13)
    out = norm_cdf(np.array([0.0, np.inf, -np.inf, 1e300, -1e300, np.nan]))
    # exact: x = 0 gives 0.5 + 0 * A/B, and the others take the saturating branches
    np.testing.assert_array_equal(out[:5], [0.5, 1.0, 0.0, 1.0, 0.0])
    assert math.isnan(out[5])


def test_norm_cdf_symmetry_and_shape() -> None:
    x = np.linspace(-8.0, 8.0, 1600).reshape(40, 40)
    assert norm_cdf(x).shape == (40, 40)
    # N(x) + N(-x) = 1 up to the rounding of each term (a few ulp of 1)
    np.testing.assert_allclose(norm_cdf(x) + norm_cdf(-x), 1.0, rtol=0, atol=4 * EPS)


def test_norm_pdf_against_math_exp() -> None:
    x = np.linspace(-37.0, 37.0, 7401)
    # exp(-x^2/2)/sqrt(2 pi) from the stdlib; its own rounding of x*x/2 moves the exponent
    # by up to x^2/2 ulp (a relative error of x^2/2 eps), plus an ulp or two for exp and the
    # division. norm_pdf squares exactly (Cody), so the difference is the reference's: at
    # most 4 eps (1 + x^2/2) relative, i.e. 4 ulp near 0 and 2,700 ulp at |x| = 37.
    ref = np.array([math.exp(-v * v / 2.0) / math.sqrt(2.0 * math.pi) for v in x])
    got = norm_pdf(x)
    assert np.all(np.abs(got / ref - 1.0) <= 4 * EPS * (1.0 + x * x / 2.0))
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert norm_pdf(0.0) == pytest.approx(0.3989422804014327, rel=2 * EPS)  # 1/sqrt(2 pi)
    out = norm_pdf(np.array([50.0, -np.inf, np.inf, np.nan]))
    # exact: beyond |x| = 40 the density is set to 0 (exp(-800) underflows anyway)
    np.testing.assert_array_equal(out[:3], [0.0, 0.0, 0.0])
    assert math.isnan(out[3])


# ---------------------------------------------------------------- Black-76 prices


def test_hull_black_scholes_example() -> None:
    # Hull, Options Futures and Other Derivatives (BSM chapter): S0=42, K=40, r=0.10,
    # sigma=0.20, T=0.5 -> d1=0.7693, d2=0.6278, c=4.76, p=0.81. Black-76 with F=S e^{rT}.
    S, K, r, vol, T = 42.0, 40.0, 0.10, 0.20, 0.5
    F = S * math.exp(r * T)
    call, put = black76(F, K, T, vol, r, np.array([True, False]))
    assert call == pytest.approx(4.76, abs=0.005)
    assert put == pytest.approx(0.81, abs=0.005)
    assert call == pytest.approx(ref_bs(S, K, T, vol, r, True), abs=1e-12)
    assert put == pytest.approx(ref_bs(S, K, T, vol, r, False), abs=1e-12)


def test_hull_black76_futures_put_example() -> None:
    # Hull (Black's model for futures options): European put, F=K=20, r=0.09, T=4/12,
    # sigma=0.25 -> d1=0.07216, d2=-0.07216, p = e^{-0.03} (20 N(0.07216) - 20 N(-0.07216))
    # = 1.12.
    p = black76(20.0, 20.0, 4.0 / 12.0, 0.25, 0.09, False)
    assert p == pytest.approx(1.12, abs=0.005)
    d1 = 0.5 * 0.25 * math.sqrt(4.0 / 12.0)
    assert p == pytest.approx(math.exp(-0.03) * 20.0 * (ref_cdf(d1) - ref_cdf(-d1)), abs=1e-13)


def test_black76_matches_stdlib_reference_on_a_grid() -> None:
    for S in (50.0, 100.0, 180.0):
        for K in (60.0, 100.0, 150.0):
            for T, vol, r in ((0.1, 0.3, 0.02), (2.0, 0.8, 0.05), (0.01, 1.5, -0.01)):
                for call in (True, False):
                    got = black76(S * math.exp(r * T), K, T, vol, r, call)
                    assert got == pytest.approx(ref_bs(S, K, T, vol, r, call), abs=1e-11)


@settings(max_examples=300, deadline=None)
@given(
    F=st.floats(1e-2, 1e6),
    m=st.floats(0.05, 20.0),
    T=st.floats(-1.0, 10.0),
    vol=st.floats(0.0, 3.0),
    r=st.floats(-0.05, 0.2),
)
def test_put_call_parity(F: float, m: float, T: float, vol: float, r: float) -> None:
    # C - P = e^{-r max(T,0)} (F - K), also for the intrinsic (dead) cases.
    K = F * m
    c, p = black76(F, K, T, vol, r, np.array([True, False]))
    assert c - p == pytest.approx(math.exp(-r * max(T, 0.0)) * (F - K), abs=1e-12 * (F + K))
    assert c >= 0.0
    assert p >= 0.0


def test_dead_options_are_discounted_intrinsic() -> None:
    F = np.array([110.0, 90.0, 110.0, 90.0, 100.0, 110.0])
    T = np.array([0.0, -0.5, 1.0, 1.0, 0.0, 2.0])
    vol = np.array([0.3, 0.3, 0.0, -0.1, 0.3, 0.0])
    r = 0.05
    call = black76(F, 100.0, T, vol, r, True)
    put = black76(F, 100.0, T, vol, r, False)
    disc = np.exp(-r * np.maximum(T, 0.0))
    # by hand: calls max(0, F-100) = 10, 0, 10, 0, 0, 10; puts 0, 10, 0, 10, 0, 0
    np.testing.assert_allclose(call, disc * [10, 0, 10, 0, 0, 10], rtol=1e-15, atol=0)
    np.testing.assert_allclose(put, disc * [0, 10, 0, 10, 0, 0], rtol=1e-15, atol=0)


def test_degenerate_inputs_without_warnings() -> None:
    F = np.array([0.0, 100.0, 100.0, 100.0, 100.0, 100.0, np.inf])
    K = np.array([100.0, 0.0, -5.0, 100.0, 100.0, 100.0, 100.0])
    T = np.array([1.0, 1.0, 1.0, 1e-300, 1.0, 0.0, 1.0])
    vol = np.array([0.2, 0.2, 0.2, 1e-300, 1e200, 0.0, 0.2])
    with np.errstate(all="raise"):
        c = black76(F, K, T, vol, 0.0, True)
        p = black76(F, K, T, vol, 0.0, False)
        g = spot_greeks(F, K, T, vol, 0.0, True)
    # F=0: call 0, put K; K=0: call F; K<0: call F-K; tiny vol*sqrt(T): intrinsic (ATM: 0);
    # infinite vol: call F, put K; expired ATM: 0.
    np.testing.assert_allclose(c[:6], [0.0, 100.0, 105.0, 0.0, 100.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(p[:6], [100.0, 0.0, 0.0, 0.0, 100.0, 0.0], atol=1e-12)
    assert all(np.all(np.isfinite(a[:6])) for a in g)


def test_small_vol_tends_to_intrinsic() -> None:
    F, K, T, r = 105.0, 100.0, 1.0, 0.03
    assert black76(F, K, T, 1e-9, r, True) == pytest.approx(math.exp(-r) * 5.0, abs=1e-12)
    assert black76(F, K, T, 1e-9, r, False) == pytest.approx(0.0, abs=1e-12)


def test_broadcasting_equals_scalar_calls() -> None:
    F = np.array([[80.0], [100.0], [125.0]])
    K = np.array([90.0, 100.0, 110.0, 120.0])
    T = np.array([0.25, 0.5, 0.0, 1.0])
    vol = 0.4
    is_call = np.array([True, False, True, False])
    got = black76(F, K, T, vol, 0.02, is_call)
    assert got.shape == (3, 4)
    greeks = spot_greeks(F, K, T, vol, 0.02, is_call)
    # a scalar call equals its element of the batch bit for bit (same machine, same kernels)
    for i in range(3):
        for j in range(4):
            args = (F[i, 0], K[j], T[j], vol, 0.02, is_call[j])
            assert got[i, j] == black76(*args)
            one = spot_greeks(*args)
            for field in greeks._fields:
                assert getattr(greeks, field)[i, j] == pytest.approx(getattr(one, field))


# ---------------------------------------------------------------- Greeks


def test_hull_greeks_example() -> None:
    # Hull, "The Greek Letters": S0=49, K=50, r=0.05, sigma=0.20, T=20 weeks=0.3846,
    # call: price 2.40, delta 0.522, gamma 0.066, vega 12.1 (per 1.00 of vol),
    # theta -4.31 per year.
    g = spot_greeks(49.0, 50.0, 20.0 / 52.0, 0.20, 0.05, True)
    assert g.price == pytest.approx(2.40, abs=0.005)
    assert g.delta == pytest.approx(0.522, abs=0.0005)
    assert g.gamma == pytest.approx(0.066, abs=0.0005)
    assert g.vega == pytest.approx(12.1, abs=0.05)
    assert g.theta == pytest.approx(-4.31, abs=0.005)


def test_greeks_closed_forms_and_put_relations() -> None:
    S, K, T, vol, r = 100.0, 95.0, 0.75, 0.35, 0.04
    c = spot_greeks(S, K, T, vol, r, True)
    p = spot_greeks(S, K, T, vol, r, False)
    sd = vol * math.sqrt(T)
    d1 = (math.log(S / K) + (r + 0.5 * vol * vol) * T) / sd
    n1 = math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
    assert c.delta == pytest.approx(ref_cdf(d1), abs=1e-15)
    assert c.delta - p.delta == pytest.approx(1.0, abs=1e-15)  # from parity
    assert c.gamma == pytest.approx(n1 / (S * sd), rel=1e-13)
    assert p.gamma == pytest.approx(c.gamma, rel=4 * EPS)
    assert c.vega == pytest.approx(S * n1 * math.sqrt(T), rel=1e-13)
    assert p.vega == pytest.approx(c.vega, rel=4 * EPS)
    # parity at fixed S: C - P = S - K e^{-rT}, so theta_C - theta_P = -r K e^{-rT}
    assert c.theta - p.theta == pytest.approx(-r * K * math.exp(-r * T), rel=1e-12)


greek_args = {
    "S": st.floats(20.0, 200.0),
    "m": st.floats(0.6, 1.6),
    "T": st.floats(0.02, 3.0),
    "vol": st.floats(0.05, 1.5),
    "r": st.floats(-0.02, 0.1),
    "call": st.booleans(),
}


def value(S: float, K: float, T: float, vol: float, r: float, call: bool) -> float:
    return float(black76(S * math.exp(r * T), K, T, vol, r, call))


@settings(max_examples=200, deadline=None)
@given(**greek_args)
def test_greeks_match_central_differences(
    S: float, m: float, T: float, vol: float, r: float, call: bool
) -> None:
    K = S * m
    g = spot_greeks(S, K, T, vol, r, call)
    # the same price, though spot_greeks forms F = S e^{rT} with numpy's exp and `value` with
    # math.exp: F may differ by an ulp, and the price by |delta| <= 1 times that
    noise = 16 * EPS * max(S, K)
    assert g.price == pytest.approx(value(S, K, T, vol, r, call), rel=4 * EPS, abs=noise)
    # absolute tolerances: rounding noise of one price (a few ulps of S and K, amplified by
    # the difference quotient) plus the O(h^2) truncation, bounded relatively
    scale = S * vol * math.sqrt(T)  # natural unit of spot moves
    h = 1e-4 * scale
    delta = (value(S + h, K, T, vol, r, call) - value(S - h, K, T, vol, r, call)) / (2 * h)
    assert g.delta == pytest.approx(delta, rel=1e-6, abs=1e-9 + noise / h)
    h = 1e-3 * scale
    v0, up, dn = (value(s, K, T, vol, r, call) for s in (S, S + h, S - h))
    gamma = (up - 2.0 * v0 + dn) / (h * h)
    assert g.gamma == pytest.approx(gamma, rel=1e-4, abs=1e-9 + 4 * noise / h**2)
    hv = 1e-5 * vol
    vega = (value(S, K, T, vol + hv, r, call) - value(S, K, T, vol - hv, r, call)) / (2 * hv)
    assert g.vega == pytest.approx(vega, rel=1e-6, abs=1e-9 + noise / hv)
    ht = 1e-5 * T
    theta = -(value(S, K, T + ht, vol, r, call) - value(S, K, T - ht, vol, r, call)) / (2 * ht)
    assert g.theta == pytest.approx(theta, rel=1e-5, abs=1e-9 + noise / ht)


def test_dead_greeks() -> None:
    S = np.array([110.0, 90.0, 100.0, 110.0, 90.0, 100.0, 110.0, 90.0])
    T = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    vol = np.array([0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.0, 0.0])
    call = np.array([True, True, True, False, False, False, True, False])
    r, K = 0.05, 100.0
    g = spot_greeks(S, K, T, vol, r, call)
    # intrinsic slopes: ITM call 1, OTM call 0, ATM 0; OTM put 0, ITM put -1, ATM 0;
    # vol 0 with T=1: F = 110 e^{0.05} > K (call ITM), F = 90 e^{0.05} = 94.6 < K (put ITM).
    # exact: the intrinsic slopes are set by branch, not computed
    np.testing.assert_array_equal(g.delta, [1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, -1.0])
    assert not np.any(g.gamma)
    assert not np.any(g.vega)
    # theta of the intrinsic: 0 once expired; at vol 0 the carry -/+ r K e^{-rT}
    carry = r * K * math.exp(-r)
    np.testing.assert_allclose(g.theta, [0, 0, 0, 0, 0, 0, -carry, carry], rtol=1e-15)
    for i in (6, 7):  # consistent with -dV/dT of black76 at vol 0
        ht = 1e-6
        fd = -(value(S[i], K, 1 + ht, 0.0, r, call[i]) - value(S[i], K, 1 - ht, 0.0, r, call[i]))
        assert g.theta[i] == pytest.approx(fd / (2 * ht), rel=1e-7)


# ---------------------------------------------------------------- batching (speed paths)


def test_results_do_not_depend_on_batch_size() -> None:
    # Single elements, small mixed arrays (one tiled pass), larger ones (index split) and long
    # ones (cache-sized pieces) take different routes: every element must come out the same,
    # bit for bit. Exact on every CPU: it compares the module with itself on one machine (the
    # same numpy kernels on the same element), the promise of pricing.py's docstring.
    rng = np.random.default_rng(11)
    n = 70_000
    x = rng.normal(0.0, 3.0, n)
    x[rng.integers(0, n, 60)] = rng.choice([np.nan, np.inf, -np.inf, 0.0, 40.0, -37.6, 6.0], 60)
    F = rng.uniform(1.0, 200.0, n)
    K = rng.uniform(1.0, 200.0, n)
    T = rng.uniform(-0.05, 2.0, n)
    vol = rng.uniform(0.0, 1.5, n)
    call = rng.random(n) < 0.5
    cdf, pdf = norm_cdf(x), norm_pdf(x)
    price, greeks = black76(F, K, T, vol, 0.03, call), spot_greeks(F, K, T, vol, 0.03, call)
    for start, size in ((5, 1), (100, 2), (200, 31), (1000, 300), (3000, 700), (9000, 5000)):
        s = slice(start, start + size)
        assert np.array_equal(norm_cdf(x[s]), cdf[s], equal_nan=True)
        assert np.array_equal(norm_pdf(x[s]), pdf[s], equal_nan=True)
        assert np.array_equal(black76(F[s], K[s], T[s], vol[s], 0.03, call[s]), price[s])
        part = spot_greeks(F[s], K[s], T[s], vol[s], 0.03, call[s])
        for field in greeks._fields:
            assert np.array_equal(getattr(part, field), getattr(greeks, field)[s])
    for i in rng.integers(0, n, 10):
        assert norm_cdf(x[i]) == cdf[i] or math.isnan(cdf[i])
        assert black76(F[i], K[i], T[i], vol[i], 0.03, call[i]) == price[i]


def test_long_broadcast_arrays_by_rows() -> None:
    # A (scenarios, options) grid with per-option strikes and expiries, long enough to be
    # processed in pieces, equals row-by-row pricing; the rate may carry its own axis.
    rng = np.random.default_rng(12)
    S = rng.uniform(50.0, 150.0, (300, 1)) * rng.uniform(0.9, 1.1, (1, 250))
    K = rng.uniform(60.0, 140.0, 250)
    T = rng.uniform(0.0, 1.0, 250)
    call = rng.random(250) < 0.5
    grid = black76(S, K, T, 0.6, 0.02, call)
    greeks = spot_greeks(S, K, T, 0.6, 0.02, call)
    assert grid.shape == (300, 250)
    for row in (0, 137, 299):
        assert np.array_equal(grid[row], black76(S[row], K, T, 0.6, 0.02, call))
        assert np.array_equal(greeks.gamma[row], spot_greeks(S[row], K, T, 0.6, 0.02, call).gamma)
    rates = np.array([[0.0], [0.05]])
    by_rate = black76(S[0], K, T, 0.6, rates, call)
    assert by_rate.shape == (2, 250)
    assert np.array_equal(by_rate[1], black76(S[0], K, T, 0.6, 0.05, call))


def test_nan_in_nan_out_and_no_warnings() -> None:
    nan = np.nan
    with np.errstate(all="raise"):
        assert math.isnan(norm_cdf(nan)) and math.isnan(norm_pdf(nan))
        F = np.array([nan, 100.0, 100.0, 100.0])
        K = np.array([100.0, nan, 100.0, 100.0])
        T = np.array([1.0, 1.0, nan, 1.0])
        r = np.array([0.01, 0.01, 0.01, nan])
        assert np.all(np.isnan(black76(F, K, T, 0.3, r, True)))
        # NaN spot, strike or rate: every Greek NaN too (index 2 is a plain live option)
        g = spot_greeks(F, K, 1.0, 0.3, r, False)
        for got in g:
            assert np.isnan(got[[0, 1, 3]]).all() and np.isfinite(got[2])


def test_norm_pdf_is_exactly_symmetric() -> None:
    x = np.random.default_rng(13).normal(0.0, 5.0, 5000)
    assert np.array_equal(norm_pdf(x), norm_pdf(-x))
