"""Shared primitives of the venues' portfolio methods (Deribit, OKX, Bybit, SPAN).

A venue margins **risk units**: the positions of one underlying (OKX, Bybit, SPAN) or of one
underlying and settlement currency (Deribit S:PM), measured in a numeraire (the base currency,
or the settlement coin). Every unit lies in one column (its underlying), so a unit's figures
depend on that column's price only and the base class's moved-state machinery applies.

`UnitMethod` holds the units and the per-unit arrays a venue module needs; the functions here
are the vectorised pieces they share: scenario P&L in base or in coin at K moved centres, coin
and base deltas, netted charges and their allocation, progressive scaling, hedged spreads
between expiries, and the venues.md "Scenario vectors" document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workstation.core.book import FUTURE, PERPETUAL, SPOT, Book
from workstation.core.collateral import haircut_value
from workstation.core.methods.base import Attribution, MarginMethod, Scope
from workstation.core.pricing import spot_greeks
from workstation.core.valuation import values

VOL_SIGN = {"up": 1.0, "same": 0.0, "none": 0.0, "down": -1.0}
GRID_VOLS = ("up", "same", "down")  # the vol labels of every grid move (Deribit, OKX, Bybit)


@dataclass
class Unit:
    """One risk unit: its positions (rows of the scope's book) and collateral."""

    key: str  # the report's key: "BTC", or "USDC:BTC" for a linear unit under a coin method
    col: int  # its column: the underlying's asset index
    rows: np.ndarray  # indices into the scope's book
    numeraire: str  # what its P&L is measured in
    coin: bool  # True: P&L in the underlying coin (Deribit S:PM)
    coll: list[int] = field(default_factory=list)  # indices into the method's collateral arrays
    book: Book | None = None  # the sub-book of `rows`


class UnitMethod(MarginMethod):
    """A portfolio method margining risk units and adding them up (IM = sum, MM = sum)."""

    def __init__(self, scope: Scope):
        self._tables: dict[str, dict[str, Any]] = {}  # each unit's scenario table, built once
        super().__init__(scope)
        self.units = self.make_units()
        self.unit_of = np.full(len(self.book), -1, dtype=np.int64)
        for k, u in enumerate(self.units):
            self.unit_of[u.rows] = k
            u.book = self.book.take(u.rows)
        self._snap: list[dict[str, Any]] | None = None

    def attribution(self) -> Attribution:
        """Standalone, marginal and component IM from each unit's detailed figures; the
        components of positions and collateral add up to IM (each venue splits its own)."""
        n = len(self.book)
        standalone, marginal, component = np.zeros(n), np.zeros(n), np.zeros(n)
        assets = self.book.assets
        coll = {assets[a]: 0.0 for a in self.coll_idx}
        for u, r in zip(self.units, self.snapshot_units(), strict=True):
            standalone[u.rows] = r["standalone"]
            marginal[u.rows] = r["marginal"]
            component[u.rows] = r["components"]
            for j, c in zip(u.coll, r["coll_components"], strict=True):
                coll[assets[self.coll_idx[j]]] += float(c)
        for asset, c in self.extra_components().items():
            coll[asset] = coll.get(asset, 0.0) + c
        standalone = capped_standalone(self.book, standalone, self.position_values(self.book))
        return Attribution(standalone=standalone, marginal=marginal, component=component,
                           collateral=coll)

    def extra_components(self) -> dict[str, float]:
        """IM components of `extra_terms` (by collateral asset)."""
        return {}

    def _table(self, u: Unit) -> dict[str, Any]:
        """The unit's scenario table (`build_table`), built once per unit."""
        t = self._tables.get(u.key)
        if t is None:
            t = self._tables[u.key] = self.build_table(u)
        return t

    # ---------------------------------------------------------------- liquidation bounds
    def kinks(self, columns: Sequence[int] | None = None) -> dict[int, np.ndarray]:
        from workstation.core.methods.unit_bounds import unit_bounds

        return unit_bounds(self).kinks()

    def curvature(self, lo, hi, together, need=None):
        from workstation.core.methods.unit_bounds import unit_bounds

        return unit_bounds(self).curvature(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), together,
                                           None if need is None else np.asarray(need, dtype=float))

    def f_slack(self) -> float:
        from workstation.core.methods.unit_bounds import unit_bounds

        return unit_bounds(self).slack()

    # ---------------------------------------------------------------- what a venue defines
    def build_table(self, u: Unit) -> dict[str, Any]:
        """The unit's scenarios and constants (moves, vol labels, vols, weights...)."""
        raise NotImplementedError

    def make_units(self) -> list[Unit]:
        """Default: one unit per underlying, in base currency, with the collateral held in it
        when the profile puts collateral in the scenarios."""
        units = []
        in_scen = self.profile.portfolio.collateral_in_scenarios
        for a in sorted(set(self.book.und.tolist()) | set(self.coll_col[~self.stable[self.coll_col]].tolist()
                                                          if self.coll_idx.size else [])):
            if self.stable[a]:
                continue
            coll = [j for j, c in enumerate(self.coll_col) if c == a] if in_scen else []
            units.append(Unit(self.book.assets[a], a, np.flatnonzero(self.book.und == a),
                              self.scope.base_currency, False, coll))
        return units

    def unit_result(self, u: Unit, center: np.ndarray, detail: bool) -> dict[str, Any]:
        """The unit's figures at the centre prices `center` (K,) of its column: at least
        "im" and "mm" (K,) in base; with `detail` (K = 1) also "entries", "pos" (S, n_u),
        "coll" (S,), "worst", "addons" and "components" for the report."""
        raise NotImplementedError

    def extra_terms(self, centers: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
        """Requirement pieces outside the units (e.g. borrowing margin), (K, A) each:
        "im" and "mm" added to the units'."""
        return {}

    # ---------------------------------------------------------------- the contract
    def terms(self, sub, centers, spot, pos_values, cols):
        K = centers.shape[0]
        im = np.zeros((K, self.n_assets))
        mm = np.zeros((K, self.n_assets))
        for u in self.units:
            if cols[u.col]:
                r = self.unit_result(u, centers[:, u.col], False)
                im[:, u.col] += r["im"]
                mm[:, u.col] += r["mm"]
        for k, v in self.extra_terms(centers, cols).items():
            (im if k == "im" else mm)[:] += v
        return {"im": im, "mm": mm}

    def combine(self, terms):
        return terms["im"].sum(-1), terms["mm"].sum(-1)

    def snapshot_units(self) -> list[dict[str, Any]]:
        """Each unit's detailed figures at the current prices (cached)."""
        if self._snap is None:
            self._snap = [self.unit_result(u, self.book.prices[[u.col]], True) for u in self.units]
        return self._snap

    def scenario_vectors(self, positions: bool = False) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for u, r in zip(self.units, self.snapshot_units(), strict=True):
            doc = {"numeraire": u.numeraire, "entries": r["entries"], "worst": r["worst"],
                   "addons": {k: _f(v) for k, v in r["addons"].items()}}
            if positions:
                keys = [f"{a}/{i}" for a, i in zip(u.book.account, u.book.ids, strict=True)]
                doc["by_position"] = {k: [_f(x) for x in r["pos"][:, j]] for j, k in enumerate(keys)}
            out[u.key] = doc
        return out

    # ---------------------------------------------------------------- collateral in units
    def unit_collateral_pnl(self, u: Unit, center: np.ndarray, shocked: np.ndarray) -> np.ndarray:
        """Scenario P&L (K, S) in base of the unit's collateral (haircut value), from the
        centre prices (K,) to the shocked prices (K, S) of its column."""
        out = np.zeros(shocked.shape)
        for j in u.coll:
            a = self.coll_idx[j]
            ratio = self.book.prices[a] / self.book.prices[u.col]  # an asset moving with the column
            amt, bands = float(self.coll_amt[j]), self.coll_bands[j]
            out += haircut_value(amt, shocked * ratio, bands) - haircut_value(amt, center[:, None] * ratio, bands)
        return out


def _f(x: float) -> float:
    x = float(x)
    return 0.0 if x == 0 else x


# -------------------------------------------------------------------------- valuation
def coin_values(book: Book, spot: np.ndarray, vol: np.ndarray | None = None) -> np.ndarray:
    """Value in the underlying coin of each position at per-position spot (..., n): inverse
    perpetuals and futures their coin P&L q (1/entry - 1/mark), the mark S x growth (the
    perpetual's mark_price, the future's forward: they move with S); options their base value
    / S; spot holdings their amount. (Linear perpetuals and futures have no coin value: nan.)"""
    s = np.asarray(spot, dtype=float)
    base = values(book, s, vol)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = base / s
        d1 = book.is_delta_one
        mark = s * book.growth
        inv = np.where(d1 & book.inverse, book.qty * (1.0 / book.entry - 1.0 / mark), np.nan)
    out = np.where(d1, inv, out)
    return np.where(book.kind == SPOT, np.broadcast_to(book.qty, out.shape), out)


def scenario_pnl(book: Book, center: np.ndarray, shocked: np.ndarray, vols: np.ndarray | None,
                 coin: bool) -> np.ndarray:
    """P&L (K, S, n) of each position from its column's centre price (K,) to the shocked
    prices (K, S), with option vols per scenario (S, n) (None: unchanged), in base or in coin."""
    value = coin_values if coin else values
    n = len(book)
    c = np.broadcast_to(center[:, None], (center.shape[0], n))
    s = np.broadcast_to(shocked[:, :, None], (*shocked.shape, n))
    if n == 0:
        return np.zeros(s.shape)
    v1 = value(book, s, None if vols is None else np.broadcast_to(vols, s.shape))
    return v1 - value(book, c)[:, None, :]


def shocked_vols(book: Book, signs: np.ndarray, up: float, down: float, power_short: float,
                 power_long: float, dte_floor: float, floor_up: float | None = None) -> np.ndarray:
    """Option vols per scenario (S, n): iv (1 +/- shock (30 / max(dte_floor, dte))^p), p by
    dte < 30; shocked-up vols floored at `floor_up`; `signs` (S,) +1 up, 0 same, -1 down."""
    dte = book.tte * 365.0
    p = np.where(dte < 30.0, power_short, power_long)
    scale = (30.0 / np.maximum(dte_floor, dte)) ** p
    vup = book.vol * (1.0 + up * scale)
    if floor_up is not None:
        vup = np.maximum(vup, floor_up)
    vdown = np.maximum(book.vol * (1.0 - down * scale), 0.0)
    d = np.asarray(signs, dtype=float)[:, None]
    return np.where(d > 0, vup, np.where(d < 0, vdown, book.vol))


def grid_scenarios(pp: Any, und: str, book: Book) -> dict[str, Any]:
    """The scenarios of the `[portfolio]` grid for underlying `und` (OKX MR1/MR6, Bybit): every
    grid move with vol up, same and down (weight 1), then the tail moves with vol up and their
    weights -> moves (S,), labels, weight (S,), tail (S,) bool, vols (S, n), expiry group and
    tte of `book` (`expiry_groups`)."""
    grid, tail = pp.grid_moves(und), pp.tail_for(und)
    n_grid = len(grid) * len(GRID_VOLS)
    labels = [v for _ in grid for v in GRID_VOLS] + ["up"] * len(tail)
    vols = shocked_vols(book, np.array([VOL_SIGN[v] for v in labels]), pp.vol_shock_up, pp.vol_shock_down,
                        pp.power_short, pp.power_long, pp.dte_floor, pp.vol_floor)
    group, tte = expiry_groups(book)
    return {"moves": np.array([m for m in grid for _ in GRID_VOLS] + [m for m, _ in tail]), "labels": labels,
            "weight": np.array([1.0] * n_grid + [w for _, w in tail]),
            "tail": np.arange(n_grid + len(tail)) >= n_grid, "vols": vols, "group": group, "tte": tte}


def coin_deltas(book: Book, center: np.ndarray) -> np.ndarray:
    """Delta in coin of each position at its column's centre prices (K,) -> (K, n): linear
    instruments q x growth (futures on their forward, perpetuals on their mark); inverse
    perpetuals and futures their size in coin q / mark; options d V / d S in base (Black-76 on
    the forward S x growth, discounted at the position's rate), less (inverse options) their
    price in coin; spot 0 (the coin itself: no delta in a coin numeraire, and a holding in a
    base one is collateral)."""
    K, n = center.shape[0], len(book)
    c = np.broadcast_to(center[:, None], (K, n))
    growth = book.growth
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(book.inverse, book.qty / (c * growth), book.qty * growth)
    d = np.where((book.kind == PERPETUAL) | (book.kind == FUTURE), d, 0.0)
    opt = np.flatnonzero(book.is_option)
    if opt.size:
        g, scale = _option_greeks(book, c, opt)
        q = book.qty[opt]
        d[:, opt] = np.where(book.inverse[opt], q * (g.delta * scale - g.price / c[:, opt]), q * g.delta * scale)
    return d


def _option_greeks(book: Book, c: np.ndarray, opt: np.ndarray):
    """Greeks of the options `opt` at spots c (K, n) priced on their own forward F = S growth and
    rate r: spot_greeks at S' = F e^{-rT}, and dS'/dS (the `scale` a spot delta takes)."""
    r, T = book.rates[opt], book.tte[opt]
    scale = book.growth[opt] * np.exp(-r * T)
    g = spot_greeks(c[:, opt] * scale, book.strike[opt], T, book.vol[opt], r, book.is_call[opt])
    return g, scale


def vegas(book: Book, center: np.ndarray) -> np.ndarray:
    """Vega per vol point (0.01) in base of each position at the centre prices (K,) -> (K, n)."""
    K, n = center.shape[0], len(book)
    out = np.zeros((K, n))
    opt = np.flatnonzero(book.is_option)
    if opt.size:
        c = np.broadcast_to(center[:, None], (K, n))
        g, _ = _option_greeks(book, c, opt)
        out[:, opt] = book.qty[opt] * g.vega * 0.01
    return out


# -------------------------------------------------------------------------- charges
def netted(d: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of d (..., n) per group -> (..., G)."""
    onehot = np.zeros((d.shape[-1], n_groups))
    onehot[np.arange(d.shape[-1]), group] = 1.0
    return d @ onehot


def expiry_groups(book: Book, perp_group: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Group of each position by expiry (perpetuals, and spot, in group 0 when `perp_group`)
    and each group's time to expiry in years -> (group (n,), tte (G,))."""
    key = np.where((book.kind == FUTURE) | book.is_option, book.expiry_key, 0)
    keys, group = np.unique(key, return_inverse=True)
    if perp_group and (keys.size == 0 or keys[0] != 0):
        keys = np.concatenate([[0], keys])
        group = group + 1
    tte = np.zeros(keys.size)
    for g in range(keys.size):
        rows = np.flatnonzero(group == g)
        if rows.size and keys[g] != 0:
            tte[g] = float(book.tte[rows].max())
    return group.ravel(), tte


def allocate(charge: np.ndarray, d: np.ndarray, group: np.ndarray, nets: np.ndarray) -> np.ndarray:
    """Each position's share of its group's charge `charge` (G,) charged on |net| (G,):
    charge x d_i / net (hedging legs get negative shares; the shares add up to the charge).
    Computed as (charge / net) x d_i: the charge grows with |net|, so its ratio to the net stays
    finite when the net is a rounding residue, where d_i / net alone overflows (a position of
    2e-311 and its opposite: a net of 2e-311 against legs of 1)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        per_net = np.where(nets != 0, charge / nets, 0.0)
    return per_net[group] * d


def progressive(amount: np.ndarray, steps: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Scale `amount` band by band: the part of it in (upper_{k-1}, upper_k] times value_k
    (OKX MR7: 30,000 at x1 to 10,000 and x2 above -> 10,000 + 2 x 20,000 = 50,000)."""
    a = np.asarray(amount, dtype=float)
    out = np.zeros(a.shape)
    lower = 0.0
    for k, (upper, mult) in enumerate(steps):
        width = np.inf if k == len(steps) - 1 else upper - lower
        out += np.clip(a - lower, 0.0, width) * mult
        lower = upper
    return out


def hedged_spread(times: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """sum over matched pairs of |t_long - t_short| x hedged amount, for amounts (K, E) per
    expiry at times (E,): long and short amounts are matched in time order (each long with the
    earliest short still open, and so on) -> (K,).

    Vectorised: matching in time order pairs the long and the short at the same cumulative
    volume v, so the sum is the integral over v < min(total long, total short) of
    |t_long(v) - t_short(v)|, piecewise constant between the cumulative sums."""
    amounts = np.asarray(amounts, dtype=float)
    out = np.zeros(amounts.shape[0])
    both = (amounts > 0).any(1) & (amounts < 0).any(1)  # only rows with longs and shorts hedge
    if not both.any():
        return out
    order = np.argsort(np.asarray(times, dtype=float), kind="stable")
    t = np.asarray(times, dtype=float)[order]
    x = amounts[both][:, order]
    cum_l = np.cumsum(np.maximum(x, 0.0), axis=1)
    cum_s = np.cumsum(np.maximum(-x, 0.0), axis=1)
    hedged = np.minimum(cum_l[:, -1], cum_s[:, -1])[:, None]
    ends = np.sort(np.concatenate([cum_l, cum_s], axis=1), axis=1)
    starts = np.concatenate([np.zeros((x.shape[0], 1)), ends[:, :-1]], axis=1)
    ends = np.minimum(ends, hedged)
    width = np.maximum(ends - starts, 0.0)
    mid = 0.5 * (starts + np.maximum(ends, starts))
    last = t.size - 1
    # per row, how many cumulative sums lie at or below each midpoint: one searchsorted over the
    # rows laid end to end (each row shifted past the previous one's largest value)
    B, E = x.shape
    shift = (np.arange(B) * (max(cum_l[:, -1].max(), cum_s[:, -1].max()) + 1.0))[:, None]
    base = (np.arange(B) * E)[:, None]
    q = (mid + shift).ravel()
    i_l = np.searchsorted((cum_l + shift).ravel(), q, side="right").reshape(mid.shape) - base
    i_s = np.searchsorted((cum_s + shift).ravel(), q, side="right").reshape(mid.shape) - base
    i_l, i_s = np.minimum(i_l, last), np.minimum(i_s, last)
    out[both] = (width * np.abs(t[i_l] - t[i_s])).sum(-1)
    return out


# -------------------------------------------------------------------------- report
def entries_doc(moves: np.ndarray, vols: list[str], weights: np.ndarray, pnl: np.ndarray) -> list[dict]:
    """venues.md "Scenario vectors": one entry per scenario (pnl weighted, in the numeraire)."""
    return [{"move": _f(m), "vol": v, "weight": _f(w), "pnl": _f(p)}
            for m, v, w, p in zip(moves.tolist(), vols, weights.tolist(), pnl.tolist(), strict=True)]


def worst_index(total: np.ndarray, vols: list[str], prefer_same: bool = False) -> int:
    """Index of the worst (most negative) entry; among equal entries the first, or with
    `prefer_same` the vol-`same` one (the entry Deribit reports when the three vol scenarios of
    a move tie; OKX reports the first, vol up)."""
    low = total.min()
    tied = np.flatnonzero(total == low)
    if prefer_same:
        for i in tied:
            if vols[i] == "same":
                return int(i)
    return int(tied[0])


def capped_standalone(book: Book, standalone: np.ndarray, value: np.ndarray) -> np.ndarray:
    """A long option or spot holding can lose no more than its value."""
    bounded = (book.qty > 0) & (book.is_option | (book.kind == SPOT))
    return np.where(bounded, np.minimum(standalone, np.maximum(value, 0.0)), standalone)
