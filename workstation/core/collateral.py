"""Collateral valuation with tiered (Binance style) haircuts, vectorised over prices."""

from __future__ import annotations

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
    if not isinstance(bands, tuple) or bands not in _CHECKED:
        _check_bands(bands)
        if isinstance(bands, tuple) and len(_CHECKED) < 256:
            _CHECKED.add(bands)
    if isinstance(price, float | int) and not isinstance(price, bool):
        return _scalar_value(float(amount), float(price), bands)
    gross = amount * np.asarray(price, dtype=np.float64)
    if amount <= 0.0 or not bands:
        return _as_result(gross, price)
    value = np.zeros_like(gross)
    lower = 0.0
    last = len(bands) - 1
    for i, (upper, haircut) in enumerate(bands):  # each band's part: clip(g - lower, 0, width)
        part = np.maximum(gross - lower, 0.0)
        if i < last:
            part = np.minimum(part, upper - lower)
        value += part * (1.0 - haircut)
        lower = upper
    # A non-positive gross value (a non-positive price) is not haircut either.
    return _as_result(np.where(gross > 0.0, value, gross), price)


_CHECKED: set[tuple] = set()  # band tables validated already (profiles hold them as tuples)


def _scalar_value(amount: float, price: float, bands: Bands) -> float:
    """`haircut_value` at one price, in Python floats (the same IEEE operations, no arrays)."""
    gross = amount * price
    if amount <= 0.0 or not bands:
        return gross
    value = 0.0
    lower = 0.0
    last = len(bands) - 1
    for i, (upper, haircut) in enumerate(bands):
        part = gross - lower
        part = part if part >= 0.0 or part != part else 0.0  # max(part, 0), NaN kept
        if i < last and part > upper - lower:
            part = upper - lower
        value += part * (1.0 - haircut)
        lower = upper
    return value if gross > 0.0 else gross


def effective_haircut(amount: float, price: ArrayLike, bands: Bands) -> float | NDArray[np.float64]:
    """Blended haircut 1 - value/gross (0 where the gross value is 0), for display."""
    gross = amount * np.asarray(price, dtype=np.float64)
    value = np.asarray(haircut_value(amount, price, bands), dtype=np.float64)
    nonzero = gross != 0.0
    ratio = value / np.where(nonzero, gross, 1.0)
    return _as_result(np.where(nonzero, 1.0 - ratio, 0.0), price)
