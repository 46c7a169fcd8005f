"""Deribit segregated portfolio margin (S:PM), profile method `deribit-pm` (venues.md 3).

Risk units: per underlying U, the positions settled in U's coin (inverse perpetuals, futures
and options, and spot holdings of U) margined **in U** (coin numeraire), and the positions
settled in the linear currency (`linear_currency`, USDC) margined in it. Coin held as
collateral has zero P&L in its own numeraire. Parameters are Deribit's `pme/simulate`
`model_params` (`[deribit]`: `pairs.<U>` = currency_pair, `currencies.<C>` = currency).

Per unit, R = price_range, b = buckets, S the index (the column's price):
- standard table: moves R k / b, k = -b..b, each with vol up / same / down,
  iv' = iv (1 +/- shock (30 / max(dte_floor, dte))^p), p = short_term_vega_power if dte < 30
  else long_term_vega_power, shocked-up vols floored at min_volatility_for_shock_up;
- P(m): the unit's P&L at move m in its numeraire (inverse perpetual Q (1/S - 1/S(1+m)),
  options' coin value black_usd / S);
- extended table: moves `extended_moves`, vol up, each entry re-expressed
      E(m) = P(m) x factor x R/|m| x (1+m)/(1 +/- R)         (coin; in USD: without (1+m)/(1 +/- R))
  (+/- by the sign of m: the weighted base P&L converted at the edge price), then moved towards
  0 by the dampener: E' = sign(E) max(0, |E| - (max(|m|/R, 1) - 1) x dampener / ((1 +/- R) S));
- positive entries x pnl_offset (Deribit's aggregated vectors; X:PM's offsets);
- worst = max(0, -min entry), rounded to `worst_decimals` (1e-9 coin);
- roll shock: sum over the perpetual group and each expiry of |net coin delta| x rate,
  rate = min_annualised_move (perpetuals), max(min, e^(annualised_move_risk T) - 1) (expiries);
- delta shock: |D| x min(max_delta_shock, m_inc x (|D| - threshold / S)) when |D| S exceeds
  delta_total_liq_shock_threshold (D the unit's coin delta; the formula beyond: estimate);
- RMM = worst + roll + delta shock;  IM = RMM,  MM = mm_factor x RMM (0.8), in base = x S.

Attribution: a position's component is its entry in the worst scenario (scaled by the
dampening and the rounding of the worst), its share of each netted roll group (d_i / net) and
of the delta shock (d_i / D); they add up to the unit's RMM.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workstation.core.methods.units import (
    GRID_VOLS,
    VOL_SIGN,
    Unit,
    UnitMethod,
    allocate,
    coin_deltas,
    entries_doc,
    expiry_groups,
    netted,
    scenario_pnl,
    shocked_vols,
    worst_index,
)
from workstation.core.profile_venues import DeribitParams


class DeribitPMMethod(UnitMethod):
    name = "deribit-pm"

    @property
    def params(self) -> DeribitParams:
        assert self.profile.deribit is not None  # the profile requires [deribit] for this method
        return self.profile.deribit

    def make_units(self) -> list[Unit]:
        b = self.book
        units = []
        for a in sorted(set(b.und.tolist())):
            if self.stable[a]:
                continue
            asset = b.assets[a]
            on = b.und == a
            coin_rows = np.flatnonzero(on & (b.inverse | (b.kind == 0)))
            lin_rows = np.flatnonzero(on & ~b.inverse & (b.kind != 0))
            if coin_rows.size:
                units.append(Unit(asset, a, coin_rows, asset, True))
            if lin_rows.size:
                cur = self.params.linear_currency
                units.append(Unit(f"{cur}:{asset}", a, lin_rows, cur, False))
        return units

    # ------------------------------------------------------------------ the unit's scenarios
    def build_table(self, u: Unit) -> dict[str, Any]:
        """Moves, vol labels, vols (S, n_u), fixed weights and the per-unit constants."""
        p = self.params
        pair = p.pairs.for_(self.book.assets[u.col])
        cur = p.currencies.for_(u.numeraire)
        R = pair.price_range
        std = [R * k / p.buckets for k in range(-p.buckets, p.buckets + 1)]
        moves = np.array([m for m in std for _ in GRID_VOLS] + list(p.extended_moves))
        labels = [v for _ in std for v in GRID_VOLS] + ["up"] * len(p.extended_moves)
        signs = np.array([VOL_SIGN[v] for v in labels])
        n_std = len(std) * len(GRID_VOLS)
        ext = np.arange(moves.size) >= n_std
        edge = np.where(moves > 0, 1.0 + R, 1.0 - R)
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(ext, pair.extended_table_factor * R / np.abs(moves), 1.0)
            if u.coin:
                weight = np.where(ext, weight * (1.0 + moves) / edge, weight)
            steps = np.where(ext, np.maximum(np.abs(moves) / R, 1.0) - 1.0, 0.0)
        assert u.book is not None
        vols = shocked_vols(u.book, signs, pair.volatility_range_up, pair.volatility_range_down,
                            pair.short_term_vega_power, pair.long_term_vega_power, p.dte_floor,
                            pair.min_volatility_for_shock_up)
        group, tte = expiry_groups(u.book)
        rate = np.where(tte > 0, np.maximum(cur.min_annualised_move,
                                            np.expm1(cur.annualised_move_risk * tte)), cur.min_annualised_move)
        out = {"moves": moves, "labels": labels, "weight": weight, "ext": ext, "edge": edge,
               "steps": steps, "vols": vols, "group": group, "rate": rate, "pair": pair, "cur": cur}
        return out

    def _rmm(self, t: dict[str, Any], T: np.ndarray, nets: np.ndarray, D: np.ndarray, c: np.ndarray,
             coin: bool) -> dict[str, np.ndarray]:
        """RMM pieces (numeraire) from weighted unit entries T (B, S) (before dampening), roll
        group nets (B, G) and coin delta D (B,) at index c (B,)."""
        pair, cur = t["pair"], t["cur"]
        scale = (t["edge"][None, :] * c[:, None]) if coin else 1.0
        cut = np.where(t["ext"], t["steps"] * cur.extended_dampener, 0.0)[None, :] / scale
        damped = np.sign(T) * np.maximum(np.abs(T) - cut, 0.0)
        out = np.where(damped > 0, damped * cur.pnl_offset, damped)
        raw = np.maximum(0.0, -out.min(-1)) if out.shape[-1] else np.zeros(T.shape[0])
        worst = np.round(raw, self.params.worst_decimals)
        roll = (t["rate"][None, :] * np.abs(nets)).sum(-1)
        excess = np.maximum(np.abs(D) - pair.delta_total_liq_shock_threshold / c, 0.0)
        shock_rate = np.where(excess > 0, np.minimum(pair.max_delta_shock, pair.m_inc * excess), 0.0)
        dshock = np.abs(D) * shock_rate * (1.0 if coin else c)
        return {"entries": out, "damped": damped, "raw": raw, "worst": worst, "roll": roll,
                "delta_shock": dshock, "rmm": worst + roll + dshock}

    def unit_result(self, u: Unit, center: np.ndarray, detail: bool) -> dict[str, Any]:
        t = self._table(u)
        assert u.book is not None
        shocked = center[:, None] * (1.0 + t["moves"][None, :])
        P = scenario_pnl(u.book, center, shocked, t["vols"], u.coin) * t["weight"][None, :, None]
        d = coin_deltas(u.book, center)  # (K, n) coin
        droll = d if u.coin else d * center[:, None]  # roll in the numeraire
        G = t["rate"].size
        nets = netted(droll, t["group"], G)
        r = self._rmm(t, P.sum(-1), nets, d.sum(-1), center, u.coin)
        to_base = center if u.coin else np.ones_like(center)
        im = r["rmm"] * to_base
        out: dict[str, Any] = {"im": im, "mm": self.params.mm_factor * im}
        if detail:
            out.update(self._detail(u, t, P[0], droll[0], d[0], nets[0], r, float(center[0]), float(to_base[0])))
        return out

    def _detail(self, u: Unit, t: dict[str, Any], P: np.ndarray, droll: np.ndarray, d: np.ndarray,
                nets: np.ndarray, r: dict[str, np.ndarray], c: float, to_base: float) -> dict[str, Any]:
        n = P.shape[1]
        labels = t["labels"]
        entries = r["entries"][0]
        worst = worst_index(entries, labels, prefer_same=True) if entries.size else 0
        # components: the worst entry's shares (dampening and rounding scaled), roll, delta shock
        comp = np.zeros(n)
        T = P.sum(-1)
        if r["raw"][0] > 0 and T[worst] != 0:
            comp += -P[worst] * (r["damped"][0, worst] / T[worst]) * (r["worst"][0] / r["raw"][0])
        group = t["group"]
        comp += allocate(t["rate"] * np.abs(nets), droll, group, nets)
        D = d.sum()
        if r["delta_shock"][0] and D:
            comp += r["delta_shock"][0] * d / D
        # standalone: each position alone; marginal: the unit without it
        eye = np.eye(t["rate"].size)[group]  # (n, G)
        cc = np.full(n, c)
        alone = self._rmm(t, P.T, droll[:, None] * eye, d, cc, u.coin)["rmm"]
        without = self._rmm(t, T[None, :] - P.T, nets[None, :] - droll[:, None] * eye, D - d, cc, u.coin)["rmm"]
        return {
            "entries": entries_doc(t["moves"], labels, t["weight"], entries),
            "worst": worst, "pos": P,
            "addons": {"roll": float(r["roll"][0]), "delta_shock": float(r["delta_shock"][0])},
            "components": comp * to_base, "coll_components": [],
            "standalone": alone * to_base, "marginal": (r["rmm"][0] - without) * to_base,
        }
