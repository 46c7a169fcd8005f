"""Kinks and convexity bounds of f = equity - MM along a relative move x, for the exact
liquidation search (`liquidation.py`).

What a bound certifies. `curvature()` returns, for an interval [x0, x1] (h = x1 - x0) between
kinks, an M with

    f(x) >= chord(x) - M (x - x0)(x1 - x) / 2     for every x in [x0, x1],

chord the line through (x0, f(x0)) and (x1, f(x1)); the search then proves f > 0 on the
interval from f(x0), f(x1) > 0 and M < 2 (sqrt f(x0) + sqrt f(x1))^2 / h^2. Any upper bound of
f'' is such an M (f - M x^2 / 2 is concave). The property composes:
- sum of terms: the sum of their M; minimum of branches (each with its own endpoint values,
  which are >= f's): the largest M. So MM a maximum (over scenarios, of a formula and 0, ...)
  makes -MM a minimum: a kink where f turns downwards costs nothing;
- a term with |psi'| <= L on the interval (Lipschitz, of any shape): 8 L / h (it lies above its
  chord less 2 L min(x - x0, x1 - x) <= 4 L (x - x0)(x1 - x) / h);
- upward kinks (convex: the slope rises by J in all) anywhere inside: 2 J / h.
A kink where f turns upwards or jumps at a place known in advance (a haircut band edge where
the scenario P&L switches bands, an option at zero vol, a tier table that is not convex) is a
grid point instead: `kinks()`.

Option curvature. With y = ln(1 + x), an option on forward F = c F0 (1 + x) (c: a scenario's
price multiple) at vol sd = vol sqrt(T) has, per unit,

    d^2 V / dx^2 = gamma(x) = disc c F0 n(d1) / ((1 + x) sd) = g0 exp(-d1^2 / 2 - y),
    g0 = disc c F0 / (sd sqrt(2 pi)),   d1 = d1_0 + y / sd,

log-concave in y with its peak at d1 = -sd: on an interval its supremum is at the peak if the
peak lies inside, else at an end, and its infimum at an end (`OptionCurves.sup_inf`). A forward
F~ (1 + kappa x) (partly fixed, or shifted by an absolute scan) takes y = ln(1 + kappa x) and
kappa^2 times that. A cheaper bound, g0 / (1 + x_lo) >= gamma, is used first where it already
suffices (`need`). `bounds_greeks.py` has the other Greeks' suprema (slopes, delta and vega
derivatives) that charges on deltas and vegas need.

Columns that move with another (`moves_with`, `column_moves`): moving column a alone leaves a
column driven by another asset at the snapshot (curvature 0); moving every column moves it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from workstation.core.arrays import index_mask, unique

if TYPE_CHECKING:
    from workstation.core.book import Book
    from workstation.core.methods.base import MarginMethod

T = TypeVar("T")

LOW, HIGH = -0.99, 5.0  # the searched range (liquidation.DOWN_LIMIT, UP_LIMIT)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_ALMOST_MINUS_1 = -1.0 + 1e-12


def _block(n: int) -> int:
    return max(1, (1 << 14) // max(1, n))  # rows of (states x options) per block: stays in cache


def _gamma(y: np.ndarray, d1_0: np.ndarray, inv_sd: np.ndarray, g0: np.ndarray) -> np.ndarray:
    """g0 exp(-d1^2 / 2 - y), d1 = d1_0 + y / sd, computed in place on one new array."""
    g = y * inv_sd
    g += d1_0
    g *= g
    g *= -0.5
    g -= y
    np.exp(g, out=g)
    g *= g0
    return g


@dataclass
class OptionCurves:
    """The options of a book sorted by column, with their curvature constants in S1 states (row
    0: the current price and vol). Arrays (S1, n); dead entries (zero vol, expired, non-positive
    strike or forward) have g0 = 0: their value is piecewise linear.

    In state s an option's forward is F(x) = F~ (1 + kappa x) (kappa = 1 unless the method gives
    it: a forward partly fixed, a scan of absolute size), so with y = ln(1 + kappa x)

        d^2 V / dx^2 = kappa^2 g0 exp(-d1(y)^2 / 2 - y),   d1(y) = d1_0 + y inv_sd,

    peaking at y_pk (d1 = -sd) with the value kappa^2 g_pk."""

    rows: np.ndarray  # indices into the book, sorted by column
    col: np.ndarray  # (n,) column of each
    qty: np.ndarray  # (n,)
    d1_0: np.ndarray
    inv_sd: np.ndarray
    sd: np.ndarray
    g0: np.ndarray
    y_pk: np.ndarray
    g_pk: np.ndarray
    dead_kinks: np.ndarray  # (S1, n) moves x where a dead entry's intrinsic value kinks (nan: none)
    dfF: np.ndarray | None = None  # (S1, n) discount x F~ (0 where F~ <= 0)
    call: np.ndarray | None = None  # (n,) True for calls
    kappa: np.ndarray | None = None  # (S1, n) forward slopes (None: 1)
    dfK: np.ndarray | None = None  # (n,) discount x strike

    @staticmethod
    def build(m: MarginMethod, mult: np.ndarray | None = None, vols: np.ndarray | None = None,
              forward: np.ndarray | None = None, disc: np.ndarray | None = None,
              fwd: np.ndarray | None = None, kappa: np.ndarray | None = None,
              book: Book | None = None) -> OptionCurves:
        """The live options of `book` (default the method's), sorted by column. `mult` (S1,
        n_options) price multiples and `vols` (S1, n_options) of each option in each state
        (default: one state, the current price and the option's own vol); `forward` and `disc`
        (n_options, in the same sorted order) for a method that prices on its own forwards and
        discount factors (default: the book's, S * growth and e^{-rT} at each position's rate,
        as `valuation.values`); `fwd` (S1, n_options) the forwards F~ of each state outright
        (instead of mult x forward) and `kappa` (S1, n_options) their slopes."""
        book = m.book if book is None else book
        rows = np.flatnonzero(book.is_option)
        rows = rows[np.argsort(book.und[rows], kind="stable")]
        col = book.und[rows]
        T = book.tte[rows]
        mult = np.ones((1, rows.size)) if mult is None else mult
        vols = book.vol[rows][None, :] if vols is None else vols
        if fwd is None:
            F0 = mult * (book.prices[col] * book.growth[rows] if forward is None else forward)
        else:
            F0 = np.asarray(fwd, dtype=float)
        K = book.strike[rows]
        disc = np.exp(-book.rates[rows] * np.maximum(T, 0.0)) if disc is None else disc
        with np.errstate(all="ignore"):
            sd = vols * np.sqrt(np.maximum(T, 0.0))
            live = (sd > 0) & (sd < np.inf) & (F0 > 0) & (K > 0)
            dead = not live.all()
            if dead:
                sd = np.where(live, sd, 0.0)
            inv_sd = 1.0 / sd
            if dead:
                inv_sd[~live] = 0.0
            d1_0 = np.log(F0 / K) * inv_sd + 0.5 * sd
            if dead:
                d1_0[~live] = 0.0
            g0 = (disc * _INV_SQRT_2PI) * F0 * inv_sd  # 0 where dead (inv_sd = 0)
            y_pk = (-sd - d1_0) * sd
            g_pk = g0 * np.exp(-0.5 * sd * sd - y_pk)
            if dead:
                k = np.ones_like(F0) if kappa is None else kappa
                dead_kinks = np.where(~live & (F0 > 0) & (K > 0) & (k > 0), (K / F0 - 1.0) / k, np.nan)
            else:
                dead_kinks = np.full(sd.shape, np.nan)
            dfF = np.where(F0 > 0, disc * F0, 0.0)
        dfK = (np.asarray(disc)[0] if np.ndim(disc) > 1 else np.asarray(disc)) * K
        return OptionCurves(rows, col, book.qty[rows], d1_0, inv_sd, sd, g0, y_pk, g_pk, dead_kinks,
                            dfF, book.is_call[rows], kappa, dfK)

    def __post_init__(self) -> None:
        cols, starts, counts = np.unique(self.col, return_index=True, return_counts=True)
        self.cols, self.starts = cols, starts
        self._slices = {int(c): slice(int(s), int(s + n)) for c, s, n in zip(cols, starts, counts, strict=True)}

    def slices(self) -> dict[int, slice]:
        """Column -> its options (a contiguous run of the sorted arrays)."""
        return self._slices

    def sup_inf(self, sl: slice, lo: np.ndarray, hi: np.ndarray) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """Per block of intervals rs: (rs, sup, inf), each (len(rs), S1, n_sl), of each option's
        x-gamma (per unit held) over x in [lo[r], hi[r]]: the supremum at the peak y_pk if it lies
        inside, else at an end; the infimum at an end (the gamma is log-concave in y)."""
        d1_0, inv_sd, g0 = self.d1_0[:, sl], self.inv_sd[:, sl], self.g0[:, sl]
        y_pk, g_pk = self.y_pk[:, sl], self.g_pk[:, sl]
        kap = None if self.kappa is None else self.kappa[:, sl]
        S1, n = g0.shape
        k = lo.size
        if kap is None:
            y_lo, y_hi = np.log1p(lo)[:, None, None], np.log1p(hi)[:, None, None]
        step = _block(S1 * n)
        for r in range(0, k, step):
            rs = slice(r, r + step)
            if kap is None:
                ylo, yhi = y_lo[rs], y_hi[rs]
            else:  # a forward at or below 0 is intrinsic there (gamma 0): the bound of the rest
                ylo = np.log1p(np.maximum(kap * lo[rs, None, None], _ALMOST_MINUS_1))
                yhi = np.log1p(np.maximum(kap * hi[rs, None, None], _ALMOST_MINUS_1))
            g_lo, g_hi = _gamma(ylo, d1_0, inv_sd, g0), _gamma(yhi, d1_0, inv_sd, g0)
            sup = np.maximum(g_lo, g_hi)
            np.copyto(sup, g_pk, where=(y_pk > ylo) & (y_pk < yhi), casting="unsafe")
            inf = np.minimum(g_lo, g_hi, out=g_lo)
            if kap is not None:
                k2 = kap * kap
                sup *= k2
                inf *= k2
            yield rs, sup, inf

    def bounds(self, sl: slice, lo: np.ndarray, hi: np.ndarray, wp: np.ndarray | None = None,
               wm: np.ndarray | None = None, worst: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(U, L), each (k, S1), over x in [lo[r], hi[r]] for the options `sl` (one column) in
        each state: U >= sup and L <= inf of sum (wp - wm) gamma (default weights q+ and q-);
        worst: U >= max over the options of sup (wp - wm) gamma instead (L is then U)."""
        q = self.qty[sl]
        qp = np.maximum(q, 0.0) if wp is None else wp
        qm = np.maximum(-q, 0.0) if wm is None else wm
        S1 = self.g0.shape[0]
        n = q.size
        U, L = np.empty((lo.size, S1)), np.empty((lo.size, S1))
        for rs, sup, inf in self.sup_inf(sl, lo, hi):
            if worst:
                U[rs] = L[rs] = (sup * qp - inf * qm).max(-1) if n else 0.0
            else:
                U[rs] = sup @ qp - inf @ qm
                L[rs] = inf @ qp - sup @ qm
        return U, L

    def group_bounds(self, sl: slice, lo: np.ndarray, hi: np.ndarray, starts: np.ndarray,
                     wp: np.ndarray | None = None, wm: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """As `bounds`, summed per group of consecutive options (groups begin at `starts`,
        positions within the slice): (U, L), each (k, S1, G)."""
        q = self.qty[sl]
        qp = np.maximum(q, 0.0) if wp is None else wp
        qm = np.maximum(-q, 0.0) if wm is None else wm
        S1 = self.g0.shape[0]
        U, L = np.empty((lo.size, S1, starts.size)), np.empty((lo.size, S1, starts.size))
        for rs, sup, inf in self.sup_inf(sl, lo, hi):
            U[rs] = np.add.reduceat(sup * qp - inf * qm, starts, axis=-1)
            L[rs] = np.add.reduceat(inf * qp - sup * qm, starts, axis=-1)
        return U, L

    def column_sums(self, v: np.ndarray, n_assets: int) -> np.ndarray:
        """Sum over each column's options of the last axis of v (..., n) -> (..., A)."""
        out = np.zeros((*v.shape[:-1], n_assets))
        if self.col.size:
            out[..., self.cols] = np.add.reduceat(v, self.starts, axis=-1)
        return out

    def column_max(self, v: np.ndarray, n_assets: int) -> np.ndarray:
        """Maximum over each column's options (0 where none) -> (..., A)."""
        out = np.zeros((*v.shape[:-1], n_assets))
        if self.col.size:
            out[..., self.cols] = np.maximum.reduceat(v, self.starts, axis=-1)
        return out


def memo(m: MarginMethod, key: str, build: Callable[[], T]) -> T:
    """`build()` once per method object, kept in its `__dict__` under `key` (a method belongs to
    one book state: the kinks and the curvature bounds of a search share what they prepare)."""
    value = m.__dict__.get(key)
    if value is None:
        value = m.__dict__[key] = build()
    return value


def in_range(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    return unique(x[np.isfinite(x) & (x > LOW) & (x < HIGH)])


def _add(out: dict[int, list[np.ndarray]], col: int, x: np.ndarray) -> None:
    x = in_range(x)
    if x.size:
        out.setdefault(int(col), []).append(x)


def _merge(out: dict[int, list[np.ndarray]]) -> dict[int, np.ndarray]:
    return {c: unique(np.concatenate(v)) for c, v in out.items()}


def collateral_kinks(m: MarginMethod, out: dict[int, list[np.ndarray]],
                     mults: Callable[[int], np.ndarray] | None = None) -> None:
    """Moves of each collateral's driver column where its gross value crosses a band edge, at
    the current price and at the multiples `mults(column)` of it (e.g. 1 + scenario shocks)."""
    for a, col, amt, bands in zip(m.coll_idx, m.coll_col, m.coll_amt, m.coll_bands, strict=True):
        price = float(m.book.prices[a])
        edges = np.array([u for u, _ in bands[:-1]], dtype=float)
        if amt <= 0 or price <= 0 or not edges.size or m.stable[col]:
            continue
        k = np.ones(1) if mults is None else np.concatenate([[1.0], mults(int(col))])
        with np.errstate(over="ignore", divide="ignore"):  # a tiny amount: edges far out (dropped)
            _add(out, col, edges[None, :] / (amt * price * k[:, None]) - 1.0)


def base_kinks(m: MarginMethod, oc: OptionCurves | None = None,
               columns: Sequence[int] | None = None) -> dict[int, np.ndarray]:
    """Band edges of the collateral and strikes of options valued at their intrinsic value
    (`oc`: the options' curves if the caller has them; their state 0 is the current one), of
    `columns` only when given (the others' entries are left out, not changed)."""
    out: dict[int, list[np.ndarray]] = {}
    collateral_kinks(m, out)
    oc = OptionCurves.build(m) if oc is None else oc
    held = unique(oc.col)
    if columns is not None:
        held = held[index_mask(columns, m.n_assets)[held]]
    if not np.isnan(oc.dead_kinks[:1]).all():  # an option at its intrinsic value somewhere
        for a in held:
            _add(out, a, oc.dead_kinks[:1, oc.col == a])
    return _merge(out)


def column_moves(m: MarginMethod, together: bool) -> np.ndarray:
    """(A,) bool: the columns whose pieces move in a search. A column's positions follow its
    driver's move (`moves_with`), collateral sits in its driver's column: so moving column a
    alone moves a's pieces only if a drives itself (a column that moves with another stays at
    the snapshot, curvature 0), and moving every non-stable column moves a's pieces if its
    driver is one of them."""
    own = m.driver == np.arange(m.n_assets)
    if not together:
        return own
    moving = np.zeros(m.n_assets, dtype=bool)
    moving[np.asarray(m.assets, dtype=np.int64)] = True
    return moving[m.driver]


def branch_bound(U: np.ndarray, L: np.ndarray, a0: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bound of f'' for f = E + min(0, min_s branch_s) where, per unit held, E'' = sum q gamma_0
    and branch s adds a0_s - 1 times that and b_s sum q gamma_s: U >= sum q gamma_s >= L per
    state s (k, S1; state 0 the current one), a0, b (S1 - 1,). -> (k,): the largest bound
    among "no loss" (U_0) and every scenario's max(a0 U_0, a0 L_0) + max(b U_s, b L_s)."""
    U0, L0 = U[:, :1], L[:, :1]
    if U.shape[1] == 1:
        return U0[:, 0]
    s = np.maximum(a0 * U0, a0 * L0) + np.maximum(b * U[:, 1:], b * L[:, 1:])
    return np.maximum(U0[:, 0], s.max(1))


def column_bounds(oc: OptionCurves, cheap: np.ndarray, lo: np.ndarray, hi: np.ndarray, together: bool,
                  need: np.ndarray | None, exact: Callable[[slice, np.ndarray, np.ndarray], np.ndarray],
                  moves: np.ndarray) -> np.ndarray:
    """Bound of f'' per state and column (K, A) on [lo, hi] (per column (K, A), or (K,) for
    every column moved `together`): the cheap bound `cheap` (A,) / (1 + min(lo, hi)) where it
    already proves `need` (None: nowhere), else the smaller of it and `exact(options of the
    column, lo, hi)` on the states that fail. Columns not in `moves` (`column_moves`) stay at
    the snapshot: 0."""
    A = cheap.shape[-1]
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    lo2 = np.broadcast_to(lo[:, None], (lo.shape[0], A)) if together else lo
    hi2 = np.broadcast_to(hi[:, None], (hi.shape[0], A)) if together else hi
    M = np.where(moves, cheap, 0.0) / (1.0 + np.minimum(lo2, hi2))
    if need is None:
        fail = np.ones(M.shape, dtype=bool)
    elif together:
        fail = np.broadcast_to((M.sum(-1) >= need)[:, None], M.shape)
    else:
        fail = need <= M
    slices = oc.slices()
    for a in np.flatnonzero(fail.any(0) & moves).tolist():  # the columns with a state that fails
        sl = slices.get(a)
        if sl is None:
            continue
        ks = np.flatnonzero(fail[:, a])
        if ks.size:
            M[ks, a] = np.minimum(M[ks, a], exact(sl, lo2[ks, a], hi2[ks, a]))
    return M
