"""Per-position requirements: the `cross` and `isolated` margin modes (method.md).

Perpetuals and futures are tiered by notional N = |q| S (inverse: N = |q| USD):

    MM = max(N * mmr - maintenance_amount, 0)        IM = N * imr        (the bracket N falls in)

Short options take Deribit's standard margin, per unit in base currency (S spot, m mark):

    call  IM = max(base*S - OTM, floor*S) + m               MM = mm*S + m
    put   IM = max(max(base*S - OTM, floor*S) + m, MM)      MM = max(mm*S, mm*m) + m

Long options, spot holdings and expired options need nothing. `cross`: the account's
requirement is the sum, all collateral shared. `isolated`: each position stands on its own
`isolated_margin`; it is liquidated when isolated_margin + value <= MM, so liquidation is
position by position (the weakest position of a column decides).
"""

from __future__ import annotations

import numpy as np

from workstation.core.book import Book
from workstation.core.methods.base import Attribution, MarginMethod, Parts, Scope, _Subset
from workstation.core.profiles import Profile
from workstation.core.valuation import values


def _tier_table(profile: Profile, assets: tuple[str, ...], used: np.ndarray) -> tuple[np.ndarray, ...]:
    """Padded (assets x tiers) arrays of bounds and rates; rows only filled for used assets."""
    tables = [profile.tier_for(assets[a]) if used[a] else () for a in range(len(assets))]
    width = max((len(t) for t in tables), default=0) or 1
    shape = (len(assets), width)
    bound = np.full(shape, np.inf)
    imr = np.zeros(shape)
    mmr = np.zeros(shape)
    amt = np.zeros(shape)
    for a, tiers in enumerate(tables):
        for k, t in enumerate(tiers):
            bound[a, k] = t.max_notional
            imr[a, k], mmr[a, k], amt[a, k] = t.initial_rate, t.maintenance_rate, t.maintenance_amount
        if tiers:  # notional beyond the last bound stays in the last tier
            last = len(tiers) - 1
            bound[a, last] = np.inf
            imr[a, last + 1:], mmr[a, last + 1:], amt[a, last + 1:] = imr[a, last], mmr[a, last], amt[a, last]
    return bound, imr, mmr, amt


class PositionRequirements:
    """Per-position IM and MM, vectorised over price states."""

    def __init__(self, book: Book, profile: Profile):
        self.book = book
        self.profile = profile
        used = np.zeros(len(book.assets), dtype=bool)
        used[book.und[book.is_delta_one]] = True
        self.bound, self.imr, self.mmr, self.amt = _tier_table(profile, book.assets, used)

    def at(self, spot: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(IM, MM) per position at per-position spot prices of shape (..., n)."""
        b = self.book
        s = b.spot if spot is None else np.asarray(spot, dtype=float)
        shape = np.broadcast_shapes(s.shape, b.qty.shape)
        s = np.broadcast_to(s, shape)
        im = np.zeros(shape)
        mm = np.zeros(shape)
        d1 = np.flatnonzero(b.is_delta_one)
        if d1.size:
            u = b.und[d1]
            notional = np.where(b.inverse[d1], np.abs(b.qty[d1]), np.abs(b.qty[d1]) * s[..., d1])
            k = (notional[..., None] > self.bound[u]).sum(-1)
            k = np.minimum(k, self.bound.shape[1] - 1)
            im[..., d1] = notional * self.imr[u, k]
            mm[..., d1] = np.maximum(notional * self.mmr[u, k] - self.amt[u, k], 0.0)
        short = np.flatnonzero(b.is_option & (b.qty < 0))
        if short.size:
            sub = b.take(short)
            so = s[..., short]
            unit = values(sub, so) / sub.qty  # option value per unit in base
            o = self.profile.options
            otm = np.where(sub.is_call, np.maximum(sub.strike - so, 0.0), np.maximum(so - sub.strike, 0.0))
            im_core = np.maximum(o.short_im_base * so - otm, o.short_im_floor * so) + unit
            mm_call = o.short_mm * so + unit
            mm_put = np.maximum(o.short_mm * so, o.short_mm * unit) + unit
            mm_u = np.where(sub.is_call, mm_call, mm_put)
            im_u = np.where(sub.is_call, im_core, np.maximum(im_core, mm_put))
            size = np.abs(sub.qty)
            im[..., short] = size * im_u
            mm[..., short] = size * mm_u
        return im, mm


class CrossMethod(MarginMethod):
    """`cross`: per-position requirements added up, all collateral shared."""

    name = "cross"

    def __init__(self, scope: Scope):
        super().__init__(scope)
        self.reqs = PositionRequirements(self.book, self.profile)

    def _reqs(self, sub: _Subset) -> PositionRequirements:
        if "reqs" not in sub.cache:
            sub.cache["reqs"] = self.reqs if sub.book is self.book else PositionRequirements(sub.book, self.profile)
        return sub.cache["reqs"]

    def terms(self, sub, centers, spot, pos_values, cols):
        im, mm = self._reqs(sub).at(spot)
        return {"im": im @ sub.onehot, "mm": mm @ sub.onehot}

    def combine(self, terms):
        return terms["im"].sum(-1), terms["mm"].sum(-1)

    def attribution(self) -> Attribution:
        im, _ = self.reqs.at()
        assets = self.book.assets
        return Attribution(standalone=im, marginal=im.copy(), component=im.copy(),
                           collateral={assets[a]: 0.0 for a in self.coll_idx})


class IsolatedMethod(CrossMethod):
    """`isolated`: as cross for the account's totals; each position liquidates on its own."""

    name = "isolated"

    def terms(self, sub, centers, spot, pos_values, cols):
        im, mm = self._reqs(sub).at(spot)
        balance = np.nan_to_num(sub.book.isolated) + pos_values - mm
        K = spot.shape[0]
        weakest = np.full((K, self.n_assets), np.inf)
        for a in np.unique(sub.book.und):
            weakest[:, a] = balance[:, sub.book.und == a].min(-1)
        return {"im": im @ sub.onehot, "mm": mm @ sub.onehot, "weakest": weakest}

    def f_single(self, P: Parts) -> np.ndarray:
        return P.terms["weakest"]

    def f_all(self, P: Parts) -> np.ndarray:
        return P.terms["weakest"].min(-1)
