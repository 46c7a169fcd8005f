"""The warm-started liquidation search (core/warm_liquidation.py) gives a full recompute's answer.

Both searches prove f > 0 on every move nearer than their answer and stop on a bracket narrower
than TOL whose far end liquidates, so both answers lie within TOL beyond the same nearest root:
they agree to TOL (2 TOL allowed for rounding at the bracket's ends), and on which sides have no
liquidation at all. The start may come from the "before" of a what-if (the size-slider case) or
from an unrelated book (a misleading start): the proof does not rely on it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_whatif_session import PRICES, random_book, random_trades

from workstation.core.incremental import ColumnMemo
from workstation.core.liquidation import TOL, Liquidation
from workstation.core.model import Position
from workstation.core.report import make_scope
from workstation.core.warm_liquidation import WarmLiquidation
from workstation.core.whatif import compare, with_trades
from workstation.core.whatif_session import WhatIfSession


def _same(warm: tuple[np.ndarray, np.ndarray], cold: tuple[np.ndarray, np.ndarray]) -> None:
    for w, c in zip(warm, cold, strict=True):
        assert np.array_equal(np.isnan(w), np.isnan(c)), (w, c)
        ok = ~np.isnan(c)
        assert np.all(np.abs(w[ok] - c[ok]) <= 2 * TOL), (w, c)


def _method(book, scope: str):
    from workstation.core.methods import method_for

    return method_for(make_scope(book, scope))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(["portfolio", "cross", "isolated"]))
def test_warm_start_from_the_before_equals_a_cold_search(seed: int, mode: str) -> None:
    book = random_book(seed, mode)
    before = Liquidation(_method(book, "account:a0"))
    before.search()
    after_book = with_trades(book, "a0", random_trades(seed, mode))
    after = _method(after_book, "account:a0")
    warm = WarmLiquidation(ColumnMemo(after), before.trail)
    _same(warm.search(), Liquidation(after).search())


@pytest.mark.parametrize("mode", ["portfolio", "cross"])
def test_a_misleading_start_changes_nothing(mode: str) -> None:
    # the trail of another book (other prices, other positions): its samples and probes are
    # only extra samples, every interval is proven again with this book's f
    other = random_book(11, mode)
    start = Liquidation(_method(other, "account:a1"))
    start.search()
    book = random_book(12, mode)
    method = _method(book, "account:a0")
    assert start.trail
    _same(WarmLiquidation(method, start.trail).search(), Liquidation(method).search())


def test_a_dragged_slider_finishes_in_few_batches() -> None:
    """Each step of a size slider starts from the before's samples: its searches end after the
    first batch and at most two refine rounds (a cold search takes about ten), with the figures
    of a full recompute."""
    from test_whatif_session import assert_same

    from workstation.core.report import build_report

    book = random_book(5, "cross")
    session = WhatIfSession(book, "account:a0")
    session.before_report  # noqa: B018
    calls: list[int] = []
    original = Liquidation._eval

    def counted(self, sid, d):
        calls.append(d.size)
        return original(self, sid, d)

    Liquidation._eval = counted  # type: ignore[method-assign]
    try:
        for q in (-2.0, -2.01, -2.02):
            trade = Position("h", "perpetual", "ETH", q, PRICES["ETH"], "linear")
            calls.clear()
            res = compare(session, "a0", [trade])
            assert len(calls) <= 4, calls  # old brackets' ends, first batch, two refine rounds
            assert_same(res.after, build_report(with_trades(book, "a0", [replace(trade)]), "account:a0"))
    finally:
        Liquidation._eval = original  # type: ignore[method-assign]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_risk_array_after_takes_the_befores_option_arrays(seed: int) -> None:
    """A risk-array account (the shipped `default` profile) with drafts that add no option: the
    after's closed-form path takes the before's prepared option arrays, and every figure and
    liquidation equals a full recompute's."""
    from test_whatif_session import assert_same

    from workstation.core.report import build_report

    book = random_book(seed, "portfolio")
    for acc in book.accounts:
        acc.profile = "default"
    session = WhatIfSession(book, "account:a0")
    session.before_report  # noqa: B018
    for q in (1.5, -2.0):
        trades = [Position("h", "perpetual", "BTC", q, PRICES["BTC"], "linear"),
                  Position("f", "spot", "SOL", abs(q), PRICES["SOL"], "linear")]
        res = compare(session, "a0", trades)
        assert res.prepared.method.fast().oc is session.before.method.fast().oc
        assert_same(res.after, build_report(with_trades(book, "a0", trades, res.legs), "account:a0"))
    option = Position("o", "option", "ETH", -1.0, 100.0, "linear", random_book(seed, "portfolio").as_of.replace(
        month=12, day=25), "call", 3_200.0, 0.6)
    res = compare(session, "a0", [option])
    assert res.prepared.method.fast().oc is not session.before.method.fast().oc
    assert_same(res.after, build_report(with_trades(book, "a0", [option], res.legs), "account:a0"))
