"""CME SPAN scan risk, profile method `span` (venues.md 7).

Per product (underlying) with price scan range PSR (price points, `price_scan`, or a fraction
of the price, `price_scan_pct`), volatility scan range VSR (absolute vol), extreme multiple X
and cover c, the 16 SPAN scenarios in CME's order:

    1-2    price unchanged,        vol up / down
    3-14   price +1/3, -1/3, +2/3, -2/3, +3/3, -3/3 of PSR, each vol up / down
    15-16  price +X PSR, -X PSR,   vol unchanged, the P&L x c (0.35)

revalue the product's positions (and collateral held in it); the scan risk is the largest
loss, max(0, -min P_s). MM = scan risk (spread charges, inter-commodity credits, the short
option minimum and delivery risk are not modelled); IM = im_factor x MM (an estimate).

Attribution: each position's loss in the scenario of the largest loss, x im_factor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workstation.core.methods.units import VOL_SIGN, Unit, UnitMethod, entries_doc, scenario_pnl, worst_index
from workstation.core.profile_venues import SpanParams

# (fraction of the scan range, vol direction); the extremes are +/- X at cover c
_SCAN = [(0.0, "up"), (0.0, "down")] + [(s * f, v) for f in (1 / 3, 2 / 3, 1.0) for s in (1.0, -1.0)
                                        for v in ("up", "down")]


class SpanMethod(UnitMethod):
    name = "span"

    @property
    def params(self) -> SpanParams:
        assert self.profile.span is not None  # the profile requires [span] for this method
        return self.profile.span

    def build_table(self, u: Unit) -> dict[str, Any]:
        prod = self.params.products.for_(self.book.assets[u.col])
        x = prod.extreme_multiple
        frac = np.array([f for f, _ in _SCAN] + [x, -x])
        labels = [v for _, v in _SCAN] + ["same", "same"]
        weight = np.array([1.0] * len(_SCAN) + [prod.extreme_cover] * 2)
        sign = np.array([VOL_SIGN[v] for v in labels])
        assert u.book is not None
        vols = np.maximum(u.book.vol[None, :] + sign[:, None] * prod.vol_scan, 1e-8)
        return {"prod": prod, "frac": frac, "labels": labels, "weight": weight,
                "vols": np.where(np.isnan(u.book.vol)[None, :], np.nan, vols)}

    def unit_result(self, u: Unit, center: np.ndarray, detail: bool) -> dict[str, Any]:
        t = self._table(u)
        prod = t["prod"]
        psr = np.full(center.shape, prod.price_scan) if prod.price_scan > 0 else prod.price_scan_pct * center
        shocked = center[:, None] + t["frac"][None, :] * psr[:, None]
        assert u.book is not None
        P = scenario_pnl(u.book, center, shocked, t["vols"], False) * t["weight"][None, :, None]
        C = self.unit_collateral_pnl(u, center, shocked) * t["weight"][None, :]
        T = P.sum(-1) + C
        mm = np.maximum(0.0, -T.min(-1))
        imf = self.params.im_factor
        out: dict[str, Any] = {"im": imf * mm, "mm": mm}
        if detail:
            out.update(self._detail(u, t, P[0], C[0], T[0], float(mm[0]), t["frac"] * psr[0] / center[0]))
        return out

    def _detail(self, u: Unit, t: dict[str, Any], P: np.ndarray, C: np.ndarray, T: np.ndarray,
                mm: float, moves: np.ndarray) -> dict[str, Any]:
        imf = self.params.im_factor
        worst = worst_index(T, t["labels"])
        comp = -P[worst] if mm > 0 else np.zeros(P.shape[1])
        coll = -C[worst] if mm > 0 else 0.0
        alone = np.maximum(0.0, -P.min(0))
        without = np.maximum(0.0, -(T[:, None] - P).min(0))
        vals = [abs(self.coll_amt[j]) for j in u.coll]
        split = [coll * v / sum(vals) for v in vals] if vals and sum(vals) else [0.0] * len(u.coll)
        return {"entries": entries_doc(moves, t["labels"], t["weight"], T), "worst": worst, "pos": P,
                "addons": {}, "components": imf * comp, "coll_components": [imf * c for c in split],
                "standalone": imf * alone, "marginal": imf * (mm - without)}
