"""Values, P&L and Greeks of a book, in the base currency, vectorised over positions and scenarios.

Position value V (what enters equity; a scenario's P&L is V(shocked) - V(now)):
    spot                q * S
    linear perpetual    q * (M - entry)                  M = S * growth (mark_price; S without)
    linear future       q * (F - entry),                 F = S * growth
    inverse perpetual   q * (M/entry - 1)                (q in USD; coin P&L q*(1/entry - 1/M) at M)
    inverse future      q * (F/entry - 1)                (coin P&L q*(1/entry - 1/F) at the mark F)
    option              q * Black76(F, K, T, vol, r)     (inverse options hold the same base value)
    expired option      q * intrinsic(settlement_price)  (constant)

growth = exp(rate T) and r = the file's rate, unless the market gives a forward for the
position's expiry: then F is that forward (moving with S) and r its rate (`book.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.core.book import FUTURE, OPTION, PERPETUAL, SPOT, Book
from workstation.core.pricing import black76, spot_greeks


def _intrinsic(book: Book) -> np.ndarray:
    """Intrinsic value per unit of expired options at their settlement price (0 elsewhere)."""
    with np.errstate(invalid="ignore"):
        payoff = np.where(book.is_call, book.settle - book.strike, book.strike - book.settle)
    return np.where(book.expired, np.maximum(payoff, 0.0), 0.0)


def values(book: Book, spot: np.ndarray | None = None, vol: np.ndarray | None = None) -> np.ndarray:
    """Base-currency value of every position at per-position `spot` (shape (..., n)) and `vol`.

    `spot` defaults to the book's prices; `vol` to each option's own vol. Broadcasting lets a
    caller pass a (scenarios, n) matrix and get a (scenarios, n) matrix of values back. Each
    kind of instrument is valued on its own columns only.
    """
    s = book.spot if spot is None else np.asarray(spot, dtype=float)
    shape = np.broadcast_shapes(s.shape, book.qty.shape) if vol is None else \
        np.broadcast_shapes(s.shape, book.qty.shape, np.shape(vol))
    if s.shape != shape:
        s = np.broadcast_to(s, shape)
    q = book.qty
    g = book.groups
    out = np.empty(shape)
    if g.spot.size:
        out[..., g.spot] = q[g.spot] * s[..., g.spot]
    if g.linear.size:
        i = g.linear
        out[..., i] = q[i] * (s[..., i] * g.linear_growth - book.entry[i])
    if g.inverse.size:
        i = g.inverse  # q * (mark/entry - 1), mark = F for futures, S for perpetuals
        out[..., i] = q[i] * (s[..., i] * g.inverse_growth / book.entry[i] - 1.0)
    if g.expired.size:
        i = g.expired
        out[..., i] = q[i] * _intrinsic(book)[i]
    if g.option.size:
        i = g.option
        v_in = book.vol if vol is None else np.asarray(vol, dtype=float)
        vo = v_in[..., i] if v_in.ndim else v_in  # black76 broadcasts it: no full-size copy
        To = book.tte[i]
        price = black76(s[..., i] * g.option_growth, book.strike[i], To, vo, book.rates[i], book.is_call[i])
        price *= q[i]
        out[..., i] = price
    return out


@dataclass(frozen=True)
class Greeks:
    """Per-position Greeks in base currency: delta per 1 unit of spot, gamma per unit squared,
    vega per vol point (0.01), theta per calendar day (spot held)."""

    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    coin_delta: np.ndarray  # inverse options: q * (dC/dS_unit - price in coin); others: delta


def greeks(book: Book) -> Greeks:
    """Greeks in S. A perpetual or future moves with its mark or forward, S * growth; theta
    holds S, the forward keeping its carry b (growth = exp(b T); b = rate without an entry)."""
    n = len(book)
    q, T, s = book.qty, book.tte, book.spot
    b = book.carry
    delta = np.zeros(n)
    gamma = np.zeros(n)
    vega = np.zeros(n)
    theta = np.zeros(n)
    lin = ~book.inverse
    growth = book.growth
    delta = np.where(book.kind == SPOT, q, delta)
    delta = np.where((book.kind == PERPETUAL) & lin, q * growth, delta)
    delta = np.where((book.kind == FUTURE) & lin, q * growth, delta)
    theta = np.where((book.kind == FUTURE) & lin, -q * s * b * growth / 365.0, theta)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = ((book.kind == PERPETUAL) | (book.kind == FUTURE)) & book.inverse
        delta = np.where(inv, q * growth / book.entry, delta)  # V = q (S growth / entry - 1)
        theta = np.where((book.kind == FUTURE) & book.inverse, -q * s * b * growth / book.entry / 365.0, theta)
    coin_delta = delta.copy()
    opt = np.flatnonzero(book.is_option)
    if opt.size:
        r, so, To = book.rates[opt], s[opt], T[opt]
        # on a forward entry: Black-76 on F = S' e^{rT} with S' = F e^{-rT}, so dS'/dS = S'/S
        given = book.fwd_given[opt]
        scale = np.where(given, growth[opt] * np.exp(-r * To), 1.0)
        s_eff = so * scale
        g = spot_greeks(s_eff, book.strike[opt], To, book.vol[opt], r, book.is_call[opt])
        qo = q[opt]
        delta[opt] = qo * g.delta * scale
        gamma[opt] = qo * g.gamma * scale * scale
        vega[opt] = qo * g.vega * 0.01
        # -dV/dT at fixed S: S' = S e^{(b - r) T} moves with T unless b = r
        carry_term = np.where(given, g.delta * s_eff * (b[opt] - r), 0.0)
        theta[opt] = qo * (g.theta - carry_term) / 365.0
        coin = np.where(book.inverse[opt], qo * (g.delta * scale - g.price / so), qo * g.delta * scale)
        coin_delta[opt] = coin
    coin_delta = np.where(book.expired, 0.0, coin_delta)
    return Greeks(delta=delta, gamma=gamma, vega=vega, theta=theta, coin_delta=coin_delta)


@dataclass(frozen=True)
class Marks:
    """What the trader sees per position: mark in settlement currency, value and P&L in base."""

    mark_price: np.ndarray
    market_value: np.ndarray
    unrealized_pnl: np.ndarray


def marks(book: Book) -> Marks:
    s, q, T = book.spot, book.qty, book.tte
    value = values(book)
    mark = np.where((book.kind == FUTURE) | (book.kind == PERPETUAL), s * book.growth, s)
    opt = book.kind == OPTION
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_base = np.where(q != 0, value / q, 0.0)  # option value per unit in base
        opt_unit = np.where(book.expired, _intrinsic(book), unit_base)
        if (opt & ~book.expired & (q == 0)).any():  # a zero-quantity option still has a mark
            idx = np.flatnonzero(opt & ~book.expired & (q == 0))
            opt_unit = opt_unit.copy()
            opt_unit[idx] = black76(s[idx] * book.growth[idx], book.strike[idx], T[idx],
                                    book.vol[idx], book.rates[idx], book.is_call[idx])
        coin_ref = np.where(book.expired, book.settle, s)
        opt_mark = np.where(book.inverse, opt_unit / coin_ref, opt_unit)
    mark = np.where(opt, opt_mark, mark)
    # option P&L q*(mark - entry) in base: coin figures converted at spot
    opt_pnl = np.where(book.inverse, q * (opt_mark - book.entry) * s, q * (opt_mark - book.entry))
    pnl = np.where(book.kind == SPOT, q * (s - book.entry), value)
    pnl = np.where(opt, opt_pnl, pnl)
    return Marks(mark_price=mark, market_value=value, unrealized_pnl=pnl)
