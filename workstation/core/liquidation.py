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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from workstation.core.collateral import haircut_value
from workstation.core.margin import PortfolioRisk, PositionRequirements, RiskModel
from workstation.core.valuation import values

DOWN_LIMIT = -0.99
UP_LIMIT = 5.0
TOL = 1e-6
_DOWN = np.array([-0.04, -0.1, -0.18, -0.27, -0.4, -0.55, -0.75, -0.9, DOWN_LIMIT])
_UP = np.array([0.04, 0.1, 0.18, 0.27, 0.4, 0.6, 0.9, 1.35, 2.0, 3.0, UP_LIMIT])
_CHUNK = 4_000_000  # scenario values evaluated per batch (bounds memory)
_PARALLEL = 200_000  # batches at least this large are split over two threads
_EXECUTOR: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="liquidation")
    return _EXECUTOR


@dataclass
class Parts:
    """Per-asset pieces at K states: arrays of shape (K, assets)."""

    equity: np.ndarray  # value of positions on the asset plus collateral held in it
    mm: np.ndarray  # cross/isolated: sum of position MM
    loss: np.ndarray  # portfolio: worst scenario loss
    cont: np.ndarray  # portfolio: contingencies
    iso: np.ndarray  # isolated: weakest position's balance - MM (inf without positions)


