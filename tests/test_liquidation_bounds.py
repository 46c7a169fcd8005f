"""The curvature bounds behind the exact liquidation search really bound (issue 10, deliverable 2).

What the search uses (`methods/bounds.py`): on an interval [x0, x1] between kinks, `curvature`
returns M with f(x) >= chord(x) - M (x - x0)(x1 - x) / 2. Checked here, against values computed
by the methods' own revaluation (`plain_parts`, every position repriced) on a fine grid:

- every method (cross, isolated, each portfolio method of `PORTFOLIO_METHODS` on its shipped
  profile and on variants that switch its charges on), every search (each column alone, all
  together), random intervals (around kinks, strikes and anywhere): the certificate holds, and
  the bound is finite (the search proves rather than samples);
- each building block by finite differences of an independent computation: the gamma of
  `OptionCurves` with forward slopes (Black-76 from `pricing.black76`), the slope, USD delta and
  vega derivatives of `bounds_greeks` (`pricing.spot_greeks`), PMRM_2's skew-row gamma with the
  forward-dependent vol (the method's own `skew_vols`), and the Lipschitz constant of
  `units.hedged_spread`.

Finite differences use a step well inside the function's natural scale (vol x sqrt(T) in log
price) and compare with a relative tolerance plus the differences' own rounding.
"""

from __future__ import annotations

import math
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from workstation.core.book import Book
from workstation.core.liquidation import DOWN_LIMIT, UP_LIMIT
from workstation.core.methods import PORTFOLIO_METHODS, method_for
from workstation.core.methods.bounds import OptionCurves
from workstation.core.methods.bounds_greeks import Greeks1D, state_slopes
from workstation.core.methods.pmrm2_book import SKEW_ABS, SKEW_LINEAR, effective_spot, fixing_phi
from workstation.core.methods.pmrm2_bounds import pmrm2_bounds
from workstation.core.methods.units import hedged_spread
from workstation.core.model import Account, Portfolio, Position, Quote
from workstation.core.pricing import black76, spot_greeks
from workstation.core.report import make_scope

sys.path.insert(0, str(Path(__file__).resolve().parent))
import liquidation_books as LB

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- the certificate, every method
def _f(m, j: int | None, x: np.ndarray) -> np.ndarray:
    X = np.zeros((x.size, m.n_assets))
    if j is None:
        X[:, m.assets] = x[:, None]
    else:
        X[:, j] = x
    with np.errstate(all="ignore"):
        P = m.plain_parts(X, None)
        return m.f_all(P) if j is None else m.f_single(P)[:, j]


def _bound(m, j: int | None, lo: float, hi: float, need: float) -> float:
    if j is None:
        M = m.curvature(np.array([lo]), np.array([hi]), True, np.array([need]))
        return float(M[0])
    L, H, N = np.zeros((1, m.n_assets)), np.zeros((1, m.n_assets)), np.full((1, m.n_assets), np.inf)
    L[0, j], H[0, j], N[0, j] = lo, hi, need
    return float(m.curvature(L, H, False, N)[0, j])


def _intervals(m, j: int | None, rng: np.random.Generator, n: int) -> list[tuple[float, float]]:
    """Random intervals inside the searched range that hold no kink: around kinks, around
    the moves that put an option at its strike, and anywhere."""
    kinks = m.kinks()
    ks = np.unique(np.concatenate(list(kinks.values()))) if j is None and kinks else \
        np.asarray(kinks.get(j, ()) if j is not None else (), dtype=float)
    book = m.book
    opt = book.is_option & ((book.und == j) if j is not None else True)
    strikes = book.strike[opt] / (book.spot[opt] * book.growth[opt]) - 1.0
    centres = np.concatenate([ks, strikes])
    out = []
    while len(out) < n:
        r = rng.random()
        if r < 0.4 and centres.size:
            a = float(rng.choice(centres)) + float(rng.normal(0.0, 0.01))
        elif r < 0.7:
            a = float(rng.normal(0.0, 0.2))
        else:
            a = float(rng.uniform(DOWN_LIMIT, UP_LIMIT))
        w = 10 ** rng.uniform(-5, 0)
        lo, hi = max(a - w / 2, DOWN_LIMIT), min(a + w / 2, UP_LIMIT)
        inside = ks[(ks > lo - 1e-12) & (ks < hi + 1e-12)] if ks.size else ks
        if inside.size:  # keep the piece before the first kink
            hi = float(inside[0]) - 1e-10
        if hi > lo + 1e-9:
            out.append((lo, hi))
    return out


