"""Pieces the two scenario-grid portfolio methods share (the generic risk array of method.md
and Derive's PMRM_2): the correlation aggregation of the per-column losses, the naked short
options of the short-option contingency, and the futures contingency on offsetting notional.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workstation.core.book import Book


def correlation_matrix(pp: Any, assets: list[str]) -> np.ndarray | None:
    """The (A, A) correlations of `[portfolio]` (`pp`) for `pp.aggregation = "correlated"`,
    else None (losses add up)."""
    if pp.aggregation != "correlated":
        return None
    return np.array([[pp.corr(a, b) for b in assets] for a in assets])


def aggregate(loss: np.ndarray, corr: np.ndarray | None) -> np.ndarray:
    """Aggregate losses (..., A): sum, or sqrt(L' C L) (ISDA SIMM style)."""
    if corr is None:
        return loss.sum(-1)
    quad = np.einsum("...a,ab,...b->...", loss, corr, loss)
    return np.sqrt(np.maximum(quad, 0.0))


def aggregate_replacing(loss: np.ndarray, corr: np.ndarray, cols: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sqrt(L' C L) with column `cols` of the losses `loss` (A,) at `x` instead (broadcast):
    a position's column without it (marginal margin), a column's moved state (liquidation).

    With L_-a the losses with column a zeroed: L' C L = Q_a + 2 x R_a + x^2 C_aa, where
    Q_a = L_-a' C L_-a and R_a = sum over b != a of C_ab L_b, each term computed as it stands.
    The expansion about the whole quadratic form (agg^2 + 2 dL (C L)_a + dL^2 C_aa) cancels to
    rounding noise when column a carries the whole loss and x is near 0, and the square root
    made that noise about sqrt(eps) of the margin (5.6e-5 of a 3,183 loss: a fast and a plain
    path disagreed)."""
    A = loss.size
    rest = np.where(np.eye(A, dtype=bool), 0.0, loss[None, :])  # row a: the losses, column a zeroed
    q = np.einsum("ab,bc,ac->a", rest, corr, rest)
    r = np.einsum("ab,ab->a", corr, rest)
    quad = q[cols] + 2.0 * x * r[cols] + x * x * np.diag(corr)[cols]
    return np.sqrt(np.maximum(quad, 0.0))


def naked_shorts(book: Book) -> tuple[np.ndarray, np.ndarray]:
    """Short options netted per strike within underlying and expiry (a box or a synthetic
    forward carries no naked short): each option's group's naked short quantity (n,) and the
    position's share of its group's shorts (n,), 0 for longs and other instruments."""
    grp, net = book.option_groups
    q = np.where(book.is_option, book.qty, 0.0)
    shorts = np.bincount(grp, weights=np.where(q < 0, -q, 0.0))
    naked = np.maximum(-net, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where((q < 0) & (shorts[grp] > 0), -q / shorts[grp], 0.0)
    return naked[grp], share


def delta_one_sides(book: Book, spot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Long and short notional (base) of perpetuals and futures at per-position spot:
    |q| * S for linear ones, |q| USD for inverse ones (the method's N)."""
    notional = np.where(book.is_delta_one,
                        np.where(book.inverse, np.abs(book.qty), np.abs(book.qty) * spot), 0.0)
    return np.where(book.qty > 0, notional, 0.0), np.where(book.qty < 0, notional, 0.0)


def futures_term(book: Book, s: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Offsetting perpetual/futures notional per underlying (the smaller side, a tie split),
    allocated to that side's positions (method.md) -> (..., n); `onehot` (n, A) maps positions
    to their underlying's column."""
    long_n, short_n = delta_one_sides(book, s)
    tot_long, tot_short = long_n @ onehot, short_n @ onehot
    off = np.minimum(tot_long, tot_short)
    u = book.und
    # the smaller side carries the charge; a tie splits it between both sides
    w_long = np.where(tot_long < tot_short, 1.0, np.where(tot_long == tot_short, 0.5, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(long_n > 0, w_long[..., u] * long_n / tot_long[..., u],
                        np.where(short_n > 0, (1.0 - w_long[..., u]) * short_n / tot_short[..., u], 0.0))
    return np.nan_to_num(off[..., u] * part)
