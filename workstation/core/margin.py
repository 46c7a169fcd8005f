"""Margin requirements of a scope (an account, or a pool of accounts margined together).

Three modes (method.md):
- isolated / cross: per-position requirements. Perpetuals and futures are tiered by notional
  N = |q| * S (inverse: N = |q| USD): MM = N * mmr - maintenance_amount, IM = N * imr.
  Short options take Deribit's standard margin, per unit in base currency (S = spot, m = mark):
      call  IM = max(base*S - OTM, floor*S) + m               MM = mm*S + m
      put   IM = max(max(base*S - OTM, floor*S) + m, MM)      MM = max(mm*S, mm*m) + m
  Long options, spot holdings and expired options need nothing.
- portfolio: per underlying, the worst scenario loss of its positions and collateral
  (spot grid x vol up/same/down, tails with dampeners), aggregated by `sum` or `correlated`
  (sqrt(L' C L)), plus contingencies; MM = mm_factor * agg + contingencies, IM = im_factor * MM.

`RiskModel` splits every figure by underlying: moving one underlying's price changes only its
own terms, which makes attribution and liquidation searches a few vector operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workstation.core.book import Book
from workstation.core.collateral import haircut_value
from workstation.core.profiles import Profile
from workstation.core.valuation import values

_VOL_DIR = {"up": 1.0, "none": 0.0, "same": 0.0, "down": -1.0}


@dataclass
class Scope:
    """What one requirement is computed on: positions, pooled collateral, profile and mode."""

    name: str  # "account:ID" or "pool:ID"
    book: Book
    collateral: dict[str, float]
    profile: Profile
    mode: str
    base_currency: str = "USD"
    members: list[str] = field(default_factory=list)  # accounts of a pool


# ---------------------------------------------------------------------------- cross / isolated
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
    """Per-position IM and MM (cross and isolated modes), vectorised over price states."""

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


# ---------------------------------------------------------------------------- portfolio mode
class ScenarioGrid:
    """The profile's scenarios as arrays: shocks (n_s, assets), vol direction, dampener."""

    def __init__(self, profile: Profile, assets: tuple[str, ...], used: np.ndarray):
        pp = profile.portfolio
        lists = {a: pp.scenario_list(assets[a]) for a in np.flatnonzero(used)}
        n_s = max((len(v) for v in lists.values()), default=0)
        if lists and any(len(v) != n_s for v in lists.values()):
            raise ValueError("every underlying must have the same number of scenarios")
        self.n = n_s
        self.shock = np.zeros((n_s, len(assets)))
        self.vol_dir = np.zeros(n_s)
        self.damp = np.ones(n_s)
        for a, scen in lists.items():
            for s, (shock, vdir, damp) in enumerate(scen):
                self.shock[s, a] = shock
                self.vol_dir[s] = _VOL_DIR[vdir]
                self.damp[s] = damp

    def shocked_vols(self, book: Book, profile: Profile) -> np.ndarray:
        """Option vols per scenario (n_s, n): iv * (1 +/- shock * (30 / max(floor, dte)) ** p)."""
        pp = profile.portfolio
        dte = book.tte * 365.0
        power = np.where(dte < 30.0, pp.power_short, pp.power_long)
        scale = (30.0 / np.maximum(pp.dte_floor, dte)) ** power
        up = book.vol * (1.0 + pp.vol_shock_up * scale)
        if pp.vol_floor is not None:
            up = np.maximum(up, pp.vol_floor)
        down = np.maximum(book.vol * (1.0 - pp.vol_shock_down * scale), 0.0)
        d = self.vol_dir[:, None]
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


