"""Array helpers the engine calls on every report."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def index_mask(indices: ArrayLike, n: int) -> NDArray:
    """(n,) bool: True at `indices` (`np.isin(np.arange(n), indices)` without its sorting)."""
    out = np.zeros(n, dtype=bool)
    out[np.asarray(indices, dtype=np.int64)] = True
    return out


def run_starts(a: NDArray) -> NDArray:
    """For a 1-d array whose equal values are adjacent (sorted): True where a run of equal
    values starts (`a[i] != a[i - 1]`, and the first element)."""
    first = np.empty(a.size, dtype=bool)
    first[:1] = True
    np.not_equal(a[1:], a[:-1], out=first[1:])
    return first


def unique(x: ArrayLike) -> NDArray:
    """The sorted distinct values of `x` (flattened): `np.unique(x)`, NaNs collapsed to one.

    `np.unique` without `return_*` options first asks `numpy.ma` whether `x` is masked, which
    imports numpy.ma on its first call: about 20 ms of every start of the command and the window,
    for arrays that are never masked."""
    a = np.sort(np.asarray(x).ravel())
    if a.size < 2:
        return a
    keep = run_starts(a)
    if a.dtype.kind in "fc" and np.isnan(a[-1]):  # sorted: NaNs last, all but the first dropped
        nan = np.isnan(a)
        keep[1:] &= ~(nan[1:] & nan[:-1])
    return a[keep]
