"""The intervals a liquidation round could not prove (`liquidation.py`): how many pieces each is
split into, from its curvature bound, or where a method gives none, from the curvature its samples
show (a heuristic that adapts the sampling, and a step cap)."""

from __future__ import annotations

import numpy as np

_MAX_SPLIT = 16


def _fallback_step(d: np.ndarray) -> np.ndarray:
    """Largest sampling step at distance d where a method gives no curvature bound."""
    return 0.05 + 0.25 * d


def _estimated_curvature(d: np.ndarray, f: np.ndarray, sid: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Where a method gives no bound: 4 x the largest |f''| the samples around interval
    [t, t + 1] show (second divided differences with the neighbours on either side; inf
    without a neighbour). A heuristic: it adapts the sampling to the curve, it proves nothing."""
    n = d.size
    out = np.zeros(t.size)
    seen = np.zeros(t.size, dtype=bool)
    for a in (t - 1, t):  # triples (a, a + 1, a + 2)
        ok = (a >= 0) & (a + 2 < n)
        a = np.clip(a, 0, max(n - 3, 0))
        ok &= (sid[a] == sid[np.minimum(a + 2, n - 1)])
        with np.errstate(divide="ignore", invalid="ignore"):
            s1 = (f[a + 1] - f[a]) / (d[a + 1] - d[a])
            s2 = (f[a + 2] - f[a + 1]) / (d[a + 2] - d[a + 1])
            f2 = np.abs(2.0 * (s2 - s1) / (d[a + 2] - d[a]))
        out = np.where(ok & np.isfinite(f2), np.maximum(out, f2), out)
        seen |= ok
    return np.where(seen, 4.0 * out, np.inf)


def split_unproven(d: np.ndarray, f: np.ndarray, sid: np.ndarray, t: np.ndarray, h: np.ndarray,
                   need: np.ndarray, M: np.ndarray, sample: np.ndarray,
                   ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of the intervals starting at samples t (widths h, bounds M, `need` to prove them; `sample`:
    no bound), mark the proven ones `ok`; the others' (starts, pieces to split them into)."""
    if sample.any():
        M = np.where(sample, _estimated_curvature(d, f, sid, t), M)
    wide = sample & (h > _fallback_step(d[t]))
    with np.errstate(invalid="ignore", divide="ignore"):
        proven = (need > M) & ~wide
        pieces = np.where(wide, np.ceil(h / _fallback_step(d[t])), 0.0)
        pieces = np.maximum(pieces, np.ceil(1.2 * np.sqrt(np.maximum(M, 0.0) / need)))
        pieces = np.minimum(pieces, _MAX_SPLIT)
    ok[t[proven]] = True
    pieces = pieces[~proven]
    return t[~proven], np.where(pieces >= 2, pieces, 2).astype(np.int64)  # NaN: 2
