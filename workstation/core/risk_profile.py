"""The risk profile: P&L, equity and maintenance margin of a scope against one underlying's price,
today or at a later date, with that underlying's vols shifted.

At a date `days` ahead every option and future is `days` older (time to expiry `T - days/365`,
its forward `S exp(b (T - days/365))` keeping its carry b);
one that expires by then has settled at the price on the chart's axis (its underlying's moved
price; other underlyings at today's price): it is worth its settlement value (an option its
intrinsic value) and needs no margin any more. The chosen underlying's options take `vol_shift`
vol points (0.05: vols + 5 points, at least 1 %). The other underlyings' prices stay.

P&L is measured from the scope's equity today, unmoved (`reference`): the "after" curve of a
what-if starts below zero by the fees it pays. Equity and P&L are drawn on a fine grid of moves;
maintenance margin (the method's scenarios at every moved state) on a coarser one. At a later
date the liquidation prices are where equity meets MM on that coarse grid (interpolated).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from workstation.core.arrays import unique
from workstation.core.book import FUTURE, OPTION, SECONDS_PER_YEAR, Book
from workstation.core.liquidation import Liquidation
from workstation.core.valuation import values
from workstation.core.whatif_session import Prepared

MIN_VOL = 0.01
WEEKLY_EXPIRY_WEEKDAY = 4  # Friday
EXPIRY_HOUR_UTC = 8


@dataclass(frozen=True)
class Horizon:
    """A date ahead of the book's as_of, and a vol shift for the chosen underlying."""

    days: float = 0.0
    vol_shift: float = 0.0  # vol points as a fraction: 0.05 = +5 points

    @property
    def today(self) -> bool:
        return self.days == 0 and self.vol_shift == 0


def next_weekly_expiry(as_of: datetime) -> datetime:
    """The next Friday 08:00 UTC strictly after `as_of` (the venues' weekly expiry)."""
    day = as_of.replace(hour=EXPIRY_HOUR_UTC, minute=0, second=0, microsecond=0)
    ahead = (WEEKLY_EXPIRY_WEEKDAY - day.weekday()) % 7
    day += timedelta(days=ahead)
    return day if day > as_of else day + timedelta(days=7)


def date_stops(as_of: datetime, books: list[Book]) -> list[tuple[float, str]]:
    """(days ahead, label) of the dates a date slider snaps to: today, the next weekly expiry and
    every expiry of the books' live options and futures."""
    stops = {0.0: "today"}
    weekly = next_weekly_expiry(as_of)
    stops[(weekly - as_of).total_seconds() / 86400.0] = f"{weekly:%a %d %b} (weekly expiry)"
    for book in books:
        live = (book.kind == FUTURE) | ((book.kind == OPTION) & ~book.expired)
        for key in unique(book.expiry_key[live & (book.tte > 0)]):
            when = datetime.fromtimestamp(int(key), tz=as_of.tzinfo)
            stops.setdefault((when - as_of).total_seconds() / 86400.0, f"{when:%d %b %y} expiry")
    return sorted(stops.items())


def age(book: Book, h: Horizon, column: int) -> tuple[Book, Book]:
    """(live, settled): the book `h.days` older with `column`'s option vols shifted; the options and
    futures that expire by then are the settled rows (time to expiry 0)."""
    if h.today:
        return book, book.take(np.zeros(0, dtype=np.int64))
    tte = np.maximum(book.tte - h.days * 86400.0 / SECONDS_PER_YEAR, 0.0)
    dated = (book.kind == FUTURE) | ((book.kind == OPTION) & ~book.expired)
    settles = dated & (tte <= 0.0)
    vol = book.vol
    if h.vol_shift:
        shifted = (book.kind == OPTION) & (book.und == column)
        vol = np.where(shifted, np.maximum(book.vol + h.vol_shift, MIN_VOL), book.vol)
    growth = np.where(dated, np.exp(book.carry * tte), book.growth)  # forwards keep their carry
    aged = replace(book, tte=tte, vol=vol, growth=growth)
    return aged.take(np.flatnonzero(~settles)), aged.take(np.flatnonzero(settles))