def _check_certificate(p: Portfolio, label: str, seed: int = 3, per_search: int = 4) -> None:
    m = method_for(make_scope(p, "account:a"))
    if not m.assets:
        return
    rng = np.random.default_rng(seed)
    scale = abs(m.equity()) + abs(m.requirement()[1]) + 1.0
    slack = 2.0 * m.f_slack()
    for j in [None, *m.assets]:
        for lo, hi in _intervals(m, j, rng, per_search):
            x = np.linspace(lo, hi, 121)
            f = _f(m, j, x)
            if not np.all(np.isfinite(f)):
                continue
            need = float(10 ** rng.uniform(-3, 9)) if rng.random() < 0.5 else np.inf
            M = _bound(m, j, lo, hi, need)
            name = "all" if j is None else m.book.assets[j]
            assert np.isfinite(M), f"{label} {name}: no bound on [{lo:.6g}, {hi:.6g}]"
            chord = f[0] + (f[-1] - f[0]) * (x - lo) / (hi - lo)
            room = 0.5 * M * (x - lo) * (hi - x)
            tol = 1e-10 * scale + 1e-9 * np.abs(f).max() + slack
            excess = float((chord - f - room).max())
            assert excess <= tol, (f"{label} {name}: on [{lo:.9g}, {hi:.9g}] f dips {excess:.3g} below "
                                   f"chord - M (x - x0)(x1 - x) / 2 (M = {M:.6g})")


@_SETTINGS
@given(p=LB.books("cross"))
def test_certificate_cross(p):
    _check_certificate(p, "cross")


@_SETTINGS
@given(p=LB.books("isolated"))
def test_certificate_isolated(p):
    _check_certificate(p, "isolated")


@pytest.mark.parametrize("method", sorted(PORTFOLIO_METHODS))
def test_certificate_portfolio(method):
    @_SETTINGS
    @given(p=LB.books("portfolio", method))
    def check(p):
        _check_certificate(p, f"portfolio/{method}")

    check()


def test_certificate_catches_a_wrong_bound():
    # the check has teeth: a long straddle one hour out is convex near its strike, and half
    # its gamma is not an upper bound there
    pos = [Position(id=f"s{r}", kind="option", underlying="BTC", quantity=1.0, entry_price=0.0,
                    expiry=LB.AS_OF + timedelta(hours=1), right=r, strike=60_000.0, vol=0.5)
           for r in ("call", "put")]
    p = Portfolio(as_of=LB.AS_OF, market={"BTC": Quote(60_000.0, 0.5), "USDT": Quote(1.0)},
                  accounts=[Account(id="a", margin_mode="cross", collateral={"USDT": 10.0}, positions=pos)])
    m = method_for(make_scope(p, "account:a"))
    true = _bound(m, 0, -0.002, 0.002, np.inf)
    x = np.linspace(-0.002, 0.002, 121)
    f = _f(m, 0, x)
    chord = f[0] + (f[-1] - f[0]) * (x + 0.002) / 0.004
    assert (chord - f - 0.5 * true * (x + 0.002) * (0.002 - x)).max() <= 1e-9 * abs(f).max()
    assert (chord - f - 0.25 * true * (x + 0.002) * (0.002 - x)).max() > 0  # half the bound fails


# ---------------------------------------------------------------- building blocks
_PORTFOLIO = Portfolio(as_of=LB.AS_OF, market={"X": Quote(1.0), "USDT": Quote(1.0)}, accounts=[])


def _one_option(F0: float, K: float, vol: float, hours: float, rate: float, call: bool) -> Book:
    pos = Position(id="o", kind="option", underlying="X", quantity=1.0, entry_price=0.0,
                   expiry=LB.AS_OF + timedelta(hours=hours), right="call" if call else "put", strike=K, vol=vol)
    p = Portfolio(as_of=LB.AS_OF, market={"X": Quote(F0, vol), "USDT": Quote(1.0)}, accounts=[], rate=rate)
    return Book.from_positions([("a", pos)], p)


