"""The liquidation search of a what-if "after", started from the "before" search's samples.

`Liquidation` proves each answer: f = equity - MM is positive on every interval between its
samples up to a bracket of width TOL whose far end liquidates. A dragged size slider (or a hedge
size tried by a suggestion) changes f a little, mostly by a constant on the columns the drafts
do not touch. So the after's search takes, besides its own grid and kinks, the before's final
samples of the same search (the untouched columns' pieces there are in the `ColumnMemo`: no
revaluation), and two pairs of probes around the root predicted from the before's bracket,
shifted by the change of f at no move (a secant step). The rounds that follow are the ordinary
ones: every interval is proven again with the after's own f and bounds (an interval that no
longer proves is split), and the bracket is refined until it is narrower than TOL. Usually the
first batch already holds a proven bracket, so one or two rounds finish a search that takes ten
from scratch.

The answer is the same as a full recompute's, to the search's tolerance: a move within TOL of
the nearest root, with f > 0 proven on every nearer move (tests/test_warm_liquidation.py).
"""

from __future__ import annotations

import numpy as np

from workstation.core.liquidation import _LIMITS, TOL, Liquidation

# probes around a predicted root: a pair TOL/2 apart (the answer when the prediction is within
# TOL / 4), then pairs 10x wider each (a tight bracket when it is not)
_STEPS = np.array([TOL / 4, 1e-6, 1e-4, 1e-2])
_OFFSETS = np.concatenate([-_STEPS[::-1], _STEPS])
_NEAR = slice(_STEPS.size - 1, _STEPS.size + 1)  # -TOL/4, +TOL/4

Trail = dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]


class WarmLiquidation(Liquidation):
    """`Liquidation` whose first batch also samples a previous search's trail (see above)."""

    def __init__(self, method, start: Trail | None = None, with_all: bool = True):
        super().__init__(method, with_all)
        self.start = start or {}

    def _warm_points(self, f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_a = len(self.assets)
        sids, ds, ends = [], [], []
        for j in range(n_a + 1):
            key = int(self.assets[j]) if j < n_a else -1
            for side in (0, 1):
                old = self.start.get((key, side))
                if old is None:
                    continue
                d, f = old
                s = 2 * j + side
                x = d[(d > 0) & (d < _LIMITS[side])]
                sids.append(np.full(x.size, s, dtype=np.int64))
                ds.append(x)
                if d.size >= 2 and f[-1] <= 0.0 < f[-2]:
                    ends.append((s, d[-2], d[-1]))
        if not sids:
            return super()._warm_points(f0)
        if ends:  # the old bracket's ends with the after's f (the memo holds most of it): probes
            e_sid = np.repeat(np.array([e[0] for e in ends], dtype=np.int64), 2)
            e_d = np.array([x for e in ends for x in e[1:]])
            fe = self._eval(e_sid, e_d)
            for k, (s, a, b) in enumerate(ends):
                r = _secant(a, b, fe[2 * k], fe[2 * k + 1])
                if np.isfinite(r):
                    x = r + (_OFFSETS if s // 2 < n_a else _OFFSETS[_NEAR])  # `all` rows revalue every column
                    x = x[(x > 0) & (x < _LIMITS[s % 2])]
                    sids.append(np.full(x.size, s, dtype=np.int64))
                    ds.append(x)
        return np.concatenate(sids), np.concatenate(ds)


def _secant(a: float, b: float, fa: float, fb: float) -> float:
    """The root of the secant through (a, fa), (b, fb) (nan when it has none)."""
    if not (np.isfinite(fa) and np.isfinite(fb)) or fa == fb:
        return np.nan
    return a + fa * (b - a) / (fa - fb)
