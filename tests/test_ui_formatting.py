"""Display formatting and colour bands (no Qt)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workstation.ui.formatting import (
    DASH,
    MINUS,
    NumberFormat,
    distance_level,
    usage_level,
)


def test_money_grouping_and_units() -> None:
    f = NumberFormat(decimals=2)
    assert f.money(1234567.891) == "1,234,567.89"
    assert f.money(-9876.5, unit=True) == f"{MINUS}9,876.50 USD"
    assert NumberFormat(0, "space", "symbol").money(-1500, unit=True) == f"{MINUS}$1\u2009500"
    assert NumberFormat(0, "none", "none").money(1500, unit=True) == "1500"
    assert NumberFormat(1, "apostrophe").money(1234.56) == "1'234.6"
    assert f.money(None) == DASH and f.money(math.nan) == DASH and f.money(math.inf) == DASH


def test_small_values_keep_significant_digits() -> None:
    f = NumberFormat()
    assert f.price(0.024687) == "0.02469"
    assert f.price(91245.5) == "91,245.50"
    assert f.greek(-0.000316) == f"{MINUS}0.000316"
    assert f.greek(1228.05) == "1,228"
    assert f.quantity(-10) == f"{MINUS}10" and f.quantity(2.35) == "2.35"


def test_percent_and_ratio() -> None:
    f = NumberFormat()
    assert f.percent(-23.44) == f"{MINUS}23.4 %"
    assert f.percent(41.0, signed=True) == "+41.0 %"
    assert f.ratio(0.162) == "16.2 %"
    assert f.percent(-0.01) == "0.0 %"  # no negative zero


@pytest.mark.parametrize(("usage", "level"), [
    (0.0, "calm"), (0.4999, "calm"), (0.5, "amber"), (0.79, "amber"), (0.8, "red"), (1.5, "red"),
    (-0.2, "red"), (None, "none"), (math.inf, "red"),
])
def test_usage_bands(usage, level) -> None:
    assert usage_level(usage) == level


@pytest.mark.parametrize(("pct", "level"), [
    (-10.0, "red"), (14.99, "red"), (-15.0, "amber"), (29.9, "amber"), (-30.0, "calm"), (None, "calm"),
])
def test_distance_bands(pct, level) -> None:
    assert distance_level(pct) == level


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15),
       st.integers(0, 6), st.sampled_from(["comma", "space", "apostrophe", "none"]))
def test_money_reads_back(value: float, decimals: int, thousands: str) -> None:
    fmt = NumberFormat(decimals, thousands)
    text = fmt.money(value)
    plain = text.replace(fmt.separator, "").replace(MINUS, "-") if fmt.separator else text.replace(MINUS, "-")
    assert float(plain) == pytest.approx(round(value, decimals), abs=10 ** -decimals)
