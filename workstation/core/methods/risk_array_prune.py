"""Which scenarios of a column can hold its least P&L at a moved price, so that Black-76 runs
only there (the risk array's loss is max(0, -min_s P_s); the liquidation search evaluates many
moves close to ones it has evaluated already).

The bound: q * value of an option in state s is w1 (1 + x) N(s d1) - w2 N(s d2), whose
derivative in the move x is w1 N(s d1) (the delta identity), at most |w1| in size (a dead
entry's intrinsic value: |s q disc F0|). So a column's option sum O_s moves by at most
W_s |x - x'| from a reference move x' where it is known, and its scenario P&L
P_s = damp_s (O_s - O_0 + lin_s) + coll_s lies within |damp_s| (W_s + W_0) |x - x'| of what the
reference predicts (lin_s and coll_s, closed forms, are computed at x), plus an allowance for
rounding (1e-9 of the magnitudes summed; rounding is about 1e-16 of them). A scenario whose
lower bound exceeds the least upper bound is not the minimum: it is skipped (its P&L taken as
+inf), so the minimum, and the loss, is the very number the full evaluation gives (to the
normal CDF's two paths: `pricing.ndtr` may price the few cells kept through the C library's
erfc where the full batch would have loaded scipy, a few ulp). A column with a non-finite
figure anywhere is not pruned.

References: every (move, column) evaluated in a small batch (the current prices from the
snapshot, the liquidation search's grid, kinks and refines), each kept as an interval per
scenario of D_s = O_s - O_0: a point where it was evaluated, where it was skipped the interval
its own reference gave (widened by the distance). A query takes the nearest reference of its
column. In a batch, the rows near no reference and no earlier row of theirs go first, whole,
the others after them, pruned (the second move of a kink or refine pair; a single-column
row's unmoved columns, near the snapshot).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from workstation.core.pricing import ndtr

if TYPE_CHECKING:
    from workstation.core.methods.risk_array_fast import RiskArrayFast

ROWS = 16  # batches of at most this many moved states are pruned and leave references
_KEEP = 128  # references kept per method (any reference gives a valid bound, the nearest a tight one)
_REL = 1e-9  # rounding allowance, relative to the magnitudes summed
_HUGE = 1e300  # magnitudes beyond this might overflow on the way: not pruned
NEAR = 0.02  # queries with no reference nearer than this are not pruned (it rarely pays)
_SPREAD = 1e4  # a reference's key: column * _SPREAD + move (the nearest of a column by one argmin)


class ScenarioPruner:
    """References and Lipschitz constants of one prepared risk-array book's options."""

    def __init__(self, w1: np.ndarray, w2: np.ndarray, dead: tuple, col: np.ndarray, n_assets: int):
        S1 = w1.shape[0]
        W = np.zeros((S1, n_assets))  # sum |w1| per state and column: the slope bound of O_s
        W2 = np.zeros((S1, n_assets))  # sum |w2|: with W (1 + x), a bound of |O_s| (the rounding)
        if col.size:
            cols, starts = np.unique(col, return_index=True)
            W[:, cols] = np.add.reduceat(np.abs(w1), starts, axis=1)
            W2[:, cols] = np.add.reduceat(np.abs(w2), starts, axis=1)
        ds, di, sq, F0, K, _ = dead
        if ds.size:
            np.add.at(W, (ds, col[di]), np.abs(sq * F0))
            np.add.at(W2, (ds, col[di]), np.abs(sq * K))
        self.slope = (W[1:] + W[:1]).T.copy()  # (A, n_s): the slope bound of D_s
        self.size = (W[1:] + W[:1]).T.copy(), 2.0 * (W2[1:] + W2[:1]).T  # |D_s| <= a (1 + |x|) + b
        self.key = np.zeros(0)  # column * _SPREAD + move of each reference
        self.x = np.zeros(0)
        self.c = np.zeros(0, dtype=np.int64)
        self.mid = np.zeros((0, S1 - 1))  # D_s there: the middle of its interval
        self.half = np.zeros((0, S1 - 1))  # half its width (0 where evaluated)

    def add(self, x: np.ndarray, c: np.ndarray, mid: np.ndarray, half: np.ndarray) -> None:
        """References: moves x (Q,) of columns c (Q,), D_s intervals (Q, n_s) as mid and half."""
        self.x = np.concatenate([self.x, x])[-_KEEP:]
        self.c = np.concatenate([self.c, c])[-_KEEP:]
        self.key = self.c * _SPREAD + self.x
        self.mid = np.concatenate([self.mid, mid])[-_KEEP:]
        self.half = np.concatenate([self.half, half])[-_KEEP:]

    def evaluate(self, fast: RiskArrayFast, out: np.ndarray, Xd: np.ndarray, sel: tuple,
                 rest: Callable[[], tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
        """`fast.option_values` of a small batch: out (K, S1, A) filled at moves Xd (K, A) for
        the selection `sel`, by `passes`, each pass pruned against the references (those of
        the passes before it included) and leaving its own. Returns the scenarios skipped
        (K, n_cols, n_s), None if none. `rest()`: the non-option scenario P&L and its
        magnitude (K, n_s, A)."""
        cols = sel[2]
        S1 = out.shape[1]
        Xq = Xd[:, cols]
        passes, near = self.passes(Xq, cols)
        skip = None
        R = M = damp = None
        for n, rows in enumerate(passes):
            x = Xq if rows is None else Xq[rows]
            if n or near is None:
                near = self.nearest(x, cols)
            found = None
            if (near[1] < NEAR).any():
                if R is None:
                    R, M = (v[:, :, cols].transpose(0, 2, 1) for v in rest())  # (K, n_cols, n_s)
                    damp = fast.m.grid.damp[:, cols].T
                found = self.states(x, cols, near, damp, R if rows is None else R[rows],
                                    M if rows is None else M[rows])
            cand = found[0] if found is not None and found[0].mean() <= 0.5 else None  # else dense is faster
            fast.fill_values(out, Xd, sel, rows, cand)
            got = out if rows is None else out[rows]
            mid = (got[:, 1:, cols] - got[:, :1, cols]).transpose(0, 2, 1)  # D_s = O_s - O_0 there
            half = np.zeros_like(mid)
            if cand is not None:
                gone = ~cand[:, :, 1:]
                mid[gone], half[gone] = found[1][gone], found[2][gone]
                if skip is None:
                    skip = np.zeros((Xd.shape[0], cols.size, S1 - 1), dtype=bool)
                skip[slice(None) if rows is None else rows] = gone
            self.add(x.reshape(-1), np.tile(cols, x.shape[0]), mid.reshape(-1, S1 - 1), half.reshape(-1, S1 - 1))
        return skip

    def nearest(self, x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The nearest reference (...) of each query at move x (...) of column c (...) and its
        distance (inf: none in that column)."""
        if not self.x.size:
            return np.zeros(x.shape, dtype=np.int64), np.full(x.shape, np.inf)
        i = np.abs((c * _SPREAD + x)[..., None] - self.key).argmin(-1)
        return i, np.where(self.c[i] == c, np.abs(x - self.x[i]), np.inf)

    def passes(self, X: np.ndarray, cols: np.ndarray) -> tuple[list[np.ndarray | None], tuple | None]:
        """The rows of moves X (K, n_cols) of columns `cols` in the order to evaluate them (None:
        all at once): the rows near no reference and no earlier row of theirs first (near: half
        the columns within NEAR; a guess for speed, any order gives the same numbers), then the
        others. With the `nearest` references of every row when there is one pass."""
        K = X.shape[0]
        near = self.nearest(X, cols)
        if K == 1:
            return [None], near
        near_ref = (near[1] < NEAR).mean(1) >= 0.5
        if near_ref.all():
            return [None], near
        close = (np.abs(X[:, None, :] - X[None, :, :]) < NEAR).mean(2) >= 0.5
        lead: list[int] = []
        for j in range(K):
            if not near_ref[j] and not close[j, lead].any():
                lead.append(j)
        if len(lead) == K:
            return [None], near
        rest = np.ones(K, dtype=bool)
        rest[lead] = False
        return [np.array(lead), np.flatnonzero(rest)], None

    def states(self, x: np.ndarray, cols: np.ndarray, near: tuple[np.ndarray, np.ndarray],
               damp: np.ndarray, R: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, ...] | None:
        """States to evaluate (K, n_cols, S1) at moves x (K, n_cols) of columns `cols` with their
        `nearest` references, given the dampeners damp (n_cols, n_s), non-option scenario P&L R
        and its magnitude M (K, n_cols, n_s); with the D_s intervals (mid, half), each (K,
        n_cols, n_s), where skipped. Only queries with a reference within NEAR are bounded."""
        i, h = near
        q = h < NEAR
        n_s = damp.shape[1]
        keep = np.ones((*x.shape, n_s + 1), dtype=bool)
        mid, half = np.zeros((*x.shape, n_s)), np.zeros((*x.shape, n_s))
        if q.all():
            keep[:, :, 1:], mid, half = self.candidates(x, np.broadcast_to(cols, x.shape), near,
                                                        np.broadcast_to(damp, (*x.shape, n_s)), R, M)
            return keep, mid, half
        c = np.broadcast_to(cols, x.shape)[q]
        keep[q, 1:], mid[q], half[q] = self.candidates(x[q], c, (i[q], h[q]), damp[np.nonzero(q)[1]], R[q], M[q])
        return keep, mid, half

    def candidates(self, x: np.ndarray, c: np.ndarray, near: tuple[np.ndarray, np.ndarray],
                   damp: np.ndarray, R: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scenarios to evaluate (Q, n_s) for queries at moves x (Q,) of columns c (Q,) with
        their `nearest` references, given each column's dampeners damp (Q, n_s), non-option P&L
        R (Q, n_s) and its magnitude M (Q, n_s); with the D_s intervals the references give
        there (mid, half)."""
        i, h = near
        mid = self.mid[i]
        a, b = self.size
        with np.errstate(invalid="ignore", over="ignore"):
            half = self.half[i] + self.slope[c] * h[..., None]
            ad = np.abs(damp)
            mag = ad * (a[c] * (2.0 + np.abs(x) + np.abs(self.x[i]))[..., None] + b[c]) + M
            r = ad * half + _REL * mag
            r[~(mag < _HUGE)] = np.nan
            E = damp * mid + R
            lo, hi = E - r, E + r
        ok = np.isfinite(lo).all(-1) & np.isfinite(hi).all(-1)
        keep = ~(lo > hi.min(-1, keepdims=True)) | ~ok[..., None]
        return keep, mid, half


def kept_cells(cand: np.ndarray, starts: np.ndarray, n: int, y: np.ndarray, g: np.ndarray,
               flat: np.ndarray) -> tuple[np.ndarray, ...]:
    """`RiskArrayFast.option_values`' arithmetic on the cells of the states kept only: cand
    (K, n_cols, S1), the selection's column runs `starts` over its n options, y = ln(1 + x) and
    g = 1 + x (K, n), `flat` the prepared (S1, n) arrays a1, b1, ssd, w1, w2 stacked as (5,
    S1 * n). Each (row, state, column) is one run of the same cells in the same order as the
    dense arrays, summed by the same reduceat: the same numbers. Returns the rows, states,
    column positions and sums."""
    k_, j_, s_ = np.nonzero(cand)
    lens = np.diff(np.append(starts, n))[j_]
    seg = np.cumsum(lens) - lens
    opt = np.arange(int(lens.sum())) - np.repeat(seg - starts[j_], lens)
    a1, b1, ssd, w1, w2 = flat[:, np.repeat(s_ * n, lens) + opt]
    ri = np.repeat(k_ * n, lens) + opt
    d = y.ravel()[ri] * b1
    d += a1
    n1 = ndtr(d)
    d -= ssd
    n2 = ndtr(d, out=d)
    n1 *= w1
    n1 *= g.ravel()[ri]
    n2 *= w2
    n1 -= n2
    return k_, s_, j_, np.add.reduceat(n1, seg)
