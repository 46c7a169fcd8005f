"""The risk-array method at moved prices, per column in closed form (the liquidation search's
grid, curves), with the kinks and curvature bounds of its f = equity - MM.

Same figures as `RiskArrayMethod.plain_parts` (to rounding; a test compares them), computed
without per-position arrays wherever the method is linear:
- spot, perpetuals, futures and expired options add up per column to value = S * Dv + Cv and
  scenario P&L = damp * Dv * S * shock;
- contingencies per column: short options soc * naked * S; futures fc * min(long, short) with
  long = aL S + bL, short = aS S + bS (inverse notionals are constant);
- only options go through Black-76, on arrays prepared once per (state, option): with
  y = ln(1 + x), s = +1 (call) / -1 (put), s d1 = a1 + y b1, s d2 = s d1 - s sd and
  q * value = w1 (1 + x) N(s d1) - w2 N(s d2). State 0 is the current vol and price (the
  position's value), states 1.. the scenarios (price multiple 1 + shock, shocked vol; these
  vols do not depend on the price, so they are computed once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workstation.core.arrays import unique
from workstation.core.collateral import haircut_value
from workstation.core.methods.base import Parts
from workstation.core.methods.bounds import (
    OptionCurves,
    _add,
    _merge,
    base_kinks,
    collateral_kinks,
    column_bounds,
    column_moves,
)
from workstation.core.methods.bounds_corr import correlated_bound
from workstation.core.methods.bounds_greeks import state_slopes
from workstation.core.pricing import ndtr

if TYPE_CHECKING:
    from workstation.core.methods.risk_array import RiskArrayMethod

_BLOCK = 1 << 15  # (rows x states x options) elements per block: the temporaries stay in cache


_OPTION_FIELDS = ("S1", "oc", "a1", "b1", "ssd", "w1", "w2", "dead", "col", "_sel")


class RiskArrayFast:
    def __init__(self, m: RiskArrayMethod, options: RiskArrayFast | None = None):
        """`options`: the prepared arrays of a method whose book has the same option rows, grid
        and market (a what-if's before, when the drafts add no option): taken, not rebuilt."""
        self.m = m
        book, A = m.book, m.n_assets
        if options is not None:
            for name in _OPTION_FIELDS:
                setattr(self, name, getattr(options, name))
        else:
            self._prepare_options()
        # delta-one, spot and expired options per column: value = S * Dv + Cv
        gr = book.groups
        Dv = np.zeros(A)
        Cv = np.zeros(A)
        q, e, u = book.qty, book.entry, book.und
        np.add.at(Dv, u[gr.spot], q[gr.spot])
        np.add.at(Dv, u[gr.linear], q[gr.linear] * gr.linear_growth)
        np.add.at(Cv, u[gr.linear], -q[gr.linear] * e[gr.linear])
        with np.errstate(divide="ignore", invalid="ignore"):
            np.add.at(Dv, u[gr.inverse], q[gr.inverse] * gr.inverse_growth / e[gr.inverse])
        np.add.at(Cv, u[gr.inverse], -q[gr.inverse])
        np.add.at(Cv, u[gr.expired], m.position_values(book.take(gr.expired)) if gr.expired.size else 0.0)
        self.Dv, self.Cv = Dv, Cv
        # contingencies per column
        pp = m.profile.portfolio
        n = len(book)
        self.naked = np.zeros(A)
        if pp.short_option_contingency and n:
            grp, net = book.option_groups
            qo = np.where(book.is_option, book.qty, 0.0)
            shorts = np.bincount(grp, weights=np.where(qo < 0, -qo, 0.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where((qo < 0) & (shorts[grp] > 0), -qo / shorts[grp], 0.0)
            np.add.at(self.naked, u, np.maximum(-net, 0.0)[grp] * share)
        self.fut = np.zeros((4, A))  # aL, bL, aS, bS
        if pp.futures_contingency and n:
            d1 = book.is_delta_one
            absq = np.abs(q)
            for k, side in enumerate((q > 0, q < 0)):
                lin = d1 & side & ~book.inverse
                inv = d1 & side & book.inverse
                np.add.at(self.fut[2 * k], u[lin], absq[lin])
                np.add.at(self.fut[2 * k + 1], u[inv], absq[inv])
        self.mults = np.concatenate([np.ones((1, A)), 1.0 + m.grid.shock]).T  # (A, 1 + n_s) price multiples
        self.coll0 = [haircut_value(float(amt), float(book.prices[a]), bands)
                      for a, amt, bands in zip(m.coll_idx, m.coll_amt, m.coll_bands, strict=True)]
        self._cheap: np.ndarray | None = options._cheap if options is not None else None

    def _prepare_options(self) -> None:
        m = self.m
        book, g = m.book, m.grid
        self.S1 = g.n + 1
        opt = np.flatnonzero(book.is_option)
        opt = opt[np.argsort(book.und[opt], kind="stable")]
        col = book.und[opt]
        mult = np.ones((self.S1, opt.size))
        mult[1:] = 1.0 + g.shock[:, col]
        vols = np.empty((self.S1, opt.size))
        vols[0] = book.vol[opt]
        vols[1:] = m.shocked_vols(book)[:, opt]
        self.oc = oc = OptionCurves.build(m, mult, vols)
        live = oc.g0 > 0
        s = np.where(book.is_call[opt], 1.0, -1.0)
        T = book.tte[opt]
        qd = book.qty[opt] * np.exp(-book.rates[opt] * T)  # q * discount (each position's rate)
        F0 = mult * (book.prices[col] * book.growth[opt])  # forward (or the market's) in each state
        K = book.strike[opt]
        self.a1 = np.where(live, s * oc.d1_0, 0.0)
        self.b1 = s * oc.inv_sd
        self.ssd = s * oc.sd
        self.w1 = np.where(live, s * qd * F0, 0.0)
        self.w2 = np.where(live, s * qd * K, 0.0)
        ds, di = np.nonzero(~live)  # dead entries: q disc max(0, s (F0 (1 + x) - K))
        self.dead = (ds, di, (s * qd)[di], F0[ds, di], K[di], s[di])
        self.col = col
        self._sel: dict[tuple[int, ...] | None, tuple] = {}

    # ------------------------------------------------------------------ moved states
    def _selection(self, only: tuple[int, ...] | None) -> tuple:
        if only not in self._sel:
            col = self.col
            oc = self.oc
            if only is None:
                idx = np.arange(col.size)
                arrays = [self.a1, self.b1, self.ssd, self.w1, self.w2]
            else:
                runs = [oc.slices()[a] for a in only if a in oc.slices()]
                idx = np.concatenate([np.arange(r.start, r.stop) for r in runs]) if runs else np.zeros(0, int)
                one = len(runs) == 1  # one column: views, no copies
                arrays = [a[:, runs[0]] if one else a[:, idx] for a in (self.a1, self.b1, self.ssd, self.w1, self.w2)]
            cols, starts = np.unique(col[idx], return_index=True)
            ds, di, sq, F0, K, s = self.dead
            keep = np.isin(col[di], col[idx]) if only is not None else np.ones(di.size, dtype=bool)
            dead = (ds[keep], col[di[keep]], sq[keep], F0[keep], K[keep], s[keep])
            self._sel[only] = (idx, arrays, cols, starts, dead)
        return self._sel[only]

    def option_values(self, Xd: np.ndarray, only: tuple[int, ...] | None) -> np.ndarray:
        """Sum of q * value of each column's options in each state: (K, S1, A)."""
        K, A = Xd.shape[0], self.m.n_assets
        out = np.zeros((K, self.S1, A))
        idx, (a1, b1, ssd, w1, w2), cols, starts, dead = self._selection(only)
        if idx.size:
            xo = Xd[:, self.col[idx]]
            y = np.log1p(xo)
            g = 1.0 + xo
            step = max(1, _BLOCK // (self.S1 * idx.size))
            for r in range(0, K, step):
                sl = slice(r, r + step)
                d = y[sl, None, :] * b1
                d += a1
                n1 = ndtr(d)
                d -= ssd
                n2 = ndtr(d, out=d)
                n1 *= w1
                n1 *= g[sl, None, :]
                n2 *= w2
                n1 -= n2
                out[sl][:, :, cols] = np.add.reduceat(n1, starts, axis=2)
        ds, dc, sq, F0, Kd, s = dead
        if ds.size:
            v = sq * np.maximum(s * (F0 * (1.0 + Xd[:, dc]) - Kd), 0.0)
            np.add.at(out, (slice(None), ds, dc), v)
        return out

    def position_pnl(self) -> np.ndarray:
        """Damped scenario P&L per position at the current prices (n_s, n), as
        `RiskArrayMethod.scenario_pnl(book)`: options from the prepared arrays, the other
        positions by the same arithmetic as that method (a perpetual and the collateral that
        hedges it then cancel exactly, as they do there)."""
        m, g, book = self.m, self.m.grid, self.m.book
        pnl = np.empty((g.n, len(book)))
        rest = np.flatnonzero(~book.is_option)
        if rest.size:
            pnl[:, rest] = m.scenario_pnl(book.take(rest))
        if self.col.size:
            n1 = ndtr(self.a1)
            n2 = ndtr(self.a1 - self.ssd)
            v = self.w1 * n1 - self.w2 * n2  # (S1, n_options): q * value in each state
            ds, di, sq, F0, K, s = self.dead
            if ds.size:
                np.add.at(v, (ds, di), sq * np.maximum(s * (F0 - K), 0.0))
            pnl[:, self.oc.rows] = (v[1:] - v[:1]) * g.damp[:, book.und[self.oc.rows]]
        return pnl

    def parts(self, X: np.ndarray, only: tuple[int, ...] | None) -> Parts:
        m = self.m
        g = m.grid
        A = m.n_assets
        if only is None:
            cols = np.ones(A, dtype=bool)
        else:
            cols = np.zeros(A, dtype=bool)
            cols[list(only)] = True
        Xd = X[:, m.driver]
        centers = m.book.prices * (1.0 + Xd)
        V = self.option_values(Xd, only)
        equity = V[:, 0, :] + centers * self.Dv + self.Cv
        K = X.shape[0]
        if g.n:
            pnl = V[:, 1:, :]
            pnl -= V[:, :1, :]
            pnl += (self.Dv * centers)[:, None, :] * g.shock
            pnl *= g.damp  # (n_s, A): each underlying its own dampeners
        for a, c, amt, bands, v0 in zip(m.coll_idx, m.coll_col, m.coll_amt, m.coll_bands, self.coll0, strict=True):
            if not cols[c]:
                continue
            scen = g.n and m.coll_in_scen and not m.stable[c]
            if not scen:  # its value only (one call; none at all when its price did not move)
                moved = Xd[:, a] != 0.0
                equity[:, c] += haircut_value(float(amt), centers[:, a], bands) if moved.any() else v0
                continue
            # the value at the centre and at every scenario price, in one call
            v = haircut_value(float(amt), centers[:, a][:, None] * self.mults[c], bands)
            equity[:, c] += v[:, 0]
            pnl[:, :, c] += (v[:, 1:] - v[:, :1]) * g.damp[:, c]
        loss = np.maximum(0.0, -pnl.min(1)) if g.n else np.zeros((K, A))
        pp = m.profile.portfolio
        cont = pp.short_option_contingency * self.naked * centers
        if pp.futures_contingency:
            aL, bL, aS, bS = self.fut
            cont = cont + pp.futures_contingency * np.minimum(aL * centers + bL, aS * centers + bS)
        out = Parts(equity, {"loss": loss, "cont": cont})
        return out if only is None else out.keep(m.snapshot(), cols)

    # ------------------------------------------------------------------ liquidation bounds
    def kinks(self) -> dict[int, np.ndarray]:
        """Base kinks, band edges at every scenario's price, strikes of options dead in a
        scenario, and where the futures contingency switches sides (min(long, short))."""
        m = self.m
        out: dict[int, list[np.ndarray]] = {a: [x] for a, x in base_kinks(m, self.oc).items()}
        if m.coll_in_scen and m.grid.n:
            collateral_kinks(m, out, lambda col: 1.0 + m.grid.shock[:, col])
        for a in unique(self.oc.col):
            _add(out, a, self.oc.dead_kinks[:, self.oc.col == a])
        aL, bL, aS, bS = self.fut
        with np.errstate(divide="ignore", invalid="ignore"):
            s_star = (bS - bL) / (aL - aS)
        for a in np.flatnonzero(np.isfinite(s_star) & (s_star > 0)):
            _add(out, a, np.array([s_star[a] / m.book.prices[a] - 1.0]))
        return _merge(out)

    def curvature(self, lo: np.ndarray, hi: np.ndarray, together: bool,
                  need: np.ndarray | None) -> np.ndarray | None:
        m = self.m
        A = m.n_assets
        moves = column_moves(m, together)
        oc = self.oc
        if m.corr is not None:
            lo2 = np.broadcast_to(lo[:, None], (lo.shape[0], A)) if together else np.asarray(lo)
            hi2 = np.broadcast_to(hi[:, None], (hi.shape[0], A)) if together else np.asarray(hi)
            return self._correlated(lo2, hi2, together, moves)
        if self._cheap is None:  # 0 <= gamma <= g0 / (1 + x_lo): per column, once
            G = oc.column_sums(np.stack([np.maximum(oc.qty, 0.0) * oc.g0, np.maximum(-oc.qty, 0.0) * oc.g0]), A)
            self._cheap = self._branches(G[0][None], -G[1][None])[0]  # (A,)

        def exact(sl: slice, lo_k: np.ndarray, hi_k: np.ndarray) -> np.ndarray:
            U, L = oc.bounds(sl, lo_k, hi_k)
            return self._branches(U[..., None], L[..., None])[:, 0]

        M = column_bounds(oc, self._cheap, lo, hi, together, need, exact, moves)
        return M.sum(-1) if together else M

    def _correlated(self, lo2: np.ndarray, hi2: np.ndarray, together: bool, moves: np.ndarray) -> np.ndarray:
        """Per column E'' (U0) and, over the scenario branches P_s = w_s (sum q V_s - sum q V_0) +
        linear, sup P_s'' (R), sup |P_s''| (M2), sup |P_s'| (S1: options |q| sup |V'| in both
        states, the linear part's slope Dv S0 shock, the collateral's at most
        |amt| p max(1 + shock, 1)); then `bounds_corr.correlated_bound`."""
        m = self.m
        A = m.n_assets
        k = lo2.shape[0]
        parts = {key: np.zeros((k, A)) for key in ("U0", "R", "M2", "S1")}
        w = m.grid.damp  # (n_s, A)
        shock = m.grid.shock
        oc = self.oc
        coll = np.zeros((m.grid.n, A))
        if m.coll_in_scen:
            for a, c, amt in zip(m.coll_idx, m.coll_col, m.coll_amt, strict=True):
                if not m.stable[c]:
                    coll[:, c] += abs(float(amt)) * float(m.book.prices[a]) * np.maximum(1.0 + shock[:, c], 1.0)
        lin = np.abs(self.Dv * m.book.prices)[None, :] * np.abs(shock) + coll  # (n_s, A)
        sl_all = oc.slices()
        for a in np.flatnonzero(moves):
            lo, hi = np.asarray(lo2[:, a], dtype=float), np.asarray(hi2[:, a], dtype=float)
            wa = w[:, a][None, :]
            s1 = wa * lin[:, a][None, :]
            if a in sl_all:
                sl = sl_all[a]
                U, L = oc.bounds(sl, lo, hi)
                U0, L0, Us, Ls = U[:, :1], L[:, :1], U[:, 1:], L[:, 1:]
                parts["U0"][:, a] = U0[:, 0]
                if Us.shape[1]:
                    parts["R"][:, a] = (wa * (Us - L0)).max(1)
                    parts["M2"][:, a] = (wa * np.maximum(Us - L0, U0 - Ls)).max(1)
                    sq = state_slopes(oc, sl, lo, hi) @ np.abs(oc.qty[sl])  # (k, S1)
                    s1 = s1 + wa * (sq[:, 1:] + sq[:, :1])
            parts["S1"][:, a] = s1.max(1) if s1.shape[1] else 0.0
        t = float(m.profile.liquidation_threshold)
        return correlated_bound(m, m.corr, m.snapshot().terms["loss"][0], parts, lo2, hi2, together,
                                t * m.profile.portfolio.mm_factor, moves)

    def _branches(self, U: np.ndarray, L: np.ndarray) -> np.ndarray:
        """Bound of f'' per column from bounds U >= sum q gamma_s >= L per state s (K, S1, A)
        under sum aggregation: f = min(E - cont, min_s (E - cont + mmf pnl_s)); branch s has
        f'' = sum q [(1 - mmf w_s) gamma_0 + mmf w_s gamma_s]."""
        pp = self.m.profile.portfolio
        mmf = pp.mm_factor * self.m.profile.liquidation_threshold  # f = equity - t MM
        w = self.m.grid.damp[None, :, :]  # (1, n_s, A)
        U0, L0 = U[:, :1], L[:, :1]
        Us, Ls = U[:, 1:], L[:, 1:]
        c = 1.0 - mmf * w
        b = np.maximum(c * U0, c * L0) + np.maximum(mmf * w * Us, mmf * w * Ls)
        M = U0[:, 0]
        if b.shape[1]:
            M = np.maximum(M, b.max(1))
        return M
