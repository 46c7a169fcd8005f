"""Collateral valuation with tiered (Binance style) haircuts, vectorised over prices."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

Bands = Sequence[tuple[float, float]]
"""(upper_value, haircut) pairs sorted by upper_value; a flat haircut h is ((inf, h),)."""


def _check_bands(bands: Bands) -> None:
    last = 0.0
    for upper, haircut in bands:
        if not upper > last:
            raise ValueError(f"haircut bands must have increasing positive upper values: {bands!r}")
        if not 0.0 <= haircut <= 1.0:
            raise ValueError(f"haircut must be within [0, 1]: {haircut!r}")
        last = upper


def _as_result(value: NDArray[np.float64], price: ArrayLike) -> float | NDArray[np.float64]:
    return float(value) if np.ndim(price) == 0 else value


def haircut_value(amount: float, price: ArrayLike, bands: Bands) -> float | NDArray[np.float64]:
    """Base value of `amount` of an asset at `price` (a float, or an array of scenario prices).

    For amount > 0 the gross value g = amount * price is split into bands, band i covering
    (upper_{i-1}, upper_i]; each part takes its band's haircut and the value above the last
    upper bound takes the last haircut. Borrowed (amount <= 0) holdings count in full.
    Returns a float for a scalar price, else an array shaped like `price`.
    """
    _check_bands(bands)
    gross = amount * np.asarray(price, dtype=np.float64)
    if amount <= 0.0 or not bands:
        return _as_result(gross, price)
    value = np.zeros_like(gross)
    lower = 0.0
    for i, (upper, haircut) in enumerate(bands):
        width = math.inf if i == len(bands) - 1 else upper - lower
        part = np.clip(gross - lower, 0.0, width)
        value += part * (1.0 - haircut)
        lower = upper
    # A non-positive gross value (a non-positive price) is not haircut either.
    return _as_result(np.where(gross > 0.0, value, gross), price)


def effective_haircut(amount: float, price: ArrayLike, bands: Bands) -> float | NDArray[np.float64]:
    """Blended haircut 1 - value/gross (0 where the gross value is 0), for display."""
    gross = amount * np.asarray(price, dtype=np.float64)
    value = np.asarray(haircut_value(amount, price, bands), dtype=np.float64)
    nonzero = gross != 0.0
    ratio = value / np.where(nonzero, gross, 1.0)
    return _as_result(np.where(nonzero, 1.0 - ratio, 0.0), price)
