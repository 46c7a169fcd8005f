"""Normal distribution and Black-76 pricing, vectorised with numpy (no scipy).

`norm_cdf` follows W. J. Cody, "Rational Chebyshev approximations for the error
function", Math. Comp. 23 (1969) 631-637, with the coefficients and interval split
(|x| <= 0.46875, <= 4, > 4) of Cody's CALERF routine (netlib specfun, 1990).

Speed (the margin engine prices arrays of 1e3..1e7 options, and small ones many times):
- each interval's approximation runs on its own elements only (an index split, skipped
  when one interval holds them all), with in-place Horner steps;
- long arrays go by cache-sized pieces, which more than halves the time per element;
- on small arrays the cost is per numpy call, not per element, so: the polynomials of a
  mixed array in one Horner pass over a tiled array, d1 and d2 in one array, 0-d array
  constants (cheaper per call than Python floats), no copies for broadcasting.
Each element goes through the same arithmetic whichever route it takes: results do not
depend on the size or the mix of the array (a scalar call equals the matching element of a
batch, bit for bit). Cody's exact-square device for exp(-y^2) is kept for the density and
for erfc beyond 4 (relative accuracy in the far tail); for 0.46875 < y <= 4 rounding y*y
costs at most 16 ulp of relative error and it is left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT_PI = 0.56418958354775628695  # 1/sqrt(pi)
_ERF_SMALL = 0.46875  # Cody's THRESH: erf by A/B below it, erfc by C/D or P/Q above
_ERFC_MID = 4.0
_ERFC_BIG = 26.543  # Cody's XBIG for IEEE double: erfc underflows to 0 beyond it
_PDF_ZERO = 40.0  # exp(-40**2/2) underflows to 0
# (y + 2**48) - 2**48 rounds 0 <= y < 2**47 to a multiple of 1/16 (Cody's device takes
# trunc(16 y)/16; nearest does as well, in two operations); for y < 64 its square is exact.
_ROUND16 = 2.0**48
_DENSE_MAX = 512  # mixed arrays up to this size: one Horner pass for all intervals
_CHUNK = 32768  # long arrays are processed by pieces of this many elements

# Coefficients from Cody (1969) as tabulated in CALERF, written highest power first.
# erf(x) = x * A(x^2) / B(x^2) for |x| <= 0.46875
_A = (
    1.85777706184603153e-1,
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
)
_B = (
    1.0,
    2.36012909523441209e01,
    2.44024637934444173e02,
    1.28261652607737228e03,
    2.84423683343917062e03,
)
# erfc(y) = exp(-y^2) * C(y) / D(y) for 0.46875 < y <= 4
_C = (
    2.15311535474403846e-8,
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
)
_D = (
    1.0,
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
# erfc(y) = exp(-y^2) / y * (1/sqrt(pi) - w P(w) / Q(w)), w = 1/y^2, for y > 4
_P = (
    1.63153871373020978e-2,
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
)
_Q = (
    1.0,
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)


def _k(value: float) -> FloatArray:
    """A 0-d float64 constant (as an operand, cheaper per ufunc call than a Python float)."""
    a = np.array(value, dtype=np.float64)
    a.flags.writeable = False
    return a


# The numerators carry the factor 1/2 of N(x) = (1 + erf)/2 = 1 - erfc/2: scaling by a power
# of two commutes exactly with every operation, so nothing is rounded differently.
_HA = tuple(_k(0.5 * v) for v in _A)
_HC = tuple(_k(0.5 * v) for v in _C)
_HP = tuple(_k(0.5 * v) for v in _P)
_KB, _KD, _KQ = (tuple(_k(v) for v in p[1:]) for p in (_B, _D, _Q))  # monic: leading 1 implied
_HALF, _ONE, _ZERO = _k(0.5), _k(1.0), _k(0.0)
_SIGNS = np.array([-1.0, 1.0])
_SIGNS.flags.writeable = False
_NEG_HALF, _NEG_ONE, _NEG_TWO = _k(-0.5), _k(-1.0), _k(-2.0)
_K_SQRT2, _HALF_INV_SQRT_PI, _K_INV_SQRT_2PI = _k(_SQRT2), _k(0.5 * _INV_SQRT_PI), _k(_INV_SQRT_2PI)
_K_SMALL, _K_MID, _K_BIG, _K_PDF_ZERO = _k(_ERF_SMALL), _k(_ERFC_MID), _k(_ERFC_BIG), _k(_PDF_ZERO)
_K_ROUND16 = _k(_ROUND16)


def _half_pm(ndim: int) -> FloatArray:
    """[1/2, -1/2] shaped (2, 1, ..., 1) with ndim trailing dimensions."""
    a = np.array([0.5, -0.5]).reshape((2,) + (1,) * ndim)
    a.flags.writeable = False
    return a


_HALF_PLUS_MINUS = tuple(_half_pm(nd) for nd in range(8))


def _poly(coeffs: tuple[FloatArray, ...], t: FloatArray) -> FloatArray:
    """Horner, coefficients highest power first: c0*t + c1, then acc*t + c, ... in place."""
    acc = np.multiply(t, coeffs[0])
    acc += coeffs[1]
    for c in coeffs[2:]:
        acc *= t
        acc += c
    return acc


def _monic(coeffs: tuple[FloatArray, ...], t: FloatArray) -> FloatArray:
    """Horner with a leading 1 (not in coeffs): t + c1, then acc*t + c, ... in place."""
    acc = np.add(t, coeffs[0])
    for c in coeffs[1:]:
        acc *= t
        acc += c
    return acc


def _exp_neg_sq(y: FloatArray, neg_scale: FloatArray) -> FloatArray:
    """exp(-scale*y*y) for 0 <= y < 64 (beyond: any value) without the rounding error of y*y:
    with h = y rounded to a multiple of 1/16 (Cody's device), h*h and y - h are exact and
    y*y = h*h + (y - h)*(y + h)."""
    h = np.add(y, _K_ROUND16)
    h -= _K_ROUND16
    d = np.add(y, h)
    lo = np.subtract(y, h)
    lo *= d
    lo *= neg_scale
    np.exp(lo, out=lo)
    np.multiply(h, h, out=d)
    d *= neg_scale
    np.exp(d, out=d)
    d *= lo
    return d


# The three intervals: polynomials (numerator, denominator and the variable t they take), and
# how the ratio R = num/den becomes the result. Both routes below, the index split (large
# arrays) and the dense pass (small arrays), use exactly these operations per element.
#   small, |z| <= 0.46875: t = z^2,  R = (A/2)(t) / B(t),   N = R z + 1/2
#   mid, 0.46875 < y <= 4: t = y,    R = (C/2)(t) / D(t),   erfc(y)/2 = R exp(-y*y)
#   large, y > 4:          t = 1/y^2, R = t (P/2)(t) / Q(t), erfc(y)/2 = (1/(2 sqrt(pi)) - R)/y
#                                                                         * exp(-y^2) (exact)
# and N = 1 - erfc(y)/2 for z > 0, erfc(y)/2 for z < 0.
_SMALL, _MID, _LARGE = 0, 1, 2


def _ratio_small(zz: FloatArray) -> FloatArray:
    out = _poly(_HA, zz)
    out /= _monic(_KB, zz)
    return out


def _ratio_mid(y: FloatArray) -> FloatArray:
    out = _poly(_HC, y)
    out /= _monic(_KD, y)
    return out


def _ratio_large(w: FloatArray) -> FloatArray:
    out = _poly(_HP, w)
    out *= w
    out /= _monic(_KQ, w)
    return out


def _finish_small(ratio: FloatArray, z: FloatArray) -> FloatArray:
    """N(sqrt(2) z) = 1/2 + erf(z)/2 from the small interval's ratio (in place)."""
    ratio *= z
    ratio += _HALF
    return ratio


def _finish_mid(ratio: FloatArray, yy: FloatArray) -> FloatArray:
    """erfc(y)/2 from the mid interval's ratio and yy = y*y (both overwritten). Rounding y*y
    costs at most 16 ulp of relative error here (erfc(4) ~ 3e-8): no exact-square device."""
    np.negative(yy, out=yy)
    np.exp(yy, out=yy)
    ratio *= yy
    return ratio


def _finish_large(ratio: FloatArray, y: FloatArray) -> FloatArray:
    """erfc(y)/2 from the large interval's ratio (in place), with the exact square for
    relative accuracy in the far tail; 0 from Cody's XBIG on (NaN in, NaN out)."""
    np.subtract(_HALF_INV_SQRT_PI, ratio, out=ratio)
    ratio /= y
    ratio *= _exp_neg_sq(y, _NEG_ONE)
    big = np.greater_equal(y, _K_BIG)
    if np.count_nonzero(big):
        np.copyto(ratio, _ZERO, where=big)
    return ratio


def _signed(half: FloatArray, z: FloatArray) -> FloatArray:
    """N(sqrt(2) z) from half = erfc(|z|)/2 (in place)."""
    np.subtract(_ONE, half, out=half, where=np.greater(z, _ZERO))
    return half


def _cdf_one(kind: int, z: FloatArray, y: FloatArray) -> FloatArray:
    """N(sqrt(2) z) for elements all of one interval (y = |z|)."""
    if kind == _SMALL:
        zz = np.multiply(z, z)
        return _finish_small(_ratio_small(zz), z)
    if kind == _MID:
        return _signed(_finish_mid(_ratio_mid(y), np.multiply(y, y)), z)
    w = np.multiply(y, y)
    np.divide(_ONE, w, out=w)
    return _signed(_finish_large(_ratio_large(w), y), z)


@lru_cache(maxsize=32)
def _dense_coeffs(n: int, kinds: tuple[bool, bool, bool]) -> tuple[FloatArray, ...]:
    """Horner coefficients of the numerators then the denominators of the intervals present
    (kinds: small, mid, large), each repeated n times: row k holds the k-th coefficients,
    degree 8 throughout by leading zeros (0*t + 0 = 0, then 0*t + c0 = c0: nothing is rounded
    differently); the large numerator t (P/2)(t) is (P/2)(t)*t + 0."""
    nums = (
        (0.0,) * 4 + tuple(0.5 * v for v in _A),
        tuple(0.5 * v for v in _C),
        (0.0,) * 2 + tuple(0.5 * v for v in _P) + (0.0,),
    )
    dens = ((0.0,) * 4 + _B, _D, (0.0,) * 3 + _Q)
    table = np.array([p for p, k in zip(nums + dens, kinds * 2, strict=True) if k])
    rows = np.repeat(table.T, n, axis=1)
    rows.flags.writeable = False
    return tuple(rows)


def _cdf_dense(
    z: FloatArray, y: FloatArray, small: BoolArray, le4: BoolArray, kinds: tuple[bool, bool, bool]
) -> FloatArray:
    """N(sqrt(2) z) for a small array that mixes intervals: the polynomials of every interval
    present over the whole array in one tiled Horner pass (few numpy calls; the per-element
    work is cheap at this size), then each element takes its own interval's result."""
    has_small, has_mid, has_large = kinds
    n = z.size
    yy = np.multiply(y, y)
    w = np.divide(_ONE, yy) if has_large else yy
    if not has_small:
        t = np.concatenate((y, w, y, w))
    elif not has_mid:
        t = np.concatenate((yy, w, yy, w))
    elif not has_large:
        t = np.concatenate((yy, y, yy, y))
    else:
        t = np.concatenate((yy, y, w, yy, y, w))
    coeffs = _dense_coeffs(n, kinds)
    acc = np.multiply(t, coeffs[0])
    acc += coeffs[1]
    for c in coeffs[2:]:
        acc *= t
        acc += c
    m = t.size // 2
    ratio = np.divide(acc[:m], acc[m:])  # the intervals' ratios one after the other
    if has_mid:
        j = n if has_small else 0
        half = _finish_mid(ratio[j : j + n], yy)  # yy is spent: copied into t, and into w
        if has_large:
            half = np.where(le4, half, _finish_large(ratio[j + n :], y))
    else:
        half = _finish_large(ratio[n:], y)
    half = _signed(half, z)
    if has_small:
        return np.where(small, _finish_small(ratio[:n], z), half)
    return half


def _cdf_flat(x: FloatArray) -> FloatArray:
    """Standard normal CDF of a 1-d float64 array (a new array)."""
    z = np.divide(x, _K_SQRT2)
    y = np.abs(z)
    n = z.size
    small = np.less_equal(y, _K_SMALL)
    le4 = np.less_equal(y, _K_MID)
    n_small = np.count_nonzero(small)
    n_le4 = np.count_nonzero(le4)  # NaN: neither small nor <= 4, so large (and NaN out)
    if n_small == n:
        return _cdf_one(_SMALL, z, y)
    kinds = (n_small > 0, n_le4 > n_small, n_le4 < n)
    if not kinds[0] and not (kinds[1] and kinds[2]):
        return _cdf_one(_MID if kinds[1] else _LARGE, z, y)
    if n <= _DENSE_MAX:
        return _cdf_dense(z, y, small, le4, kinds)
    out = np.empty_like(z)
    for kind, mask in enumerate((small, np.greater(le4, small), np.logical_not(le4))):
        if kinds[kind]:
            i = mask.nonzero()[0]
            out[i] = _cdf_one(kind, z[i], y[i])
    return out


def _in_chunks(fn: Callable[[FloatArray], FloatArray], x: FloatArray) -> FloatArray:
    """fn over a long 1-d array by cache-sized pieces: its many temporaries then stay in cache
    (more than twice as fast on 1e6 elements as one pass over the whole array)."""
    n = x.size
    if n <= 2 * _CHUNK:
        return fn(x)
    out = np.empty_like(x)
    for s in range(0, n, _CHUNK):
        out[s : s + _CHUNK] = fn(x[s : s + _CHUNK])
    return out


def _in_row_chunks(
    fn: Callable[..., tuple[FloatArray, ...]], args: tuple[NDArray[Any], ...]
) -> tuple[FloatArray, ...]:
    """fn over broadcasting arguments by cache-sized slabs of the leading axis of the
    broadcast shape (arguments without that axis are passed whole and broadcast)."""
    b = np.broadcast(*args)
    if b.size <= 2 * _CHUNK:
        return fn(*args)
    shape = b.shape
    nd, rows, row_size = len(shape), shape[0], b.size // shape[0]
    step = max(1, _CHUNK // row_size)
    outs: list[FloatArray] = []
    for s in range(0, rows, step):
        if row_size > 2 * _CHUNK:  # one row at a time, itself by pieces
            part = tuple(a[s if a.shape[0] == rows else 0] if a.ndim == nd else a for a in args)
            res = tuple(v[np.newaxis] for v in _in_row_chunks(fn, part))
        else:
            part = tuple(a[s : s + step] if a.ndim == nd and a.shape[0] == rows else a for a in args)
            res = fn(*part)
        if not outs:
            outs = [np.empty(shape) for _ in res]
        for o, v in zip(outs, res, strict=True):
            o[s : s + step] = v
    return tuple(outs)


def norm_cdf(x: ArrayLike) -> FloatArray:
    """Standard normal CDF, elementwise; absolute error ~1e-16, relative ~1e-14 in the tails."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return _in_chunks(_cdf_flat, x.reshape(-1)).reshape(x.shape)


def _pdf_flat(x: FloatArray) -> FloatArray:
    y = np.abs(x)
    np.minimum(y, _K_PDF_ZERO, out=y)  # NaN stays NaN; at 40 the result underflows to 0
    out = _exp_neg_sq(y, _NEG_HALF)
    out *= _K_INV_SQRT_2PI
    return out


def norm_pdf(x: ArrayLike) -> FloatArray:
    """Standard normal density, elementwise (exact split of x^2 for tail accuracy)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return _in_chunks(_pdf_flat, x.reshape(-1)).reshape(x.shape)


def _args(
    F: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike, is_call: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, BoolArray]:
    return (
        np.asarray(F, dtype=np.float64),
        np.asarray(K, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
        np.asarray(vol, dtype=np.float64),
        np.asarray(r, dtype=np.float64),
        np.asarray(is_call).astype(bool, copy=False),
    )


class _Core(NamedTuple):
    """Black-76 pieces shared by `black76` and `spot_greeks`; s = +1 (call) or -1 (put)."""

    price: FloatArray  # of the broadcast shape
    dead: BoolArray | None  # where not live; None when every option is live
    sgn: FloatArray  # s
    sd: FloatArray  # vol * sqrt(T)
    sqrt_t: FloatArray
    d: FloatArray  # [s d1, s d2], shape (2, *broadcast shape)
    n: Sequence[FloatArray]  # N(s d1), N(s d2)
    disc: FloatArray  # exp(-r max(T, 0))


def _black76_core(
    F: FloatArray,
    K: FloatArray,
    T: FloatArray,
    vol: FloatArray,
    r: FloatArray,
    call: BoolArray,
    r_t: FloatArray | None = None,
) -> _Core:
    """Discounted Black-76 price s (F N(s d1) - K N(s d2)) where live, max(0, s (F - K))
    where not, times exp(-r max(T, 0)) (r_t: r max(T, 0) if the caller has it).

    Not live: T <= 0, vol <= 0, F <= 0, K <= 0 or vol*sqrt(T) == 0 (then the forward is
    certain relative to the strike and the price is the discounted intrinsic value, exactly).
    NaN arguments propagate through d1/d2 or through the intrinsic value. Intermediate arrays
    may have fewer dimensions than the result (broadcasting), hence few in-place operations.
    """
    sgn = _SIGNS.take(call.view(np.uint8), mode="clip")  # +1 call, -1 put
    sqrt_t = np.sqrt(T)
    sd = np.multiply(vol, sqrt_t)
    # Dead: F <= 0, K <= 0 or not vol*sqrt(T) > 0 (T <= 0: sqrt is NaN or 0; vol <= 0; T or
    # vol NaN). NaN F or K alone leaves the option live (NaN out). One reduction tells the
    # common case, every option live.
    low = np.minimum(np.minimum(F, K), sd)
    if np.count_nonzero(np.greater(low, _ZERO)) == low.size:
        dead = None
    else:
        dead = np.logical_or(
            np.less_equal(np.fmin(F, K), _ZERO), np.logical_not(np.greater(sd, _ZERO))
        )
    # s d1 = s m/sd + s sd/2, s d2 = s m/sd - s sd/2, m = log(F/K), into one (2, ...) array
    # so that N() runs once: s m/sd = m/(s sd) and s d2 = s m/sd + (-(s sd)/2) exactly
    s_sd = np.multiply(sd, sgn)
    s_m_sd = np.divide(np.log(np.divide(F, K)), s_sd)
    nd = s_m_sd.ndim if s_m_sd.ndim > s_sd.ndim else s_sd.ndim
    d = np.add(s_m_sd, np.multiply(s_sd, _HALF_PLUS_MINUS[nd] if nd < 8 else _half_pm(nd)))
    n_flat = _cdf_flat(d.ravel())
    if d.ndim == 2:  # the common case: slices are cheaper than a reshape
        half_size = n_flat.size // 2
        n = (n_flat[:half_size], n_flat[half_size:])
    else:
        n = n_flat.reshape(d.shape)
    price = np.multiply(F, n[0])
    if d.ndim == 1:  # scalar arguments: ufuncs return scalars, keep a 0-d array
        price = np.asarray(price)
    price -= np.multiply(K, n[1])
    price *= sgn
    if dead is not None:
        intrinsic = np.maximum(np.multiply(np.subtract(F, K), sgn), _ZERO)
        np.copyto(price, intrinsic, where=dead)
    if r_t is None:
        r_t = np.multiply(r, np.maximum(T, _ZERO))
    disc = np.exp(np.negative(r_t))
    try:
        price *= disc
    except ValueError:  # r has dimensions of its own
        price = np.multiply(price, disc)
    return _Core(price, dead, sgn, sd, sqrt_t, d, n, disc)


def black76(
    F: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike, is_call: ArrayLike
) -> FloatArray:
    """Discounted Black-76 price of a European option on forward F (all arguments broadcast).

    Where T <= 0, vol <= 0, F <= 0 or K <= 0 returns exp(-r*max(T,0)) * max(0, +/-(F-K)).
    """
    args = _args(F, K, T, vol, r, is_call)
    with np.errstate(all="ignore"):
        return _in_row_chunks(_black76_price, args)[0]


def _black76_price(*args: NDArray[Any]) -> tuple[FloatArray]:
    return (_black76_core(*args).price,)


class Greeks(NamedTuple):
    """Per unit, spot terms: vega per 1.00 of vol, theta per year (-dV/dT, spot fixed)."""

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


def spot_greeks(
    S: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike, is_call: ArrayLike
) -> Greeks:
    """Price and analytic Greeks of a European option on spot S with F = S*exp(rT).

    Where the option is not live (T <= 0, vol <= 0, S <= 0 or K <= 0) the Greeks are those
    of the discounted intrinsic value: delta 1/0 (calls) or -1/0 (puts), 0 exactly at the
    money; gamma and vega 0; theta 0 for T <= 0, and the intrinsic's carry
    (-r K e^{-rT} for an in-the-money call, +r K e^{-rT} for an in-the-money put) for T > 0.
    """
    args = _args(S, K, T, vol, r, is_call)
    with np.errstate(all="ignore"):
        return Greeks(*_in_row_chunks(_spot_greeks, args))


def _spot_greeks(
    S: FloatArray, K: FloatArray, T: FloatArray, vol: FloatArray, r: FloatArray, call: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    r_t = np.multiply(r, np.maximum(T, _ZERO))
    F = np.multiply(S, np.exp(r_t))
    c = _black76_core(F, K, T, vol, r, call, r_t)
    s = c.sgn
    d1 = c.d[0, ...]
    nd1 = _pdf_flat(d1.reshape(-1)).reshape(d1.shape)  # n(s d1) = n(d1)
    delta = np.multiply(s, c.n[0])  # calls N(d1), puts -N(-d1)
    gamma = np.divide(nd1, np.multiply(S, c.sd))
    vega = np.multiply(S, nd1)
    # theta: -S n(d1) vol / (2 sqrt(T)) - s r K e^{-rT} N(s d2)
    theta = np.multiply(vega, vol)
    theta /= np.multiply(c.sqrt_t, _NEG_TWO)
    vega *= c.sqrt_t
    r_disc_k = np.multiply(r, np.multiply(K, c.disc))
    carry = np.multiply(r_disc_k, c.n[1])
    carry *= s
    theta -= carry
    if c.price.ndim == 0:  # ufuncs return scalars for 0-d operands: keep 0-d arrays
        delta, gamma, vega, theta = (np.asarray(a) for a in (delta, gamma, vega, theta))
    if c.dead is not None:
        # the intrinsic value's: delta s where s (F - K) > 0, else 0; gamma and vega 0;
        # theta -s r K e^{-rT} where moreover T > 0, else 0
        dead = c.dead
        itm = np.greater(np.multiply(np.subtract(F, K), s), _ZERO)
        np.copyto(delta, np.where(itm, s, _ZERO), where=dead)
        np.copyto(gamma, _ZERO, where=dead)
        np.copyto(vega, _ZERO, where=dead)
        itm &= np.greater(T, _ZERO)
        carry = np.negative(np.multiply(r_disc_k, s))
        np.copyto(theta, np.where(itm, carry, _ZERO), where=dead)
    return c.price, delta, gamma, vega, theta


# Names used in docs/DESIGN.md.
black76_price = black76
bs_spot_greeks = spot_greeks
