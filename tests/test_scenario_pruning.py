"""Scenario pruning of the risk array's moved states (`methods/risk_array_prune.py`): the
scenarios skipped cannot hold a column's least P&L, so every figure is the one the full
evaluation gives (issue 14: the liquidation search evaluates nearby moves again and again).

- the slope bound: a column's option sum O_s moves by at most W_s |x - x'| (sampled);
- on random books (thresholds lowered so that small books prune too) the report, liquidation
  included, equals the one without pruning to a relative 1e-12, and moved states near earlier
  ones equal the full evaluation while scenarios were skipped;
- on a 300-position book with the shipped thresholds the search prunes, with the same figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workstation.core.methods import method_for
from workstation.core.methods import risk_array_fast as RAF
from workstation.core.pricing import ndtr
from workstation.core.report import build_report, make_scope

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "benchmarks"))
import liquidation_books as LX  # noqa: E402
from bench_margin import synthetic_book  # noqa: E402
from conftest import assert_documents_close  # noqa: E402

_SETTINGS = settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _close(pruned, full) -> None:
    assert_documents_close(pruned, full, names=("pruned", "full"))


def _reports(p, scope, monkeypatch):
    with np.errstate(all="ignore"):
        pruned = build_report(p, scope)
        monkeypatch.setattr(RAF.RiskArrayFast, "prune", False)
        try:
            full = build_report(p, scope)
        finally:
            monkeypatch.setattr(RAF.RiskArrayFast, "prune", True)
    return pruned, full


class _Count:
    """Cells evaluated by the pruned path, and those the full one would have."""

    def __init__(self, monkeypatch):
        self.kept = self.all = 0
        real = RAF.kept_cells

        def counting(cand, *args):
            self.kept += int(cand.sum())
            self.all += cand.size
            return real(cand, *args)

        monkeypatch.setattr(RAF, "kept_cells", counting)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_an_option_sum_moves_no_faster_than_its_slope_bound(seed):
    # O(x) = sum w1 (1 + x) N(a1 + ln(1 + x) b1) - w2 N(a1 + ln(1 + x) b1 - ssd); |O'| <= sum |w1|
    rng = np.random.default_rng(seed)
    n = 12
    s = rng.choice([-1.0, 1.0], n)
    q = rng.normal(0, 5, n)
    F, K = 100.0, rng.uniform(50, 150, n)
    sd = rng.uniform(0.01, 1.5, n)
    w1, w2 = s * q * F, s * q * K
    a1 = s * (np.log(F / K) / sd + 0.5 * sd)

    def total(x):
        d = a1 + np.log1p(x) * s / sd
        return float(np.sum(w1 * (1 + x) * ndtr(d) - w2 * ndtr(d - s * sd)))

    W = np.abs(w1).sum()
    x = rng.uniform(-0.95, 4.0, 30)
    xr = np.clip(x + rng.normal(0, 0.05, 30), -0.99, 5.0)
    for a, b in zip(x, xr, strict=True):
        assert abs(total(a) - total(b)) <= W * abs(a - b) * (1 + 1e-9) + 1e-9 * W


@pytest.mark.parametrize("mode", ["portfolio"])
def test_pruned_report_equals_the_full_one_on_random_books(mode, monkeypatch):
    monkeypatch.setattr(RAF, "_PRUNE_CELLS", 0)  # small books prune too
    count = _Count(monkeypatch)

    @_SETTINGS
    @given(p=LX.books(mode))
    def check(p):
        pruned, full = _reports(p, "account:a", monkeypatch)
        _close(pruned, full)

    check()
    assert 0 < count.kept < count.all  # scenarios were skipped on the way


def test_moved_states_near_earlier_ones_equal_the_full_evaluation(monkeypatch):
    monkeypatch.setattr(RAF, "_PRUNE_CELLS", 0)
    count = _Count(monkeypatch)

    @_SETTINGS
    @given(p=LX.books("portfolio"), seed=st.integers(0, 2**16))
    def check(p, seed):
        m = method_for(make_scope(p, "account:a"))
        rng = np.random.default_rng(seed)
        base = rng.uniform(-0.9, 3.0, (3, m.n_assets))
        batches = [base] + [base + rng.normal(0, 10.0 ** -k, base.shape) for k in (3, 5, 8, 12)]
        onlys = (None, tuple(m.assets[:1]))
        with np.errstate(all="ignore"):
            fast = m.fast()
            monkeypatch.setattr(RAF.RiskArrayFast, "prune", False)
            full = [[fast.parts(X, only) for only in onlys] for X in batches]
            monkeypatch.setattr(RAF.RiskArrayFast, "prune", True)
            for X, F in zip(batches, full, strict=True):
                for only, ref in zip(onlys, F, strict=True):
                    P = fast.parts(X, only)
                    np.testing.assert_allclose(P.equity, ref.equity, rtol=1e-12, atol=0)
                    for k, v in ref.terms.items():
                        np.testing.assert_allclose(P.terms[k], v, rtol=1e-12, atol=0)

    check()
    assert 0 < count.kept < 0.5 * count.all  # most scenarios of the nearby batches were skipped


def test_a_large_book_prunes_with_the_shipped_thresholds_and_keeps_every_figure(monkeypatch):
    count = _Count(monkeypatch)
    p = synthetic_book(300)
    pruned, full = _reports(p, "account:book", monkeypatch)
    _close(pruned, full)
    assert pruned["liquidation"]["all"]["down_pct"] is not None  # the book has a root to refine
    assert 0 < count.kept < 0.5 * count.all  # the refine rounds skipped most scenarios


def test_a_what_if_prunes_on_the_shared_option_arrays_with_the_same_figures(monkeypatch):
    # the after of a what-if that adds no option takes the before's prepared option arrays
    # (RiskArrayFast(options=...)); the liquidation warm start evaluates near the before's moves
    from dataclasses import replace

    from workstation.core.model import Position
    from workstation.core.suggest import suggest
    from workstation.core.whatif import compare
    from workstation.core.whatif_session import WhatIfSession

    monkeypatch.setattr(RAF, "_PRUNE_CELLS", 0)
    count = _Count(monkeypatch)
    book = synthetic_book(200)
    perp = Position("draft", "perpetual", "ETH", -3.0, 3012.5, "linear")
    hedge = Position("h", "perpetual", "BTC", 1.0, 91_250.0, "linear")

    def run():
        with np.errstate(all="ignore"):
            s = WhatIfSession(book, "account:book")
            out = [compare(s, "book", [replace(perp, quantity=q)]).as_dict() for q in (-3.0, -30.0)]
            out.append(suggest(book, "book", hedge, "liquidation", session=s))
        return out

    pruned = run()
    assert count.kept < count.all  # scenarios were skipped
    monkeypatch.setattr(RAF.RiskArrayFast, "prune", False)
    full = run()
    _close(pruned, full)
