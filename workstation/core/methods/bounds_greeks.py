"""Suprema over an interval of moves of the option Greeks the liquidation bounds need besides
gamma (`bounds.OptionCurves` has gamma): the value's slope, and the first and second
derivatives of the USD delta and of vega, all along the relative move x of the underlying.

Per unit held, state 0 of `OptionCurves` (F = F0 (1 + x), so y = ln(1 + x), w = sd = vol sqrt T,
d1 = d1_0 + y / w, d2 = d1 - w, dfF = df F0; n, N the normal density and distribution):

    value slope       dV/dx = dfF N(d1)  (call),  dfF (N(d1) - 1)  (put)     [kappa dfF ... with a slope]
    USD delta         D = F dV/dF = dfF e^y N(d1)  (put: N(d1) - 1)
    dD/dx             = dfF (N(d1) + n(d1) / w)    (put: N(d1) - 1 + n(d1) / w)
    d^2 D / dx^2      = -dfF e^{-y} n(d1) d2 / w^2                       (the same for a put)
    vega (per 1.00)   = sqrt(T) dfF e^y n(d1)
    d vega / dx       = -sqrt(T) dfF n(d1) d2 / w

(derivatives in x: d/dx = e^{-y} d/dy). Each supremum is exact or an upper bound from
monotone pieces: N(d1) rises with y; |z| n(z + c) has its maxima where z^2 + c z = 1, so
e^{-y} n(d1) |d2| (= const x |d2| n(d2 + 2w)) and n(d1) |d2| (= |d2| n(d2 + w)) are bounded by
their values at the ends and at those critical points when they fall inside. Dead entries
(zero vol, expiry) are intrinsic: their delta is a step at the strike (a listed kink), so
its derivatives vanish between kinks and the slope is at most dfF.
"""

from __future__ import annotations

import math

import numpy as np

from workstation.core.methods.bounds import OptionCurves
from workstation.core.pricing import ndtr

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _n(d: np.ndarray) -> np.ndarray:
    return _INV_SQRT_2PI * np.exp(-0.5 * d * d)


def _n_sup(d_lo: np.ndarray, d_hi: np.ndarray) -> np.ndarray:
    """sup of n(d) over [d_lo, d_hi]."""
    near = np.where((d_lo <= 0) & (d_hi >= 0), 0.0, np.minimum(np.abs(d_lo), np.abs(d_hi)))
    return _n(near)


