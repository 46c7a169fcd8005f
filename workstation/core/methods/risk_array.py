"""The generic portfolio method (`portfolio` mode, method.md): risk arrays per underlying.

For each underlying u, a grid of scenarios s (spot shock x_s, vol up/same/down, dampener w_s)
revalues its positions and the collateral held in it:

    P_us = w_s * sum_i [V_i(S_u (1 + x_s), iv_i') - V_i(S_u, iv_i)]      (+ collateral, haircut)
    iv'  = iv * (1 +/- shock * (30 / max(dte_floor, dte)) ** p),  p = power_short if dte < 30
    L_u  = max(0, -min_s P_us)
    agg  = sum_u L_u        or  sqrt(L' C L)   (correlated, ISDA SIMM style)
    MM   = mm_factor * agg + contingencies,    IM = im_factor * MM

Contingencies: `short_option_contingency` x net short contracts (calls and puts netted per
underlying, expiry and strike) x S; `futures_contingency` x the smaller of the long and short
perpetual/future notional per underlying.

Attribution (Euler): a position's component is its loss in the worst scenario of its
underlying times d agg / d L_u, plus the contingency it causes, times mm_factor * im_factor;
the collateral held in u gets the same share of its own P&L. They add up to IM exactly
because agg is homogeneous of degree one in the losses. Scenarios whose P&L ties within
rounding noise (1e-12 of the column's gross P&L) count as one: the worst is the first of them,
and a loss within that noise gets no component (rounding must not pick the attribution).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workstation.core.book import Book
from workstation.core.collateral import haircut_value
from workstation.core.methods.base import Attribution, MarginMethod, Parts, Scope, column_sums
from workstation.core.methods.portfolio_terms import (
    aggregate,
    aggregate_replacing,
    correlation_matrix,
    futures_term,
    naked_shorts,
)
from workstation.core.methods.risk_array_fast import RiskArrayFast
from workstation.core.methods.risk_array_prune import ROWS
from workstation.core.profiles import Profile

_VOL_DIR = {"up": 1.0, "none": 0.0, "same": 0.0, "down": -1.0}


class ScenarioGrid:
    """The profile's scenarios as arrays, per underlying (its own `moves` and `tails` may differ
    from another's): shocks, vol direction and dampener, each (n_s, assets). An underlying with
    fewer scenarios than the longest list has zero-weight rows past its end (P = 0 there, which
    leaves max(0, -min P) unchanged)."""

    def __init__(self, profile: Profile, assets: tuple[str, ...], used: np.ndarray):
        pp = profile.portfolio
        lists = {a: pp.scenario_list(assets[a]) for a in np.flatnonzero(used)}
        n_s = max((len(v) for v in lists.values()), default=0)
        self.n = n_s
        self.shock = np.zeros((n_s, len(assets)))
        self.vol_dir = np.zeros((n_s, len(assets)))
        self.damp = np.ones((n_s, len(assets)))
        for a, scen in lists.items():
            self.damp[len(scen):, a] = 0.0
            for s, (shock, vdir, damp) in enumerate(scen):
                self.shock[s, a] = shock
                self.vol_dir[s, a] = _VOL_DIR[vdir]
                self.damp[s, a] = damp

    def shocked_vols(self, book: Book, profile: Profile) -> np.ndarray:
        """Option vols per scenario (n_s, n): iv * (1 +/- shock * (30 / max(floor, dte)) ** p)."""
        pp = profile.portfolio
        dte = book.tte * 365.0
        power = np.where(dte < 30.0, pp.power_short, pp.power_long)
        with np.errstate(divide="ignore"):  # dte_floor = 0: inf at T = 0, where options are intrinsic
            scale = (30.0 / np.maximum(pp.dte_floor, dte)) ** power
        up = book.vol * (1.0 + pp.vol_shock_up * scale)
        if pp.vol_floor is not None:
            up = np.maximum(up, pp.vol_floor)
        down = np.maximum(book.vol * (1.0 - pp.vol_shock_down * scale), 0.0)
        d = self.vol_dir[:, book.und]
        return np.where(d > 0, up, np.where(d < 0, down, book.vol))


@dataclass
class PortfolioRisk:
    """Scenario results of a portfolio-mode scope at the current prices."""

    pnl: np.ndarray  # (n_s, n) damped scenario P&L per position
    coll_pnl: np.ndarray  # (n_s, assets) damped scenario P&L of collateral
    total: np.ndarray  # (n_s, assets) per-underlying scenario P&L
    loss: np.ndarray  # (assets,) worst loss per underlying, >= 0
    worst: np.ndarray  # (assets,) index of the worst scenario
    agg: float
    grad: np.ndarray  # (assets,) d agg / d loss
    cont: np.ndarray  # (n,) contingency per position (sums to the total contingency)
    mm: float
    im: float
    noise: np.ndarray | None = None  # (assets,) rounding noise of the scenario P&L: a loss below it is 0


class RiskArrayMethod(MarginMethod):
    """method.md's portfolio margin (see the module docstring)."""

    name = "risk-array"

    def __init__(self, scope: Scope):
        super().__init__(scope)
        assets = self.book.assets
        self.grid = ScenarioGrid(self.profile, assets, self.moving)
        pp = self.profile.portfolio
        self.corr = correlation_matrix(pp, assets)
        self.coll_in_scen = pp.collateral_in_scenarios
        self.additive = self.corr is None  # sum aggregation: MM adds up per column
        self._risk: PortfolioRisk | None = None
        self._fast: RiskArrayFast | None = None
        self._vols: tuple[Book, np.ndarray] | None = None

    def cost_per_state(self) -> int:
        if self.use_fast:  # options in every state (per column in closed form otherwise)
            return max(1, (self.grid.n + 1) * int(np.count_nonzero(self.book.is_option)) + len(self.book))
        return max(1, self.grid.n * len(self.book))

    def batch_together(self, single_rows: int, all_rows: int) -> bool:
        # pruned, a single row's unmoved columns cost about three states of their options (the
        # value and the scenarios that can be the worst, known from the snapshot): cheaper than
        # a batch of its own while that is under ~10,000 cells (risk_array_prune)
        if self.use_fast and RiskArrayFast.prune and single_rows + all_rows <= ROWS:
            return 3 * single_rows * int(np.count_nonzero(self.book.is_option)) < 10_000
        return super().batch_together(single_rows, all_rows)

    # -------------------------------------------------------------- scenario P&L
    def scenario_pnl(self, book: Book, spot_center: np.ndarray | None = None,
                     v0: np.ndarray | None = None) -> np.ndarray:
        """Damped scenario P&L per position, shape (..., n_s, n) around `spot_center` (..., n);
        `v0` are the values at the centre when the caller has them already."""
        g = self.grid
        center = book.spot if spot_center is None else np.asarray(spot_center, dtype=float)
        shocked = center[..., None, :] * (1.0 + g.shock[:, book.und])
        vols = self.shocked_vols(book)
        base = self.position_values(book, center) if v0 is None else v0
        out = self.position_values(book, shocked, vols)
        out -= base[..., None, :]
        out *= g.damp[:, book.und]
        return out

    def shocked_vols(self, book: Book) -> np.ndarray:
        """Option vols per scenario (n_s, n) of `book` (they do not depend on the price: kept)."""
        if self._vols is None or self._vols[0] is not book:
            self._vols = (book, self.grid.shocked_vols(book, self.profile))
        return self._vols[1]

    def collateral_scenario_pnl(self, col: int, centers: np.ndarray) -> np.ndarray:
        """Damped scenario P&L (..., n_s) of the collateral in column `col`, at asset prices
        `centers` (..., A)."""
        out = np.zeros((*centers.shape[:-1], self.grid.n))
        if not self.coll_in_scen or self.stable[col]:
            return out
        g = self.grid
        for a, c, amt, bands in zip(self.coll_idx, self.coll_col, self.coll_amt, self.coll_bands, strict=True):
            if c != col:
                continue
            p = centers[..., a][..., None]
            shocked = haircut_value(float(amt), p * (1.0 + g.shock[:, col]), bands)
            out = out + (shocked - haircut_value(float(amt), p, bands)) * g.damp[:, col]
        return out

    # -------------------------------------------------------------- contingencies
    def contingency(self, book: Book, spot: np.ndarray | None = None) -> np.ndarray:
        """Contingency per position (..., n): short options netted per strike within underlying
        and expiry (Derive: a box or a synthetic forward carries no naked short), allocated to the
        group's short legs; futures on the smaller of long and short notional per underlying."""
        pp = self.profile.portfolio
        s = book.spot if spot is None else np.asarray(spot, dtype=float)
        n = len(book)
        out = np.zeros(np.broadcast_shapes(s.shape, (n,)))
        if n == 0:
            return out
        if pp.short_option_contingency:
            naked, share = naked_shorts(book)
            out = out + pp.short_option_contingency * naked * share * s
        if pp.futures_contingency:
            onehot = np.zeros((n, self.n_assets))
            onehot[np.arange(n), book.und] = 1.0
            out = out + pp.futures_contingency * futures_term(book, s, onehot)
        return out

    # -------------------------------------------------------------- the contract
    def aggregate(self, loss: np.ndarray) -> np.ndarray:
        """Aggregate losses (..., assets): sum, or sqrt(L' C L) (ISDA SIMM style)."""
        return aggregate(loss, self.corr)

    def combine(self, terms):
        pp = self.profile.portfolio
        mm = pp.mm_factor * self.aggregate(terms["loss"]) + terms["cont"].sum(-1)
        return pp.im_factor * mm, mm

    def terms(self, sub, centers, spot, pos_values, cols):
        K = centers.shape[0]
        n_s = self.grid.n
        book = sub.book
        if n_s and len(book):
            pnl = self.scenario_pnl(book, spot, pos_values) @ sub.onehot  # (K, n_s, A)
        else:
            pnl = np.zeros((K, n_s, self.n_assets))
        if n_s:
            for a in self.assets:
                if cols[a]:
                    pnl[:, :, a] += self.collateral_scenario_pnl(a, centers)
            loss = np.maximum(0.0, -pnl.min(1))
        else:
            loss = np.zeros((K, self.n_assets))
        return {"loss": loss, "cont": self.contingency(book, spot) @ sub.onehot}

    # -------------------------------------------------------------- moved states, liquidation
    def fast(self) -> RiskArrayFast:
        if self._fast is None:
            self._fast = RiskArrayFast(self)
        return self._fast

    def fast_parts(self, X, only):
        return self.fast().parts(np.asarray(X, dtype=float), only)

    def kinks(self, columns: Sequence[int] | None = None) -> dict[int, np.ndarray]:
        return self.fast().kinks()

    def curvature(self, lo, hi, together, need=None):
        return self.fast().curvature(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), together, need)

    def eq_mm_single(self, P: Parts) -> tuple[np.ndarray, np.ndarray]:
        if self.corr is None or not self.use_fast:
            return super().eq_mm_single(P)
        # sqrt(L' C L) with only L_a changed (`aggregate_replacing`)
        p0 = self.snapshot()
        eq = self._equity0() + (P.equity - p0.equity[0])
        L0 = p0.terms["loss"][0]
        agg = aggregate_replacing(L0, self.corr, np.arange(L0.size), P.terms["loss"])
        pp = self.profile.portfolio
        cont = p0.terms["cont"][0].sum() + (P.terms["cont"] - p0.terms["cont"][0])
        return eq, pp.mm_factor * agg + cont

    def risk(self) -> PortfolioRisk:
        """The scenario results at the current prices (cached)."""
        if self._risk is None:
            self._risk = self._compute_risk()
        return self._risk

    def _compute_risk(self) -> PortfolioRisk:
        pp = self.profile.portfolio
        book = self.book
        pnl = self.fast().position_pnl() if self.use_fast else self.scenario_pnl(book)  # (n_s, n)
        n_s = self.grid.n
        u, A = book.und, self.n_assets
        total = column_sums(pnl, u, A)
        coll = np.zeros((n_s, self.n_assets))
        for a in sorted({int(c) for c in self.coll_col} & set(self.assets)):  # the others hold none
            coll[:, a] = self.collateral_scenario_pnl(a, self.book.prices[None, :])[0]
        total = total + coll
        if n_s:
            # rounding noise of each column's scenario P&L; the worst scenario is the first one
            # within it of the minimum, so that rounding (another CPU, a fast path) cannot flip
            # the attribution between scenarios that tie
            noise = 1e-12 * (column_sums(np.abs(pnl), u, A) + np.abs(coll)).max(0)
            low = total.min(0)
            worst = (total <= low + noise).argmax(0)
            loss = np.maximum(0.0, -low)
        else:
            noise = np.zeros(self.n_assets)
            worst = np.zeros(self.n_assets, dtype=np.int64)
            loss = np.zeros(self.n_assets)
        agg = float(self.aggregate(loss))
        if self.corr is None:
            grad = np.ones(self.n_assets)
        else:
            grad = self.corr @ loss / agg if agg > 0 else np.zeros(self.n_assets)
        cont = self.contingency(book)
        mm = pp.mm_factor * agg + float(cont.sum())
        return PortfolioRisk(pnl=pnl, coll_pnl=coll, total=total, loss=loss, worst=worst, agg=agg,
                             grad=grad, cont=cont, mm=mm, im=pp.im_factor * mm, noise=noise)

    def snapshot(self) -> Parts:
        """The pieces at current prices, from the scenario results (no second revaluation)."""
        if self._p0 is None:
            r = self.risk()
            equity = column_sums(self.position_values(self.book), self.book.und, self.n_assets)[None, :]
            for a, col, amt, bands in zip(self.coll_idx, self.coll_col, self.coll_amt, self.coll_bands,
                                          strict=True):
                equity[0, col] += haircut_value(float(amt), self.book.prices[a], bands)
            cont = column_sums(r.cont, self.book.und, self.n_assets)[None, :]
            self._p0 = Parts(equity, {"loss": r.loss[None, :].copy(), "cont": cont})
        return self._p0

    def requirement(self) -> tuple[float, float]:
        r = self.risk()
        return r.im, r.mm

    def attribution(self) -> Attribution:
        from workstation.core.methods.risk_array_attribution import attribute

        return attribute(self)