@st.composite
def _options(draw):
    F0 = draw(st.floats(50.0, 100_000.0))
    K = F0 * math.exp(draw(st.floats(-0.6, 0.6)))
    vol = draw(st.floats(0.05, 3.0))
    hours = draw(st.sampled_from([0.5, 3.0, 30.0, 240.0, 2_000.0, 9_000.0]))
    rate = draw(st.floats(-0.02, 0.1))
    call = draw(st.booleans())
    lo = draw(st.floats(-0.9, 2.0))
    width = 10 ** draw(st.floats(-4.0, 0.0))
    kappa = draw(st.sampled_from([1.0, 1.0, 0.5, 0.05, 1.3]))
    return F0, K, vol, hours, rate, call, lo, min(lo + width, 4.0), kappa


def _fd_points(lo: float, hi: float, scale: float) -> tuple[np.ndarray, float]:
    """Points of [lo, hi] and a central-difference step that stays inside it."""
    d = min(1e-3 * scale, (hi - lo) / 5.0)
    return np.linspace(lo + d, hi - d, 41), d


def _within(num: np.ndarray, lo_b: np.ndarray | float, hi_b: np.ndarray | float, noise: np.ndarray | float) -> None:
    tol = 1e-4 * np.maximum(np.abs(lo_b), np.abs(hi_b)) + noise
    assert np.all(num <= hi_b + tol), (num.max(), hi_b)
    assert np.all(num >= lo_b - tol), (num.min(), lo_b)


@settings(max_examples=200, deadline=None)
@given(o=_options())
# a forward slope past 1 takes the forward through 0 inside the interval (found by a fresh run):
# the differences are taken where it is positive, the engine's option being intrinsic below
@example(o=(50.0, 50.0, 1.0, 9000.0, 0.0, False, -0.8125, -0.7125, 1.3))
def test_gamma_with_forward_slope_bounds_second_differences(o):
    F0, K, vol, hours, rate, call, lo, hi, kappa = o
    b = _one_option(F0, K, vol, hours, rate, call)
    g = b.growth[0]
    oc = OptionCurves.build(None, fwd=np.array([[F0 * g]]), kappa=np.array([[kappa]]), book=b)  # type: ignore[arg-type]
    (_, sup, inf), = list(oc.sup_inf(slice(None), np.array([lo]), np.array([hi])))
    T = b.tte[0]
    w = vol * math.sqrt(T)
    # the bounds hold over [lo, hi]; Black-76 is sampled where the forward F0 g (1 + kappa x)
    # is positive (at or below 0 the engine takes the option as intrinsic: gamma 0)
    lo_fd = max(lo, (1e-3 - 1.0) / kappa)
    assume(hi - lo_fd > 1e-6)
    x, d = _fd_points(lo_fd, hi, min(w, 1.0) * (1 + kappa * lo_fd) / kappa)

    def V(z):
        return black76(F0 * g * (1 + kappa * z), K, T, vol, rate, call)

    v0 = V(x)
    num = (V(x + d) - 2 * v0 + V(x - d)) / d**2
    _within(num, float(inf[0, 0, 0]), float(sup[0, 0, 0]), 1e-13 * F0 / d**2)


