"""OKX portfolio margin, profile method `okx-pm` (venues.md 5).

One risk unit per underlying (USDT, USDC and coin-margined contracts merged, spot in the unit
when `portfolio.collateral_in_scenarios`), in USD. Per unit, with d_i the USD delta of a
derivative (coin delta x index) and D the unit's (spot included):

    MR1 = max(0, -min P(m, vol))    grid `portfolio.moves` (or range / price_steps) x vol up/same/down
    MR6 = max(0, -min w P(m, up))   extreme moves `portfolio.tails` with their weight (0.5)
    MR4 = sum over the perpetual group and each expiry of rate x |sum d_i|,
          rate = mr4_rate (perpetuals), max(mr4_rate, mr4_annual x T) (expiries: estimate)
    MR7 = progressive(mr7_rate x |D|)  (the amount scaled band by band by `mr7_scaling`)
    unit MMR = max(max(MR1, MR2, MR6) + MR3 + MR4 + MR5 + MR9, MR7)     (MR2, MR3, MR5, MR9: 0)
    account MMR = sum of units + MR8,   IMR = im_factor (1.3) x units + borrowing IMR,
    MR8 = borrow_mmr x |negative balances|, borrowing IMR = borrow_imr x |negative balances|.

Attribution: when MR7 binds, each position's share is MR7 x d_i / D; otherwise its loss in the
binding scenario (of MR1 or MR6) plus its share of its MR4 group (d_i / net); times 1.3. The
borrowing IMR goes to the borrowed asset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workstation.core.book import SPOT
from workstation.core.methods.units import (
    Unit,
    UnitMethod,
    allocate,
    coin_deltas,
    entries_doc,
    grid_scenarios,
    netted,
    progressive,
    scenario_pnl,
    worst_index,
)
from workstation.core.profile_venues import OkxParams


class OkxPMMethod(UnitMethod):
    name = "okx-pm"

    @property
    def params(self) -> OkxParams:
        assert self.profile.okx is not None  # the profile requires [okx] for this method
        return self.profile.okx

    def build_table(self, u: Unit) -> dict[str, Any]:
        p = self.params
        und = self.book.assets[u.col]
        assert u.book is not None
        out = grid_scenarios(self.profile.portfolio, und, u.book)
        tte = out.pop("tte")
        base_rate = p.mr4_rate.for_(und)
        rate = np.where(tte > 0, np.maximum(base_rate, p.mr4_annual.for_(und) * tte), base_rate)
        deriv = (u.book.kind != 0).astype(float)  # spot is not a derivative: no MR4
        out.update(rate=rate, deriv=deriv, mr7_rate=p.mr7_rate.for_(und), mr7_steps=p.mr7_scaling.for_(und))
        return out

    def _mmr(self, t: dict[str, Any], T: np.ndarray, nets: np.ndarray, D: np.ndarray) -> dict[str, np.ndarray]:
        """MR pieces (B,) from unit entries T (B, S), MR4 group nets (B, G), unit delta D (B,)."""
        tail = t["tail"]
        low = np.where(tail[None, :], np.inf, T).min(-1) if (~tail).any() else np.zeros(T.shape[0])
        mr1 = np.maximum(0.0, -low)
        mr6 = np.maximum(0.0, -np.where(tail[None, :], T, np.inf).min(-1)) if tail.any() else np.zeros(T.shape[0])
        mr4 = (t["rate"][None, :] * np.abs(nets)).sum(-1)
        mr7 = progressive(t["mr7_rate"] * np.abs(D), t["mr7_steps"])
        core = np.maximum(mr1, mr6) + mr4
        return {"mr1": mr1, "mr6": mr6, "mr4": mr4, "mr7": mr7, "mmr": np.maximum(core, mr7)}

    def unit_result(self, u: Unit, center: np.ndarray, detail: bool) -> dict[str, Any]:
        t = self._table(u)
        assert u.book is not None
        shocked = center[:, None] * (1.0 + t["moves"][None, :])
        P = scenario_pnl(u.book, center, shocked, t["vols"], False) * t["weight"][None, :, None]
        C = self.unit_collateral_pnl(u, center, shocked) * t["weight"][None, :]
        d = coin_deltas(u.book, center) * center[:, None]  # USD deltas
        d = np.where(u.book.kind == SPOT, u.book.qty * center[:, None], d)  # spot held in the unit hedges
        dd = d * t["deriv"]
        nets = netted(dd, t["group"], t["rate"].size)
        cd = self._coll_delta(u, center)
        r = self._mmr(t, P.sum(-1) + C, nets, d.sum(-1) + cd)
        imf = self.profile.portfolio.im_factor
        out: dict[str, Any] = {"im": imf * r["mmr"], "mm": r["mmr"]}
        if detail:
            out.update(self._detail(u, t, P[0], C[0], d[0], dd[0], nets[0], float(cd[0]), r))
        return out

    def _coll_delta(self, u: Unit, center: np.ndarray) -> np.ndarray:
        """USD delta (K,) of the unit's collateral: amount x price (moving with the column)."""
        out = np.zeros(center.shape)
        for j in u.coll:
            out += self.coll_amt[j] * center * self.book.prices[self.coll_idx[j]] / self.book.prices[u.col]
        return out

    def _detail(self, u: Unit, t: dict[str, Any], P: np.ndarray, C: np.ndarray, d: np.ndarray,
                dd: np.ndarray, nets: np.ndarray, cd: float, r: dict[str, np.ndarray]) -> dict[str, Any]:
        imf = self.profile.portfolio.im_factor
        n = P.shape[1]
        T = P.sum(-1) + C
        labels = t["labels"]
        D = d.sum() + cd
        comp = np.zeros(n)
        coll = 0.0
        mr7_binds = r["mr7"][0] > np.maximum(r["mr1"][0], r["mr6"][0]) + r["mr4"][0]
        if mr7_binds:
            if D:
                comp, coll = r["mr7"][0] * d / D, r["mr7"][0] * cd / D
        else:
            part = t["tail"] if r["mr6"][0] > r["mr1"][0] else ~t["tail"]
            if part.any() and max(r["mr1"][0], r["mr6"][0]) > 0:
                s = int(np.flatnonzero(part)[np.argmin(T[part])])
                comp, coll = -P[s], -C[s]
            comp = comp + allocate(t["rate"] * np.abs(nets), dd, t["group"], nets)
        eye = np.eye(t["rate"].size)[t["group"]]
        alone = self._mmr(t, P.T, dd[:, None] * eye, d)["mmr"]
        without = self._mmr(t, T[None, :] - P.T, nets[None, :] - dd[:, None] * eye, D - d)["mmr"]
        worst = worst_index(T, labels) if T.size else 0
        coll_parts = self._split_coll(u, coll)
        return {
            "entries": entries_doc(t["moves"], labels, t["weight"], T),
            "worst": worst, "pos": P,
            "addons": {"mr1": float(r["mr1"][0]), "mr6": float(r["mr6"][0]), "mr4": float(r["mr4"][0]),
                       "mr7": float(r["mr7"][0])},
            "components": imf * comp, "coll_components": [imf * c for c in coll_parts],
            "standalone": imf * alone, "marginal": imf * (r["mmr"][0] - without),
        }

    def _split_coll(self, u: Unit, total: float) -> list[float]:
        """The unit's collateral component split over its collateral lines by value."""
        if not u.coll:
            return []
        vals = np.array([abs(self.coll_amt[j] * self.book.prices[self.coll_idx[j]]) for j in u.coll])
        share = vals / vals.sum() if vals.sum() else np.full(len(u.coll), 1.0 / len(u.coll))
        return [float(total * s) for s in share]

    # ------------------------------------------------------------------ MR8: borrowing
    def extra_terms(self, centers: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
        K = centers.shape[0]
        im = np.zeros((K, self.n_assets))
        mm = np.zeros((K, self.n_assets))
        p = self.params
        for a, col, amt in zip(self.coll_idx, self.coll_col, self.coll_amt, strict=True):
            if amt < 0 and cols[col]:
                owed = -amt * centers[:, a]
                mm[:, col] += p.borrow_mmr * owed
                im[:, col] += p.borrow_imr * owed
        return {"im": im, "mm": mm}

    def extra_components(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for a, amt in zip(self.coll_idx, self.coll_amt, strict=True):
            if amt < 0:
                asset = self.book.assets[a]
                out[asset] = out.get(asset, 0.0) + self.params.borrow_imr * -amt * float(self.book.prices[a])
        return out
