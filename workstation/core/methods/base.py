"""The contract every margin method meets, and the machinery the methods share.

A margin method turns a `Scope` (positions, pooled collateral, profile, mode) into equity,
initial and maintenance margin, their attribution to positions and collateral, and the same
figures at moved prices (liquidation search, curves, what-if). One method object is built per
scope (the arrays are prepared once) and evaluated many times.

Every figure of every method splits by **column** (a market asset): a position belongs to the
column of its underlying, collateral to the column of the asset it is held in (or of the asset
it moves with, `driver`). Moving one column's price changes only that column's pieces, so a
batch of moved states X (K states x A columns of relative moves) is evaluated once, column by
column, and `combine` turns the per-column pieces into the account's IM and MM:

    parts(X)                 -> Parts: equity (K, A) and the method's terms {name: (K, A)}
    combine(terms (..., A))  -> (IM (...), MM (...))

A method implements `terms(...)` (its per-column requirement pieces), `combine(...)` (how the
columns add up: a sum, `sqrt(L' C L)`, a floor...) and `attribution()`. The base class gives
everything else: collateral valuation with haircuts, the snapshot, moved states of one column
alone (`eq_mm_single`) or all together (`eq_mm_all`), chunked and threaded batches, and
sub-books of a few columns for searches that revalue only what moved.

For the exact liquidation search (`liquidation.py`) a method also tells where f = equity - MM
may kink (`kinks()`) and bounds its convexity between kinks (`curvature()`); without a bound
the search falls back to dense sampling. Optional speed hooks: `additive` (combine is a sum of
per-column pieces: `eq_mm_single` without the (K, A, A) broadcast) and `fast_parts` (moved
states computed per column in closed form, identical to the plain path to rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from workstation.core.arrays import index_mask, run_starts
from workstation.core.book import Book
from workstation.core.collateral import haircut_value
from workstation.core.profiles import Profile
from workstation.core.valuation import values

_CHUNK = 4_000_000  # scenario values evaluated per batch (bounds memory)
_PARALLEL = 200_000  # batches of at least this many values are split over two threads (~7 ms of work)
_EXECUTOR: Any = None


def column_sums(v: np.ndarray, und: np.ndarray, n_assets: int) -> np.ndarray:
    """Sum of the last axis of v (..., n) per column `und` (n,) -> (..., n_assets), as
    `v @ onehot` gives, without BLAS: a (31, 10,000) @ (10,000, 11) product wakes OpenBLAS's
    threads, which cost more CPU than the sum (and spin on a shared machine)."""
    v = np.asarray(v, dtype=float)
    lead = v.shape[:-1]
    k = int(np.prod(lead, dtype=np.int64))
    if k == 1 or not lead:
        return np.bincount(und, weights=v.reshape(-1), minlength=n_assets).reshape(*lead, n_assets)
    idx = (np.arange(k)[:, None] * n_assets + und).reshape(-1)
    return np.bincount(idx, weights=v.reshape(-1), minlength=k * n_assets).reshape(*lead, n_assets)


def _rows_by_column(und: np.ndarray) -> dict[int, np.ndarray]:
    """Column -> the rows of its positions, in order ({a: flatnonzero(und == a)} by one sort)."""
    order = np.argsort(und, kind="stable")
    cols = und[order]
    starts = np.flatnonzero(run_starts(cols)).tolist()
    ends = [*starts[1:], cols.size] if starts else []
    return {int(cols[s]): order[s:e] for s, e in zip(starts, ends, strict=True)}


def _pool() -> Any:
    """Two worker threads, created on first use (concurrent.futures costs ~20 ms to import)."""
    global _EXECUTOR
    if _EXECUTOR is None:
        from concurrent.futures import ThreadPoolExecutor

        _EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="margin")
    return _EXECUTOR


@dataclass
class Scope:
    """What one requirement is computed on: positions, pooled collateral, profile and mode."""

    name: str  # "account:ID" or "pool:ID"
    book: Book
    collateral: dict[str, float]
    profile: Profile
    mode: str
    base_currency: str = "USD"
    members: list[str] = field(default_factory=list)  # accounts of a pool


@dataclass(frozen=True)
class Attribution:
    """IM per position: standalone (alone, no collateral), marginal (book minus book without
    it) and component (Euler: components of positions plus collateral add up to IM)."""

    standalone: np.ndarray
    marginal: np.ndarray
    component: np.ndarray
    collateral: dict[str, float]  # collateral asset -> component (IM)


@dataclass
class Parts:
    """Per-column pieces at K moved states: equity (K, A) and the method's terms (K, A)."""

    equity: np.ndarray
    terms: dict[str, np.ndarray]

    def keep(self, snapshot: Parts, cols: np.ndarray) -> Parts:
        """The columns not in `cols` (bool (A,)), not revalued, take the snapshot's figures."""
        rest = ~cols
        self.equity[:, rest] = snapshot.equity[0, rest]
        for k, v in self.terms.items():
            v[:, rest] = snapshot.terms[k][0, rest]
        return self

    @staticmethod
    def concat(parts: list[Parts]) -> Parts:
        return Parts(np.concatenate([p.equity for p in parts]),
                     {k: np.concatenate([p.terms[k] for p in parts]) for k in parts[0].terms})


