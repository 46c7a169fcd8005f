"""Per-position requirements: the `cross` and `isolated` margin modes (method.md, venues.md).

Perpetuals and futures take the bracket of their underlying (`tiers`), found by notional
N = |q| S (inverse: N = |q| USD) or, in a table bounded by quantity, by size in coin
(linear |q|, inverse |q| / mark):

    MM = max(N * (mmr + mslope * size) - maintenance_amount, 0)     (amount x S in a quantity table)
    IM = N * (imr + islope * size)          or N / leverage when the position gives a leverage

(Binance brackets have no slopes; Deribit standard margin is one size-linear bracket.) The
leverage may not exceed the bracket's maximum 1 / (imr + islope * size) (checked on reading).

Short options take the standard option margin, per unit in base currency (S spot, m mark,
e entry, base = short_im_base, floor = short_im_floor, mm = short_mm):

    MM = max(mm*S, mm*m) + m + fee*S
    IM = max(max(base*S - OTM, floor*S) + prem, MM),   prem = m, or max(e, m) (Bybit)

Deribit: fee 0, prem = m (for a call max(mm*S, mm*m) = mm*S and the IM exceeds the MM, so this
is Deribit's call and put rule); Bybit: fee = the liquidation fee rate, prem = max(e, m).
Long options, spot holdings and expired options need nothing. `cross`: the account's
requirement is the sum, all collateral shared. `isolated`: each position stands on its own
`isolated_margin`; it is liquidated when isolated_margin + value <= MM, so liquidation is
position by position (the weakest position of a column decides).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np

from workstation.core.arrays import unique
from workstation.core.book import Book
from workstation.core.methods.base import Attribution, MarginMethod, Parts, Scope, _Subset
from workstation.core.methods.bounds_positions import per_position_curvature, per_position_kinks, smooth_rows
from workstation.core.model import Position
from workstation.core.profiles import Profile, by_quantity
from workstation.core.valuation import values

_TABLES: dict[tuple[int, tuple[str, ...], bytes], tuple[Profile, dict[str, np.ndarray]]] = {}


def tier_table(profile: Profile, assets: tuple[str, ...], used: np.ndarray) -> dict[str, np.ndarray]:
    """`_tier_table`, kept per (profile, assets, used): a what-if or a suggestion builds a margin
    method per trial size on the same profile and assets (profiles are frozen; the arrays are made
    read-only)."""
    key = (id(profile), assets, used.tobytes())
    hit = _TABLES.get(key)
    if hit is not None and hit[0] is profile:
        return hit[1]
    table = _tier_table(profile, assets, used)
    table["smooth"] = smooth_rows(table)  # the rows whose brackets make no kink (tier_kinks)
    for v in table.values():
        v.flags.writeable = False
    if len(_TABLES) >= 64:
        _TABLES.clear()
    _TABLES[key] = (profile, table)
    return table


def _tier_table(profile: Profile, assets: tuple[str, ...], used: np.ndarray) -> dict[str, np.ndarray]:
    """Padded (assets x tiers) arrays of bounds, rates, amounts and slopes; rows only filled for
    used assets; `qty` (assets,) marks tables bounded by size in coin."""
    tables = [profile.tier_for(assets[a]) if used[a] else () for a in range(len(assets))]
    width = max((len(t) for t in tables), default=0) or 1
    shape = (len(assets), width)
    out = {k: np.zeros(shape) for k in ("imr", "mmr", "amt", "islope", "mslope")}
    out["bound"] = np.full(shape, np.inf)
    out["qty"] = np.array([by_quantity(t) for t in tables], dtype=bool)
    for a, tiers in enumerate(tables):
        qty = out["qty"][a]
        for k, t in enumerate(tiers):
            out["bound"][a, k] = t.max_quantity if qty else t.max_notional
            out["imr"][a, k], out["mmr"][a, k], out["amt"][a, k] = \
                t.initial_rate, t.maintenance_rate, t.maintenance_amount
            out["islope"][a, k], out["mslope"][a, k] = t.initial_slope, t.maintenance_slope
        if tiers:  # notional beyond the last bound stays in the last tier
            last = len(tiers) - 1
            out["bound"][a, last] = np.inf
            for key in ("imr", "mmr", "amt", "islope", "mslope"):
                out[key][a, last + 1:] = out[key][a, last]
    return out


class _DeltaOne(NamedTuple):
    """Arrays of perpetuals and futures that do not depend on the price state (`delta_one`)."""

    u: np.ndarray  # column
    q: np.ndarray  # |quantity|
    inverse: np.ndarray
    growth: np.ndarray
    by_qty: np.ndarray  # the column's table is bounded by size in coin
    bound: np.ndarray  # (n, tiers) the column's bracket bounds
    no_lev: np.ndarray | None  # no leverage given (None: none in the book)
    lev: np.ndarray | None  # the leverage, 1 where none


class PositionRequirements:
    """Per-position IM and MM, vectorised over price states."""

    def __init__(self, book: Book, profile: Profile, table: dict[str, np.ndarray] | None = None):
        """`table`: the tier table of a book these rows are taken from (its used assets cover
        these rows'; a wider table picks the same brackets: the padding bounds are infinite)."""
        self.book = book
        self.profile = profile
        if table is None:
            used = np.zeros(len(book.assets), dtype=bool)
            used[book.und[book.is_delta_one]] = True
            table = tier_table(profile, book.assets, used)
        self.t = table
        self._rows: tuple[np.ndarray, _DeltaOne, np.ndarray, Book] | None = None

    def rows(self) -> tuple[np.ndarray, _DeltaOne, np.ndarray, Book]:
        """The perpetuals and futures with their arrays, the short options and their sub-book
        (prepared once: `at` is evaluated at many price states)."""
        if self._rows is None:
            b = self.book
            d1 = np.flatnonzero(b.is_delta_one)
            short = np.flatnonzero(b.is_option & (b.qty < 0))
            self._rows = (d1, self._delta_one_rows(d1), short, b.take(short))
        return self._rows

    def _delta_one_rows(self, d1: np.ndarray) -> _DeltaOne:
        b, t = self.book, self.t
        u = b.und[d1]
        no_lev = lev = None
        if b.leverage is not None:
            no_lev = np.isnan(b.leverage[d1])
            lev = np.where(no_lev, 1.0, b.leverage[d1])
        return _DeltaOne(u, np.abs(b.qty[d1]), b.inverse[d1], b.growth[d1], t["qty"][u], t["bound"][u], no_lev, lev)

    def delta_one(self, s: np.ndarray, d1: np.ndarray,
                  rows: _DeltaOne | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(IM, MM, bracket IM rate) of the perpetuals and futures `d1` at spot s (..., len(d1))
        (`rows`: their arrays, `_delta_one_rows(d1)`, when the caller has them)."""
        t = self.t
        r = self._delta_one_rows(d1) if rows is None else rows
        u, q, inverse, by_qty = r.u, r.q, r.inverse, r.by_qty
        mark = s * r.growth  # the perpetual's mark_price, the future's forward (S e^{rT} without)
        notional = np.where(inverse, q, q * s)
        with np.errstate(divide="ignore", invalid="ignore"):
            size = np.where(inverse, q / mark, q)
        key = np.where(by_qty, size, notional)
        k = (key[..., None] > r.bound).sum(-1)
        k = np.minimum(k, t["bound"].shape[1] - 1)
        rate_im = t["imr"][u, k] + t["islope"][u, k] * size
        rate_mm = t["mmr"][u, k] + t["mslope"][u, k] * size
        amount = t["amt"][u, k] * np.where(by_qty, s, 1.0)
        mm = np.maximum(notional * rate_mm - amount, 0.0)
        im = notional * rate_im
        if r.no_lev is not None:
            im = np.where(r.no_lev, im, notional / r.lev)
        return im, mm, rate_im

    def at(self, spot: np.ndarray | None = None,
           pos_values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(IM, MM) per position at per-position spot prices of shape (..., n) (`pos_values`:
        the positions' values there, when the caller has them)."""
        b = self.book
        s = b.spot if spot is None else np.asarray(spot, dtype=float)
        shape = np.broadcast_shapes(s.shape, b.qty.shape)
        if s.shape != shape:
            s = np.broadcast_to(s, shape)
        im = np.zeros(shape)
        mm = np.zeros(shape)
        d1, d1_rows, short, sub = self.rows()
        if d1.size:
            im[..., d1], mm[..., d1], _ = self.delta_one(s[..., d1], d1, d1_rows)
        if short.size:
            so = s[..., short]
            unit = (values(sub, so) if pos_values is None else pos_values[..., short]) / sub.qty  # per unit
            o = self.profile.options
            otm = np.where(sub.is_call, np.maximum(sub.strike - so, 0.0), np.maximum(so - sub.strike, 0.0))
            mm_u = np.maximum(o.short_mm * so, o.short_mm * unit) + unit + o.fee * so
            prem = unit
            if o.premium == "max_entry_mark":  # entry per unit in base (inverse: coin x S)
                prem = np.maximum(np.where(sub.inverse, sub.entry * so, sub.entry), unit)
            im_u = np.maximum(np.maximum(o.short_im_base * so - otm, o.short_im_floor * so) + prem, mm_u)
            size = np.abs(sub.qty)
            im[..., short] = size * im_u
            mm[..., short] = size * mm_u
        return im, mm


def max_leverage(profile: Profile, position: Position, price: float) -> float:
    """The largest leverage `position` may take: 1 / IM rate of its bracket at `price`."""
    book = Book.from_positions([("-", position)], _OnePortfolio(position, price))
    _, _, rate = PositionRequirements(book, profile).delta_one(np.array([price]), np.array([0]))
    return float(1.0 / rate[0])


def max_leverages(profile: Profile, positions: Sequence[Position], market: Mapping[str, float]) -> np.ndarray:
    """`max_leverage` of each of `positions` (perpetuals and futures) at its underlying's price
    in `market`, in one book: an account's 20,000 leveraged positions cost one evaluation, not
    20,000. Each position's rate depends on that position alone, and at rate 0 a future's
    growth is exp(0) = 1 whatever its time to expiry, so the figures are `max_leverage`'s."""
    if not positions:
        return np.zeros(0)
    from datetime import UTC, datetime

    from workstation.core.model import Quote

    book = Book.from_positions([("-", p) for p in positions], _Market(
        {p.underlying: Quote(market[p.underlying]) for p in positions},
        datetime(1970, 1, 1, tzinfo=UTC)))
    prices = np.array([market[p.underlying] for p in positions], dtype=float)
    _, _, rate = PositionRequirements(book, profile).delta_one(prices, np.arange(len(positions)))
    return 1.0 / rate


class _Market:
    """The minimum of a Portfolio that `Book.from_positions` reads: a market at rate 0."""

    def __init__(self, market: dict[str, Any], as_of: datetime) -> None:
        self.market = market
        self.rate = 0.0
        self.as_of = as_of


class _OnePortfolio(_Market):
    """The minimum of a Portfolio that `Book.from_positions` reads, for one position."""

    def __init__(self, position: Position, price: float):
        from datetime import UTC, datetime

        from workstation.core.model import Quote

        super().__init__({position.underlying: Quote(price)},
                         position.expiry or datetime(1970, 1, 1, tzinfo=UTC))


class CrossMethod(MarginMethod):
    """`cross`: per-position requirements added up, all collateral shared."""

    name = "cross"
    additive = True

    def __init__(self, scope: Scope):
        super().__init__(scope)
        self.reqs = PositionRequirements(self.book, self.profile)

    def _reqs(self, sub: _Subset) -> PositionRequirements:
        if "reqs" not in sub.cache:
            sub.cache["reqs"] = self.reqs if sub.book is self.book else \
                PositionRequirements(sub.book, self.profile, self.reqs.t)
        return sub.cache["reqs"]

    def terms(self, sub, centers, spot, pos_values, cols):
        im, mm = self._reqs(sub).at(spot, pos_values)
        return {"im": im @ sub.onehot, "mm": mm @ sub.onehot}

    def combine(self, terms):
        return terms["im"].sum(-1), terms["mm"].sum(-1)

    def kinks(self, columns: Sequence[int] | None = None) -> dict[int, np.ndarray]:
        return per_position_kinks(self, self.reqs.t, columns)

    def curvature(self, lo, hi, together, need=None):
        return per_position_curvature(self, lo, hi, together, need, "sum")

    def attribution(self) -> Attribution:
        im, _ = self.reqs.at()
        assets = self.book.assets
        return Attribution(standalone=im, marginal=im.copy(), component=im.copy(),
                           collateral={assets[a]: 0.0 for a in self.coll_idx})


class IsolatedMethod(CrossMethod):
    """`isolated`: as cross for the account's totals; each position liquidates on its own."""

    name = "isolated"

    def terms(self, sub, centers, spot, pos_values, cols):
        im, mm = self._reqs(sub).at(spot, pos_values)
        balance = np.nan_to_num(sub.book.isolated) + pos_values - mm
        K = spot.shape[0]
        weakest = np.full((K, self.n_assets), np.inf)
        for a in unique(sub.book.und):
            weakest[:, a] = balance[:, sub.book.und == a].min(-1)
        return {"im": im @ sub.onehot, "mm": mm @ sub.onehot, "weakest": weakest}

    def curvature(self, lo, hi, together, need=None):
        return per_position_curvature(self, lo, hi, together, need, "max")

    def f_single(self, P: Parts) -> np.ndarray:
        return P.terms["weakest"]

    def f_all(self, P: Parts) -> np.ndarray:
        return P.terms["weakest"].min(-1)
