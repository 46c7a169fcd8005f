"""Tests of workstation.core.collateral (tiered haircuts), with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.core.collateral import effective_haircut, haircut_value

TIERED = ((100e6, 0.0), (200e6, 0.025), (math.inf, 0.05))


def test_tiered_example() -> None:
    # 3000 BTC at 60,000 = 180e6 gross -> 100e6 * 1 + 80e6 * 0.975 = 178e6
    assert haircut_value(3000.0, 60_000.0, TIERED) == pytest.approx(178e6, rel=1e-15)
    # effective haircut 1 - 178/180 = 0.0111...
    assert effective_haircut(3000.0, 60_000.0, TIERED) == pytest.approx(1 / 90, rel=1e-12)


def test_tiered_across_all_bands_and_at_the_boundaries() -> None:
    # 5000 BTC at 60,000 = 300e6 -> 100e6 + 100e6 * 0.975 + 100e6 * 0.95 = 292.5e6
    assert haircut_value(5000.0, 60_000.0, TIERED) == pytest.approx(292.5e6, rel=1e-15)
    # 1000 BTC at 60,000 = 60e6, all in the first band (no haircut)
    assert haircut_value(1000.0, 60_000.0, TIERED) == 60e6
    # exactly 100e6 -> 100e6; exactly 200e6 -> 100e6 + 97.5e6 = 197.5e6
    assert haircut_value(2000.0, 50_000.0, TIERED) == 100e6
    assert haircut_value(4000.0, 50_000.0, TIERED) == pytest.approx(197.5e6, rel=1e-15)


def test_value_above_the_last_upper_bound_takes_the_last_haircut() -> None:
    # profile style finite last bound: 2000 at 1e6 = 2e9 gross, bands up to 1e9
    bands = ((1e8, 0.0), (1e9, 0.1))
    # 1e8 + 9e8 * 0.9 + 1e9 * 0.9 = 1.81e9
    assert haircut_value(2000.0, 1e6, bands) == pytest.approx(1.81e9, rel=1e-15)
    # a 1e30 last bound is the same as inf
    profile = ((100e6, 0.0), (200e6, 0.025), (1e30, 0.05))
    assert haircut_value(5000.0, 60_000.0, profile) == pytest.approx(292.5e6, rel=1e-15)


def test_flat_haircut() -> None:
    # 10 ETH at 3000 with a flat 10 % haircut: 30,000 * 0.9 = 27,000
    assert haircut_value(10.0, 3000.0, ((math.inf, 0.1),)) == pytest.approx(27_000.0, rel=1e-15)
    assert effective_haircut(10.0, 3000.0, ((math.inf, 0.1),)) == pytest.approx(0.1, rel=1e-12)
    # no haircut at all
    assert haircut_value(10.0, 3000.0, ((math.inf, 0.0),)) == 30_000.0
    assert haircut_value(10.0, 3000.0, ()) == 30_000.0


def test_negative_and_zero_amounts_count_in_full() -> None:
    # borrowed 2 BTC at 60,000 -> -120,000, no haircut
    assert haircut_value(-2.0, 60_000.0, TIERED) == -120_000.0
    assert haircut_value(-2.0, 60_000.0, ((math.inf, 0.5),)) == -120_000.0
    assert effective_haircut(-2.0, 60_000.0, ((math.inf, 0.5),)) == 0.0
    assert haircut_value(0.0, 60_000.0, TIERED) == 0.0
    assert effective_haircut(0.0, 60_000.0, TIERED) == 0.0
    prices = np.array([50_000.0, 70_000.0])
    np.testing.assert_array_equal(haircut_value(-2.0, prices, TIERED), [-100_000.0, -140_000.0])


def test_vectorised_prices_equal_scalar_calls() -> None:
    prices = 60_000.0 * np.array([0.0, 0.2, 0.5, 0.9, 1.0, 1.2, 1.6, 2.0, 5.0])
    for amount in (3000.0, 10.0, -7.0, 0.0):
        for bands in (TIERED, ((math.inf, 0.1),)):
            got = haircut_value(amount, prices, bands)
            assert isinstance(got, np.ndarray)
            assert got.shape == prices.shape
            expected = [haircut_value(amount, float(p), bands) for p in prices]
            np.testing.assert_array_equal(got, expected)
            eff = effective_haircut(amount, prices, bands)
            np.testing.assert_array_equal(
                eff, [effective_haircut(amount, float(p), bands) for p in prices]
            )
    grid = prices.reshape(3, 3)
    assert haircut_value(3000.0, grid, TIERED).shape == (3, 3)


def test_scalar_price_gives_float() -> None:
    assert isinstance(haircut_value(1.0, 10.0, TIERED), float)
    assert isinstance(effective_haircut(1.0, 10.0, TIERED), float)
    assert effective_haircut(1.0, 0.0, TIERED) == 0.0


def test_invalid_bands() -> None:
    with pytest.raises(ValueError):
        haircut_value(1.0, 1.0, ((200.0, 0.0), (100.0, 0.1)))
    with pytest.raises(ValueError):
        haircut_value(1.0, 1.0, ((math.inf, 1.5),))


@settings(max_examples=200, deadline=None)
@given(
    amount=st.floats(1e-3, 1e5),
    prices=st.lists(st.floats(0.0, 1e6), min_size=1, max_size=20),
)
def test_value_bounded_and_monotone(amount: float, prices: list[float]) -> None:
    # gross * (1 - 0.05) <= value <= gross, and value is non-decreasing in price
    p = np.sort(np.array(prices))
    v = haircut_value(amount, p, TIERED)
    gross = amount * p
    assert np.all(v <= gross * (1 + 1e-15))
    assert np.all(v >= gross * 0.95 * (1 - 1e-15))
    assert np.all(np.diff(v) >= -1e-9 * np.maximum(gross[1:], 1.0))
