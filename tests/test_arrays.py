"""`core.arrays.unique` is np.unique (sorted distinct values, NaNs collapsed) without importing
numpy.ma."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from workstation.core.arrays import unique


def test_known_values() -> None:
    np.testing.assert_array_equal(unique([3, 1, 3, 2, 1]), [1, 2, 3])
    np.testing.assert_array_equal(unique(np.array([[2.5, -0.0], [0.0, 2.5]])), [0.0, 2.5])
    got = unique([np.nan, 1.0, np.nan, -np.inf])
    assert got.shape == (3,) and got[0] == -np.inf and got[1] == 1.0 and np.isnan(got[2])
    assert unique(np.zeros(0, dtype=np.int64)).size == 0
    assert unique(np.array([7])).tolist() == [7]


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(st.sampled_from([np.int64, np.float64]), hnp.array_shapes(max_dims=2, max_side=30),
                  elements=st.integers(-5, 5)))
def test_equals_numpy_unique(a: np.ndarray) -> None:
    if a.dtype.kind == "f" and a.size:
        a = a.copy()
        a.ravel()[:: 4] = np.nan
    ours, theirs = unique(a), np.unique(a)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)  # exact: no arithmetic, only sorting


def test_does_not_import_numpy_ma() -> None:
    code = ("import sys, numpy as np; from workstation.core.arrays import unique; unique(np.arange(9) % 3); "
            "print('numpy.ma' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@given(st.lists(st.integers(min_value=0, max_value=11), max_size=20), st.integers(min_value=12, max_value=20))
def test_index_mask_is_isin_of_the_range(indices: list[int], n: int) -> None:
    from workstation.core.arrays import index_mask

    np.testing.assert_array_equal(index_mask(indices, n), np.isin(np.arange(n), indices))


@given(st.lists(st.integers(min_value=-3, max_value=3), max_size=30))
def test_run_starts_mark_where_sorted_values_change(values: list[int]) -> None:
    from workstation.core.arrays import run_starts

    a = np.sort(np.asarray(values, dtype=np.int64))
    want = [i == 0 or a[i] != a[i - 1] for i in range(a.size)]
    np.testing.assert_array_equal(run_starts(a), np.asarray(want, dtype=bool))
