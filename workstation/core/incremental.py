"""Reuse of a prepared "before" margin method for the "after" of a what-if.

A what-if adds a few positions (the drafts) at the end of a scope's book and changes its
collateral (the cash legs). Every figure of a margin method splits by column (methods/base.py),
and every per-position figure depends on that position alone, so the "after" needs:

- per position: only the drafts' values, scenario rows and Greeks (`reuse_rows`: the after
  method takes the before's per-position results for the rows it shares);
- per column: the pieces of the columns the drafts or the cash legs touch, at the moves a
  liquidation search asks for; the other columns' pieces at the same moves are the before's
  (`ColumnMemo`, a proxy in front of the method that remembers every column's pieces by move).

Both reuse exactly what a full recompute would compute (same arrays, same arithmetic), so the
results equal a full recompute's to rounding (tests/test_whatif_session.py, to 1e-12).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from workstation.core.book import Book
from workstation.core.methods import MarginMethod, Parts, RiskArrayMethod
from workstation.core.methods.bounds_positions import share_option_curves
from workstation.core.methods.risk_array_fast import RiskArrayFast

_BOOK_ROWS = ("ids", "account", "kind", "inverse", "und", "qty", "entry", "strike", "is_call", "tte",
              "expiry_key", "vol", "expired", "settle", "isolated", "growth", "rates", "carry", "fwd_given", "conf")
_BOOK_REST = tuple(f.name for f in fields(Book) if f.name not in _BOOK_ROWS)
_MEMO_LIMIT = 20_000  # remembered (column, move) pieces per memo before it starts afresh


def concat_books(a: Book, b: Book) -> Book:
    """The rows of `a` then those of `b` (same market)."""
    if len(b) == 0:
        return a
    rows = {name: np.concatenate([getattr(a, name), getattr(b, name)]) for name in _BOOK_ROWS}
    rest = {name: getattr(a, name) for name in _BOOK_REST}
    return Book(**rest, **rows)


def reuse_rows(after: MarginMethod, before: MarginMethod) -> None:
    """Let `after` (whose book is `before`'s rows followed by new ones) take the before's
    per-position scenario P&L instead of revaluing those rows, and its options' curves (the
    liquidation bounds') when the new rows hold no option. Methods without per-position
    scenario results need nothing more (their per-position figures are cheap)."""
    share_option_curves(after, before)
    if not isinstance(after, RiskArrayMethod) or not isinstance(before, RiskArrayMethod):
        return
    n0 = len(before.book)
    if after.use_fast and before.use_fast and not after.book.is_option[n0:].any() and _same_grid(after, before):
        # no option among the new rows: the option arrays of the closed-form path are the before's
        after._fast = RiskArrayFast(after, options=before.fast())
    own = after.scenario_pnl
    before_pnl = before.risk().pnl

    def scenario_pnl(book: Book, spot_center: Any = None, v0: Any = None) -> np.ndarray:
        if book is after.book and spot_center is None and v0 is None:
            new = own(book.take(np.arange(n0, len(book))))
            return np.concatenate([before_pnl, new], axis=-1)
        return own(book, spot_center, v0)

    after.scenario_pnl = scenario_pnl  # type: ignore[method-assign]


def _same_grid(a: RiskArrayMethod, b: RiskArrayMethod) -> bool:
    ga, gb = a.grid, b.grid
    return ga.n == gb.n and all(np.array_equal(getattr(ga, k), getattr(gb, k)) for k in ("shock", "vol_dir", "damp"))


def seed_snapshot(after: MarginMethod, before: MarginMethod, touched: set[int]) -> None:
    """Give `after` its snapshot (the pieces at current prices) from the before's, revaluing only
    the `touched` columns (`parts` at no move, the other columns taken from the before's snapshot,
    which equal the after's: their positions and collateral are the same). The snapshot is the
    method's cache (`_p0`, methods/base.py); without it `snapshot()` revalues every column, with the
    same result."""
    if not touched:
        after._p0 = before.snapshot()
        return
    after._p0 = before.snapshot()
    fresh = after.parts(np.zeros((1, after.n_assets)), tuple(sorted(touched)))
    after._p0 = Parts(fresh.equity.copy(), {k: v.copy() for k, v in fresh.terms.items()})


class ColumnMemo:
    """A margin method whose `parts` remembers each column's pieces by move.

    Drop-in for the method wherever the liquidation search or the curves use it: every other
    attribute is the method's. `seed(other, columns)` takes another memo's pieces of the columns
    whose positions and collateral are the same in both (the columns a what-if does not touch).
    """

    def __init__(self, method: MarginMethod):
        self._m = method
        self._memo: dict[tuple[int, float], tuple[float, tuple[float, ...]]] = {}
        self._term_names: tuple[str, ...] | None = None
        self.evaluated = 0  # column pieces computed (not found in the memo)
        self.touched: set[int] = set(range(method.n_assets))  # columns not taken from another memo
        self.identity = bool(np.array_equal(method.driver, np.arange(method.n_assets)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._m, name)

    @property
    def method(self) -> MarginMethod:
        return self._m

    def seed(self, other: ColumnMemo, columns: set[int]) -> None:
        if not (self.identity and other.identity):
            return
        self._term_names = other._term_names
        self._memo.update({k: v for k, v in other._memo.items() if k[0] in columns})
        self.touched -= columns

    def parts(self, X: np.ndarray, only: tuple[int, ...] | None = None) -> Parts:
        """The method's `parts(X, only)`; a column at move 0 is the snapshot's, a column met
        at a move before is remembered, only the rest is revalued (one batch)."""
        m = self._m
        X = np.asarray(X, dtype=float)
        if not self.identity:  # a column's pieces may depend on another column's move
            return m.parts(X, only)
        if len(self._memo) > _MEMO_LIMIT:
            self._memo.clear()
        cols = range(m.n_assets) if only is None else sorted(set(only))
        K = X.shape[0]
        moves = X.tolist()  # Python floats: the memo's keys, read without numpy scalars
        need = [(c, k, row[c]) for c in cols for k, row in enumerate(moves) if row[c] != 0.0]
        memo = self._memo
        todo: dict[int, list[int]] = {}  # column -> rows where its pieces are not known
        for c, k, x in need:
            if (c, x) not in memo:
                todo.setdefault(c, []).append(k)
        for rows, missing in _batches(todo):
            fresh = m.parts(X[rows], tuple(missing))
            self._term_names = names = tuple(fresh.terms)
            eq_rows = fresh.equity.tolist()
            term_rows = [fresh.terms[t].tolist() for t in names]
            for r, k in enumerate(rows):
                row = moves[k]
                for c in missing:
                    x = row[c]
                    if x == 0.0:
                        continue
                    memo[(c, x)] = (eq_rows[r][c], tuple(v[r][c] for v in term_rows))
            self.evaluated += len(rows) * len(missing)
        p0 = m.snapshot()
        names = self._term_names or tuple(p0.terms)
        equity = np.repeat(p0.equity[:1], K, axis=0)
        terms = {t: np.repeat(p0.terms[t][:1], K, axis=0) for t in names}
        if need:
            at = ([k for _, k, _ in need], [c for c, _, _ in need])
            got = [memo[(c, x)] for c, _, x in need]
            equity[at] = [g[0] for g in got]
            for i, t in enumerate(names):
                terms[t][at] = [g[1][i] for g in got]
        return Parts(equity, terms)


def _batches(todo: dict[int, list[int]]) -> list[tuple[list[int], list[int]]]:
    """(rows, columns) evaluations covering `todo` (column -> rows): one per distinct set of
    rows when there are at most two (a touched column at many moves and every column at a few
    need not be evaluated at the union of both), else one over the union."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for c, ks in todo.items():
        groups.setdefault(tuple(sorted(set(ks))), []).append(c)
    if len(groups) <= 2:
        return [(list(rows), sorted(cs)) for rows, cs in groups.items()]
    return [(sorted({k for ks in todo.values() for k in ks}), sorted(todo))]
