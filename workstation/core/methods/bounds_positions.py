"""Kinks and curvature bounds of the per-position methods (cross, isolated: `per_position.py`)
for the exact liquidation search; see `bounds.py` for what a bound certifies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from workstation.core.arrays import index_mask, unique
from workstation.core.methods.bounds import OptionCurves, _add, _merge, base_kinks, column_bounds, column_moves, memo

if TYPE_CHECKING:
    from workstation.core.methods.base import MarginMethod


def tier_kinks(m: MarginMethod, out: dict[int, list[np.ndarray]], t: dict[str, np.ndarray],
               columns: Sequence[int] | None = None) -> None:
    """Bracket bounds crossed by perpetuals and futures (per_position's table `t`): a linear
    position's notional |q| S crosses a notional bound, an inverse one's size |q| / mark a
    quantity bound. A notional table without slopes that follows the cumulative-amount rule
    with rising rates makes MM = max(N mmr - amount, 0) convex and continuous: it needs none
    (between bounds MM is linear, or convex in S: slopes are >= 0). `columns`: only these."""
    book = m.book
    d1 = np.flatnonzero(book.is_delta_one & (book.qty != 0))
    held = unique(book.und[d1])
    if columns is not None:
        held = held[index_mask(columns, m.n_assets)[held]]
    smooth = t["smooth"]  # (`per_position.tier_table`)
    for a in held:
        if smooth[a]:
            continue
        b = t["bound"][a]
        nf = int(np.isfinite(b).sum())  # finite bounds come first, the last tier is unbounded
        by_qty = bool(t["qty"][a])
        rows = d1[book.und[d1] == a]
        q = np.abs(book.qty[rows])
        S = book.prices[a]
        with np.errstate(over="ignore", divide="ignore"):  # a tiny size: bounds far out (dropped)
            if by_qty:  # inverse: size q / (S e^{rT}) crosses the bound; linear: size q is constant
                rows_inv = book.inverse[rows]
                g = np.exp(book.rate * book.tte[rows])
                _add(out, a, (q / (S * g))[rows_inv, None] / b[None, :nf] - 1.0)
            else:  # linear: notional q S crosses the bound; inverse: notional q is constant
                lin = ~book.inverse[rows]
                _add(out, a, b[None, :nf] / (q[lin, None] * S) - 1.0)


def smooth_rows(t: dict[str, np.ndarray]) -> np.ndarray:
    """(assets,) bool: the rows of table `t` whose bracket bounds make no kink of f (no finite
    bound, or a notional table without slopes that is convex and continuous: `tier_kinks`)."""
    out = np.ones(t["bound"].shape[0], dtype=bool)
    for a in range(out.size):
        b, r, c = t["bound"][a], t["mmr"][a], t["amt"][a]
        nf = int(np.isfinite(b).sum())  # finite bounds come first, the last tier is unbounded
        if nf == 0:
            continue
        out[a] = False
        if not bool(t["qty"][a]) and not t["mslope"][a].any():
            k = np.arange(nf)
            left, right = b[k] * r[k] - c[k], b[k] * r[k + 1] - c[k + 1]
            if np.allclose(left, right, rtol=1e-9, atol=0.0) and np.all(np.diff(r[:nf + 1]) >= 0):
                out[a] = True
    return out


def per_position_curvature(m: MarginMethod, lo: np.ndarray, hi: np.ndarray, together: bool,
                           need: np.ndarray | None, reduce: str) -> np.ndarray | None:
    """Curvature bound of per-position methods: long options add q gamma to f, short ones at
    most -2 |q| gamma (their value and their maintenance margin mm S + value, or
    max(mm S, mm value) + value + fee S); everything else is piecewise linear between kinks, or
    convex in MM (size-linear rates with slopes >= 0).
    reduce "sum": f adds the positions up (cross); "max": f is the weakest position
    (isolated), and the bound is the largest position's (at least 0)."""
    oc = _option_curves(m)
    wp, wm, cheap = memo(m, f"_curvature_weights_{reduce}", lambda: _weights(m, oc, reduce))

    def exact(sl: slice, lo_k: np.ndarray, hi_k: np.ndarray) -> np.ndarray:
        U, _ = oc.bounds(sl, lo_k, hi_k, wp[sl], wm[sl], worst=reduce == "max")
        return U[:, 0] if reduce == "sum" else np.maximum(U[:, 0], 0.0)

    M = column_bounds(oc, cheap, lo, hi, together, need, exact, column_moves(m, together))
    return M.sum(-1) if together else M


def _weights(m: MarginMethod, oc: OptionCurves, reduce: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per option the weight of its gamma in f'' (long, short) and per column the cheap bound's
    numerator (`per_position_curvature`), once per method."""
    # f = equity - t MM (t: the profile's liquidation threshold; isolated: each position's
    # balance, t = 1): a short option adds -(1 + t) |q| gamma at most
    t = 1.0 if reduce == "max" else float(m.profile.liquidation_threshold)
    wp, wm = np.maximum(oc.qty, 0.0), (1.0 + t) * np.maximum(-oc.qty, 0.0)
    w = wp * oc.g0[0]  # cheap: 0 <= gamma <= g0 / (1 + x_lo)
    cheap = oc.column_sums(w, m.n_assets) if reduce == "sum" else oc.column_max(w, m.n_assets)
    return wp, wm, cheap


def share_option_curves(after: MarginMethod, before: MarginMethod) -> None:
    """When `after`'s book is `before`'s rows followed by rows without a live option (a what-if's
    perpetuals and futures), its options' curves are the before's: take them (and the curvature
    weights built on them, same profile) rather than rebuild them for every trial size."""
    if "_option_curves" not in before.__dict__ or after.book.is_option[len(before.book):].any():
        return
    keys = ("_option_curves", "_curvature_weights_sum", "_curvature_weights_max")
    for key in keys if after.profile is before.profile else keys[:1]:
        if key in before.__dict__:
            after.__dict__[key] = before.__dict__[key]


def _option_curves(m: MarginMethod) -> OptionCurves:
    """The book's option curves at the current state, built once per method (the kinks and the
    curvature bound of a per-position method both use them)."""
    return memo(m, "_option_curves", lambda: OptionCurves.build(m))


def per_position_kinks(m: MarginMethod, table: dict[str, np.ndarray],
                       columns: Sequence[int] | None = None) -> dict[int, np.ndarray]:
    """Base kinks and tier bounds (those of `columns` only, when given)."""
    out: dict[int, list[np.ndarray]] = {}
    for a, x in base_kinks(m, _option_curves(m), columns).items():
        out[a] = [x]
    tier_kinks(m, out, table, columns)
    return _merge(out)
