"""Normal distribution and Black-76 pricing, vectorised (numpy, scipy.special).

`norm_cdf` is erfc(-x / sqrt 2) / 2: scipy's `ndtr` (Cephes), or the C library's `math.erfc` on
small arrays while scipy.special is not loaded (see `ndtr`); `norm_pdf` is exp(-x^2/2)/sqrt(2 pi)
with x^2 split exactly (Cody's device) so that the density keeps its relative accuracy in the
tails. Both are
elementwise: an element's value does not depend on the mix of its array, and on its size or on
whether scipy.special is loaded only to a few ulp (the CDF's two paths).

`black76(F, K, T, vol, r, is_call)` and `spot_greeks(S, K, T, vol, r, is_call)` broadcast every
argument, the rate included (one rate per option, or a rate axis of its own). Long broadcasts are
evaluated by slabs of rows that fit in cache (the formula makes about fifteen passes over its
arrays; by slabs they stay in cache).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_ROUND16 = 2.0**48  # (y + 2**48) - 2**48 rounds 0 <= y < 2**47 to a multiple of 1/16
_PDF_ZERO = 40.0  # exp(-40**2/2) underflows to 0
_CHUNK = 32768  # long broadcasts are processed by slabs of about this many elements
_SIGNS = np.array([-1.0, 1.0])
_SIGNS.flags.writeable = False


_NDTR: Any = None  # scipy.special.ndtr once it is used
# until then, an array of up to _SMALL elements goes through the C library's erfc, and at most
# _BUDGET elements in all: about 85 ms that way, less than scipy.special's import (180-230 ms)
_SMALL = 65_536
_BUDGET = 1_000_000
_slow_elements = 0  # priced through the C library's erfc so far (a race only shifts the switch)
_ERFC_PIECE = 4096  # elements per C call of `c_erfc_ndtr` (about 0.35 ms)
_MINUS_SQRT1_2 = -math.sqrt(0.5)


def ndtr(x: ArrayLike, out: FloatArray | None = None) -> FloatArray:
    """Standard normal CDF, elementwise: N(x) = erfc(-x / sqrt 2) / 2.

    `scipy.special.ndtr` (Cephes, about 10 ns an element) once scipy.special is loaded. Until
    then an array takes the C library's erfc (`c_erfc_ndtr`, about 85 ns an element) unless it
    holds more than 65,536 elements or the arrays priced that way reach a million elements in
    all; then scipy.special is imported. Its import costs more than numpy's (scipy 1.17 clones
    the numpy namespace for its array API layer, 180-230 ms on the build machine, mostly holding
    the GIL), which a small book's command, or its window's figures and charts, need not pay: a
    million elements the slow way cost about 85 ms, so the switch comes before the slow path has
    cost as much as the import would have (a rent-or-buy rule). The two agree to a few ulp
    (`tests/test_ndtr_paths.py`; below N = 1e-20 Cephes loses up to about 1e-13 relative, which
    no price sees), so a figure may differ in its last digit or two between a process that has
    loaded scipy and one that has not."""
    global _NDTR, _slow_elements
    a = np.asarray(x, dtype=np.float64)
    if _NDTR is None:
        # loaded by other code (the What-if's scipy.optimize): its compiled ufunc is usable as
        # soon as the package has bound it, even while the rest of the package still imports
        loaded = getattr(sys.modules.get("scipy.special"), "ndtr", None)
        if loaded is None and a.size <= _SMALL and _slow_elements + a.size <= _BUDGET:
            _slow_elements += a.size
            return c_erfc_ndtr(a, out)
        if loaded is None:
            from scipy.special import ndtr as loaded
        _NDTR = loaded
    return _NDTR(a) if out is None else _NDTR(a, out=out)


def c_erfc_ndtr(a: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """N(a) = erfc(-a / sqrt 2) / 2 through `math.erfc` (within an ulp), element by element, in
    pieces of `_ERFC_PIECE`: one C call holds the GIL throughout (a 65,536-element array held
    another thread, the window's GUI thread, for 12 ms), so the GIL can pass between pieces."""
    z = (a * _MINUS_SQRT1_2).ravel()
    vals = np.empty(a.size)
    for i in range(0, a.size, _ERFC_PIECE):
        piece = z[i:i + _ERFC_PIECE].tolist()
        vals[i:i + len(piece)] = np.fromiter(map(math.erfc, piece), np.float64, len(piece))
    vals *= 0.5
    if out is None:
        return vals.reshape(a.shape)
    out[...] = vals.reshape(a.shape)
    return out


def norm_cdf(x: ArrayLike) -> FloatArray:
    """Standard normal CDF, elementwise (`ndtr`)."""
    return np.asarray(ndtr(np.asarray(x, dtype=np.float64)))


def _pdf(x: FloatArray) -> FloatArray:
    # exp(-y^2/2) = exp(-h^2/2) exp(-(y-h)(y+h)/2) with h = y rounded to 1/16: h*h is exact,
    # so the large part of the exponent carries no rounding error (relative accuracy in the tail)
    y = np.minimum(np.abs(x), _PDF_ZERO)  # NaN stays NaN; at 40 the result underflows to 0
    h = (y + _ROUND16) - _ROUND16
    out = np.exp(-0.5 * h * h)
    out *= np.exp(-0.5 * (y - h) * (y + h))
    out *= _INV_SQRT_2PI
    return out


def norm_pdf(x: ArrayLike) -> FloatArray:
    """Standard normal density, elementwise, exactly symmetric."""
    with np.errstate(all="ignore"):
        return _pdf(np.asarray(x, dtype=np.float64))


def _in_row_chunks(fn: Callable[..., tuple[FloatArray, ...]],
                   args: tuple[NDArray[Any], ...]) -> tuple[FloatArray, ...]:
    """fn over broadcasting arguments by cache-sized slabs of the leading axis of the broadcast
    shape (arguments without that axis are passed whole and broadcast)."""
    b = np.broadcast(*args)
    if b.size <= 2 * _CHUNK or b.ndim < 2:
        return fn(*args)
    shape = b.shape
    nd, rows = len(shape), shape[0]
    step = max(1, _CHUNK // (b.size // rows))
    outs: list[FloatArray] = []
    for s in range(0, rows, step):
        part = tuple(a[s:s + step] if a.ndim == nd and a.shape[0] == rows else a for a in args)
        res = fn(*part)
        if not outs:
            outs = [np.empty(shape) for _ in res]
        for o, v in zip(outs, res, strict=True):
            o[s:s + step] = v
    return tuple(outs)


def _args(F: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike,
          is_call: ArrayLike) -> tuple[NDArray[Any], ...]:
    return (np.asarray(F, dtype=np.float64), np.asarray(K, dtype=np.float64),
            np.asarray(T, dtype=np.float64), np.asarray(vol, dtype=np.float64),
            np.asarray(r, dtype=np.float64), np.asarray(is_call).astype(bool, copy=False))


class _Core(NamedTuple):
    """Black-76 pieces shared by `black76` and `spot_greeks`; s = +1 (call) or -1 (put)."""

    price: FloatArray  # of the broadcast shape
    dead: BoolArray | None  # where not live; None when every option is live
    sgn: FloatArray  # s
    sd: FloatArray  # vol * sqrt(T)
    sqrt_t: FloatArray
    sd1: FloatArray  # s d1
    n1: FloatArray  # N(s d1)
    n2: FloatArray  # N(s d2)
    disc: FloatArray  # exp(-r max(T, 0))


def _black76_core(F: FloatArray, K: FloatArray, T: FloatArray, vol: FloatArray, r: FloatArray,
                  call: BoolArray, r_t: FloatArray | None = None) -> _Core:
    """Discounted s (F N(s d1) - K N(s d2)) where live, max(0, s (F - K)) where not, times
    exp(-r max(T, 0)) (r_t: r max(T, 0) if the caller has it).

    Not live: F <= 0, K <= 0 or not vol*sqrt(T) > 0 (T <= 0, vol <= 0, or NaN T or vol): the
    forward is then certain relative to the strike and the price is the discounted intrinsic
    value, exactly. NaN F or K alone leaves the option live (NaN out).
    """
    sgn = _SIGNS.take(call.view(np.uint8), mode="clip")  # +1 call, -1 put
    sqrt_t = np.sqrt(np.maximum(T, 0.0))
    sd = vol * sqrt_t
    low = np.minimum(np.minimum(F, K), sd)
    dead = None if np.count_nonzero(low > 0.0) == low.size else \
        (np.fmin(F, K) <= 0.0) | ~(sd > 0.0)
    s_sd = sd * sgn
    sd1 = np.log(F / K) / s_sd + 0.5 * s_sd  # s d1 = s m / sd + s sd / 2
    n1 = ndtr(sd1)
    n2 = ndtr(sd1 - s_sd)  # s d2 = s d1 - s sd
    price = np.asarray(F * n1 - K * n2)
    price *= sgn
    if dead is not None:
        np.copyto(price, np.maximum((F - K) * sgn, 0.0), where=dead)
    if r_t is None:
        r_t = r * np.maximum(T, 0.0)
    disc = np.exp(-r_t)
    price = price * disc if np.ndim(disc) > price.ndim or np.shape(disc) != price.shape else \
        np.multiply(price, disc, out=price)
    return _Core(price, dead, sgn, sd, sqrt_t, sd1, n1, n2, disc)


def black76(F: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike,
            is_call: ArrayLike) -> FloatArray:
    """Discounted Black-76 price of a European option on forward F (all arguments broadcast,
    the rate `r` included). Where T <= 0, vol <= 0, F <= 0 or K <= 0 returns
    exp(-r*max(T,0)) * max(0, +/-(F-K))."""
    with np.errstate(all="ignore"):
        return _in_row_chunks(_black76_price, _args(F, K, T, vol, r, is_call))[0]


def _black76_price(*args: NDArray[Any]) -> tuple[FloatArray]:
    return (_black76_core(*args).price,)


class Greeks(NamedTuple):
    """Per unit, spot terms: vega per 1.00 of vol, theta per year (-dV/dT, spot fixed)."""

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


def spot_greeks(S: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike,
                is_call: ArrayLike) -> Greeks:
    """Price and analytic Greeks of a European option on spot S with F = S*exp(rT) (all
    arguments broadcast, the rate included).

    Where the option is not live (T <= 0, vol <= 0, S <= 0 or K <= 0) the Greeks are those
    of the discounted intrinsic value: delta 1/0 (calls) or -1/0 (puts), 0 exactly at the
    money; gamma and vega 0; theta 0 for T <= 0, and the intrinsic's carry
    (-r K e^{-rT} for an in-the-money call, +r K e^{-rT} for an in-the-money put) for T > 0.
    """
    with np.errstate(all="ignore"):
        return Greeks(*_in_row_chunks(_spot_greeks, _args(S, K, T, vol, r, is_call)))


def _spot_greeks(S: FloatArray, K: FloatArray, T: FloatArray, vol: FloatArray, r: FloatArray,
                 call: BoolArray) -> tuple[FloatArray, ...]:
    r_t = r * np.maximum(T, 0.0)
    F = S * np.exp(r_t)
    c = _black76_core(F, K, T, vol, r, call, r_t)
    s = c.sgn
    nd1 = _pdf(c.sd1)  # n(s d1) = n(d1)
    shape = c.price.shape
    delta = np.broadcast_to(s * c.n1, shape).copy()  # calls N(d1), puts -N(-d1)
    gamma = np.broadcast_to(nd1 / (S * c.sd), shape).copy()
    vega = np.broadcast_to(S * nd1, shape).copy()
    # theta: -S n(d1) vol / (2 sqrt(T)) - s r K e^{-rT} N(s d2)
    r_disc_k = r * K * c.disc
    theta = np.broadcast_to(-vega * vol / (2.0 * c.sqrt_t) - s * r_disc_k * c.n2, shape).copy()
    vega *= c.sqrt_t
    if c.dead is not None:
        # the intrinsic value's: delta s where s (F - K) > 0, else 0; gamma and vega 0;
        # theta -s r K e^{-rT} where moreover T > 0, else 0
        dead = c.dead
        itm = (F - K) * s > 0.0
        np.copyto(delta, np.where(itm, s, 0.0), where=dead)
        np.copyto(gamma, 0.0, where=dead)
        np.copyto(vega, 0.0, where=dead)
        np.copyto(theta, np.where(itm & (T > 0.0), -r_disc_k * s, 0.0), where=dead)
    return c.price, delta, gamma, vega, theta


# Names used in docs/DESIGN.md.
black76_price = black76
bs_spot_greeks = spot_greeks