class AgedState:
    """A prepared scope at a horizon: its live positions' margin method, and the settled rows."""

    def __init__(self, today: Prepared, h: Horizon, column: int, base: AgedState | None = None):
        self.h = h
        self.column = column
        scope = today.scope
        if h.today:  # today's state is the prepared one itself
            self.prepared = today
            self.settled = scope.book.take(np.zeros(0, dtype=np.int64))
        elif base is not None and today._before is not None and today._drafts is not None:
            drafts, settled_d = age(today._drafts, h, column)
            live = _concat_rows(base.prepared.scope.book, drafts)
            self.settled = _concat_rows(base.settled, settled_d)
            touched = {int(u) for u in today._drafts.und} | set(today.memo.touched)
            self.prepared = Prepared(replace(scope, book=live), base.prepared, drafts, touched,
                                     with_liquidation=False)
        else:
            live, self.settled = age(scope.book, h, column)
            self.prepared = Prepared(replace(scope, book=live), with_liquidation=False)

    def settled_value(self, spot_column: np.ndarray) -> np.ndarray:
        """Value of the settled rows with `column` at the prices `spot_column` (K,)."""
        s = self.settled
        if len(s) == 0:
            return np.zeros_like(spot_column)
        spot = np.broadcast_to(s.spot, (spot_column.size, len(s))).copy()
        mine = s.und == self.column
        spot[:, mine] = spot_column[:, None]
        return values(s, spot).sum(-1)

    def equity(self, moves: np.ndarray) -> np.ndarray:
        """Equity with the column moved by `moves` (fine grid: values only, no scenarios)."""
        m = self.prepared.method
        book = m.book
        a = self.column
        mine = np.flatnonzero(book.und == a)
        s_col = book.prices[a] * (1.0 + moves)
        rest = float(m.position_values(book.take(np.flatnonzero(book.und != a))).sum()) if len(book) else 0.0
        pos = m.position_values(book.take(mine), np.broadcast_to(s_col[:, None], (moves.size, mine.size))).sum(-1) \
            if mine.size else np.zeros(moves.size)
        prices = np.broadcast_to(book.prices, (moves.size, book.prices.size)).copy()
        driven = np.flatnonzero(m.driver == a)
        prices[:, driven] *= (1.0 + moves)[:, None]
        coll = m.collateral_value(prices) + m.isolated_total()
        return pos + rest + coll + self.settled_value(s_col)

    def equity_mm(self, moves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(equity, maintenance margin) with the column moved by `moves` (the method's states)."""
        liq = Liquidation(self.prepared.memo)  # type: ignore[arg-type]
        eq, mm = liq.curve(self.column, moves)
        s_col = self.prepared.method.book.prices[self.column] * (1.0 + moves)
        return eq + self.settled_value(s_col), mm


def _concat_rows(a: Book, b: Book) -> Book:
    from workstation.core.incremental import concat_books

    return concat_books(a, b)


def crossings(prices: np.ndarray, f: np.ndarray, spot: float) -> tuple[float | None, float | None]:
    """The prices nearest to `spot` below and above where f (equity - MM) turns <= 0, linearly
    interpolated on the grid; None when it does not within the grid."""
    out: list[float | None] = []
    for side in (-1, 1):
        idx = np.flatnonzero(prices < spot)[::-1] if side < 0 else np.flatnonzero(prices >= spot)
        found = None
        prev = None
        for i in idx:
            if f[i] <= 0:
                if prev is None:
                    found = float(prices[i])
                else:
                    w = f[prev] / (f[prev] - f[i])
                    found = float(prices[prev] + w * (prices[i] - prices[prev]))
                break
            prev = i
        out.append(found)
    return out[0], out[1]


def profile(state: AgedState, fine: np.ndarray, coarse: np.ndarray, reference: float) -> dict[str, Any]:
    """Curves of one state: P&L and equity on `fine`, equity and MM on `coarse` moves."""
    s0 = float(state.prepared.method.book.prices[state.column])
    eq_fine = state.equity(fine)
    eq_c, mm = state.equity_mm(coarse)
    prices_c = s0 * (1.0 + coarse)
    down, up = crossings(prices_c, eq_c - mm, s0)
    return {"prices": s0 * (1.0 + fine), "pnl": eq_fine - reference, "equity": eq_fine,
            "mm_prices": prices_c, "maintenance_margin": mm, "mm_equity": eq_c,
            "liquidation_down": down, "liquidation_up": up}
