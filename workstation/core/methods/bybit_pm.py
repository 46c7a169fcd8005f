"""Bybit portfolio margin (unified trading account), profile method `bybit-pm` (venues.md 6).

One risk unit per underlying (USDT and USDC derivatives, and spot when spot hedging is on:
`portfolio.collateral_in_scenarios`), in USD, S the index:

    worst = max(0, -min P(m, vol))   stress grid `portfolio.moves` (or range, +/-10 % BTC/ETH
                                     since 2025-01-10) x vol up / same / down (+ `tails` if any)
    MM    = worst
          + perp_contingency x sum |qty| x S                (perpetuals and futures, gross)
          + short_option_coefficient x max(0, -sum option qty) x S     (net short options)
          + vega_spread x sum |days apart| x hedged vega               (vega per vol point, base)
          + delta_spread x sum |years apart| x hedged coin delta x S   (perpetuals at T = 0)
    IM    = MM x im_factor(underlying)

Hedged vega / delta: per expiry the net amount; long and short expiries matched in time order
(`units.hedged_spread`). The USDT-USDC spread (a book does not say which stablecoin settles a
linear contract) is not modelled. Bybit publishes only the vega spread factor (0.03 %
BTC/ETH); every other factor and the stress shape are estimates (resources/profiles/README.md).

Attribution: the worst scenario's losses, each position's own gross perpetual charge, its
share d_i / net of the net short option charge, and its share |v_i| / sum |v| of the spread
charges (vega spread by vega, delta spread by coin delta); x im_factor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workstation.core.methods.units import (
    Unit,
    UnitMethod,
    coin_deltas,
    entries_doc,
    grid_scenarios,
    hedged_spread,
    netted,
    scenario_pnl,
    vegas,
    worst_index,
)
from workstation.core.profile_venues import BybitParams


class BybitPMMethod(UnitMethod):
    name = "bybit-pm"

    @property
    def params(self) -> BybitParams:
        assert self.profile.bybit is not None  # the profile requires [bybit] for this method
        return self.profile.bybit

    def build_table(self, u: Unit) -> dict[str, Any]:
        p = self.params
        und = self.book.assets[u.col]
        assert u.book is not None
        b = u.book
        return {
            **grid_scenarios(self.profile.portfolio, und, b),
            "d1": b.is_delta_one.astype(float), "opt": b.is_option.astype(float),
            "perp": p.perp_contingency.for_(und), "short": p.short_option_coefficient.for_(und),
            "vega": p.vega_spread.for_(und), "delta": p.delta_spread.for_(und), "imf": p.im_factor.for_(und),
        }

    def _mm(self, t: dict[str, Any], T: np.ndarray, gross: np.ndarray, optq: np.ndarray, vega_e: np.ndarray,
            delta_e: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """MM pieces (B,) from entries T (B, S), gross coin size of perpetuals/futures (B,), net
        option quantity (B,), vega and coin delta per expiry group (B, G), index c (B,)."""
        worst = np.maximum(0.0, -T.min(-1)) if T.shape[-1] else np.zeros(T.shape[0])
        perp = t["perp"] * gross * c
        short = t["short"] * np.maximum(0.0, -optq) * c
        days = t["tte"] * 365.0
        vega = t["vega"] * hedged_spread(days, vega_e) if t["vega"] else np.zeros(T.shape[0])
        delta = t["delta"] * hedged_spread(t["tte"], delta_e) * c if t["delta"] else np.zeros(T.shape[0])
        return {"worst": worst, "perp": perp, "short_option": short, "vega_spread": vega,
                "delta_spread": delta, "mm": worst + perp + short + vega + delta}

    def unit_result(self, u: Unit, center: np.ndarray, detail: bool) -> dict[str, Any]:
        t = self._table(u)
        b = u.book
        assert b is not None
        shocked = center[:, None] * (1.0 + t["moves"][None, :])
        P = scenario_pnl(b, center, shocked, t["vols"], False) * t["weight"][None, :, None]
        C = self.unit_collateral_pnl(u, center, shocked) * t["weight"][None, :]
        d = coin_deltas(b, center)
        v = vegas(b, center)
        size = np.abs(d) * t["d1"]
        G = t["tte"].size
        r = self._mm(t, P.sum(-1) + C, size.sum(-1), (b.qty * t["opt"]).sum() + np.zeros(center.shape),
                     netted(v, t["group"], G), netted(d, t["group"], G), center)
        out: dict[str, Any] = {"im": t["imf"] * r["mm"], "mm": r["mm"]}
        if detail:
            out.update(self._detail(u, t, P[0], C[0], size[0], v[0], d[0], r, float(center[0])))
        return out

    def _detail(self, u: Unit, t: dict[str, Any], P: np.ndarray, C: np.ndarray, size: np.ndarray,
                v: np.ndarray, d: np.ndarray, r: dict[str, np.ndarray], c: float) -> dict[str, Any]:
        b = u.book
        assert b is not None
        imf, n, G = t["imf"], P.shape[1], t["tte"].size
        T = P.sum(-1) + C
        labels = t["labels"]
        worst = worst_index(T, labels) if T.size else 0
        has = r["worst"][0] > 0
        comp = (-P[worst] if has else np.zeros(n)) + t["perp"] * size * c
        optq = b.qty * t["opt"]
        if r["short_option"][0] > 0:
            comp = comp + r["short_option"][0] * (-optq) / -optq.sum()
        for key, x in (("vega_spread", v), ("delta_spread", d)):
            if r[key][0] > 0:
                comp = comp + r[key][0] * np.abs(x) / np.abs(x).sum()
        coll = -C[worst] if has else 0.0
        eye = np.eye(G)[t["group"]]
        cc = np.full(n, c)
        alone = self._mm(t, P.T, size, optq, v[:, None] * eye, d[:, None] * eye, cc)["mm"]
        without = self._mm(t, T[None, :] - P.T, size.sum() - size, optq.sum() - optq,
                           netted(v, t["group"], G)[None, :] - v[:, None] * eye,
                           netted(d, t["group"], G)[None, :] - d[:, None] * eye, cc)["mm"]
        vals = [abs(self.coll_amt[j]) for j in u.coll]
        split = [coll * x / sum(vals) for x in vals] if vals and sum(vals) else [0.0] * len(u.coll)
        return {
            "entries": entries_doc(t["moves"], labels, t["weight"], T), "worst": worst, "pos": P,
            "addons": {k: float(r[k][0]) for k in ("perp", "short_option", "vega_spread", "delta_spread")},
            "components": imf * comp, "coll_components": [imf * x for x in split],
            "standalone": imf * alone, "marginal": imf * (r["mm"][0] - without),
        }
