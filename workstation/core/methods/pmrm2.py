"""Derive's portfolio margin, PMRM_2 (`method = "pmrm2"`; `shared/spec/derive-pmrm2.md`).

Per underlying U (a column) with price S, scenario rows (m, dir, w): spot move, vol direction,
dampening. Options are grouped by expiry e (seconds sec, tau = sec / (365 d)), priced with
discounted Black-76 on the expiry's forward F and rate r (the market's forward entry, else
S exp(r tau) and the file rate), df = exp(-r tau):

    F(m)        = F (1 - phi) + F phi (1 + m),   phi = min(1, sec / forward_fixing_window)
    V_e(m, sig) = sum_i q_i B76(F(m), K_i, sig_i, tau, df);   V_e = V_e(0, sig)
    sig' (up)   = max(vol_floor, sig (1 + vol_shock_up x^p)), (down) sig max(0, 1 - vol_shock_down x^p),
                  x = 30 / max(days, dte_floor), p = power_short if sec <= 30 days else power_long
    D_e(V)      = V sdp if V >= 0 else V sdn   (static discount; identity without the key)
                  sdp = base exp(-tau (r long_rate_mult + long_rate_add)),
                  sdn = min(1/df, base_neg exp(tau (r short_rate_mult + short_rate_add)))
    P (regular) = w [sum_perps q M m + sum_A v_A m (1 - h_A [haircut_in_scenarios])
                     + sum_others (V(m) - V) + sum_e (D_e(V_e(m, sig')) - V_e)]
    P (skew)    = -sum_e |w (D_e(V_e(0, sig_skew)) - V_e)|,  sig_skew = sig max(0, 1 + s(ln K/F))
    B           = sum_e min(V_e(up) - V_e, V_e(down) - V_e, 0) (add_factor + mult_factor tau)
    L_U         = max(0, -min(B, min_rows P)),   L = sum_U L_U (or sqrt(L' C L), as today)
    MM          = mm_factor L + C_MM
    IM          = f_IM L + C_MM + C_IM   (f_IM = im_loss_factor + max(0, threshold - peg) factor),
                  or im_factor MM without im_loss_factor

M is a perpetual's mark, A the collateral held in U or moving with U (`moves_with`), v_A its
gross value. C_MM: naked shorts x S x short_option_contingency, |q| S perp_contingency,
today's futures term. C_IM: the `_im` rates, IM haircuts, and confidence charges
(1 - c) margin N where c < threshold, on perpetuals, expiries and collateral. Equity is
today's (collateral after its MM haircut, perpetuals at their mark, options at sum_e V_e), so
Derive's surplus figures are equity - MM and equity - IM. With none of the PMRM_2 keys this is
the generic risk array (`risk_array.py`) but for the inclusive 30-day boundary.

Every term splits by column, as the contract (`base.py`) needs; attribution in
`pmrm2_attribution.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workstation.core.book import Book
from workstation.core.collateral import haircut_value
from workstation.core.methods.base import Attribution, MarginMethod, Parts, Scope, _Subset
from workstation.core.methods.pmrm2_book import (
    KIND_NAMES,
    Expiries,
    Rows,
    collateral_im,
    contingencies,
    effective_spot,
    fixing_phi,
)
from workstation.core.methods.portfolio_terms import aggregate, correlation_matrix
from workstation.core.profile_pmrm2 import Pmrm2Params
from workstation.core.valuation import values


@dataclass
class Shares:
    """Each position's share of every row's P&L at K states (damped, discounted, signed):
    summed over a column's positions (plus its collateral) they give the column's P."""

    reg: np.ndarray  # (K, n_reg, n)
    skew: np.ndarray  # (K, n_skew, n)
    basis: np.ndarray  # (K, n): share of B (the binding leg of its expiry)
    v_reg: np.ndarray  # (K, n_reg, n_o) option values under the regular rows
    v_skew: np.ndarray  # (K, n_skew, n_o) ... under the skew rows
    v_up: np.ndarray  # (K, n_o) ... under the basis legs (empty without the key)
    v_dn: np.ndarray
    v0: np.ndarray  # (K, n_o) option values now


class Pmrm2Method(MarginMethod):
    """Derive's PMRM_2 (see the module docstring)."""

    name = "pmrm2"

    def __init__(self, scope: Scope):
        super().__init__(scope)
        self.x: Pmrm2Params = self.profile.pmrm2 or Pmrm2Params()
        pp = self.profile.portfolio
        assets = self.book.assets
        self.rows = Rows(self.profile, assets, self.moving)
        self.corr = correlation_matrix(pp, assets)
        base = scope.base_currency
        self.peg = float(self.book.peg[assets.index(base)]) if base in assets else 1.0
        self.f_im = self.x.peg_factor(self.peg) if self.x.im_loss_factor is not None else None
        self.coll_onehot = np.zeros((self.coll_idx.size, self.n_assets))
        self.coll_onehot[np.arange(self.coll_idx.size), self.coll_col] = 1.0
        self._risk: Any = None

    # -------------------------------------------------------------- valuation
    def position_values(self, book: Book, spot: np.ndarray | None = None,
                        vol: np.ndarray | None = None) -> np.ndarray:
        """Values with the fixing window: inside it only phi of the forward moves with spot."""
        if spot is None or self.x.forward_fixing_window is None:
            return values(book, spot, vol)
        phi = fixing_phi(book, self.x)
        return values(book, effective_spot(book, np.asarray(spot, dtype=float), phi), vol)

    def cost_per_state(self) -> int:
        return max(1, (self.rows.n + 2) * len(self.book))

    def _expiries(self, sub: _Subset) -> Expiries:
        if "pmrm2" not in sub.cache:
            sub.cache["pmrm2"] = Expiries.build(sub.book, self.profile, self.x, self.rows)
        return sub.cache["pmrm2"]

    # -------------------------------------------------------------- scenario shares
    def shares(self, ex: Expiries, spot: np.ndarray, pos_values: np.ndarray) -> Shares:
        """Every position's share of every row at per-position spots (K, n) and values (K, n)."""
        rows, x = self.rows, self.x
        K, n = spot.shape
        reg_i, skew_i = rows.reg, rows.skew
        w_reg, w_skew = rows.damp[reg_i], rows.damp[skew_i]
        reg = np.zeros((K, reg_i.size, n))
        skew = np.zeros((K, skew_i.size, n))
        basis = np.zeros((K, n))
        n_o = ex.opt.size
        so, v0 = spot[:, ex.opt], pos_values[:, ex.opt]
        v_reg = np.zeros((K, reg_i.size, n_o))
        v_skew = np.zeros((K, skew_i.size, n_o))
        v_up = v_dn = np.zeros((K, 0))
        if n_o:
            ob, e_of = ex.ob, ex.e_of
            V0 = ex.sum(v0)
            shock = rows.shock[reg_i][:, ob.und]
            v_reg = self.position_values(ob, so[:, None, :] * (1.0 + shock), ex.vols)
            fac = np.where(ex.sum(v_reg) >= 0.0, ex.sdp, ex.sdn)
            reg[..., ex.opt] = w_reg[:, None] * (fac[..., e_of] * v_reg - v0[:, None, :])
            if skew_i.size:
                fwd = effective_spot(ob, so, fixing_phi(ob, x)) * ob.growth
                for j, s in enumerate(skew_i):
                    vq = self.position_values(ob, so, ex.skew_vols(fwd, int(rows.kind[s])))
                    v_skew[:, j] = vq
                    Vq = ex.sum(vq)
                    fq = np.where(Vq >= 0.0, ex.sdp, ex.sdn)
                    sign = np.sign(w_skew[j] * (fq * Vq - V0))
                    skew[:, j, ex.opt] = -sign[:, e_of] * w_skew[j] * (fq[:, e_of] * vq - v0)
            bc = x.basis_contingency
            if bc is not None:
                v_up = self.position_values(ob, so * (1.0 + bc.spot_up))
                v_dn = self.position_values(ob, so * (1.0 + bc.spot_down))
                lu, ld = ex.sum(v_up) - V0, ex.sum(v_dn) - V0
                up_binds = (lu <= ld) & (lu < 0.0)
                dn_binds = ~up_binds & (ld < 0.0)
                leg = np.where(up_binds[:, e_of], v_up - v0, np.where(dn_binds[:, e_of], v_dn - v0, 0.0))
                basis[:, ex.opt] = ex.basis[e_of] * leg
        if ex.oth.size:
            db = ex.db
            shock = rows.shock[reg_i][:, db.und]
            sd, vd0 = spot[:, ex.oth], pos_values[:, ex.oth]
            vd = self.position_values(db, sd[:, None, :] * (1.0 + shock))
            reg[..., ex.oth] = w_reg[:, None] * (vd - vd0[:, None, :])
        return Shares(reg, skew, basis, v_reg, v_skew, v_up, v_dn, v0)

    def collateral_rows(self, centers: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Damped P&L of each collateral holding under the regular rows (K, n_reg, n_c): gross
        v m, or the haircut value's change with haircut_in_scenarios; stable columns: 0."""
        rows = self.rows
        reg = rows.reg
        out = np.zeros((centers.shape[0], reg.size, self.coll_idx.size))
        if not self.profile.portfolio.collateral_in_scenarios:
            return out
        for c, (a, col, amt, bands) in enumerate(zip(self.coll_idx, self.coll_col, self.coll_amt,
                                                     self.coll_bands, strict=True)):
            if not cols[col] or self.stable[col]:
                continue
            p = centers[:, a][:, None]
            m = rows.shock[reg, col]
            if self.x.haircut_in_scenarios:
                pnl = haircut_value(float(amt), p * (1.0 + m), bands) - haircut_value(float(amt), p, bands)
            else:
                pnl = float(amt) * p * m
            out[:, :, c] = pnl * rows.damp[reg]
        return out

    def row_pnl(self, sh: Shares, onehot: np.ndarray, coll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(P (K, n_s, A) in the profile's row order, B (K, A)) from the shares and the
        collateral's rows (K, n_reg, n_c)."""
        rows = self.rows
        K = coll.shape[0]
        P = np.zeros((K, rows.n, self.n_assets))
        P[:, rows.reg] = sh.reg @ onehot + coll @ self.coll_onehot
        if rows.skew.size:
            P[:, rows.skew] = sh.skew @ onehot
        return P, sh.basis @ onehot

    @staticmethod
    def loss(P: np.ndarray, B: np.ndarray) -> np.ndarray:
        """L = max(0, -min(B, min over rows of P)) per column."""
        worst = np.minimum(B, P.min(-2)) if P.shape[-2] else B
        return np.maximum(0.0, -worst)

    # -------------------------------------------------------------- the contract
    def terms(self, sub, centers, spot, pos_values, cols):
        ex = self._expiries(sub)
        sh = self.shares(ex, spot, pos_values)
        P, B = self.row_pnl(sh, sub.onehot, self.collateral_rows(centers, cols))
        mm, im = contingencies(sub.book, self.profile, self.x, spot, sub.onehot)
        cont_mm, cont_im = mm @ sub.onehot, im @ sub.onehot
        for a, col, amt in zip(self.coll_idx, self.coll_col, self.coll_amt, strict=True):
            if cols[col]:
                cont_im[:, col] += self._collateral_im(int(a), float(amt), centers[:, a])
        return {"loss": self.loss(P, B), "cont_mm": cont_mm, "cont_im": cont_im}

    def _collateral_im(self, a: int, amount: float, price: np.ndarray) -> np.ndarray:
        asset = self.book.assets[a]
        return collateral_im(self.x, asset, amount, price, float(self.book.asset_conf[a]),
                             asset == self.scope.base_currency)

    def aggregate(self, loss: np.ndarray) -> np.ndarray:
        """Aggregate losses (..., A): sum, or sqrt(L' C L)."""
        return aggregate(loss, self.corr)

    def combine(self, terms):
        pp = self.profile.portfolio
        agg = self.aggregate(terms["loss"])
        c_mm = terms["cont_mm"].sum(-1)
        mm = pp.mm_factor * agg + c_mm
        if self.f_im is None:
            return pp.im_factor * mm, mm
        return self.f_im * agg + c_mm + terms["cont_im"].sum(-1), mm

    def risk(self):
        """The scenario results at current prices, per position (cached)."""
        if self._risk is None:
            from workstation.core.methods.pmrm2_attribution import compute_risk

            self._risk = compute_risk(self)
        return self._risk

    def snapshot(self) -> Parts:
        if self._p0 is None:
            r = self.risk()
            self._p0 = Parts(r.equity[None, :].copy(),
                             {"loss": r.loss[None, :].copy(), "cont_mm": r.cont_mm_col[None, :].copy(),
                              "cont_im": r.cont_im_col[None, :].copy()})
        return self._p0

    def attribution(self) -> Attribution:
        from workstation.core.methods.pmrm2_attribution import attribute

        return attribute(self)

    def scenario_vectors(self, positions: bool = False) -> dict[str, Any]:
        """Per moving underlying: each row's move, vol kind, dampening and P&L (base currency),
        the worst row, and the add-ons (basis contingency as a loss, MM and IM contingencies).
        `positions`: each underlying also gives its positions' own rows (`by_position`)."""
        r = self.risk()
        rows = self.rows
        book = self.book
        if positions:  # each position's share of every row, in the profile's row order
            per = np.zeros((rows.n, len(book)))
            per[rows.reg] = r.sh.reg[0]
            if rows.skew.size:
                per[rows.skew] = r.sh.skew[0]
        out: dict[str, Any] = {}
        for a in self.assets:
            col = r.P[:, a]
            entries = [{"move": float(rows.shock[s, a]), "vol": KIND_NAMES[int(rows.kind[s])],
                        "weight": float(rows.damp[s]), "pnl": float(col[s]) + 0.0} for s in range(rows.n)]
            out[self.book.assets[a]] = {
                "numeraire": self.scope.base_currency,
                "entries": entries,
                "worst": int(np.argmin(col)) if rows.n else None,
                "addons": {"basis_contingency": float(max(0.0, -r.B[a])) + 0.0,
                           "contingency_mm": float(r.cont_mm_col[a]) + 0.0,
                           "contingency_im": float(r.cont_im_col[a]) + 0.0},
            }
            if positions:
                out[book.assets[a]]["by_position"] = {
                    f"{book.account[i]}/{book.ids[i]}": [float(x) + 0.0 for x in per[:, i]]
                    for i in np.flatnonzero(book.und == a)}
        return out

    def kinks(self, columns: Sequence[int] | None = None) -> dict[int, np.ndarray]:
        from workstation.core.methods.pmrm2_bounds import pmrm2_bounds

        return pmrm2_bounds(self).kinks()

    def curvature(self, lo, hi, together, need=None):
        from workstation.core.methods.pmrm2_bounds import pmrm2_bounds

        return pmrm2_bounds(self).curvature(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), together,
                                            None if need is None else np.asarray(need, dtype=float))
