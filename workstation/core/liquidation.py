"""Liquidation distance: the smallest move of an underlying (others held) that brings
equity(move) <= maintenance margin(move), the requirement recomputed at the moved state
(tiers, scenario grid centred on the moved price; options repriced at unchanged vol and time).

Every figure of a scope splits by underlying (a position's value, scenario losses, tiers and
contingencies depend on its own underlying's price only), so one batch of array operations
evaluates a matrix of moves X[k, asset] for all underlyings at once. The search:
1. a grid of moves from -99 % to +500 % evaluated in one batch, which serves both the
   single-underlying searches and the `all` search (every non-stable asset moved together);
2. the first sign change of f = equity - MM on each side brackets the nearest liquidation;
3. a vectorised Illinois (regula falsi) refine of every bracket at once, to 1e-7 of the price
   (the method asks 0.01 %).
Isolated accounts liquidate position by position: f is the weakest position's
isolated_margin + value - MM.
"""

from __future__ import annotations

import numpy as np

from workstation.core.methods import MarginMethod, Parts

DOWN_LIMIT = -0.99
UP_LIMIT = 5.0
TOL = 1e-6
_DOWN = np.array([-0.04, -0.1, -0.18, -0.27, -0.4, -0.55, -0.75, -0.9, DOWN_LIMIT])
_UP = np.array([0.04, 0.1, 0.18, 0.27, 0.4, 0.6, 0.9, 1.35, 2.0, 3.0, UP_LIMIT])


class Liquidation:
    """The liquidation search of one scope, on its margin method's moved states."""

    def __init__(self, method: MarginMethod):
        self.m = method
        self.A = method.n_assets
        self.assets = method.assets
        self.p0 = method.snapshot()

    def parts(self, X: np.ndarray, only: tuple[int, ...] | None = None) -> Parts:
        return self.m.parts(X, only)

    def f_single(self, P: Parts) -> np.ndarray:
        return self.m.f_single(P)

    def f_all(self, P: Parts) -> np.ndarray:
        return self.m.f_all(P)

    def _rows(self, moves: np.ndarray) -> np.ndarray:
        """X with every moving asset at the row's move."""
        X = np.zeros((moves.size, self.A))
        X[:, self.assets] = moves[:, None]
        return X

    # ---------------------------------------------------------------- search
    def search(self) -> tuple[np.ndarray, np.ndarray]:
        """Nearest liquidation moves: (down, up) arrays over [assets..., all]; nan = none."""
        assets = self.assets
        n_a = len(assets)
        grid = np.concatenate([[0.0], _DOWN, _UP])
        P = Parts.concat([self.p0, self.parts(self._rows(grid[1:]))])  # row 0: the snapshot
        F = np.concatenate([self.f_single(P)[:, assets], self.f_all(P)[:, None]], axis=1)  # (G, n_a+1)
        sides = (np.arange(1, 1 + _DOWN.size), np.arange(1 + _DOWN.size, grid.size))
        lo = np.zeros((2, n_a + 1))
        hi = np.full((2, n_a + 1), np.nan)
        flo = np.zeros((2, n_a + 1))
        fhi = np.zeros((2, n_a + 1))
        result = np.full((2, n_a + 1), np.nan)
        now = F[0] <= 0
        for s, idx in enumerate(sides):
            Fs = F[idx]  # (g, n_a+1) ordered away from 0
            hit = Fs <= 0
            first = np.where(hit.any(0), hit.argmax(0), -1)
            for j in range(n_a + 1):
                k = first[j]
                if now[j]:
                    result[s, j] = 0.0
                elif k >= 0:
                    lo[s, j], flo[s, j] = (0.0, F[0, j]) if k == 0 else (grid[idx[k - 1]], Fs[k - 1, j])
                    hi[s, j], fhi[s, j] = grid[idx[k]], Fs[k, j]
        active = ~np.isnan(hi) & np.isnan(result)
        if active.any():
            result = np.where(active, self._refine(lo, hi, flo, fhi, active), result)
        return result[0], result[1]

    def _refine(self, lo, hi, flo, fhi, active) -> np.ndarray:
        """Illinois regula falsi on every active bracket at once (f(lo) > 0 >= f(hi))."""
        assets = self.assets
        n_a = len(assets)
        side = np.zeros_like(lo)
        for _ in range(80):
            todo = active & (np.abs(hi - lo) > TOL)
            if not todo.any():
                break
            with np.errstate(divide="ignore", invalid="ignore"):
                c = hi - fhi * (hi - lo) / (fhi - flo)
            inside = (c - lo) * (c - hi) < 0
            c = np.where(inside & (np.abs(side) < 3), c, 0.5 * (lo + hi))
            c = np.where(todo, c, np.nan_to_num(hi))
            # single-asset trials (down, up) revalue only the assets still searching;
            # all-asset trials (down, up) revalue everything
            fc = np.zeros_like(c)
            single = [j for j in range(n_a) if todo[0, j] or todo[1, j]]
            rows = [k for k in (0, 1) if todo[k, :n_a].any()]
            if single:
                X = np.zeros((len(rows), self.A))
                for r, k in enumerate(rows):
                    X[r, assets] = c[k, :n_a]
                fc[rows, :n_a] = self.f_single(self.parts(X, tuple(assets[j] for j in single)))[:, assets]
            rows = [k for k in (0, 1) if todo[k, n_a]]
            if rows:
                X = np.zeros((len(rows), self.A))
                for r, k in enumerate(rows):
                    X[r, assets] = c[k, n_a]
                fc[rows, n_a] = self.f_all(self.parts(X))
            neg = fc <= 0
            upd = todo & neg
            hi = np.where(upd, c, hi)
            fhi = np.where(upd, fc, fhi)
            flo = np.where(upd & (side < 0), 0.5 * flo, flo)
            pos = todo & ~neg
            lo = np.where(pos, c, lo)
            flo = np.where(pos, fc, flo)
            fhi = np.where(pos & (side > 0), 0.5 * fhi, fhi)
            side = np.where(upd, np.minimum(side, 0) - 1, np.where(pos, np.maximum(side, 0) + 1, side))
            side = np.where(~inside & todo, 0, side)  # a bisection step resets the count
        return hi  # the f <= 0 end of each bracket

    def report(self) -> dict[str, dict[str, float | None]]:
        down, up = self.search()
        m = self.m
        out: dict[str, dict[str, float | None]] = {}
        for j, a in enumerate(self.assets):
            price = float(m.book.prices[a])
            d, u = down[j], up[j]
            out[m.book.assets[a]] = {
                "down_pct": _pct(d), "down_price": None if np.isnan(d) else price * (1 + d),
                "up_pct": _pct(u), "up_price": None if np.isnan(u) else price * (1 + u),
            }
        out["all"] = {"down_pct": _pct(down[-1]) if self.assets else None,
                      "up_pct": _pct(up[-1]) if self.assets else None}
        return out

    def curve(self, a: int | None, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(equity, MM) at relative moves `x` of asset `a` (None: every non-stable asset)."""
        x = np.asarray(x, dtype=float)
        if a is None:
            return self.m.eq_mm_all(self.parts(self._rows(x)))
        X = np.zeros((x.size, self.A))
        X[:, a] = x
        eq, mm = self.m.eq_mm_single(self.parts(X, (a,)))
        return eq[:, a], mm[:, a]


def _pct(x: float) -> float | None:
    return None if np.isnan(x) else 100.0 * float(x)


def liquidation(method: MarginMethod) -> dict[str, dict[str, float | None]]:
    return Liquidation(method).report()
