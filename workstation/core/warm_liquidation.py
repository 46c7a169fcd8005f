"""The liquidation search of a what-if "after", started from what the memo already knows.

`Liquidation` brackets each nearest liquidation on its grid, then refines the brackets. Over a
dragged size slider, every untouched column's pieces at the moves tried by earlier searches are
in the `ColumnMemo`: with the new snapshot, equity - MM at those moves costs no revaluation. So
before refining, each bracket is narrowed to the nearest sign change among those known moves
(still inside the grid's bracket, still the first sign change from the near end, so the root
found is the one the search would look for), and the refine starts from there.

Only the start of the refine differs from a full recompute's search: both stop within the
search's tolerance of a root of the same bracket.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workstation.core.incremental import ColumnMemo
from workstation.core.liquidation import Liquidation

_MAX_CANDIDATES = 24  # known moves tried per single-column bracket (the nearest to its middle)
_MAX_ALL = 8  # and per all-assets bracket (the touched columns are revalued there)


class WarmLiquidation(Liquidation):
    """`Liquidation` on a `ColumnMemo`, whose refine starts from the memo's tightest brackets."""

    def __init__(self, memo: ColumnMemo):
        super().__init__(memo)  # type: ignore[arg-type]
        self.memo = memo

    def _refine(self, lo: Any, hi: Any, flo: Any, fhi: Any, active: Any) -> np.ndarray:
        if self.memo.identity:
            lo, hi, flo, fhi = (np.array(a, dtype=float) for a in (lo, hi, flo, fhi))
            self._tighten(lo, hi, flo, fhi, active)
        return super()._refine(lo, hi, flo, fhi, active)

    def _known(self, col: int, lo: float, hi: float, need_all: list[int] | None = None,
               most: int = _MAX_CANDIDATES) -> list[float]:
        """Moves strictly between lo and hi at which the memo knows column `col` (and, for the
        all-assets search, every column in `need_all`)."""
        a, b = min(lo, hi), max(lo, hi)
        keys = self.memo._memo
        moves = {x for (c, x) in keys if c == col and a < x < b}
        if need_all:
            moves = {x for x in moves if all((c, x) in keys for c in need_all)}
        est = 0.5 * (lo + hi)
        return sorted(moves, key=lambda x: abs(x - est))[:most]

    def _tighten(self, lo: np.ndarray, hi: np.ndarray, flo: np.ndarray, fhi: np.ndarray, active: np.ndarray) -> None:
        assets = self.assets
        n_a = len(assets)
        for side in (0, 1):
            cand = {j: self._known(assets[j], lo[side, j], hi[side, j])
                    for j in range(n_a) if active[side, j]}
            cand = {j: c for j, c in cand.items() if c}
            if cand:
                K = max(len(c) for c in cand.values())
                X = np.zeros((K, self.A))
                for j, c in cand.items():
                    X[:len(c), assets[j]] = c
                F = self.f_single(self.parts(X, tuple(assets[j] for j in cand)))
                for j, c in cand.items():
                    self._narrow(side, j, np.array(c), F[:len(c), assets[j]], lo, hi, flo, fhi)
            if n_a and active[side, n_a]:
                known = [a for a in assets if a not in self.memo.touched]
                c = self._known(known[0], lo[side, n_a], hi[side, n_a], need_all=known, most=_MAX_ALL) \
                    if known else []
                if c:
                    F = self.f_all(self.parts(self._rows(np.array(c))))
                    self._narrow(side, n_a, np.array(c), F, lo, hi, flo, fhi)

    @staticmethod
    def _narrow(side: int, j: int, moves: np.ndarray, f: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                flo: np.ndarray, fhi: np.ndarray) -> None:
        """The first sign change from the near end (lo) among lo, the known moves and hi."""
        order = np.argsort(np.abs(moves - lo[side, j]))
        xs = np.concatenate([[lo[side, j]], moves[order], [hi[side, j]]])
        fs = np.concatenate([[flo[side, j]], f[order], [fhi[side, j]]])
        k = int(np.argmax(fs <= 0))  # the far end has f <= 0, so k >= 1
        lo[side, j], flo[side, j] = xs[k - 1], fs[k - 1]
        hi[side, j], fhi[side, j] = xs[k], fs[k]
