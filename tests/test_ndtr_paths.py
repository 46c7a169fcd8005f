"""The normal CDF's two paths: scipy's ndtr, and the C library's erfc on small arrays while
scipy.special is not loaded.

The same value may come from either path, so they must agree to a few ulp (absolute, and
relative down to N = 1e-20, below which scipy's Cephes erfc itself loses digits: its exp(-z^2)
is not split). A book whose arrays are all small never imports scipy.special (its import costs
more than numpy's); once it is loaded, every array takes it (this test module loads it)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr as scipy_ndtr

from workstation.core import pricing

EPS = np.finfo(float).eps
ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "demo-portfolio.json"


def _fresh(code: str) -> list:
    """The JSON list `code` prints, run in a fresh interpreter (scipy.special not yet loaded)."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_two_paths_agree() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([np.linspace(-9.0, 9.0, 1801), rng.normal(0.0, 3.0, 200)])
    small = pricing.c_erfc_ndtr(x)
    np.testing.assert_allclose(small, scipy_ndtr(x), rtol=8 * EPS, atol=2 * EPS)
    # scipy.special is loaded here: every array takes it, small ones too
    np.testing.assert_array_equal(pricing.ndtr(x[:10]), scipy_ndtr(x[:10]))
    # an independent value: N(x) = erfc(-x / sqrt 2) / 2 element by element; x / sqrt 2 and
    # x * sqrt(1/2) round apart by an ulp, which erfc's slope turns into up to 2 z^2 ulp (z = 6.4
    # at x = -9: about 1e-14 relative)
    ref = [0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x]
    np.testing.assert_allclose(small, ref, rtol=2e-14, atol=2 * EPS)


def test_small_path_special_values_shape_and_out() -> None:
    x = np.array([[0.0, np.inf, -np.inf], [1e300, -1e300, np.nan]])
    got = pricing.c_erfc_ndtr(x)
    assert got.shape == (2, 3)
    np.testing.assert_array_equal(got.ravel()[:5], [0.5, 1.0, 0.0, 1.0, 0.0])
    assert math.isnan(got[1, 2])
    out = np.empty((2, 3))
    assert pricing.c_erfc_ndtr(x, out=out) is out
    np.testing.assert_array_equal(out.ravel()[:5], [0.5, 1.0, 0.0, 1.0, 0.0])
    assert pricing.c_erfc_ndtr(np.asarray(-1.0)).shape == ()
    # N(-1) = 0.15865525393145707 (textbook)
    assert float(pricing.c_erfc_ndtr(np.asarray(-1.0))) == pytest.approx(0.15865525393145707, rel=4 * EPS)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-9.0, max_value=9.2))
def test_paths_agree_relative_in_the_lower_tail(t: float) -> None:
    # N(-t) down to about 1e-20: Cephes's erfc computes exp(-z^2) unsplit (z = t / sqrt 2), whose
    # rounding of z^2 costs up to 2 z^2 = t^2 ulp relative; the C library's is within an ulp
    x = np.full(3, -t)
    np.testing.assert_allclose(pricing.c_erfc_ndtr(x), scipy_ndtr(x), rtol=(16.0 + t * t) * EPS)


def test_a_small_book_prices_without_importing_scipy_special() -> None:
    # the demo book holds options on several venues: every report prices them (liquidation
    # search included) through arrays small enough, and few enough, for the C library's erfc
    code = ("import sys, json; from workstation.core.portfolio_io import read_portfolio; "
            "from workstation.core.report import build_reports; "
            f"p = read_portfolio({str(DEMO)!r}); r = build_reports(p); "
            "print(json.dumps([len(r), 'scipy.special' in sys.modules, "
            "sum(q.kind == 'option' for a in p.accounts for q in a.positions)]))")
    n_reports, imported, options = _fresh(code)
    assert n_reports >= 3 and options >= 3
    assert imported is False


def test_a_long_array_loads_scipy_and_every_array_takes_it_then() -> None:
    code = ("import sys, json, numpy as np; from workstation.core import pricing; "
            "x = np.linspace(-5.0, 5.0, 7); a = pricing.ndtr(x); before = 'scipy.special' in sys.modules; "
            "pricing.ndtr(np.zeros(pricing._SMALL + 1)); from scipy.special import ndtr; "
            "print(json.dumps([before, 'scipy.special' in sys.modules, bool((pricing.ndtr(x) == ndtr(x)).all()), "
            "a.tolist(), pricing.ndtr(x).tolist()]))")
    before, after, same, small, large = _fresh(code)
    assert before is False and after is True and same is True
    np.testing.assert_allclose(small, large, rtol=8 * EPS, atol=2 * EPS)


def test_the_slow_path_stops_at_its_budget_and_scipy_takes_over() -> None:
    """Rent or buy: arrays of up to 65,536 elements take the C library's erfc until a million
    elements have gone that way (about 85 ms, less than scipy.special's import); the array that
    would pass the budget loads scipy.special, and every array takes it from then on."""
    code = ("import sys, json, numpy as np; from workstation.core import pricing; "
            "x = np.linspace(-6.0, 6.0, 62_500); seen = []\n"
            "for _ in range(17):\n"
            "    pricing.ndtr(x); seen.append('scipy.special' in sys.modules)\n"
            "print(json.dumps([seen, pricing._slow_elements, pricing._SMALL, pricing._BUDGET]))")
    seen, slow, small, budget = _fresh(code)
    assert (small, budget) == (65_536, 1_000_000)
    assert seen == [False] * 16 + [True]  # 16 x 62,500 = 1,000,000 the slow way; the 17th passes it
    assert slow == 1_000_000


def test_the_slow_path_in_pieces_is_the_scalar_formula_exactly() -> None:
    """`c_erfc_ndtr` works in pieces of 4,096 elements (the GIL can pass between them): every
    element is still 0.5 erfc(x sqrt(1/2)), bit for bit, across the pieces' edges, whatever the
    array's shape, into `out` as well."""
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 3.0, (3, 4097))  # 12,291 elements: three full pieces and a partial one
    want = np.array([0.5 * math.erfc(v * -math.sqrt(0.5)) for v in x.ravel()]).reshape(x.shape)
    got = pricing.c_erfc_ndtr(x)
    assert got.shape == x.shape
    np.testing.assert_array_equal(got, want)
    out = np.empty_like(x)
    assert pricing.c_erfc_ndtr(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    assert pricing.c_erfc_ndtr(np.zeros(0)).shape == (0,)
