"""Normal distribution and Black-76 pricing, vectorised with numpy (no scipy).

`norm_cdf` follows W. J. Cody, "Rational Chebyshev approximations for the error
function", Math. Comp. 23 (1969) 631-637, with the coefficients and interval split
(|x| <= 0.46875, <= 4, > 4) of Cody's CALERF routine (netlib specfun, 1990).

Speed: each interval's approximation is evaluated only on its own elements (index split,
skipped when one interval holds everything), polynomials run in place, and constants are
0-d arrays (cheaper per call than Python floats), so that both the per-element cost on large
arrays and the per-call cost on small ones stay low. Every element goes through the same
arithmetic whatever the size or mix of the array, so results do not depend on batching.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def _c(value: float) -> FloatArray:
    """A 0-d float64 constant: as an operand it costs less per ufunc call than a Python float."""
    return np.array(value, dtype=np.float64)


_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT_PI = 0.56418958354775628695  # 1/sqrt(pi)
_ERF_SMALL = 0.46875  # Cody's THRESH: erf by A/B below it, erfc by C/D or P/Q above
_ERFC_MID = 4.0
_ERFC_BIG = 26.543  # Cody's XBIG for IEEE double: erfc underflows to 0 beyond it
_PDF_ZERO = 40.0  # exp(-40**2/2) underflows to 0
# (y + 2**48) - 2**48 rounds 0 <= y < 2**47 to a multiple of 1/16 (as Cody's trunc(16 y)/16,
# but to nearest and in two operations); for y < 64 its square is exact.
_ROUND16 = 2.0**48

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

_K_UNIT = _c(1.0)  # the leading coefficient of B, D and Q
_K_A, _K_B, _K_C, _K_D, _K_P, _K_Q = (
    tuple(_K_UNIT if v == 1.0 else _c(v) for v in p) for p in (_A, _B, _C, _D, _P, _Q)
)
_K_HALF, _K_ONE, _K_NEG_TWO, _K_NEG_HALF, _K_NEG_ONE, _K_ZERO = (
    _c(v) for v in (0.5, 1.0, -2.0, -0.5, -1.0, 0.0)
)
_K_SQRT2, _K_INV_SQRT_PI, _K_INV_SQRT_2PI = _c(_SQRT2), _c(_INV_SQRT_PI), _c(_INV_SQRT_2PI)
_K_SMALL, _K_MID, _K_BIG, _K_PDF_ZERO = (_c(v) for v in (_ERF_SMALL, _ERFC_MID, _ERFC_BIG, 40.0))
_K_ROUND16 = _c(_ROUND16)


def _poly(coeffs: tuple[FloatArray, ...], t: FloatArray) -> FloatArray:
    """Horner evaluation in place, coefficients highest power first: c0*t + c1, then
    acc*t + c, ... (a leading 1 is skipped: 1*t + c1 = t + c1 exactly)."""
    if coeffs[0] is _K_UNIT:
        acc = np.add(t, coeffs[1])
    else:
        acc = np.multiply(t, coeffs[0])
        acc += coeffs[1]
    for c in coeffs[2:]:
        acc *= t
        acc += c
    return acc


def _exp_neg_sq(y: FloatArray, scale: FloatArray) -> FloatArray:
    """exp(-scale*y*y), 0 <= y < 64, without the rounding error of y*y: with h = y rounded to
    a multiple of 1/16 (Cody's device), h*h is exact and y*y = h*h + (y - h)*(y + h)."""
    h = np.add(y, _K_ROUND16)
    h -= _K_ROUND16
    d = np.add(y, h)
    lo = np.subtract(y, h)
    lo *= d
    lo *= scale
    np.exp(lo, out=lo)
    np.multiply(h, h, out=d)
    d *= scale
    np.exp(d, out=d)
    d *= lo
    return d


def _cdf_small(z: FloatArray) -> FloatArray:
    """N(sqrt(2) z) = (1 + erf(z))/2 for |z| <= 0.46875: erf(z) = z A(z^2) / B(z^2)."""
    zz = np.multiply(z, z)
    out = _poly(_K_A, zz)
    out *= z
    out /= _poly(_K_B, zz)
    out *= _K_HALF
    out += _K_HALF
    return out


def _half_erfc_mid(y: FloatArray) -> FloatArray:
    """erfc(y)/2 for 0.46875 < y <= 4: exp(-y^2) C(y) / D(y). Rounding y*y costs at most
    16 ulp of relative error here, so the exact-square device is not needed."""
    out = _poly(_K_C, y)
    out /= _poly(_K_D, y)
    e = np.multiply(y, y)
    np.negative(e, out=e)
    np.exp(e, out=e)
    out *= e
    out *= _K_HALF
    return out


def _half_erfc_large(y: FloatArray) -> FloatArray:
    """erfc(y)/2 for y > 4 (NaN in, NaN out): exp(-y^2)/y (1/sqrt(pi) - w P(w)/Q(w)) with
    w = 1/y^2 and the exact square; 0 from Cody's XBIG on."""
    big = np.greater_equal(y, _K_BIG)
    if big.any():
        y = np.where(big, _K_MID, y)  # any finite value: replaced by 0 below
    w = np.multiply(y, y)
    np.divide(_K_ONE, w, out=w)
    out = _poly(_K_P, w)
    out *= w
    out /= _poly(_K_Q, w)
    np.subtract(_K_INV_SQRT_PI, out, out=out)
    out /= y
    out *= _exp_neg_sq(y, _K_NEG_ONE)
    out *= _K_HALF
    if big.any():
        out[big] = 0.0
    return out


def _cdf_rest(z: FloatArray) -> FloatArray:
    """N(sqrt(2) z) for |z| > 0.46875 or NaN, from erfc(|z|)/2."""
    y = np.abs(z)
    mid = np.less_equal(y, _K_MID)
    n_mid = np.count_nonzero(mid)
    if n_mid == y.size:
        half = _half_erfc_mid(y)
    elif n_mid == 0:
        half = _half_erfc_large(y)
    else:
        half = np.empty_like(y)
        i = mid.nonzero()[0]
        half[i] = _half_erfc_mid(y[i])
        np.logical_not(mid, out=mid)
        i = mid.nonzero()[0]
        half[i] = _half_erfc_large(y[i])
    np.subtract(_K_ONE, half, out=half, where=np.greater(z, _K_ZERO))
    return half


def _cdf_flat(x: FloatArray) -> FloatArray:
    """Standard normal CDF of a 1-d float64 array (a new array)."""
    z = np.divide(x, _K_SQRT2)
    small = np.less_equal(np.abs(z), _K_SMALL)
    n_small = np.count_nonzero(small)
    if n_small == z.size:
        return _cdf_small(z)
    if n_small == 0:
        return _cdf_rest(z)
    out = np.empty_like(z)
    i = small.nonzero()[0]
    out[i] = _cdf_small(z[i])
    np.logical_not(small, out=small)
    i = small.nonzero()[0]
    out[i] = _cdf_rest(z[i])
    return out


def norm_cdf(x: ArrayLike) -> FloatArray:
    """Standard normal CDF, elementwise; absolute error ~1e-16, relative ~1e-14 in the tails."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return _cdf_flat(x.reshape(-1)).reshape(x.shape)


def _pdf(x: FloatArray) -> FloatArray:
    y = np.abs(x)
    np.minimum(y, _K_PDF_ZERO, out=y)  # NaN stays NaN; from 40 on exp underflows to 0
    out = _exp_neg_sq(y, _K_NEG_HALF)
    out *= _K_INV_SQRT_2PI
    return out


def norm_pdf(x: ArrayLike) -> FloatArray:
    """Standard normal density, elementwise (exact split of x^2 for tail accuracy)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return _pdf(x.reshape(-1)).reshape(x.shape)


class _Core(NamedTuple):
    """Black-76 pieces shared by `black76` and `spot_greeks`."""

    price: FloatArray  # of the broadcast shape
    live: NDArray[np.bool_] | None  # None: every option live
    sgn: FloatArray  # s = +1 call, -1 put
    sd: FloatArray  # vol * sqrt(T)
    sqrt_t: FloatArray
    d1: FloatArray  # s d1, broadcast shape
    n1: FloatArray  # N(s d1), broadcast shape
    n2: FloatArray  # N(s d2), broadcast shape
    disc: FloatArray  # exp(-r max(T, 0))


def _args(
    F: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike, is_call: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    return (
        np.asarray(F, dtype=np.float64),
        np.asarray(K, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
        np.asarray(vol, dtype=np.float64),
        np.asarray(r, dtype=np.float64),
        np.asarray(is_call).astype(bool, copy=False),
    )


def _black76_core(
    F: FloatArray,
    K: FloatArray,
    T: FloatArray,
    vol: FloatArray,
    r: FloatArray,
    call: NDArray[np.bool_],
) -> _Core:
    """Discounted Black-76 price with s = +1 (call) or -1 (put): s (F N(s d1) - K N(s d2))
    where live, max(0, s (F - K)) where not, times exp(-r max(T, 0)).

    Not live: T <= 0, vol <= 0, F <= 0, K <= 0 or vol*sqrt(T) == 0 (then the forward is
    certain relative to the strike and the price is the discounted intrinsic value, exactly).
    NaN arguments propagate through d1/d2 or through the intrinsic value. Arrays computed
    here from fewer than all arguments may have a smaller shape: in-place operations only on
    arrays of the broadcast shape."""
    shape = np.broadcast(F, K, T, vol, r, call).shape
    sgn = np.where(call, _K_ONE, _K_NEG_ONE)
    sqrt_t = np.sqrt(T)
    sd = np.multiply(vol, sqrt_t)
    live = np.logical_and(  # sd > 0 is False for T <= 0 (sqrt NaN or 0), vol <= 0, NaN
        np.greater(sd, _K_ZERO), np.greater(np.minimum(F, K), _K_ZERO)
    )
    all_live = bool(live.all())
    # s d1 = s m/sd + s sd/2 and s d2 = s m/sd - s sd/2 (m = log(F/K)), written into one
    # buffer so that N() runs once on both
    sm = np.divide(F, K, out=np.empty(shape))
    np.log(sm, out=sm)
    sm *= sgn
    sm /= sd
    hsd = np.multiply(sd, sgn)
    hsd *= _K_HALF
    buf = np.empty((2, *shape))
    d1 = buf[0, ...]  # [0, ...]: a 0-d array, not a scalar, for scalar arguments
    np.add(sm, hsd, out=d1)
    np.subtract(sm, hsd, out=buf[1, ...])
    n = _cdf_flat(buf.reshape(-1)).reshape(buf.shape)
    n1, n2 = n[0, ...], n[1, ...]
    price = np.multiply(F, n1, out=sm)
    price -= np.multiply(K, n2)
    price *= sgn
    if not all_live:
        intrinsic = np.maximum(np.multiply(np.subtract(F, K), sgn), _K_ZERO)
        np.copyto(price, intrinsic, where=~live)
    disc = np.exp(np.negative(np.multiply(r, np.maximum(T, _K_ZERO))))
    price *= disc
    return _Core(price, None if all_live else live, sgn, sd, sqrt_t, d1, n1, n2, disc)


def black76(
    F: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike, is_call: ArrayLike
) -> FloatArray:
    """Discounted Black-76 price of a European option on forward F (all arguments broadcast).

    Where T <= 0, vol <= 0, F <= 0 or K <= 0 returns exp(-r*max(T,0)) * max(0, +/-(F-K)).
    """
    args = _args(F, K, T, vol, r, is_call)
    with np.errstate(all="ignore"):
        return _black76_core(*args).price


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
    S, K, T, vol, r, call = _args(S, K, T, vol, r, is_call)
    with np.errstate(all="ignore"):
        F = np.multiply(S, np.exp(np.multiply(r, np.maximum(T, _K_ZERO))))
        c = _black76_core(F, K, T, vol, r, call)
        sgn = c.sgn
        nd1 = _pdf(c.d1.reshape(-1)).reshape(c.d1.shape)  # n(s d1) = n(d1)
        delta = np.multiply(sgn, c.n1)  # call N(d1), put -N(-d1)
        gamma = np.divide(nd1, np.multiply(S, c.sd))
        vega = np.multiply(S, nd1)
        theta = np.multiply(vega, vol)  # time decay -S n(d1) vol / (2 sqrt(T)) ...
        vega *= c.sqrt_t
        theta /= np.multiply(c.sqrt_t, _K_NEG_TWO)
        r_disc_k = np.multiply(r, np.multiply(K, c.disc))  # ... minus s r K e^{-rT} N(s d2)
        carry = np.multiply(r_disc_k, c.n2)
        carry *= sgn
        theta -= carry
        if c.price.ndim == 0:  # ufuncs return scalars for 0-d operands: keep 0-d arrays
            delta, gamma, vega, theta = (np.asarray(a) for a in (delta, gamma, vega, theta))
        if c.live is not None:
            # the intrinsic value's: delta s where s (F - K) > 0, else 0; gamma and vega 0;
            # theta -s r K e^{-rT} where moreover T > 0, else 0
            dead = ~c.live
            itm = np.greater(np.multiply(np.subtract(F, K), sgn), _K_ZERO)
            np.copyto(delta, np.where(itm, sgn, _K_ZERO), where=dead)
            np.copyto(gamma, _K_ZERO, where=dead)
            np.copyto(vega, _K_ZERO, where=dead)
            itm &= np.greater(T, _K_ZERO)
            theta_dead = np.where(itm, np.negative(np.multiply(r_disc_k, sgn)), _K_ZERO)
            np.copyto(theta, theta_dead, where=dead)
        return Greeks(price=c.price, delta=delta, gamma=gamma, vega=vega, theta=theta)


# Names used in docs/DESIGN.md.
black76_price = black76
bs_spot_greeks = spot_greeks