class Greeks1D:
    """Greek suprema of the options `sl` of an `OptionCurves` in its state 0 (kappa = 1 there:
    the current forward moving with the price), over intervals of moves (k,) -> (k, n)."""

    def __init__(self, oc: OptionCurves, sl: slice):
        self.d1_0 = oc.d1_0[0, sl]
        self.inv_sd = oc.inv_sd[0, sl]
        self.sd = oc.sd[0, sl]
        assert oc.dfF is not None and oc.call is not None
        self.dfF = oc.dfF[0, sl]
        self.dfK = oc.dfK[sl] if oc.dfK is not None else np.zeros(self.dfF.shape)
        self.call = oc.call[sl]
        self.live = oc.g0[0, sl] > 0
        self.qty = oc.qty[sl]

    def _d1(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        y_lo = np.log1p(lo)[:, None]
        y_hi = np.log1p(hi)[:, None]
        return y_lo, y_hi, self.d1_0 + y_lo * self.inv_sd, self.d1_0 + y_hi * self.inv_sd

    def slope(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """sup |dV/dx| per unit."""
        _, _, d_lo, d_hi = self._d1(lo, hi)
        part = np.where(self.call, ndtr(d_hi), ndtr(-d_lo))
        return self.dfF * np.where(self.live, part, 1.0)

    def delta_slope(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """sup |dD/dx| per unit, D = F dV/dF the USD delta."""
        _, _, d_lo, d_hi = self._d1(lo, hi)
        part = np.where(self.call, ndtr(d_hi), ndtr(-d_lo)) + _n_sup(d_lo, d_hi) * self.inv_sd
        return self.dfF * np.where(self.live, part, 1.0)

    def delta(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """sup |D| per unit (D = dfF e^y N(d1), or N(d1) - 1): at most dfF (1 + x_hi)."""
        return self.dfF * (1.0 + hi)[:, None]

    def _crit_sup(self, lo: np.ndarray, hi: np.ndarray, c: np.ndarray, weight_y: float) -> np.ndarray:
        """sup over y in [ln(1+lo), ln(1+hi)] of e^{-weight_y y} n(d1) |d2| (live entries)."""
        y_lo, y_hi, _, _ = self._d1(lo, hi)
        sd, d1_0, inv_sd = self.sd, self.d1_0, self.inv_sd

        def val(y: np.ndarray) -> np.ndarray:
            d1 = d1_0 + y * inv_sd
            return np.exp(-weight_y * y) * _n(d1) * np.abs(d1 - sd)

        out = np.maximum(val(y_lo), val(y_hi))
        root = np.sqrt(c * c + 4.0)
        for z in (0.5 * (-c + root), 0.5 * (-c - root)):  # d2 at the critical points
            y = (z - d1_0 + sd) * sd  # d2 = d1_0 - sd + y / sd
            inside = (y > y_lo) & (y < y_hi)
            out = np.where(inside, np.maximum(out, val(np.broadcast_to(y, out.shape))), out)
        return np.where(self.live, out, 0.0)

    def delta_curvature(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """sup |d^2 D / dx^2| per unit: dfF / w^2 sup e^{-y} n(d1) |d2| (critical points of
        |z| n(z + 2w), z = d2: z^2 + 2 w z = 1)."""
        with np.errstate(all="ignore"):
            s = self._crit_sup(lo, hi, 2.0 * self.sd, 1.0)
            return np.where(self.live, self.dfF * self.inv_sd**2 * s, 0.0)

    def vega_slope(self, lo: np.ndarray, hi: np.ndarray, sqrt_t: np.ndarray) -> np.ndarray:
        """sup |d vega / dx| per unit (vega per 1.00 of vol): sqrt(T) dfF / w sup n(d1) |d2|
        (critical points of |z| n(z + w): z^2 + w z = 1)."""
        with np.errstate(all="ignore"):
            s = self._crit_sup(lo, hi, self.sd, 0.0)
            return np.where(self.live, sqrt_t * self.dfF * self.inv_sd * s, 0.0)

    def vega(self, lo: np.ndarray, hi: np.ndarray, sqrt_t: np.ndarray) -> np.ndarray:
        """sup |vega| per unit: sqrt(T) dfF e^y n(d1) <= sqrt(T) dfF (1 + x_hi) sup n(d1)."""
        _, _, d_lo, d_hi = self._d1(lo, hi)
        return np.where(self.live, sqrt_t * self.dfF * (1.0 + hi)[:, None] * _n_sup(d_lo, d_hi), 0.0)


def weighted(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum over the options of |weight| x value (k, n) -> (k,)."""
    return values @ np.abs(weights) if values.shape[-1] else np.zeros(values.shape[0])


def state_slopes(oc: OptionCurves, sl: slice, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """sup |dV/dx| per unit of the options `sl` in every state of `oc` over each interval,
    (k, S1, n): kappa dfF N(d1(y_hi)) for a call, kappa dfF N(-d1(y_lo)) for a put (N(d1) rises
    with y), kappa dfF for a dead entry (its intrinsic slope)."""
    assert oc.dfF is not None and oc.call is not None
    d1_0, inv_sd, dfF = oc.d1_0[:, sl], oc.inv_sd[:, sl], oc.dfF[:, sl]
    kap = np.ones_like(dfF) if oc.kappa is None else oc.kappa[:, sl]
    live = oc.g0[:, sl] > 0
    y_lo = np.log1p(np.maximum(kap * lo[:, None, None], -1.0 + 1e-12))  # F <= 0: intrinsic
    y_hi = np.log1p(np.maximum(kap * hi[:, None, None], -1.0 + 1e-12))
    part = np.where(oc.call[sl], ndtr(d1_0 + y_hi * inv_sd), ndtr(-(d1_0 + y_lo * inv_sd)))
    return kap * dfF * np.where(live, part, 1.0)
