"""Kinks and curvature bounds of Derive PMRM_2 (`pmrm2.py`) for the exact liquidation search
(what a bound certifies: `bounds.py`).

Per column, f = E - t (mm_factor agg(L) + C_MM), L = max(0, -min(B, min over rows of P)).
C_MM is linear in S between kinks (naked shorts and perpetuals x S; the futures term's
min(long, short) switches side at a listed kink); perpetuals at their marks, futures, spot and
the collateral are linear in S (band edges at the current and every row's price are kinks).
Options per expiry e: in a state with spot move m, the fixing window's forward is
F0 (1 + phi m) + F0 phi (1 + m) x = F~ (1 + kappa x), F~ = F0 (1 + phi m),
kappa = phi (1 + m) / (1 + phi m): `OptionCurves` states (current, every regular row with its
shocked vols, the basis legs), gamma bounds summed per expiry (U_e >= sum q gamma >= L_e).

- Regular row s: P_s = w_s [linear + sum_e (D_e(V_e^s) - V_e)], D_e(v) = min(sdp v, sdn v) when
  sdn >= sdp (concave: a minimum of two lines, each branch's curvature c V_e^s'' with
  c in {sdp, sdn}; an expiry of long options only is >= 0, c = sdp; of shorts only, c = sdn).
  With f's own E'' per expiry, branch s is bounded by the sum over e of
  max((1 - t mmf w_s) U0_e, (1 - t mmf w_s) L0_e) + t mmf w_s max_c c U_e^s. If sdn < sdp, D_e
  is convex: where an expiry mixing longs and shorts changes sign its slope rises by
  |sdn - sdp| |V_e^s'| (an upward kink at a place not known in advance: 2 J / h).
- Basis: B = sum_e basis_e min(V_e^up - V_e, V_e^dn - V_e, 0): per expiry the largest of the
  legs' sup (U_e^leg - L0_e) and 0.
- Skew rows: P = -sum_e |h_e|, h_e = w (D_e(V_e^q) - V_e), -|h| = min(h, -h): per expiry
  max(sup h'', sup (-h)''), plus the upward kink of D_e where an expiry that mixes longs and
  shorts changes sign (J = w |sdn - sdp| |V_e^q'|, either D). The skew vol moves with the
  forward: w(u) = vol sqrt(T) max(0, 1 + s(k)), k = ln(K / F) (abs: |k|), s piecewise linear in
  k (breakpoints k = 0, +/-k*). Between breakpoints, with u = ln F and w' = dw/du constant,
      d^2 V / dx^2 = kappa^2 df F~ e^{-y} n(d1) / w (1 - d1 w')(1 - d2 w'),
  (V_uu - V_u = df F n(d1) / w (1 - d1 w')(1 - d2 w'), d(d1)/du = (1 - d2 w') / w), bounded
  by interval arithmetic: y, k, s and w over the interval (s monotone in k), d1 = -k / w + w / 2
  and d2 = d1 - w over those ranges, |w'| <= vol sqrt(T) cap / k* where a linear piece is
  touched, else 0. At a breakpoint inside, the slope jumps by |q| vega |dw'| kappa / (1 +
  kappa x) (vega = df F n(d1), dw' = vol sqrt(T) cap / k*, twice that at k = 0): 2 J / h. A skew
  table with cap < 0, cap >= 1 or k* <= 0 (vols that jump or vanish) gets no bound.

Aggregation: sum: M = max over branches (no loss: sum_e U0_e; every row; basis) summed over
columns. Correlated (`bounds_corr.correlated_bound`): the branches' curvature, absolute curvature
and slope bounds per column.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from workstation.core.arrays import unique
from workstation.core.methods.bounds import (
    OptionCurves,
    _add,
    _merge,
    collateral_kinks,
    column_moves,
    memo,
)
from workstation.core.methods.bounds_corr import correlated_bound
from workstation.core.methods.bounds_greeks import state_slopes
from workstation.core.methods.pmrm2_book import SKEW_ABS, Expiries, fixing_phi

if TYPE_CHECKING:
    from workstation.core.methods.pmrm2 import Pmrm2Method

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _n(d: np.ndarray) -> np.ndarray:
    return _INV_SQRT_2PI * np.exp(-0.5 * d * d)


class Pmrm2Bounds:
    """The arrays PMRM_2's bounds need, prepared once per method."""

    def __init__(self, m: Pmrm2Method):
        self.m = m
        x, book, rows = m.x, m.book, m.rows
        self.t = float(m.profile.liquidation_threshold)
        self.tmf = self.t * float(m.profile.portfolio.mm_factor)
        ex = self.ex = Expiries.build(book, m.profile, x, rows)
        ob = ex.ob
        n = ob.qty.size
        reg = rows.reg
        phi = fixing_phi(ob, x)
        self.phi = phi
        F0 = ob.prices[ob.und] * ob.growth
        shocks = [np.zeros(n)] + [rows.shock[s, ob.und] for s in reg]
        vols = [ob.vol] + [ex.vols[j] for j in range(reg.size)]
        bc = x.basis_contingency
        self.basis_states = bc is not None
        if bc is not None:
            shocks += [np.full(n, bc.spot_up), np.full(n, bc.spot_down)]
            vols += [ob.vol, ob.vol]
        mm = np.array(shocks).reshape(len(shocks), n)
        with np.errstate(divide="ignore", invalid="ignore"):
            fwd = F0 * (1.0 + phi * mm)
            kappa = np.where(fwd > 0, phi * (1.0 + mm) / (1.0 + phi * mm), 0.0)
        self.oc = oc = OptionCurves.build(m, vols=np.array(vols).reshape(len(vols), n), fwd=fwd, kappa=kappa, book=ob)
        assert np.array_equal(oc.rows, np.arange(n))  # Expiries sorts by underlying, then expiry
        self.n_reg = reg.size
        self.w_reg = rows.damp[reg]
        # per expiry
        q = ob.qty
        e_of = ex.e_of
        n_e = ex.starts.size
        pos = np.bincount(e_of, weights=(q > 0).astype(float), minlength=n_e) > 0
        neg = np.bincount(e_of, weights=(q < 0).astype(float), minlength=n_e) > 0
        self.mixed = pos & neg
        sdp, sdn = np.asarray(ex.sdp, dtype=float), np.asarray(ex.sdn, dtype=float)
        c_lo = np.where(self.mixed, np.minimum(sdp, sdn), np.where(pos, sdp, sdn))
        c_hi = np.where(self.mixed, np.maximum(sdp, sdn), np.where(pos, sdp, sdn))
        self.c_lo, self.c_hi = c_lo, c_hi
        self.kink_reg = self.mixed & (sdn < sdp)  # D_e convex: an upward kink where V_e^s = 0
        self.kink_skew = self.mixed & (sdn != sdp)  # -|D_e(V) - V_0|: one of h, -h kinks upward
        self.dsd = np.abs(sdn - sdp)
        self.basis = np.asarray(ex.basis, dtype=float)
        self.col_e = ob.und[ex.starts] if n_e else np.zeros(0, dtype=np.int64)
        # skew rows
        self.skew = [(int(rows.kind[s]), float(rows.damp[s])) for s in rows.skew]
        T = ob.tte
        self.w0 = ob.vol * np.sqrt(np.maximum(T, 0.0))
        self.df = np.exp(-ob.rates * np.maximum(T, 0.0))
        self.F0 = F0
        self.K = ob.strike
        self.lnK = np.log(np.where(ob.strike > 0, ob.strike, np.nan))
        self.skew_ok = True
        if self.skew:
            kstar = ex.kstar[e_of]
            caps = {k: (ex.cap_abs if k == SKEW_ABS else ex.cap_lin)[e_of] for k, _ in self.skew}
            self.kstar = kstar
            self.caps = caps
            for cap in caps.values():
                live = self.w0 > 0
                if np.any(live & ((cap < 0) | (cap >= 1.0) | ~(kstar > 0))):
                    self.skew_ok = False
        # linear slopes of the non-options' row P&L (exact: they are linear in x), per column
        self._lin = self._linear_slopes()

    # ------------------------------------------------------------------ preparation
    def _linear_slopes(self) -> np.ndarray:
        """(n_reg, A) slope in x of each regular row's P&L of the non-options (linear in x)."""
        m, ex = self.m, self.ex
        out = np.zeros((self.n_reg, m.n_assets))
        db = ex.db
        if not ex.oth.size or not self.n_reg:
            return out
        shock = m.rows.shock[m.rows.reg][:, db.und]
        s0 = db.spot
        with np.errstate(all="ignore"):
            v = [m.position_values(db, (s0 * g)[None, :] * (1.0 + shock)) - m.position_values(db, (s0 * g)[None, :])
                 for g in (1.0, 2.0)]
        slope = np.nan_to_num((v[1] - v[0]) * self.w_reg[:, None])
        np.add.at(out.T, db.und, slope.T)
        return out

    def kinks(self) -> dict[int, np.ndarray]:
        """Band edges of the collateral (now and at every regular row's price), strikes of options
        dead in a state, and where the futures term switches side."""
        m = self.m
        out: dict[int, list[np.ndarray]] = {}
        collateral_kinks(m, out)
        if m.profile.portfolio.collateral_in_scenarios and m.x.haircut_in_scenarios and self.n_reg:
            collateral_kinks(m, out, lambda col: 1.0 + m.rows.shock[m.rows.reg, col])
        oc = self.oc
        for a in unique(oc.col):
            _add(out, a, oc.dead_kinks[:, oc.col == a])
        book = m.book
        if m.profile.portfolio.futures_contingency:
            d1 = book.is_delta_one
            q = book.qty
            f = np.zeros((4, m.n_assets))
            for k, side in enumerate((q > 0, q < 0)):
                lin, inv = d1 & side & ~book.inverse, d1 & side & book.inverse
                np.add.at(f[2 * k], book.und[lin], np.abs(q[lin]))
                np.add.at(f[2 * k + 1], book.und[inv], np.abs(q[inv]))
            with np.errstate(divide="ignore", invalid="ignore"):
                s_star = (f[3] - f[1]) / (f[0] - f[2])
            for a in np.flatnonzero(np.isfinite(s_star) & (s_star > 0)):
                _add(out, a, np.array([s_star[a] / book.prices[a] - 1.0]))
        return _merge(out)

    # ------------------------------------------------------------------ skew rows
    def _skew(self, sl: slice, kind: int, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per option of `sl` and interval: (sup, inf) of q-free x-gamma under the skew vol, the
        kinks' total slope jump J inside (lo, hi) per unit, and sup |dV/dx| per unit."""
        kap = self.phi[sl]
        w0, df, F0, K, lnK = self.w0[sl], self.df[sl], self.F0[sl], self.K[sl], self.lnK[sl]
        cap, kstar = self.caps[kind][sl], self.kstar[sl]
        live = (w0 > 0) & (kap > 0) & (F0 > 0) & (K > 0)
        with np.errstate(all="ignore"):
            y_lo = np.log1p(kap * lo[:, None])
            y_hi = np.log1p(kap * hi[:, None])
            u_lo, u_hi = np.log(F0) + y_lo, np.log(F0) + y_hi
            k_lo, k_hi = lnK - u_hi, lnK - u_lo  # signed ln(K / F)
            if kind == SKEW_ABS:
                a_lo = np.where((k_lo <= 0) & (k_hi >= 0), 0.0, np.minimum(np.abs(k_lo), np.abs(k_hi)))
                a_hi = np.maximum(np.abs(k_lo), np.abs(k_hi))
                s_lo, s_hi = self._s(a_lo, cap, kstar), self._s(a_hi, cap, kstar)
                linear = a_lo < kstar
            else:
                s_lo, s_hi = self._s(k_lo, cap, kstar), self._s(k_hi, cap, kstar)
                linear = (k_hi > -kstar) & (k_lo < kstar)
            w_min, w_max = w0 * np.maximum(0.0, 1.0 + s_lo), w0 * np.maximum(0.0, 1.0 + s_hi)
            a = np.where(linear, w0 * cap / kstar, 0.0)
            # d1 = -k / w + w / 2 over k in [k_lo, k_hi], w in [w_min, w_max]
            n_lo, n_hi = -k_hi, -k_lo
            q1 = np.minimum(np.minimum(n_lo / w_min, n_lo / w_max), np.minimum(n_hi / w_min, n_hi / w_max))
            q2 = np.maximum(np.maximum(n_lo / w_min, n_lo / w_max), np.maximum(n_hi / w_min, n_hi / w_max))
            d1_lo, d1_hi = q1 + 0.5 * w_min, q2 + 0.5 * w_max
            d2_lo, d2_hi = d1_lo - w_max, d1_hi - w_min
            m1 = np.maximum(np.abs(d1_lo), np.abs(d1_hi))
            m2 = np.maximum(np.abs(d2_lo), np.abs(d2_hi))
            p_max = (1.0 + a * m1) * (1.0 + a * m2)
            p_min = np.where((a * m1 < 1.0) & (a * m2 < 1.0), (1.0 - a * m1) * (1.0 - a * m2), -p_max)
            near = np.where((d1_lo <= 0) & (d1_hi >= 0), 0.0, np.minimum(np.abs(d1_lo), np.abs(d1_hi)))
            n_sup = _n(near)
            n_inf = np.minimum(_n(d1_lo), _n(d1_hi))
            base = kap * kap * df * F0
            sup = base * np.exp(-y_lo) * n_sup / w_min * p_max
            inf = np.where(p_min > 0, base * np.exp(-y_hi) * n_inf / w_max * p_min, -sup)
            ok = live & (w_min > 0) & np.isfinite(sup)
            sup = np.where(live, np.where(ok, sup, np.inf), 0.0)
            inf = np.where(live, np.where(ok, inf, -np.inf), 0.0)
            # breakpoints: signed k in {0 (abs), +k*, -k*}; slope jump of w in u: w0 cap / k*
            # (twice at k = 0 under abs); at F = K e^{-k}, vega df F n(d1)
            J = np.zeros(sup.shape)
            brk = ((kstar, 1.0), (-kstar, 1.0)) + (((np.zeros_like(kstar), 2.0),) if kind == SKEW_ABS else ())
            for kb, mult in brk:
                xb = (K * np.exp(-kb) / F0 - 1.0) / kap
                inside = (xb > lo[:, None]) & (xb < hi[:, None])
                if not inside.any():
                    continue
                sb = self._s(np.abs(kb) if kind == SKEW_ABS else kb, cap, kstar)
                wb = w0 * np.maximum(0.0, 1.0 + sb)
                d1b = -kb / wb + 0.5 * wb
                jump = df * K * np.exp(-kb) * _n(d1b) * mult * w0 * np.abs(cap) / kstar * kap / (1.0 + kap * xb)
                J += np.where(inside & live, np.nan_to_num(jump, nan=np.inf), 0.0)
            slope = np.where(live, kap * df * F0 * (1.0 + a * _INV_SQRT_2PI), kap * df * F0)
        return sup, inf, J, slope

    @staticmethod
    def _s(k: np.ndarray, cap: np.ndarray, kstar: np.ndarray) -> np.ndarray:
        """The skew shift s(k) (cap >= 0, k* > 0: nondecreasing in k)."""
        r = k * cap / kstar
        return np.where(k >= 0, np.minimum(cap, r), np.maximum(-cap, r))

    # ------------------------------------------------------------------ bounds
    def curvature(self, lo: np.ndarray, hi: np.ndarray, together: bool, need: np.ndarray | None) -> np.ndarray:
        m = self.m
        A = m.n_assets
        lo2 = np.broadcast_to(lo[:, None], (lo.shape[0], A)) if together else np.asarray(lo, dtype=float)
        hi2 = np.broadcast_to(hi[:, None], (hi.shape[0], A)) if together else np.asarray(hi, dtype=float)
        moves = column_moves(m, together)
        k = lo2.shape[0]
        parts = {key: np.zeros((k, A)) for key in ("sum", "U0", "R", "M2", "S1")}
        for a in np.flatnonzero(moves):
            rows = np.ones(k, dtype=bool) if together else (hi2[:, a] > lo2[:, a])  # the search
            if not rows.any():  # pads its rows with empty intervals (nothing to bound)
                continue
            res = self._column(int(a), np.asarray(lo2[rows, a], dtype=float), np.asarray(hi2[rows, a], dtype=float))
            for key, v in res.items():
                parts[key][rows, a] = v
        if m.corr is None:
            M = parts["sum"]
            return M.sum(-1) if together else M
        return correlated_bound(m, m.corr, m.snapshot().terms["loss"][0], parts, lo2, hi2, together,
                                self.tmf, moves)

    def _column(self, a: int, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
        """Per interval of column a: "sum" (the bound under sum aggregation), and for correlated
        aggregation "U0" (E''), "R" (the largest loss branch's curvature), "M2" (its absolute
        curvature) and "S1" (its slope)."""
        k = lo.size
        h = np.maximum(hi - lo, 1e-300)
        oc, ex = self.oc, self.ex
        sl = oc.slices().get(a)
        tmf = self.tmf
        lin = np.abs(self._lin[:, a])  # (n_reg,) linear slopes of the rows
        coll = self._coll_slopes(a)  # (n_reg,)
        if sl is None:  # no options: linear pieces only
            s1 = (lin + coll).max() if lin.size else 0.0
            z = np.zeros(k)
            return {"sum": z, "U0": z, "R": z, "M2": z, "S1": np.full(k, s1)}
        e_idx = np.flatnonzero(self.col_e == a)
        starts = ex.starts[e_idx] - sl.start
        U, L = oc.group_bounds(sl, lo, hi, starts)  # (k, S1, G)
        q = np.abs(oc.qty[sl])
        corr = self.m.corr is not None
        Sg = None  # per expiry sum |q| sup |V'| in each state (k, S1, G): only where needed
        if corr or self.kink_reg[e_idx].any():
            Sg = np.add.reduceat(state_slopes(oc, sl, lo, hi) * q, starts, axis=-1)
        c_lo, c_hi = self.c_lo[e_idx], self.c_hi[e_idx]
        U0e, L0e = U[:, 0], L[:, 0]
        no_loss = U0e.sum(-1)
        best_sum = no_loss.copy()
        R = np.zeros(k)
        M2 = np.zeros(k)
        S1 = np.zeros(k)
        n_reg = self.n_reg
        if n_reg:
            w = self.w_reg[None, :, None]  # (1, R, 1)
            tmw = tmf * w
            Us, Ls = U[:, 1:1 + n_reg], L[:, 1:1 + n_reg]  # (k, R, G)
            up = np.maximum(c_hi * Us, c_lo * Us)  # sup over the D branches of c V^s''
            kr = self.kink_reg[e_idx]
            allow = np.zeros((k, n_reg))
            if Sg is not None and kr.any():
                allow = (2.0 * w * np.where(kr, self.dsd[e_idx], 0.0) * Sg[:, 1:1 + n_reg]).sum(-1) / h[:, None]
            U0b, L0b = U0e[:, None, :], L0e[:, None, :]
            branch = (np.maximum((1.0 - tmw) * U0b, (1.0 - tmw) * L0b) + tmw * up).sum(-1) + tmf * allow
            best_sum = np.maximum(best_sum, branch.max(1))
            if Sg is not None and corr:
                dn = np.minimum(c_hi * Ls, c_lo * Ls)
                R = ((w * (up - L0b)).sum(-1) + allow).max(1)
                M2 = ((w * np.maximum(up - L0b, U0b - dn)).sum(-1) + allow).max(1)
                S1 = ((w * (c_hi * Sg[:, 1:1 + n_reg] + Sg[:, None, 0])).sum(-1) + lin + coll).max(1)
        if self.basis_states:
            bas = self.basis[e_idx]
            su, sd = 1 + self.n_reg, 2 + self.n_reg
            legs = np.maximum(np.maximum(U[:, su] - L0e, U[:, sd] - L0e), 0.0)
            r_b = (bas * legs).sum(-1)
            best_sum = np.maximum(best_sum, no_loss + tmf * r_b)
            R = np.maximum(R, r_b)
            absl = np.maximum(np.maximum(np.abs(U[:, su] - L0e), np.abs(U0e - L[:, su])),
                              np.maximum(np.abs(U[:, sd] - L0e), np.abs(U0e - L[:, sd])))
            M2 = np.maximum(M2, (bas * absl).sum(-1))
            if Sg is not None:
                S1 = np.maximum(S1, (bas * (np.maximum(Sg[:, su], Sg[:, sd]) + Sg[:, 0])).sum(-1))
        if self.skew:
            if not self.skew_ok:
                inf = np.full(k, np.inf)
                return {"sum": inf, "U0": no_loss, "R": inf, "M2": inf, "S1": inf}
            qs = oc.qty[sl]
            for kind, w in self.skew:
                sup, inf_, J, vslope = self._skew(sl, kind, lo, hi)
                Uq = np.add.reduceat(np.where(qs > 0, qs * sup, qs * inf_), starts, axis=-1)
                Lq = np.add.reduceat(np.where(qs > 0, qs * inf_, qs * sup), starts, axis=-1)
                Jg = np.add.reduceat(J * q, starts, axis=-1)
                Vg = np.add.reduceat(vslope * q, starts, axis=-1)
                up = np.maximum(c_hi * Uq, c_lo * Uq)
                dn = np.minimum(c_hi * Lq, c_lo * Lq)
                curv = w * np.maximum(up - L0e, U0e - dn)
                allow = 2.0 * w * (np.where(self.kink_skew[e_idx], self.dsd[e_idx] * Vg, 0.0) + c_hi * Jg) / h[:, None]
                r_q = (curv + allow).sum(-1)
                best_sum = np.maximum(best_sum, no_loss + tmf * r_q)
                R = np.maximum(R, r_q)
                M2 = np.maximum(M2, r_q)
                if Sg is not None:
                    S1 = np.maximum(S1, (w * (c_hi * Vg + Sg[:, 0])).sum(-1))
        return {"sum": best_sum, "U0": no_loss, "R": R, "M2": M2, "S1": S1}

    def _coll_slopes(self, a: int) -> np.ndarray:
        """(n_reg,) bound of |slope| of the collateral's row P&L in column a: w |amt| p max(1 + m, 1)
        (the value's slope at the shocked and at the current price both lie in [0, |amt| p (1 + m)]
        and [0, |amt| p]), |amt| p |m| w without haircut_in_scenarios."""
        m = self.m
        out = np.zeros(self.n_reg)
        if not m.profile.portfolio.collateral_in_scenarios or m.stable[a] or not self.n_reg:
            return out
        shock = m.rows.shock[m.rows.reg, a]
        for ai, col, amt in zip(m.coll_idx, m.coll_col, m.coll_amt, strict=True):
            if col != a:
                continue
            v = abs(float(amt)) * float(m.book.prices[ai])
            out += self.w_reg * v * (np.maximum(1.0 + shock, 1.0) if m.x.haircut_in_scenarios else np.abs(shock))
        return out


def pmrm2_bounds(m: Pmrm2Method) -> Pmrm2Bounds:
    return memo(m, "_pmrm2_bounds", lambda: Pmrm2Bounds(m))