@settings(max_examples=200, deadline=None)
@given(o=_options())
def test_greek_suprema_bound_the_greeks(o):
    F0, K, vol, hours, rate, call, lo, hi, _ = o
    b = _one_option(F0, K, vol, hours, rate, call)
    oc = OptionCurves.build(None, book=b)  # type: ignore[arg-type]
    G = Greeks1D(oc, slice(None))
    los, his = np.array([lo]), np.array([hi])
    T, r = b.tte[0], b.rates[0]
    w = vol * math.sqrt(T)
    S0 = F0  # the book's price: F = S0 * growth
    x, d = _fd_points(lo, hi, min(w, 1.0) * (1 + lo))

    def greeks(z):
        S = S0 * (1 + z)
        return S, spot_greeks(S * b.growth[0] * math.exp(-r * T), K, T, vol, r, call)

    _, gk = greeks(x)
    scale = b.growth[0] * math.exp(-r * T)  # dS'/dS
    slope = np.abs(S0 * gk.delta * scale)  # dV/dx
    assert np.all(slope <= G.slope(los, his)[0, 0] * (1 + 1e-9) + 1e-12 * F0)

    def D(z):  # USD delta S dV/dS
        Sz, gz = greeks(z)
        return Sz * gz.delta * scale

    dD = (D(x + d) - D(x - d)) / (2 * d)
    d2D = (D(x + d) - 2 * D(x) + D(x - d)) / d**2
    _within(np.abs(dD), 0.0, G.delta_slope(los, his)[0, 0], 1e-12 * F0 / d)
    _within(np.abs(d2D), 0.0, G.delta_curvature(los, his)[0, 0], 1e-12 * F0 / d**2)
    assert np.all(np.abs(D(x)) <= G.delta(los, his)[0, 0] * (1 + 1e-9))

    def vega(z):
        return greeks(z)[1].vega

    sqrt_t = np.array([math.sqrt(T)])
    dv = (vega(x + d) - vega(x - d)) / (2 * d)
    _within(np.abs(dv), 0.0, G.vega_slope(los, his, sqrt_t)[0, 0], 1e-12 * F0 / d)
    assert np.all(np.abs(vega(x)) <= G.vega(los, his, sqrt_t)[0, 0] * (1 + 1e-9) + 1e-12 * F0)
    st_slope = state_slopes(oc, slice(None), los, his)[0, 0, 0]
    assert np.all(slope <= st_slope * (1 + 1e-9) + 1e-12 * F0)


def _skew_method(hours: float, strike: float, vol: float, call: bool, window: float | None):
    prof = {"portfolio": {"skew_shock": {"linear_scale_cap": 0.3, "linear_cbase": -0.05, "abs_scale_cap": 0.25,
                                         "abs_cbase": -0.05, "min_k_star": 0.02, "min_width_scale": 4.0,
                                         "vol_param_static": 0.6, "vol_param_scale": -0.1}}}
    if window is not None:
        prof["portfolio"]["forward_fixing_window"] = window
    pos = Position(id="o", kind="option", underlying="BTC", quantity=1.0, entry_price=0.0,
                   expiry=LB.AS_OF + timedelta(hours=hours), right="call" if call else "put", strike=strike, vol=vol)
    p = Portfolio(as_of=LB.AS_OF, market={"BTC": Quote(60_000.0, vol), "USDC": Quote(1.0)},
                  accounts=[Account(id="a", margin_mode="portfolio", collateral={"USDC": 1e5}, positions=[pos],
                                    profile="derive-pmrm2")], profiles={"derive-pmrm2": prof})
    return method_for(make_scope(p, "account:a"))


@settings(max_examples=120, deadline=None)
@given(hours=st.sampled_from([0.3, 2.0, 30.0, 500.0, 5_000.0]), k=st.floats(-0.3, 0.3), vol=st.floats(0.2, 1.5),
       call=st.booleans(), kind=st.sampled_from([SKEW_LINEAR, SKEW_ABS]), lo=st.floats(-0.5, 0.5),
       width=st.floats(-4.0, -0.5), window=st.sampled_from([None, 7_200.0]))
