"""Curvature bound of f = equity - t (mm_factor sqrt(L' C L) + linear) under a correlation
matrix C (risk-array and PMRM_2 methods with `correlation`), for the liquidation search: see
`correlated_bound` and `bounds.py` for what a bound certifies."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workstation.core.arrays import unique

if TYPE_CHECKING:
    from workstation.core.methods.base import MarginMethod


def _shape(m: MarginMethod, C: np.ndarray) -> tuple[str, np.ndarray, np.ndarray]:
    """How sqrt(L' C L) behaves on the losses L >= 0 that can be nonzero (the columns holding a
    position or collateral, or driving one), cached: ("psd", sqrt(C_uu)) when C is positive
    semidefinite there (to rounding); ("copositive", K) when C', C with its positive
    off-diagonal entries set to 0, is positive definite there: then for L >= 0
    L' C L >= L' C' L >= mu |L|^2 (mu = C's smallest eigenvalue) and
    |(C L)_u| <= |C_u| |L| (Cauchy-Schwarz), so |dA / dL_u| = |(C L)_u| / A <= K_u = |C_u| / sqrt(mu);
    ("none", 0) otherwise. Last: the columns considered."""
    got = m.__dict__.get("_corr_shape")
    if got is not None:
        return got
    book = m.book
    held = np.concatenate([book.und, np.asarray(m.coll_col, dtype=np.int64)]).astype(np.int64)
    live = unique(np.concatenate([held, m.driver[held]]))
    sub = 0.5 * (C[np.ix_(live, live)] + C[np.ix_(live, live)].T)
    tol = 1e-12 * max(1.0, float(np.abs(sub).max(initial=0.0)))
    A = C.shape[0]
    out: tuple[str, np.ndarray, np.ndarray]
    if not live.size or np.linalg.eigvalsh(sub).min() >= -tol:
        out = ("psd", np.sqrt(np.maximum(np.diag(C), 0.0)), live)
    else:
        low = np.where((sub > 0) & ~np.eye(live.size, dtype=bool), 0.0, sub)
        mu = float(np.linalg.eigvalsh(low).min()) - tol
        if mu > 0:
            K = np.zeros(A)
            K[live] = np.sqrt((sub * sub).sum(1) / mu)
            out = ("copositive", K, live)
        else:
            out = ("none", np.zeros(A), live)
    m.__dict__["_corr_shape"] = out
    return out


def correlated_bound(m: MarginMethod, C: np.ndarray, L0: np.ndarray, parts: dict[str, np.ndarray],
                     lo2: np.ndarray, hi2: np.ndarray, together: bool, tmf: float, moves: np.ndarray) -> np.ndarray:
    """Bound for f = E - t (mm_factor A(L) + linear), A = sqrt(max(0, L' C L)), from per-column
    (k, A) parts: "U0" >= E'', and over the loss branches of L_u = max(0, -min branches) "R" >=
    sup branch'', "M2" >= sup |branch''|, "S1" >= sup |branch'| (allowances included).

    C positive semidefinite (`_shape`): dA/dL_u = (C L)_u / A lies in [-sqrt(C_uu), sqrt(C_uu)]
    (Cauchy-Schwarz in C's product) and A is convex. Where it only rises with each moving loss
    (together: C_uv >= 0 for moving u and every column v that holds something; one column:
    b = sum_{u != a} C_au L0_u >= 0), -A(L) is a minimum of tangent planes with slopes g_u in
    [0, sqrt(C_uu)], each -g_u L_u = g_u min(0, branches): U0 + t mmf sqrt(C_uu) max(R, 0). Otherwise (a negative
    correlation) on pieces where every L_u is smooth (-A(L))'' = -L' A'' L' - grad A . L'' <=
    sum sqrt(C_uu) M2_u, and where L_u kinks (a max of branches and 0: its slope only rises, by at
    most 2 S1_u + h M2_u over the interval) -A may kink upwards by sqrt(C_uu) times that:
    M = U0 + t mmf sum sqrt(C_uu) (3 M2 + 4 S1 / h); or A as a Lipschitz term,
    8 t mmf sum sqrt(C_uu) S1 / h; the smaller.
    C not PSD but copositive as `_shape` checks (e.g. a negative correlation of two assets and
    the default 1 with a third): A need not be convex, but it is Lipschitz on L >= 0 with
    |dA / dL_u| <= K_u: the Lipschitz term 8 t mmf sum K_u S1_u / h. Neither: no bound (inf)."""
    kind, K, live = _shape(m, C)
    U0, R, M2, S1 = parts["U0"], parts["R"], parts["M2"], parts["S1"]
    h = np.maximum(hi2 - lo2, 1e-300)
    if kind == "none":
        M = np.full(U0.shape, np.inf)
        return M.sum(-1) if together else M
    w = np.where(moves, K, 0.0)
    with np.errstate(invalid="ignore"):
        if kind == "copositive":
            if together:
                return U0.sum(-1) + tmf * 8.0 * (S1 * w).sum(-1) / h[:, 0]
            return U0 + tmf * 8.0 * w * S1 / h
        diag = K
        mov = np.asarray(m.assets, dtype=np.int64)
        rising = U0 + tmf * diag * np.maximum(R, 0.0)
        if together:
            if np.all(C[np.ix_(mov, live)] >= 0):
                return rising.sum(-1)
            kink = ((3.0 * M2 + 4.0 * S1 / h) * w).sum(-1)
            lip = 8.0 * (S1 * w).sum(-1) / h[:, 0]
            return U0.sum(-1) + tmf * np.minimum(kink, lip)
        b = C @ L0 - np.diag(C) * L0
        general = U0 + tmf * diag * np.minimum(3.0 * M2 + 4.0 * S1 / h, 8.0 * S1 / h)
        return np.where((b >= 0)[None, :], rising, general)