@dataclass
class _Subset:
    """The positions of a few columns: a sub-book and its column map."""

    book: Book
    onehot: np.ndarray  # (n_sub, A)
    rows: np.ndarray  # indices into the scope's book
    cols: np.ndarray  # bool (A,): the columns revalued
    cache: dict[str, Any] = field(default_factory=dict)  # method-specific prepared arrays


class MarginMethod:
    """Base of every margin method (see the module docstring for the contract)."""

    name: ClassVar[str] = ""
    # combine(terms) is a sum over columns of a linear function of each column's terms (cross,
    # risk-array with `sum`): the state "only column a moved" then costs O(A), not O(A^2)
    additive: ClassVar[bool] = False
    use_fast: bool = True  # take `fast_parts` when the method has one (tests compare both paths)

    def __init__(self, scope: Scope):
        self.scope = scope
        self.book = book = scope.book
        self.profile = scope.profile
        self.mode = scope.mode
        assets = book.assets
        self.n_assets = A = len(assets)
        index = {a: i for i, a in enumerate(assets)}
        self.stable = np.array([self.profile.is_stable(a) or a == scope.base_currency for a in assets],
                               dtype=bool)
        self.driver = self._drivers()
        self.coll_idx = np.array([index[a] for a in scope.collateral], dtype=np.int64)
        self.coll_amt = np.array(list(scope.collateral.values()), dtype=float)
        self.coll_bands = [self._bands(a) for a in scope.collateral]
        self.coll_col = self.driver[self.coll_idx] if self.coll_idx.size else self.coll_idx
        self.onehot = np.zeros((len(book), A))
        self.onehot[np.arange(len(book)), book.und] = 1.0
        self.pos_by_und = _rows_by_column(book.und)
        # columns that carry price risk: those of positions and collateral, except the base
        # currency and the profile's stablecoins (held at par: a USDC perpetual against USDC
        # collateral is not shocked on one side only)
        moving = np.zeros(A, dtype=bool)
        moving[book.und] = True
        moving[self.coll_col] = True
        moving &= ~self.stable
        self.moving = moving
        self.assets = [int(a) for a in np.flatnonzero(moving)]
        self._subsets: dict[tuple[int, ...] | None, _Subset] = {}
        self._p0: Parts | None = None
        self._isolated: float | None = None
        self._p0_figures: tuple[Parts, float, np.ndarray] | None = None

    # -------------------------------------------------------------- set-up hooks
    def _drivers(self) -> np.ndarray:
        """Column whose relative move each asset follows: itself, or the asset the market says
        it `moves_with`."""
        return self.book.driver.copy()

    def _bands(self, asset: str) -> tuple[tuple[float, float], ...]:
        """Haircut bands; the base currency and the profile's stablecoins take none unless the
        profile lists them by name (a "*" fallback is meant for coins)."""
        p = self.profile
        if asset not in p.haircuts and (asset == self.scope.base_currency or p.is_stable(asset)):
            return ((float("inf"), 0.0),)
        return p.haircut_bands(asset, self.scope.collateral.get(asset))

    # -------------------------------------------------------------- collateral and equity
    def collateral_value(self, prices: np.ndarray | None = None) -> np.ndarray:
        """Haircut value of the collateral at asset prices of shape (..., assets)."""
        p = self.book.prices if prices is None else np.asarray(prices, dtype=float)
        total = np.zeros(p.shape[:-1])
        for a, amt, bands in zip(self.coll_idx, self.coll_amt, self.coll_bands, strict=True):
            total = total + haircut_value(float(amt), p[..., a], bands)
        return total

    def collateral_lines(self) -> list[tuple[str, float, float, float]]:
        """(asset, amount, price, value) per collateral asset at current prices."""
        out = []
        for a, amt, bands in zip(self.coll_idx, self.coll_amt, self.coll_bands, strict=True):
            price = float(self.book.prices[a])
            out.append((self.book.assets[a], float(amt), price, float(haircut_value(float(amt), price, bands))))
        return out

    def isolated_total(self) -> float:
        """Collateral set aside in isolated positions (counted in equity wherever they sit)."""
        if self._isolated is None:
            self._isolated = float(np.nansum(self.book.isolated))
        return self._isolated

    def position_values(self, book: Book, spot: np.ndarray | None = None,
                        vol: np.ndarray | None = None) -> np.ndarray:
        """Value of each position in equity at per-position spot prices (..., n) and vols
        (a method that prices on its own forwards or marks overrides this)."""
        return values(book, spot, vol)

    def equity(self) -> float:
        return float(self.collateral_value() + self.isolated_total() + self.position_values(self.book).sum())

    # -------------------------------------------------------------- what a method defines
    def terms(self, sub: _Subset, centers: np.ndarray, spot: np.ndarray,
              pos_values: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
        """The method's requirement pieces per column (K, A) at moved prices `centers` (K, A),
        for the positions of `sub` (spot (K, n_sub), their values (K, n_sub)) and the
        collateral held in the columns `cols` (bool (A,)). Columns outside `cols` are filled
        from the snapshot by the caller."""
        raise NotImplementedError

    def combine(self, terms: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(IM, MM) from per-column terms of shape (..., A), reducing the last axis."""
        raise NotImplementedError

    def attribution(self) -> Attribution:
        raise NotImplementedError

    def scenario_vectors(self, positions: bool = False) -> dict[str, Any] | None:
        """Per risk unit scenario P&L vectors (venues.md "Scenario vectors"); None if the method
        has no scenarios. `positions`: each unit also lists its positions' own vectors."""
        return None

    def kinks(self, columns: Sequence[int] | None = None) -> dict[int, np.ndarray]:
        """Per column, relative moves of that column where f = equity - MM may kink or jump
        (haircut band edges, strikes of options priced at zero vol or expiry, tier bounds...):
        the liquidation search puts each on its grid (just before and just after it). A kink
        where f turns downwards (f a minimum of smooth pieces, e.g. MM a maximum over scenarios)
        need not be listed. The default lists what the base class knows: the collateral's band
        edges and the strikes of options valued at their intrinsic value. `columns`: the columns
        the caller searches (a method may skip the others' kinks; listing them is harmless)."""
        from workstation.core.methods.bounds import base_kinks

        return base_kinks(self)

    def curvature(self, lo: np.ndarray, hi: np.ndarray, together: bool,
                  need: np.ndarray | None = None) -> np.ndarray | None:
        """Upper bounds of f'' (f = f_single or f_all as a function of the relative move x)
        between kinks, for the liquidation search's proof that f > 0 between two sampled moves.

        together=False: lo, hi (K, A); entry [k, a] bounds d^2 f_single[:, a] / dx^2 for moves
        of column a alone within [lo[k, a], hi[k, a]]. together=True: lo, hi (K,); entry k bounds
        d^2 f_all / dx^2 for every moving column moved by the same x within [lo[k], hi[k]].
        `need` (same shape): bounds below it suffice, so a method may return a cheap looser
        bound where that is already below `need`. None: no bound known (the search then samples
        densely and proves nothing); see `bounds.py` for the helpers the built-in methods use."""
        return None

    def f_slack(self) -> float:
        """How far f may lie from the curve `curvature()` describes (a rounding the method applies,
        e.g. Deribit's worst case to 1e-9 coin): the search proves f > 0 from f - 2 x this."""
        return 0.0

    def fast_parts(self, X: np.ndarray, only: tuple[int, ...] | None) -> Parts | None:
        """Optional fast path of `parts` for one batch (None: take the plain path)."""
        return None

    # -------------------------------------------------------------- evaluation at moved prices
    def subset(self, only: tuple[int, ...] | None) -> _Subset:
        """The positions of the columns `only` (None: all), cached."""
        if only not in self._subsets:
            if only is None:
                rows = np.arange(len(self.book))
                sub = _Subset(self.book, self.onehot, rows, np.ones(self.n_assets, dtype=bool))
            else:
                cols = index_mask(list(only), self.n_assets)
                rows = np.flatnonzero(cols[self.book.und])
                sub = _Subset(self.book.take(rows), self.onehot[rows], rows, cols)
            sub.cols.flags.writeable = False  # shared by every evaluation of the subset
            self._subsets[only] = sub
        return self._subsets[only]

    def cost_per_state(self) -> int:
        """Values evaluated per moved state (sets the batch size)."""
        return max(1, len(self.book))

    def batch_together(self, single_rows: int, all_rows: int) -> bool:
        """Whether the liquidation search evaluates its packed single-column rows and its
        `all` rows as one batch of every column (a batch costs more than its rows on a small
        book) rather than two, the single rows revaluing their own columns only."""
        return self.cost_per_state() * (single_rows + all_rows) < 20_000

    def parts(self, X: np.ndarray, only: tuple[int, ...] | None = None) -> Parts:
        """Every column's pieces at moves X (K, A). With `only`, just those columns' positions
        and collateral are revalued (the other columns keep the snapshot's figures). Large
        batches are chunked to bound memory and spread over two threads (numpy releases the
        GIL)."""
        X = np.asarray(X, dtype=float)
        K = X.shape[0]
        per = self.cost_per_state()
        if only is not None and len(self.book):  # only those columns' positions are revalued
            rows = sum(len(self.pos_by_und.get(int(a), ())) for a in set(only))
            per = max(1, per * rows // len(self.book))
        step = max(1, _CHUNK // per)
        if K * per >= _PARALLEL and K >= 2:
            step = min(step, -(-K // 2))
        if step >= K:
            return self._parts(X, only)
        chunks = [X[i:i + step] for i in range(0, K, step)]
        return Parts.concat(list(_pool().map(lambda c: self._parts(c, only), chunks)))

    def _parts(self, X: np.ndarray, only: tuple[int, ...] | None) -> Parts:
        if self.use_fast:
            fast = self.fast_parts(X, only)
            if fast is not None:
                return fast
        return self.plain_parts(X, only)

    def plain_parts(self, X: np.ndarray, only: tuple[int, ...] | None = None) -> Parts:
        """`parts` by revaluing every position of the columns `only` (the reference path)."""
        sub = self.subset(only)
        cols = sub.cols
        centers = self.book.prices * (1.0 + X[:, self.driver])  # (K, A)
        spot = centers[:, sub.book.und]
        pos_values = self.position_values(sub.book, spot)
        equity = pos_values @ sub.onehot
        for a, col, amt, bands in zip(self.coll_idx, self.coll_col, self.coll_amt, self.coll_bands, strict=True):
            if cols[col]:
                equity[:, col] += haircut_value(float(amt), centers[:, a], bands)
        terms = self.terms(sub, centers, spot, pos_values, cols)
        out = Parts(equity, terms)
        return out if only is None else out.keep(self.snapshot(), cols)

    def snapshot(self) -> Parts:
        """The pieces at the current prices (one state)."""
        if self._p0 is None:
            self._p0 = self.plain_parts(np.zeros((1, self.n_assets)), None)
        return self._p0

    def requirement(self) -> tuple[float, float]:
        """(IM, MM) of the scope at current prices."""
        im, mm = self.combine(self.snapshot().terms)
        return float(im[0]), float(mm[0])

    def _snapshot_figures(self) -> tuple[float, np.ndarray]:
        """(equity, MM (1,)) of the snapshot, kept while the snapshot is the same object (every
        moved state of a search is compared with them)."""
        p0 = self.snapshot()
        kept = self._p0_figures
        if kept is None or kept[0] is not p0:
            kept = self._p0_figures = (p0, float(p0.equity[0].sum() + self.isolated_total()),
                                       self.combine(p0.terms)[1])
        return kept[1], kept[2]

    def _equity0(self) -> float:
        return self._snapshot_figures()[0]

    def eq_mm_single(self, P: Parts) -> tuple[np.ndarray, np.ndarray]:
        """(equity, MM) of shape (K, A): row k, column a = only column a moved as in X[k, a]."""
        p0 = self.snapshot()
        eq = self._equity0() + (P.equity - p0.equity[0])
        if self.additive and self.use_fast:  # MM0 + the change of column a's own share
            mm0 = self._snapshot_figures()[1]
            with np.errstate(invalid="ignore"):  # terms combine does not read may hold inf
                _, dmm = self.combine({k: (v - p0.terms[k][0])[..., None] for k, v in P.terms.items()})
            return eq, mm0[0] + dmm
        A = self.n_assets
        eye = np.eye(A, dtype=bool)
        # terms[k][r, a, b]: column b of the state where only column a moved (row r)
        terms = {k: np.where(eye[None], v[:, None, :], p0.terms[k][0][None, None, :])
                 for k, v in P.terms.items()}
        _, mm = self.combine(terms)
        return eq, mm

    def eq_mm_all(self, P: Parts) -> tuple[np.ndarray, np.ndarray]:
        """(equity, MM) of shape (K,): every column moved as in its row of X."""
        eq = self._equity0() + (P.equity - self.snapshot().equity[0]).sum(-1)
        _, mm = self.combine(P.terms)
        return eq, mm

    def f_single(self, P: Parts) -> np.ndarray:
        """How far each single-column state is from liquidation (<= 0: liquidated), (K, A):
        equity - threshold x MM (the profile's `liquidation_threshold`, 1 but for venues that
        liquidate earlier, e.g. Binance portfolio margin at uniMMR 1.05)."""
        eq, mm = self.eq_mm_single(P)
        return eq - self.profile.liquidation_threshold * mm

    def f_all(self, P: Parts) -> np.ndarray:
        """How far each all-columns state is from liquidation (<= 0: liquidated), (K,)."""
        eq, mm = self.eq_mm_all(P)
        return eq - self.profile.liquidation_threshold * mm
