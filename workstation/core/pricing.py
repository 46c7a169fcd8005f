"""Normal distribution and Black-76 pricing, vectorised with numpy (no scipy).

`norm_cdf` follows W. J. Cody, "Rational Chebyshev approximations for the error
function", Math. Comp. 23 (1969) 631-637, with the coefficients and interval split
(|x| <= 0.46875, <= 4, > 4) of Cody's CALERF routine (netlib specfun, 1990).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT_PI = 0.56418958354775628695  # 1/sqrt(pi)
_ERF_SMALL = 0.46875  # Cody's THRESH: erf by A/B below it, erfc by C/D or P/Q above
_ERFC_MID = 4.0
_ERFC_BIG = 26.543  # Cody's XBIG for IEEE double: erfc underflows to 0 beyond it
_PDF_ZERO = 40.0  # exp(-40**2/2) underflows to 0

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


def _poly(coeffs: tuple[float, ...], t: FloatArray) -> FloatArray:
    """Horner evaluation, coefficients highest power first."""
    acc = np.full_like(t, coeffs[0])
    for c in coeffs[1:]:
        acc = acc * t + c
    return acc


def _exp_neg_sq(y: FloatArray, scale: float = 1.0) -> FloatArray:
    """exp(-scale*y*y) without the rounding error of y*y: with h = trunc(16 y)/16 (Cody's
    device), h*h is exact and y*y = h*h + (y - h)*(y + h)."""
    h = np.trunc(y * 16.0) / 16.0
    return np.exp(-scale * (h * h)) * np.exp(-scale * ((y - h) * (y + h)))


def _erfc_pos(y: FloatArray) -> FloatArray:
    """erfc(y) for y >= 0.46875 (other entries: any finite value, result unused)."""
    mid = y <= _ERFC_MID
    big = y >= _ERFC_BIG
    ym = np.where(mid, y, 1.0)
    r_mid = _poly(_C, ym) / _poly(_D, ym)
    yl = np.where(mid | big, 5.0, y)
    w = 1.0 / (yl * yl)
    r_large = (_INV_SQRT_PI - w * _poly(_P, w) / _poly(_Q, w)) / yl
    ys = np.where(big, 1.0, y)
    out = np.where(mid, r_mid, r_large) * _exp_neg_sq(ys)
    return np.where(big, 0.0, out)


def norm_cdf(x: ArrayLike) -> FloatArray:
    """Standard normal CDF, elementwise; absolute error ~1e-16, relative ~1e-14 in the tails."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        z = x / _SQRT2
        y = np.abs(z)
        small = y <= _ERF_SMALL
        zs = np.where(small, z, 0.0)
        zz = zs * zs
        erf_small = zs * _poly(_A, zz) / _poly(_B, zz)
        half_erfc = 0.5 * _erfc_pos(np.where(small | np.isnan(y), 1.0, y))
        tail = np.where(z > 0.0, 1.0 - half_erfc, half_erfc)
        out = np.where(small, 0.5 + 0.5 * erf_small, tail)
        return np.where(np.isnan(x), np.nan, out)


def norm_pdf(x: ArrayLike) -> FloatArray:
    """Standard normal density, elementwise (exact split of x^2 for tail accuracy)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        y = np.abs(x)
        zero = y > _PDF_ZERO
        out = _INV_SQRT_2PI * _exp_neg_sq(np.where(zero, 0.0, y), 0.5)
        return np.where(zero, 0.0, out)


def _d1_d2(
    F: FloatArray, K: FloatArray, T: FloatArray, vol: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(live, d1, d2, vol*sqrt(T)) with safe substitutes where the option is not live.

    Not live: T <= 0, vol <= 0, F <= 0 or K <= 0 (then the forward is certain relative to
    the strike and the price is the discounted intrinsic value, exactly)."""
    live = ~((T <= 0.0) | (vol <= 0.0) | (F <= 0.0) | (K <= 0.0))
    sd = np.where(live, vol, 1.0) * np.sqrt(np.where(live, T, 1.0))
    live = live & (sd > 0.0)
    sd = np.where(live, sd, 1.0)
    m = np.log(np.where(live, F, 1.0) / np.where(live, K, 1.0))
    d1 = m / sd + 0.5 * sd
    d2 = m / sd - 0.5 * sd
    return live, d1, d2, sd


def _broadcast(*args: ArrayLike) -> tuple[list[FloatArray], NDArray[np.bool_]]:
    """Broadcast (floats..., is_call) to one shape: float arrays and a bool array."""
    arrays = np.broadcast_arrays(*(np.asarray(a) for a in args))
    return [a.astype(np.float64) for a in arrays[:-1]], arrays[-1].astype(bool)


def black76(
    F: ArrayLike, K: ArrayLike, T: ArrayLike, vol: ArrayLike, r: ArrayLike, is_call: ArrayLike
) -> FloatArray:
    """Discounted Black-76 price of a European option on forward F (all arguments broadcast).

    Where T <= 0, vol <= 0, F <= 0 or K <= 0 returns exp(-r*max(T,0)) * max(0, +/-(F-K)).
    """
    (F, K, T, vol, r), call = _broadcast(F, K, T, vol, r, is_call)
    with np.errstate(all="ignore"):
        live, d1, d2, _ = _d1_d2(F, K, T, vol)
        disc = np.exp(-r * np.maximum(T, 0.0))
        c = F * norm_cdf(d1) - K * norm_cdf(d2)
        p = K * norm_cdf(-d2) - F * norm_cdf(-d1)
        value = np.where(call, c, p)
        intrinsic = np.maximum(0.0, np.where(call, F - K, K - F))
        return np.asarray(disc * np.where(live, value, intrinsic))


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
    (S, K, T, vol, r), call = _broadcast(S, K, T, vol, r, is_call)
    with np.errstate(all="ignore"):
        Tp = np.maximum(T, 0.0)
        F = S * np.exp(r * Tp)
        price = black76(F, K, T, vol, r, call)
        live, d1, d2, sd = _d1_d2(F, K, T, vol)
        disc_k = K * np.exp(-r * Tp)
        nd1 = norm_pdf(d1)
        sqrt_t = np.sqrt(np.where(live, T, 1.0))
        s_safe = np.where(live, S, 1.0)

        n_d1 = norm_cdf(d1)
        delta_live = np.where(call, n_d1, n_d1 - 1.0)
        gamma_live = nd1 / (s_safe * sd)
        vega_live = s_safe * nd1 * sqrt_t
        decay = -s_safe * nd1 * np.where(live, vol, 0.0) / (2.0 * sqrt_t)
        theta_live = np.where(
            call, decay - r * disc_k * norm_cdf(d2), decay + r * disc_k * norm_cdf(-d2)
        )

        itm_call = F > K
        itm_put = F < K
        delta_dead = np.where(call, np.where(itm_call, 1.0, 0.0), np.where(itm_put, -1.0, 0.0))
        carry = np.where(call & itm_call, -r * disc_k, np.where(~call & itm_put, r * disc_k, 0.0))
        theta_dead = np.where(T > 0.0, carry, 0.0)

        zero = np.zeros_like(S)
        return Greeks(
            price=price,
            delta=np.where(live, delta_live, delta_dead),
            gamma=np.where(live, gamma_live, zero),
            vega=np.where(live, vega_live, zero),
            theta=np.where(live, theta_live, theta_dead),
        )


# Names used in docs/DESIGN.md.
black76_price = black76
bs_spot_greeks = spot_greeks
