"""Liquidation distance: the smallest move of an underlying (others held) that brings
equity(move) <= maintenance margin(move), the requirement recomputed at the moved state
(tiers, scenario grid centred on the moved price; options repriced at unchanged vol and time).

Searched from -99 % to +500 %: f(x) = equity - MM is evaluated on a grid of moves for every
underlying at once (one batch of array operations per underlying), the first sign change on
each side brackets the root, then a vectorised Illinois (regula falsi) refine pins it to well
under 0.01 % of the price. `all` moves every non-stable asset together.
Isolated accounts liquidate position by position: f is the smallest
isolated_margin + value - MM among the moved positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.core.margin import PositionRequirements, RiskModel
from workstation.core.valuation import values

DOWN_LIMIT = -0.99
UP_LIMIT = 5.0
TOL = 1e-7  # relative move; 0.01 % of price is 1e-4
_DOWN = np.array([-0.01, -0.02, -0.035, -0.05, -0.075, -0.1, -0.125, -0.15, -0.2, -0.25, -0.3,
                  -0.35, -0.4, -0.5, -0.6, -0.7, -0.8, -0.9, -0.95, DOWN_LIMIT])
_UP = np.array([0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6,
                0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, UP_LIMIT])


@dataclass
class _Part:
    """One underlying's contribution at a batch of moves."""

    equity: np.ndarray  # (K,) value of its positions and collateral
    mm: np.ndarray  # (K,) cross: sum of MM; portfolio: unused
    loss: np.ndarray  # (K,) portfolio: worst scenario loss
    cont: np.ndarray  # (K,) portfolio: contingencies
    iso: np.ndarray  # (K,) isolated: min over positions of margin balance - MM


