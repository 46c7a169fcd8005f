"""The venue methods' shared primitives (workstation/core/methods/units.py) by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.core.methods.units import allocate, hedged_spread, netted, progressive


def test_progressive_scaling_okx_example() -> None:
    # OKX: a raw charge of 30,000 at x1 to 10,000 and x2 above -> 10,000 + 2 x 20,000 = 50,000
    steps = ((10_000.0, 1.0), (np.inf, 2.0))
    assert progressive(np.array([30_000.0, 5_000.0]), steps) == pytest.approx([50_000.0, 5_000.0])


def test_netted_charge_allocation_adds_up() -> None:
    d = np.array([3.0, -1.0, 2.0, 5.0])
    group = np.array([0, 0, 1, 1])
    nets = netted(d, group, 2)
    assert nets.tolist() == [2.0, 7.0]
    charge = np.array([0.1, 0.2]) * np.abs(nets)
    shares = allocate(charge, d, group, nets)
    assert shares.sum() == pytest.approx(charge.sum(), rel=1e-15)
    assert shares[1] < 0  # the hedging leg takes a negative share


def test_hedged_spread_by_hand() -> None:
    # long 3 at day 10, short 1 at day 0 and 5 at day 40: pairs (10, 0) x 1 and (10, 40) x 2
    assert hedged_spread(np.array([0.0, 10.0, 40.0]), np.array([[-1.0, 3.0, -5.0]]))[0] == \
        pytest.approx(10 * 1 + 30 * 2)
    assert hedged_spread(np.array([0.0, 10.0]), np.array([[1.0, 2.0]]))[0] == 0.0  # nothing hedged


def _greedy(times, row):
    order = np.argsort(times, kind="stable")
    longs = [[times[e], x] for e, x in zip(order, np.asarray(row)[order], strict=True) if x > 0]
    shorts = [[times[e], -x] for e, x in zip(order, np.asarray(row)[order], strict=True) if x < 0]
    i = j = 0
    out = 0.0
    while i < len(longs) and j < len(shorts):
        h = min(longs[i][1], shorts[j][1])
        out += abs(longs[i][0] - shorts[j][0]) * h
        longs[i][1] -= h
        shorts[j][1] -= h
        i += longs[i][1] <= 0
        j += shorts[j][1] <= 0
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.floats(-50, 50, allow_nan=False)), min_size=1, max_size=7,
                unique_by=lambda r: r[0]))
def test_hedged_spread_matches_the_greedy_matching(rows) -> None:
    times = np.array([float(t) for t, _ in rows])
    amounts = np.array([[a for _, a in rows], [-a for _, a in rows]])
    got = hedged_spread(times, amounts)
    for k in range(2):
        assert got[k] == pytest.approx(_greedy(times, amounts[k]), rel=1e-9, abs=1e-9)