class Liquidation:
    def __init__(self, model: RiskModel, risk: PortfolioRisk | None = None):
        self.m = model
        self.A = model.n_assets
        self.assets = [int(a) for a in np.flatnonzero(model.moving & ~model.stable)]
        self._subsets: dict[tuple[int, ...], tuple] = {}
        self.p0 = self._snapshot(risk) if risk is not None else self.parts(np.zeros((1, self.A)))
        self.equity0 = model.equity()
        self.corr_l0 = None
        if model.mode == "portfolio":
            self.loss0 = self.p0.loss[0]
            self.cont0 = float(self.p0.cont[0].sum())
            self.corr_l0 = model.corr @ self.loss0 if model.corr is not None else None
            self.quad0 = float(self.loss0 @ self.corr_l0) if model.corr is not None else 0.0
        self.mm0 = float(self.eq_mm_all(self.p0)[1][0])

    # ---------------------------------------------------------------- evaluation
    def _snapshot(self, risk: PortfolioRisk) -> Parts:
        """The pieces at the snapshot from an already computed portfolio risk (same figures as
        parts(zeros), without revaluing the scenario grid again)."""
        m = self.m
        equity = (values(m.book) @ m.onehot)[None, :]
        for a, amt, bands in zip(m.coll_idx, m.coll_amt, m.coll_bands, strict=True):
            equity[0, a] += haircut_value(float(amt), m.book.prices[a], bands)
        nan = np.full((1, self.A), np.nan)
        return Parts(equity, nan, risk.loss[None, :].copy(), (risk.cont @ m.onehot)[None, :], nan)

    def parts(self, X: np.ndarray, only: tuple[int, ...] | None = None) -> Parts:
        """Every asset's pieces at moves X (K, assets). With `only`, just those assets' positions
        and collateral are revalued (other columns keep the snapshot's figures). Large batches are
        chunked to bound memory and spread over two threads (numpy releases the GIL)."""
        m = self.m
        n = len(m.book)
        n_s = m.grid.n if m.mode == "portfolio" else 1
        K = X.shape[0]
        step = max(1, _CHUNK // max(1, n_s * n))
        if K * n_s * n >= _PARALLEL and K >= 2:
            step = min(step, -(-K // 2))
        if step >= K:
            return self._parts(X, only)
        chunks = [X[i:i + step] for i in range(0, K, step)]
        results = list(_pool().map(lambda c: self._parts(c, only), chunks))
        return Parts(*(np.concatenate([getattr(r, f) for r in results])
                       for f in ("equity", "mm", "loss", "cont", "iso")))

    def _subset(self, only: tuple[int, ...] | None):
        """(book, onehot, requirements, positions by asset) of the positions on `only`."""
        m = self.m
        if only is None:
            return m.book, m.onehot, getattr(m, "reqs", None), m.pos_by_und
        if only not in self._subsets:
            idx = np.flatnonzero(np.isin(m.book.und, only))
            sub = m.book.take(idx)
            onehot = m.onehot[idx]
            reqs = PositionRequirements(sub, m.profile) if m.mode != "portfolio" else None
            by_und = {a: np.flatnonzero(sub.und == a) for a in np.unique(sub.und)}
            self._subsets[only] = (sub, onehot, reqs, by_und)
        return self._subsets[only]

    def _parts(self, X: np.ndarray, only: tuple[int, ...] | None = None) -> Parts:
        m = self.m
        book, onehot, reqs, by_und = self._subset(only)
        K = X.shape[0]
        cols = list(range(self.A)) if only is None else list(only)
        centers = m.book.prices * (1.0 + X)  # (K, A)
        spot = centers[:, book.und]  # (K, n)
        pos_values = values(book, spot)
        equity = pos_values @ onehot
        for a, amt, bands in zip(m.coll_idx, m.coll_amt, m.coll_bands, strict=True):
            if only is None or a in only:
                equity[:, a] += haircut_value(float(amt), centers[:, a], bands)
        nan = np.full((K, self.A), np.nan)
        if m.mode == "portfolio":
            if m.grid.n and len(book):
                pnl = m.scenario_pnl(book, spot, pos_values) @ onehot  # (K, n_s, A)
            else:
                pnl = np.zeros((K, m.grid.n, self.A))
            if m.grid.n:
                for a in self.assets:
                    if only is None or a in only:
                        pnl[:, :, a] += m.collateral_scenario_pnl(a, centers[:, a])
                loss = np.maximum(0.0, -pnl.min(1))
            else:
                loss = np.zeros((K, self.A))
            cont = m.contingency(book, spot) @ onehot
            out = Parts(equity, nan, loss, cont, nan)
        else:
            _, mm_pos = reqs.at(spot)
            iso = nan
            if m.mode == "isolated":
                bal = np.nan_to_num(book.isolated) + pos_values - mm_pos
                iso = np.full((K, self.A), np.inf)
                for a, idx in by_und.items():
                    iso[:, a] = bal[:, idx].min(-1)
            out = Parts(equity, mm_pos @ onehot, nan, nan, iso)
        if only is not None:  # columns not revalued keep the snapshot's figures
            rest = np.setdiff1d(np.arange(self.A), cols)
            for f in ("equity", "mm", "loss", "cont", "iso"):
                getattr(out, f)[:, rest] = getattr(self.p0, f)[0, rest]
        return out

    def eq_mm_single(self, P: Parts) -> tuple[np.ndarray, np.ndarray]:
        """(equity, MM) of shape (K, A): row k, column a = only asset a moved as in X[k, a]."""
        m = self.m
        p0 = self.p0
        eq = self.equity0 + (P.equity - p0.equity[0])
        if m.mode == "portfolio":
            mmf = m.profile.portfolio.mm_factor
            d = P.loss - self.loss0
            if m.corr is None:
                agg = self.loss0.sum() + d
            else:
                quad = self.quad0 + 2.0 * d * self.corr_l0 + d * d * np.diag(m.corr)
                agg = np.sqrt(np.maximum(quad, 0.0))
            mm = mmf * agg + self.cont0 + (P.cont - p0.cont[0])
        else:
            mm = self.mm0 + (P.mm - p0.mm[0])
        return eq, mm

    def eq_mm_all(self, P: Parts) -> tuple[np.ndarray, np.ndarray]:
        """(equity, MM) of shape (K,): every asset moved as in its row of X."""
        m = self.m
        eq = self.equity0 + (P.equity - self.p0.equity[0]).sum(-1)
        if m.mode == "portfolio":
            mm = m.profile.portfolio.mm_factor * m.aggregate(P.loss) + P.cont.sum(-1)
        else:
            mm = P.mm.sum(-1)
        return eq, mm

    def f_single(self, P: Parts) -> np.ndarray:
        if self.m.mode == "isolated":
            return P.iso
        eq, mm = self.eq_mm_single(P)
        return eq - mm

    def f_all(self, P: Parts) -> np.ndarray:
        if self.m.mode == "isolated":
            return P.iso.min(-1)
        eq, mm = self.eq_mm_all(P)
        return eq - mm

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
        P = self.parts(self._rows(grid[1:]))
        P = Parts(*(np.concatenate([getattr(self.p0, f), getattr(P, f)])  # row 0: the snapshot
                    for f in ("equity", "mm", "loss", "cont", "iso")))
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
            return self.eq_mm_all(self.parts(self._rows(x)))
        X = np.zeros((x.size, self.A))
        X[:, a] = x
        eq, mm = self.eq_mm_single(self.parts(X))
        return eq[:, a], mm[:, a]


def _pct(x: float) -> float | None:
    return None if np.isnan(x) else 100.0 * float(x)


def liquidation(model: RiskModel, risk: PortfolioRisk | None = None) -> dict[str, dict[str, float | None]]:
    return Liquidation(model, risk).report()