class Liquidation:
    def __init__(self, model: RiskModel):
        self.m = model
        book = model.book
        self.assets = [int(a) for a in np.flatnonzero(model.moving & ~model.stable)]
        self.subs = {a: book.take(model.pos_by_und.get(a, np.zeros(0, dtype=np.int64)))
                     for a in self.assets}
        if model.mode != "portfolio":
            self.reqs = {a: PositionRequirements(sub, model.profile) for a, sub in self.subs.items()}
        zero = np.zeros(1)
        self.base = {a: self._part(a, zero) for a in self.assets}
        self.equity0 = model.equity()
        if model.mode == "portfolio":
            r = model.portfolio_risk()
            self.loss0 = r.loss
            self.cont0 = float(r.cont.sum())
            self.mm0 = r.mm
        else:
            _, mm = model.reqs.at()
            self.mm0 = float(mm.sum())
            iso = self._iso_all()
            self.iso_rest = iso

    # ---------------------------------------------------------------- pieces
    def _iso_all(self) -> float:
        """Smallest isolated balance - MM over positions on assets that never move."""
        m = self.m
        if m.mode != "isolated":
            return np.inf
        still = ~np.isin(m.book.und, self.assets)
        if not still.any():
            return np.inf
        sub = m.book.take(still)
        _, mm = PositionRequirements(sub, m.profile).at()
        return float((np.nan_to_num(sub.isolated) + values(sub) - mm).min())

    def _part(self, a: int, x: np.ndarray) -> _Part:
        m = self.m
        sub = self.subs[a]
        center = m.book.prices[a] * (1.0 + x)  # (K,)
        spot = np.broadcast_to(center[:, None], (x.size, len(sub)))
        eq = values(sub, spot).sum(-1)
        prices = np.broadcast_to(m.book.prices, (x.size, m.n_assets)).copy()
        prices[:, a] = center
        for idx, amt, bands in zip(m.coll_idx, m.coll_amt, m.coll_bands, strict=True):
            if idx == a:
                from workstation.core.collateral import haircut_value

                eq = eq + haircut_value(float(amt), center, bands)
        nan = np.full(x.size, np.nan)
        if m.mode == "portfolio":
            if m.grid.n:
                pnl = m.scenario_pnl(sub, spot).sum(-1) + m.collateral_scenario_pnl(a, center)
                loss = np.maximum(0.0, -pnl.min(-1))
            else:
                loss = np.zeros(x.size)
            cont = m.contingency(sub, spot).sum(-1)
            return _Part(eq, nan, loss, cont, nan)
        _, mm = self.reqs[a].at(spot)
        if m.mode == "isolated":
            bal = np.nan_to_num(sub.isolated) + values(sub, spot) - mm
            iso = bal.min(-1) if len(sub) else np.full(x.size, np.inf)
            return _Part(eq, mm.sum(-1), nan, nan, iso)
        return _Part(eq, mm.sum(-1), nan, nan, nan)

    def _f(self, parts: dict[int, _Part], K: int) -> np.ndarray:
        """equity - MM with the given underlyings' parts replaced (others at the snapshot)."""
        m = self.m
        if m.mode == "isolated":
            out = np.full(K, self.iso_rest)
            for a in self.assets:
                p = parts.get(a, self.base[a])
                out = np.minimum(out, p.iso)
            return out
        eq = np.full(K, self.equity0)
        for a, p in parts.items():
            eq = eq + p.equity - self.base[a].equity
        if m.mode == "portfolio":
            loss = np.broadcast_to(self.loss0, (K, m.n_assets)).copy()
            cont = np.full(K, self.cont0)
            for a, p in parts.items():
                loss[:, a] = p.loss
                cont = cont + p.cont - self.base[a].cont
            mm = m.profile.portfolio.mm_factor * m.aggregate(loss) + cont
        else:
            mm = np.full(K, self.mm0)
            for a, p in parts.items():
                mm = mm + p.mm - self.base[a].mm
        return eq - mm

    def f_single(self, a: int, x: np.ndarray) -> np.ndarray:
        return self._f({a: self._part(a, x)}, x.size)

    def f_all(self, x: np.ndarray) -> np.ndarray:
        return self._f({a: self._part(a, x) for a in self.assets}, x.size)

    # ---------------------------------------------------------------- search
    def _search(self, f) -> tuple[float | None, float | None]:
        """(down, up) relative moves of the nearest liquidation, None where there is none."""
        f0 = float(f(np.zeros(1))[0])
        if f0 <= 0:
            return 0.0, 0.0
        grid = np.concatenate([_DOWN, _UP])
        fg = f(grid)
        out: list[float | None] = []
        for side in (slice(0, _DOWN.size), slice(_DOWN.size, grid.size)):
            xs, fs = grid[side], fg[side]
            hit = np.flatnonzero(fs <= 0)
            if hit.size == 0:
                out.append(None)
                continue
            k = hit[0]
            a, fa = (0.0, f0) if k == 0 else (float(xs[k - 1]), float(fs[k - 1]))
            out.append(self._refine(f, a, fa, float(xs[k]), float(fs[k])))
        return out[0], out[1]

    @staticmethod
    def _refine(f, a: float, fa: float, b: float, fb: float) -> float:
        """Illinois regula falsi on [a, b] with f(a) > 0 >= f(b); returns the root (f <= 0 side
        within TOL). Steps that fail to shrink the bracket fall back to bisection."""
        side = 0
        for _ in range(100):
            if abs(b - a) <= TOL:
                break
            c = b - fb * (b - a) / (fb - fa) if fb != fa else 0.5 * (a + b)
            if not (min(a, b) < c < max(a, b)) or side == 2 or side == -2:
                c = 0.5 * (a + b)
                side = 0
            fc = float(f(np.array([c]))[0])
            if fc <= 0:
                b, fb = c, fc
                if side < 0:
                    fa *= 0.5
                side = side - 1 if side <= 0 else -1
            else:
                a, fa = c, fc
                if side > 0:
                    fb *= 0.5
                side = side + 1 if side >= 0 else 1
            if fc == 0:
                break
        return b

    def report(self) -> dict[str, dict[str, float | None]]:
        m = self.m
        out: dict[str, dict[str, float | None]] = {}
        for a in self.assets:
            down, up = self._search(lambda x, a=a: self.f_single(a, x))
            price = float(m.book.prices[a])
            out[m.book.assets[a]] = {
                "down_pct": _pct(down), "down_price": None if down is None else price * (1 + down),
                "up_pct": _pct(up), "up_price": None if up is None else price * (1 + up),
            }
        if self.assets:
            down, up = self._search(self.f_all)
        else:
            down = up = None
        out["all"] = {"down_pct": _pct(down), "up_pct": _pct(up)}
        return out


def _pct(x: float | None) -> float | None:
    return None if x is None else 100.0 * x


def liquidation(model: RiskModel) -> dict[str, dict[str, float | None]]:
    return Liquidation(model).report()
