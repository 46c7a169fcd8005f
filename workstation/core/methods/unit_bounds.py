"""Kinks and curvature bounds of the venues' portfolio methods (Deribit, OKX, Bybit, SPAN: the
`UnitMethod`s), for the exact liquidation search (see `bounds.py` for what a bound certifies).

f = equity - t MM, MM the sum over risk units u (each in one column) of the venue's requirement,
and every unit's requirement is a scenario loss plus charges:

    scenario loss  max(0, -min_s (T_s + k_s)),  T_s = w_s sum_i (V_i(state s) / c_s^[coin] - V_i(S))
                   (+ linear instruments and collateral, piecewise linear in S), k_s >= 0 constant;
    charges        functions of the unit's deltas and vegas at S (roll, MR4, MR7, delta shock,
                   spreads) and linear terms (contingencies, MR8).

The scenario loss gives f the branches "no loss" (curvature E'') and "scenario s" (E'' + t alpha
T_s''): with U >= sum q gamma_s >= L per state (`OptionCurves`), branch s is bounded by
max((1 - t alpha w_s) U_0, (1 - t alpha w_s) L_0) + max(b_s U_s, b_s L_s), b_s = t alpha w_s / c_s
(coin) or t alpha w_s (`bounds.branch_bound`). Per venue:

- SPAN: MM = scan risk only (alpha 1). An absolute price scan a_s moves the forward to
  F0 (1 + x) + g a_s = F~ (1 + kappa x): a state with F~ = F0 + g a_s, kappa = F0 / F~.
- Bybit: worst + linear contingencies + vega spread + delta spread. The spreads are
  rate x H(amounts per expiry), H = `units.hedged_spread`: matching longs and shorts in time
  order, |H(a) - H(b)| <= 2 (t_max - t_min) sum |a_e - b_e| (a change of one amount shifts the
  later steps of its side's time staircase by that much, and the matched volume by at most as
  much), so each is Lipschitz in x: vega amounts move by at most sum |q| |d vega / dx| (x 0.01
  per vol point, in days), coin deltas by |q| gamma_x / S0 (options) or |q| S0 / (g S^2)
  (inverse), and the delta spread's factor S by S0 (H <= (t_max - t_min) sum |d| / 2).
- OKX: unit MMR = max(max(0, -min T) + MR4, MR7), so -MMR = min(-(loss + MR4), -MR7): the
  bound is max(branches + t MR4'', E'' + t MR7''), a min of pieces taking the larger bound.
  MR4 = sum_g rate_g |N_g| (N_g: a group's USD delta): -|N| = min(N, -N) has curvature
  <= |N''|, or as a Lipschitz term |N'|; MR7 = progressive(rate |D|): with nondecreasing
  multipliers a convex function of |D| (curvature of -MR7 <= rate x top multiplier x |D''|),
  always Lipschitz with rate x top multiplier x |D'|. Each takes the smaller of its two bounds.
- Deribit: RMM in the numeraire times S (coin) is, in base, S worst + roll + delta shock.
  In base the coin entry is S T_s = w_s sum (V(S c_s) / c_s - V(S)) (an inverse perpetual's
  coin P&L times S is constant); the extended table's deductible k_s = steps x dampener / edge
  is a constant in base, and since the positive entries never reach min(0, .), -S worst =
  min(0, min_s (S T_s + k_s)): the branches above (alpha = mm_factor). The roll shock is
  sum_g rate_g |N_g| in base (N_g the group's USD delta: S x coin delta, an inverse option's
  q (S dV/dS - V)), bounded as MR4; the delta shock psi(z, S) = z min(mx, m_inc (z - thr)^+ / S),
  z = |D| in USD, is Lipschitz: |d psi / dx| <= (2 mx + m_inc thr / S) |D'| + mx |D| / (1 + x),
  and 0 while sup |D| <= thr. The worst case is rounded to `worst_decimals` in coin: f is within
  `f_slack()` of the unrounded curve these bounds describe (the search subtracts it twice).

A Lipschitz term with |psi'| <= L on [lo, hi] lies above its chord less 4 L (x - lo)(hi - x) / h
(h = hi - lo), the bound 8 L / h. Kinks: the base kinks, the collateral's band edges at every
scenario price, strikes of options dead in a scenario; a dead option's delta steps at its strike
(state 0, a base kink), so the delta charges are smooth between kinks.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from workstation.core.book import SPOT
from workstation.core.methods.bounds import (
    HIGH,
    OptionCurves,
    _add,
    _merge,
    base_kinks,
    branch_bound,
    column_moves,
    memo,
)
from workstation.core.methods.bounds_greeks import Greeks1D
from workstation.core.methods.units import coin_deltas

if TYPE_CHECKING:
    from workstation.core.methods.units import Unit, UnitMethod


def _progressive_top(steps: tuple[tuple[float, float], ...]) -> tuple[float, bool]:
    """(largest multiplier, multipliers nondecreasing) of a progressive scaling."""
    mults = [m for _, m in steps] or [1.0]
    return max(abs(m) for m in mults), all(b >= a for a, b in itertools.pairwise(mults))


class UnitBounds:
    """The per-unit arrays the bounds of a `UnitMethod` need, prepared once."""

    def __init__(self, m: UnitMethod):
        self.m = m
        self.t = float(m.profile.liquidation_threshold)
        self.units = [self._prepare(u) for u in m.units]

    # ------------------------------------------------------------------ preparation
    def _states(self, u: Unit) -> dict[str, Any]:
        """Scenario states of the unit: price multiples or forwards, vols (S, n_u), weights,
        the loss's factor alpha in MM, constants of the venue's charges."""
        m, name = self.m, self.m.name
        t = m._table(u)
        if name == "span":
            prod = t["prod"]
            if prod.price_scan > 0:
                return {"shift": t["frac"] * prod.price_scan, "vols": t["vols"], "w": t["weight"], "alpha": 1.0}
            return {"mult": 1.0 + t["frac"] * prod.price_scan_pct, "vols": t["vols"], "w": t["weight"],
                    "alpha": 1.0}
        alpha = float(m.params.mm_factor) if name == "deribit-pm" else 1.0
        return {"mult": 1.0 + t["moves"], "vols": t["vols"], "w": t["weight"], "alpha": alpha}

    def _prepare(self, u: Unit) -> dict[str, Any]:
        m = self.m
        b = u.book
        assert b is not None
        st = self._states(u)
        opt = np.flatnonzero(b.is_option)
        S = st["w"].size
        vols = np.concatenate([b.vol[opt][None, :], st["vols"][:, opt]])
        if "shift" in st:  # absolute scan: F~ = F0 + g a_s, kappa = F0 / F~
            F0 = b.prices[b.und[opt]] * b.growth[opt]
            fwd = np.concatenate([F0[None, :], F0[None, :] + b.growth[opt][None, :] * st["shift"][:, None]])
            with np.errstate(divide="ignore", invalid="ignore"):
                kappa = np.where(fwd > 0, F0[None, :] / fwd, np.inf)
            oc = OptionCurves.build(m, vols=vols, fwd=fwd, kappa=kappa, book=b)
            c = np.ones(S)
        else:
            mult = np.concatenate([[1.0], st["mult"]])
            oc = OptionCurves.build(m, mult=np.broadcast_to(mult[:, None], (S + 1, opt.size)), vols=vols, book=b)
            c = st["mult"]
        ta = self.t * st["alpha"]
        w = st["w"]
        b_s = ta * w / c if u.coin else ta * w
        prep: dict[str, Any] = {"u": u, "oc": oc, "a0": 1.0 - ta * w, "b": b_s, "ta": ta, "alpha": st["alpha"],
                                "g": Greeks1D(oc, slice(None)), "opt": oc.rows,
                                "valid": bool(np.all(np.isfinite(oc.kappa))) if oc.kappa is not None else True}
        S0 = float(b.prices[u.col])
        prep["S0"] = S0
        q = b.qty
        lin = b.is_delta_one & ~b.inverse
        inv = b.is_delta_one & b.inverse
        # USD delta slope of each non-option row per unit move (constant): linear q g S0, spot q S0
        prep["lin_slope"] = np.where(lin, q * b.growth * S0, np.where(b.kind == SPOT, q * S0, 0.0))
        prep["inv"] = inv
        if m.name in ("deribit-pm", "okx-pm", "bybit-pm"):
            t = m._table(u)
            prep["group"] = t["group"]
            prep["rate"] = np.asarray(t.get("rate", np.zeros(0)))
        return prep

    def slack(self) -> float:
        """Bound on |f - the curve the bounds describe|: Deribit rounds each unit's worst case to
        `worst_decimals` in its numeraire (half a unit of the last place, times S at most
        (1 + UP) S0 in base, times mm_factor and the threshold)."""
        m = self.m
        if m.name != "deribit-pm":
            return 0.0
        half = 0.5 * 10.0 ** -m.params.worst_decimals
        out = 0.0
        for p in self.units:
            u = p["u"]
            out += half * (p["S0"] * (1.0 + HIGH) if u.coin else 1.0)
        return out * float(m.params.mm_factor) * self.t

    # ------------------------------------------------------------------ kinks
    def kinks(self) -> dict[int, np.ndarray]:
        """Base kinks, band edges of the units' collateral at every scenario price and strikes
        of options dead in a scenario."""
        m = self.m
        out: dict[int, list[np.ndarray]] = {a: [x] for a, x in base_kinks(m).items()}
        for p in self.units:
            u, oc = p["u"], p["oc"]
            _add(out, u.col, oc.dead_kinks)
            st = self._states(u)
            for j in u.coll:
                a = m.coll_idx[j]
                amt, bands = float(m.coll_amt[j]), m.coll_bands[j]
                price = float(m.book.prices[a])
                edges = np.array([e for e, _ in bands[:-1]], dtype=float)
                if amt <= 0 or price <= 0 or not edges.size:
                    continue
                S0 = float(m.book.prices[u.col])
                ratio = price / S0
                with np.errstate(over="ignore", divide="ignore"):  # a tiny amount: edges far out
                    if "shift" in st:  # amt ratio (S0 (1 + x) + a_s) = edge
                        x = (edges[None, :] / (amt * ratio) - st["shift"][:, None]) / S0 - 1.0
                    else:
                        x = edges[None, :] / (amt * price * st["mult"][:, None]) - 1.0
                _add(out, u.col, x)
        return _merge(out)

    # ------------------------------------------------------------------ bounds
    def curvature(self, lo: np.ndarray, hi: np.ndarray, together: bool,
                  need: np.ndarray | None = None) -> np.ndarray:
        m = self.m
        A = m.n_assets
        lo2 = np.broadcast_to(lo[:, None], (lo.shape[0], A)) if together else np.asarray(lo, dtype=float)
        hi2 = np.broadcast_to(hi[:, None], (hi.shape[0], A)) if together else np.asarray(hi, dtype=float)
        moves = column_moves(m, together)
        M = np.zeros(lo2.shape)
        if together:
            rows = np.ones(lo2.shape[0], dtype=bool)
        for p in self.units:
            c = p["u"].col
            if not moves[c]:
                continue
            if not together:  # the search pads its rows with empty intervals (nothing to bound)
                rows = hi2[:, c] > lo2[:, c]
                if not rows.any():
                    continue
            M[rows, c] += self._unit(p, np.asarray(lo2[rows, c], dtype=float), np.asarray(hi2[rows, c], dtype=float))
        return M.sum(-1) if together else M

    def _unit(self, p: dict[str, Any], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        oc = p["oc"]
        k = lo.size
        if not p["valid"]:
            return np.full(k, np.inf)
        if oc.rows.size:
            U, L = oc.bounds(slice(None), lo, hi)
        else:
            U = L = np.zeros((k, p["a0"].size + 1))
        E0 = U[:, 0]
        scen = branch_bound(U, L, p["a0"], p["b"])
        name = self.m.name
        h = np.maximum(hi - lo, 1e-300)
        if name == "span":
            return scen
        if name == "bybit-pm":
            return scen + self.t * self._bybit(p, lo, hi, h)
        if name == "okx-pm":
            mr4, mr7 = self._okx(p, lo, hi, h)
            return np.maximum(scen + self.t * mr4, E0 + self.t * mr7)
        if name == "deribit-pm":
            return scen + p["ta"] * self._deribit(p, lo, hi, h)
        return np.full(k, np.inf)  # a unit method without bounds here

    # ------------------------------------------------------------------ charges
    def _ctx(self, p: dict[str, Any], lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
        """Per option (k, n_opt) suprema over each interval, per unit held, of its USD delta N's
        slope `ds` and curvature `dc`, and `hom`: the slope of N / (1 + x) (= S0 x coin delta).
        N = S dV/dS (N' = dfF (N(d1) + n(d1) / w), N / (1 + x) has slope gamma_x), or for an
        inverse option S dV/dS - V (coin delta dV/dS - V / S): add |V'|, gamma_x, and
        (|V'| + |V| / (1 + x)) / (1 + x) to the three."""
        oc, g = p["oc"], p["g"]
        gam = np.empty((lo.size, oc.rows.size))
        for rs, sup, _inf in oc.sup_inf(slice(None), lo, hi):
            gam[rs] = sup[:, 0, :]
        ds, dc, hom = g.delta_slope(lo, hi), g.delta_curvature(lo, hi), gam
        inv = p["u"].book.inverse[oc.rows]
        if inv.any():
            slope = g.slope(lo, hi)
            vmax = g.delta(lo, hi) + g.dfK  # >= |V|
            ds = ds + np.where(inv, slope, 0.0)
            dc = dc + np.where(inv, gam, 0.0)
            a = (1.0 + lo)[:, None]
            hom = hom + np.where(inv, (slope + vmax / a) / a, 0.0)
        return {"ds": ds, "dc": dc, "hom": hom, "q": np.abs(oc.qty), "gam": gam}

    def _rows(self, p: dict[str, Any], lo: np.ndarray, with_spot: bool) -> tuple[np.ndarray, np.ndarray]:
        """Per non-option row (n_u,) the slope of its USD delta (linear q g S0, spot q S0 when
        `with_spot`, inverse 0: q / g) and (k, n_u) the slope of its USD delta / (1 + x)
        (inverse: |q / g| / (1 + x)^2, else 0)."""
        b = p["u"].book
        slope = np.abs(np.where(b.kind == SPOT, p["lin_slope"] if with_spot else 0.0, p["lin_slope"]))
        with np.errstate(divide="ignore", invalid="ignore"):
            iq = np.where(p["inv"], np.abs(b.qty / b.growth), 0.0)
        return slope, iq[None, :] / (1.0 + lo)[:, None] ** 2

    def _group_sums(self, p: dict[str, Any], opt_vals: np.ndarray, row_vals: np.ndarray | None = None) -> np.ndarray:
        """Per expiry group sums (k, G) of option figures (k, n_opt) (and row figures (n_u,) or
        (k, n_u))."""
        group, G = p["group"], p["rate"].size
        k = opt_vals.shape[0]
        out = np.zeros((k, G))
        if p["opt"].size:
            np.add.at(out.T, group[p["opt"]], opt_vals.T)
        if row_vals is not None:
            rv = np.broadcast_to(row_vals, (k, group.size))
            np.add.at(out.T, group, rv.T)
        return out

    def _abs_charge(self, p: dict[str, Any], c: dict[str, np.ndarray], rate: np.ndarray, rows: np.ndarray,
                    rows_hom: np.ndarray, lo: np.ndarray, hi: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Bound for -sum_g rate_g |N_g| (N_g a group's USD delta), the least of: semiconcave
        sum rate |N''| (-|N| = min(N, -N)); Lipschitz 8 sum rate |N'| / h; and, as |N| is
        positively homogeneous and N = (1 + x) G, 8 (1 + x_hi) sum rate |G'| / h (|N(x)| lies
        within (1 + x) |G(x) - G(x0)| of the line (1 + x) |G(x0)|, from either end)."""
        q = c["q"]
        semi = self._group_sums(p, c["dc"] * q) @ rate
        lip = self._group_sums(p, c["ds"] * q, rows) @ rate
        hom = self._group_sums(p, c["hom"] * q, rows_hom) @ rate
        return np.minimum(semi, 8.0 * np.minimum(lip, (1.0 + hi) * hom) / h)

    def _okx(self, p: dict[str, Any], lo: np.ndarray, hi: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m, u = self.m, p["u"]
        t = m._table(u)
        c = self._ctx(p, lo, hi)
        rows, rows_hom = self._rows(p, lo, with_spot=False)  # MR4: derivatives only
        mr4 = self._abs_charge(p, c, p["rate"], rows, rows_hom, lo, hi, h)
        # MR7 on the unit's delta (spot and collateral included: their slopes are constants)
        q = c["q"]
        coll = sum(abs(float(m.coll_amt[j] * m.book.prices[m.coll_idx[j]])) for j in u.coll)
        spot_rows, _ = self._rows(p, lo, with_spot=True)
        lip = c["ds"] @ q + spot_rows.sum() + coll
        top, convex = _progressive_top(t["mr7_steps"])
        r7 = abs(float(t["mr7_rate"])) * top
        mr7 = 8.0 * r7 * lip / h
        if convex:
            mr7 = np.minimum(mr7, r7 * (c["dc"] @ q))
        return mr4, mr7

    def _delta_at(self, p: dict[str, Any], x: np.ndarray) -> np.ndarray:
        """The unit's USD delta (S x the sum of its coin deltas) at moves x (k,)."""
        b = p["u"].book
        center = p["S0"] * (1.0 + x)
        with np.errstate(all="ignore"):
            return coin_deltas(b, center).sum(-1) * center

    def _deribit(self, p: dict[str, Any], lo: np.ndarray, hi: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Roll and delta shock, in base (per unit of mm_factor x t)."""
        m, u = self.m, p["u"]
        c = self._ctx(p, lo, hi)
        rows, rows_hom = self._rows(p, lo, with_spot=False)
        roll = self._abs_charge(p, c, p["rate"], rows, rows_hom, lo, hi, h)
        pair = m._table(u)["pair"]
        return roll + self._delta_shock(p, c, rows, lo, hi, h, pair.delta_total_liq_shock_threshold,
                                        pair.max_delta_shock, pair.m_inc)

    def _delta_shock(self, p: dict[str, Any], c: dict[str, np.ndarray], rows: np.ndarray, lo: np.ndarray,
                     hi: np.ndarray, h: np.ndarray, thr: float, mx: float, m_inc: float) -> np.ndarray:
        """Bound for -psi(z, S), psi = z min(mx, m_inc (z - thr)^+ / S), z = |D| (D the unit's USD
        delta). D lies within B2 h^2 / 8 of its values at the ends (B2 >= |D''|), so z's range is
        known: below thr psi = 0; between, -psi = min(0, -psi_B), psi_B = m_inc u / S, u = z^2 -
        thr z, whose second derivative m_inc (u'' / S - 2 u' S0 / S^2 + 2 u S0^2 / S^3) is bounded
        from z' <= D1, z'' <= B2 (D not crossing 0); above thr + mx S / m_inc, -psi = -mx |D|
        (curvature <= mx B2); where the interval may cross that edge (an upward kink) or D may
        cross 0 above thr, psi is Lipschitz: (2 mx + m_inc thr / S) D1 + mx z / (1 + x)."""
        q = c["q"]
        b = p["u"].book
        inv = b.inverse[p["oc"].rows]
        g = p["g"]
        # gross: options dfF (1 + x) (an inverse one's value adds at most dfF (1 + x) + df K),
        # linear q g S, inverse q / g
        with np.errstate(divide="ignore", invalid="ignore"):
            gross = (g.delta(lo, hi) + np.where(inv, g.delta(lo, hi) + g.dfK, 0.0)) @ q \
                + np.abs(b.qty * b.growth)[b.is_delta_one & ~b.inverse].sum() * p["S0"] * (1.0 + hi) \
                + np.abs(b.qty / b.growth)[b.is_delta_one & b.inverse].sum()
        out = np.zeros(lo.size)
        act = gross > thr
        if not act.any():
            return out
        lo, hi, h = lo[act], hi[act], h[act]
        B2 = (c["dc"] @ q)[act]
        D1 = (c["ds"] @ q + rows.sum())[act]
        d_lo, d_hi = self._delta_at(p, lo), self._delta_at(p, hi)
        pad = B2 * h * h / 8.0
        dmin, dmax = np.minimum(d_lo, d_hi) - pad, np.maximum(d_lo, d_hi) + pad
        zmax = np.maximum(np.abs(dmin), np.abs(dmax))
        cross = (dmin < 0) & (dmax > 0)
        zmin = np.where(cross, 0.0, np.minimum(np.abs(dmin), np.abs(dmax)))
        S0 = p["S0"]
        S_lo, S_hi = S0 * (1.0 + lo), S0 * (1.0 + hi)
        lip = 8.0 * ((2.0 * mx + m_inc * thr / S_lo) * D1 + mx * zmax / (1.0 + lo)) / h
        top = np.where(zmin >= thr + mx * S_hi / m_inc, mx * B2, np.inf) if m_inc > 0 else mx * B2
        u_max = zmax * np.maximum(zmax, thr)
        du = np.maximum(np.abs(2.0 * zmax - thr), thr)
        d2u = 2.0 * D1 * D1 + du * B2
        mid = m_inc * (d2u / S_lo + 2.0 * du * D1 * S0 / S_lo**2 + 2.0 * u_max * S0**2 / S_lo**3)
        mid = np.where(~cross & (zmax <= thr + mx * S_lo / m_inc), mid, np.inf) if m_inc > 0 else np.inf
        with np.errstate(invalid="ignore"):
            out[act] = np.where(zmax <= thr, 0.0, np.minimum(lip, np.minimum(top, mid)))
        return out

    def _bybit(self, p: dict[str, Any], lo: np.ndarray, hi: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Vega and delta spreads: rate x H(amounts), |H(a) - H(b)| <= 2 span sum |a - b|. The
        vega amounts: Lipschitz (8 L / h). The delta spread is H(coin deltas) x S = H(USD deltas
        N) (H is positively homogeneous), N = (1 + x) G: as for |N| in `_abs_charge`, 8 (1 + x_hi)
        rate 2 span sum |G'| / h."""
        m, u = self.m, p["u"]
        t = m._table(u)
        tte = t["tte"]
        span = float(tte.max() - tte.min()) if tte.size else 0.0
        if span <= 0:
            return np.zeros(lo.size)
        b = u.book
        c = self._ctx(p, lo, hi)
        q = c["q"]
        out = np.zeros(lo.size)
        if t["vega"]:
            sqrt_t = np.sqrt(np.maximum(b.tte[p["oc"].rows], 0.0))
            L = abs(t["vega"]) * 2.0 * span * 365.0 * 0.01 * (p["g"].vega_slope(lo, hi, sqrt_t) @ q)
            out += 8.0 * L / h
        if t["delta"]:
            _, rows_hom = self._rows(p, lo, with_spot=False)
            G1 = c["hom"] @ q + rows_hom.sum(-1)
            out += 8.0 * (1.0 + hi) * abs(t["delta"]) * 2.0 * span * G1 / h
        return out


def unit_bounds(m: UnitMethod) -> UnitBounds:
    return memo(m, "_unit_bounds", lambda: UnitBounds(m))

