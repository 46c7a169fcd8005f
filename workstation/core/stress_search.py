"""The search along a family of states: the smallest t at which a scope is liquidated, for many
lines at once (each round one batch of points for every line, evaluated by a `StressSession`:
one `parts` call per scope and state)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workstation.core.stress_eval import Figures, Line, StressSession


def first_breach(session: StressSession, lines: Sequence[Line], lo: float, hi: float, steps: int,
                 tol: float = 1e-3, sub: int = 15) -> tuple[np.ndarray, list[Figures | None]]:
    """Per line, the smallest t in [lo, hi] where the scope is liquidated: a grid of `steps`
    intervals, then rounds of `sub` points inside the first bracket until it is `tol` wide
    (the point returned is liquidated, the one `tol` before it is not). NaN where none; with
    the figures at each point found."""
    n = len(lines)
    hits = np.full(n, np.nan)
    found: list[Figures | None] = [None] * n
    if n == 0:
        return hits, found
    grid = np.array([lo + (hi - lo) * k / steps for k in range(steps + 1)])
    figs = session.figures([(line, grid) for line in lines])
    brackets: dict[int, tuple[float, float]] = {}
    for i, f in enumerate(figs):
        b = np.flatnonzero(f.breach)
        if not b.size:
            continue
        k = int(b[0])
        if k == 0:
            hits[i] = grid[0]
            found[i] = _row(f, 0)
        else:
            brackets[i] = (float(grid[k - 1]), float(grid[k]))
    while brackets:
        done = [i for i, (a, b) in brackets.items() if b - a <= tol]
        for i in done:
            a, b = brackets.pop(i)
            hits[i] = b
            found[i] = session.at(lines[i], [b])
        if not brackets:
            break
        order = list(brackets)
        pts = {i: np.array([brackets[i][0] + (brackets[i][1] - brackets[i][0]) * j / (sub + 1)
                            for j in range(1, sub + 1)]) for i in order}
        figs = session.figures([(lines[i], pts[i]) for i in order])
        for i, f in zip(order, figs, strict=True):
            a, b = brackets[i]
            hit = np.flatnonzero(f.breach)
            if hit.size:
                j = int(hit[0])
                brackets[i] = (a if j == 0 else float(pts[i][j - 1]), float(pts[i][j]))
            else:
                brackets[i] = (float(pts[i][-1]), b)
    return hits, found


def _row(f: Figures, k: int) -> Figures:
    return Figures(f.equity[k:k + 1], f.im[k:k + 1], f.mm[k:k + 1], f.threshold)
