"""Curvature bound of f = equity - t (mm_factor sqrt(L' C L) + linear) under a correlation
matrix C (risk-array and PMRM_2 methods with `correlation`), for the liquidation search: see
`correlated_bound` and `bounds.py` for what a bound certifies."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workstation.core.methods.base import MarginMethod


def _psd(m: MarginMethod, C: np.ndarray) -> bool:
    """C restricted to the moving columns is positive semidefinite (to rounding), cached."""
    ok = m.__dict__.get("_corr_psd")
    if ok is None:
        mov = np.asarray(m.assets, dtype=np.int64)
        sub = C[np.ix_(mov, mov)]
        ev = np.linalg.eigvalsh(0.5 * (sub + sub.T)) if mov.size else np.zeros(0)
        ok = m.__dict__["_corr_psd"] = bool(np.all(ev >= -1e-12 * max(1.0, float(np.abs(sub).max(initial=0.0)))))
    return bool(ok)


def correlated_bound(m: MarginMethod, C: np.ndarray, L0: np.ndarray, parts: dict[str, np.ndarray],
                     lo2: np.ndarray, hi2: np.ndarray, together: bool, tmf: float, moves: np.ndarray) -> np.ndarray:
    """Bound for f = E - t (mm_factor A(L) + linear), A = sqrt(L' C L) (C PSD), from per-column
    (k, A) parts: "U0" >= E'', and over the loss branches of L_u = max(0, -min branches) "R" >=
    sup branch'', "M2" >= sup |branch''|, "S1" >= sup |branch'| (allowances included).

    dA/dL_u = (C L)_u / A lies in [-sqrt(C_uu), sqrt(C_uu)] (Cauchy-Schwarz in C's product) and A
    is convex. Where it only rises with each moving loss (together: C >= 0 on the moving
    columns; one column: b = sum_{u != a} C_au L0_u >= 0), -A(L) is a minimum of tangent planes
    with slopes g_u in [0, sqrt(C_uu)], each -g_u L_u = g_u min(0, branches): U0 + t mmf
    sqrt(C_uu) max(R, 0). Otherwise (a negative correlation) on pieces where every L_u is smooth
    (-A(L))'' = -L' A'' L' - grad A . L'' <= sum sqrt(C_uu) M2_u, and where L_u kinks (a max of
    branches and 0: its slope only rises, by at most 2 S1_u + h M2_u over the interval) -A may
    kink upwards by sqrt(C_uu) times that: M = U0 + t mmf sum sqrt(C_uu) (3 M2 + 4 S1 / h); or A
    as a Lipschitz term, 8 t mmf sum sqrt(C_uu) S1 / h; the smaller. C not PSD: no bound."""
    diag = np.sqrt(np.maximum(np.diag(C), 0.0))
    U0, R, M2, S1 = parts["U0"], parts["R"], parts["M2"], parts["S1"]
    h = np.maximum(hi2 - lo2, 1e-300)
    psd = _psd(m, C)
    if not psd:
        M = np.full(U0.shape, np.inf)
        return M.sum(-1) if together else M
    mov = np.asarray(m.assets, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        rising = U0 + tmf * diag * np.maximum(R, 0.0)
        if together:
            if np.all(C[np.ix_(mov, mov)] >= 0):
                return rising.sum(-1)
            w = np.where(moves, diag, 0.0)
            kink = ((3.0 * M2 + 4.0 * S1 / h) * w).sum(-1)
            lip = 8.0 * (S1 * w).sum(-1) / h[:, 0]
            return U0.sum(-1) + tmf * np.minimum(kink, lip)
        b = C @ L0 - np.diag(C) * L0
        general = U0 + tmf * diag * np.minimum(3.0 * M2 + 4.0 * S1 / h, 8.0 * S1 / h)
        return np.where((b >= 0)[None, :], rising, general)