class RiskModel:
    """Requirement and equity of one scope, split by underlying."""

    def __init__(self, scope: Scope):
        self.scope = scope
        book = scope.book
        self.book = book
        self.profile = scope.profile
        self.mode = scope.mode
        assets = book.assets
        self.n_assets = len(assets)
        index = {a: i for i, a in enumerate(assets)}
        self.stable = np.array(
            [self.profile.is_stable(a) or a == scope.base_currency for a in assets], dtype=bool
        )
        self.coll_idx = np.array([index[a] for a in scope.collateral], dtype=np.int64)
        self.coll_amt = np.array(list(scope.collateral.values()), dtype=float)
        self.coll_bands = [self._bands(a) for a in scope.collateral]
        self.onehot = np.zeros((len(book), self.n_assets))
        self.onehot[np.arange(len(book)), book.und] = 1.0
        self.pos_by_und = {a: np.flatnonzero(book.und == a) for a in np.unique(book.und)}
        # underlyings that carry risk: any with positions, and non-stable collateral
        # underlyings that carry price risk: those of positions and collateral, except the base
        # currency and the profile's stablecoins (held at par: a USDC perpetual against USDC
        # collateral is not shocked on one side only)
        moving = np.zeros(self.n_assets, dtype=bool)
        moving[book.und] = True
        moving[self.coll_idx] = True
        moving &= ~self.stable
        self.moving = moving
        if self.mode == "portfolio":
            self.grid = ScenarioGrid(self.profile, assets, moving)
            pp = self.profile.portfolio
            self.corr = np.array([[pp.corr(a, b) for b in assets] for a in assets]) \
                if pp.aggregation == "correlated" else None
            self.coll_in_scen = pp.collateral_in_scenarios
        else:
            self.reqs = PositionRequirements(book, self.profile)

    # -------------------------------------------------------------- collateral
    def _bands(self, asset: str) -> tuple[tuple[float, float], ...]:
        """Haircut bands; the base currency and the profile's stablecoins take none unless the
        profile lists them by name (a "*" fallback is meant for coins)."""
        p = self.profile
        if asset not in p.haircuts and (asset == self.scope.base_currency or p.is_stable(asset)):
            return ((float("inf"), 0.0),)
        return p.haircut_bands(asset)

    def collateral_value(self, prices: np.ndarray | None = None) -> np.ndarray:
        """Haircut value of the collateral at asset prices of shape (..., assets)."""
        p = self.book.prices if prices is None else np.asarray(prices, dtype=float)
        total = np.zeros(p.shape[:-1])
        for a, amt, bands in zip(self.coll_idx, self.coll_amt, self.coll_bands, strict=True):
            total = total + haircut_value(float(amt), p[..., a], bands)
        return total

    def collateral_lines(self) -> list[tuple[str, float, float, float]]:
        """(asset, amount, price, value) per collateral asset at current prices."""
        out = []
        for a, amt, bands in zip(self.coll_idx, self.coll_amt, self.coll_bands, strict=True):
            price = float(self.book.prices[a])
            out.append((self.book.assets[a], float(amt), price, float(haircut_value(float(amt), price, bands))))
        return out

    def isolated_total(self) -> float:
        """Collateral set aside in isolated positions (counted in equity wherever they sit)."""
        return float(np.nansum(self.book.isolated))

    def equity(self) -> float:
        return float(self.collateral_value() + self.isolated_total() + values(self.book).sum())

    # -------------------------------------------------------------- requirements
    def requirement(self) -> tuple[float, float]:
        """(IM, MM) of the scope at current prices."""
        if self.mode == "portfolio":
            r = self.portfolio_risk()
            return r.im, r.mm
        im, mm = self.reqs.at()
        return float(im.sum()), float(mm.sum())

    def scenario_pnl(self, book: Book, spot_center: np.ndarray | None = None,
                     v0: np.ndarray | None = None) -> np.ndarray:
        """Damped scenario P&L per position, shape (..., n_s, n) around `spot_center` (..., n);
        `v0` are the values at the centre when the caller has them already."""
        g = self.grid
        center = book.spot if spot_center is None else np.asarray(spot_center, dtype=float)
        shocked = center[..., None, :] * (1.0 + g.shock[:, book.und])
        vols = g.shocked_vols(book, self.profile)
        base = values(book, center) if v0 is None else v0
        out = values(book, shocked, vols)
        out -= base[..., None, :]
        out *= g.damp[:, None]
        return out

    def collateral_scenario_pnl(self, a: int, center: np.ndarray) -> np.ndarray:
        """Damped scenario P&L of the collateral held in asset `a`, centred on prices (...,)."""
        out = np.zeros((*np.shape(center), self.grid.n))
        if not self.coll_in_scen or self.stable[a]:
            return out
        g = self.grid
        for idx, amt, bands in zip(self.coll_idx, self.coll_amt, self.coll_bands, strict=True):
            if idx != a:
                continue
            c = np.asarray(center, dtype=float)[..., None]
            shocked = haircut_value(float(amt), c * (1.0 + g.shock[:, a]), bands)
            out = out + (shocked - haircut_value(float(amt), c, bands)) * g.damp
        return out

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
            grp, net = self.option_groups(book)
            q = np.where(book.is_option, book.qty, 0.0)
            shorts = np.bincount(grp, weights=np.where(q < 0, -q, 0.0))
            naked = np.maximum(-net, 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where((q < 0) & (shorts[grp] > 0), -q / shorts[grp], 0.0)
            out = out + pp.short_option_contingency * naked[grp] * share * s
        if pp.futures_contingency:
            long_n, short_n = self._delta_one_sides(book, s)
            onehot = np.zeros((n, self.n_assets))
            onehot[np.arange(n), book.und] = 1.0
            tot_long = long_n @ onehot
            tot_short = short_n @ onehot
            off = np.minimum(tot_long, tot_short)
            u = book.und
            # the smaller side carries the charge; a tie splits it between both sides
            w_long = np.where(tot_long < tot_short, 1.0, np.where(tot_long == tot_short, 0.5, 0.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                part = np.where(long_n > 0, w_long[..., u] * long_n / tot_long[..., u],
                                np.where(short_n > 0, (1.0 - w_long[..., u]) * short_n / tot_short[..., u],
                                         0.0))
            out = out + pp.futures_contingency * np.nan_to_num(off[..., u] * part)
        return out

    @staticmethod
    def _delta_one_sides(book: Book, spot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Long and short notional (base) of perpetuals and futures at per-position spot:
        |q| * S for linear ones, |q| USD for inverse ones (the method's N)."""
        notional = np.where(book.is_delta_one,
                            np.where(book.inverse, np.abs(book.qty), np.abs(book.qty) * spot), 0.0)
        return np.where(book.qty > 0, notional, 0.0), np.where(book.qty < 0, notional, 0.0)

    @staticmethod
    def option_groups(book: Book) -> tuple[np.ndarray, np.ndarray]:
        """Group index of each option by (underlying, expiry, strike) and each group's net qty
        (cached on the book: it depends on the positions only, not on prices)."""
        return book.option_groups

    def aggregate(self, loss: np.ndarray) -> np.ndarray:
        """Aggregate losses (..., assets): sum, or sqrt(L' C L) (ISDA SIMM style)."""
        if self.corr is None:
            return loss.sum(-1)
        quad = np.einsum("...a,ab,...b->...", loss, self.corr, loss)
        return np.sqrt(np.maximum(quad, 0.0))

    def portfolio_risk(self) -> PortfolioRisk:
        pp = self.profile.portfolio
        book = self.book
        pnl = self.scenario_pnl(book)  # (n_s, n)
        n_s = self.grid.n
        total = pnl @ self.onehot
        coll = np.zeros((n_s, self.n_assets))
        for a in np.flatnonzero(self.moving):
            coll[:, a] = self.collateral_scenario_pnl(a, self.book.prices[a])
        total = total + coll
        if n_s:
            worst = total.argmin(0)
            loss = np.maximum(0.0, -total[worst, np.arange(self.n_assets)])
        else:
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
                             grad=grad, cont=cont, mm=mm, im=pp.im_factor * mm)