def test_skew_row_gamma_and_kinks_bound_the_skew_value(hours, k, vol, call, kind, lo, width, window):
    # PMRM_2's skew rows price at a vol that moves with the forward: V^q(x) by the method's own
    # skew_vols; between its kinks it lies within [inf, sup] gamma of its chord, and across
    # them within that plus the kinks' slope jumps J (the certificate, both ways)
    m = _skew_method(hours, 60_000.0 * math.exp(k), vol, call, window)
    b = pmrm2_bounds(m)
    ex, ob = b.ex, b.ex.ob
    hi = lo + 10**width
    sup, inf, J, vslope = b._skew(slice(0, 1), kind, np.array([lo]), np.array([hi]))
    x = np.linspace(lo, hi, 161)
    so = ob.spot[None, :] * (1.0 + x[:, None])
    fwd = effective_spot(ob, so, fixing_phi(ob, m.x)) * ob.growth
    v = m.position_values(ob, so, ex.skew_vols(fwd, kind))[:, 0]
    chord = v[0] + (v[-1] - v[0]) * (x - lo) / (hi - lo)
    ab = (x - lo) * (hi - x)
    h = hi - lo
    noise = 1e-9 * np.abs(v).max() + 1e-7
    assert np.all(chord - v <= (0.5 * sup[0, 0] + J[0, 0] / h) * ab + noise)
    assert np.all(v - chord <= (-0.5 * inf[0, 0] + J[0, 0] / h) * ab + noise)
    assert np.all(np.abs(np.diff(v) / np.diff(x)) <= vslope[0] * (1 + 1e-9) + noise / np.diff(x).min())


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 6), data=st.data())
def test_hedged_spread_is_lipschitz_and_homogeneous(n, data):
    # |H(a) - H(b)| <= 2 (t_max - t_min) sum |a - b| (unit_bounds: the spreads' Lipschitz bound);
    # H(lambda a) = lambda H(a) (the delta spread in USD deltas)
    t = np.array(data.draw(st.lists(st.floats(0.0, 2.0), min_size=n, max_size=n)))
    a = np.array(data.draw(st.lists(st.floats(-10.0, 10.0), min_size=n, max_size=n)))
    b = a + np.array(data.draw(st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n)))
    lam = data.draw(st.floats(0.01, 100.0))
    Ha, Hb = hedged_spread(t, a[None, :])[0], hedged_spread(t, b[None, :])[0]
    span = t.max() - t.min()
    assert abs(Ha - Hb) <= 2.0 * span * np.abs(a - b).sum() * (1 + 1e-12) + 1e-12
    assert math.isclose(hedged_spread(t, lam * a[None, :])[0], lam * Ha, rel_tol=1e-9, abs_tol=1e-12)


def _corr_shape(C: np.ndarray):
    from types import SimpleNamespace

    from workstation.core.methods.bounds_corr import _shape

    n = C.shape[0]
    m = SimpleNamespace(book=SimpleNamespace(und=np.arange(n)), coll_col=np.zeros(0, dtype=np.int64),
                        driver=np.arange(n))
    return _shape(m, C)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(2, 5), data=st.data())
def test_correlation_lipschitz_constant_bounds_the_gradient(n, data):
    # sqrt(max(0, L' C L)) on losses L >= 0: for a PSD C |dA/dL_u| <= sqrt(C_uu); for a C that
    # `_shape` calls copositive, <= K_u (bounds_corr.correlated_bound). Checked by central
    # differences of A itself on random L >= 0, away from the boundary of the orthant.
    rho = data.draw(st.lists(st.floats(-1.0, 1.0), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2))
    C = np.eye(n)
    C[np.triu_indices(n, 1)] = rho
    C = np.triu(C) + np.triu(C, 1).T
    kind, K, _ = _corr_shape(C)
    if kind == "none":
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(20):
        L = rng.uniform(0.0, 1.0, n) ** 3 + 1e-3
        for u in range(n):
            d = 1e-7
            e = np.zeros(n)
            e[u] = d

            def A(v):
                return math.sqrt(max(0.0, float(v @ C @ v)))

            g = (A(L + e) - A(L - e)) / (2 * d)
            assert abs(g) <= K[u] * (1 + 1e-6) + 1e-6, (kind, C, L, u, g, K[u])


def test_correlation_shapes():
    # two assets at -0.5 and a third at the default 1 with both: not PSD (v = (1, 1, -1) gives
    # v' C v = -2), but C' = [[1, -0.5, 0], [-0.5, 1, 0], [0, 0, 1]] has smallest eigenvalue 0.5:
    # copositive, K_u = |C_u| / sqrt(0.5)
    C = np.array([[1.0, -0.5, 1.0], [-0.5, 1.0, 1.0], [1.0, 1.0, 1.0]])
    kind, K, _ = _corr_shape(C)
    assert kind == "copositive"
    np.testing.assert_allclose(K, np.sqrt([2.25, 2.25, 3.0] / np.float64(0.5)), rtol=1e-9)
    assert _corr_shape(np.array([[1.0, 0.6], [0.6, 1.0]]))[0] == "psd"
    # -1 between two assets that both correlate +1 with a third: C' singular, no bound
    assert _corr_shape(np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]))[0] == "none"
