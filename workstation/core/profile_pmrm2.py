"""Profile keys of Derive's PMRM_2 (method `pmrm2`; `shared/spec/derive-pmrm2.md`, "Profile keys").

Kept apart from `profiles.py`: `profiles._build` calls `pmrm2_params` on the merged raw profile
and stores the result as `Profile.pmrm2`. Every key is optional; an absent key means today's
behaviour (no static discount, no basis term, no fixing window, IM = im_factor * MM, ...).
The keys are refused under any other method, and skew scenario rows need `skew_shock`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from workstation.core.errors import ProfileError
from workstation.core.pmrm2_keys import skew_rows


@dataclass(frozen=True)
class StaticDiscount:
    """sdp = base exp(-tau (r long_rate_mult + long_rate_add)) on a net long expiry,
    sdn = min(1/df, base_neg exp(tau (r short_rate_mult + short_rate_add))) on a net short one."""

    base: float
    base_neg: float
    long_rate_mult: float
    long_rate_add: float
    short_rate_mult: float
    short_rate_add: float

    def factors(self, tau, rate, df):
        """(sdp, sdn) per expiry (numpy arrays or floats)."""
        pos = self.base * np.exp(-tau * (rate * self.long_rate_mult + self.long_rate_add))
        neg = np.minimum(1.0 / df, self.base_neg * np.exp(tau * (rate * self.short_rate_mult + self.short_rate_add)))
        return pos, neg


@dataclass(frozen=True)
class SkewShock:
    linear_scale_cap: float
    linear_cbase: float
    abs_scale_cap: float
    abs_cbase: float
    min_k_star: float
    min_width_scale: float
    vol_param_static: float
    vol_param_scale: float


@dataclass(frozen=True)
class BasisContingency:
    spot_up: float  # relative moves, e.g. 0.045 / -0.045
    spot_down: float
    add_factor: float
    mult_factor: float


@dataclass(frozen=True)
class ConfidenceContingency:
    threshold: float
    margin: float


@dataclass(frozen=True)
class PegLoss:
    threshold: float
    factor: float


@dataclass(frozen=True)
class Pmrm2Params:
    """The PMRM_2 additions of a profile (None / 0 / True: absent, today's behaviour)."""

    static_discount: StaticDiscount | None = None
    skew_shock: SkewShock | None = None
    basis_contingency: BasisContingency | None = None
    forward_fixing_window: float | None = None  # seconds
    perp_contingency: float = 0.0
    perp_contingency_im: float = 0.0
    short_option_contingency_im: float = 0.0
    confidence_contingency: ConfidenceContingency | None = None
    peg_loss: PegLoss | None = None
    im_loss_factor: float | None = None
    haircut_in_scenarios: bool = True
    im_haircuts: tuple[tuple[str, float], ...] = ()

    def im_haircut(self, asset: str) -> float:
        """The IM haircut of `asset` (else of "*", else 0)."""
        table = dict(self.im_haircuts)
        return table.get(asset, table.get("*", 0.0))

    def peg_factor(self, peg_price: float) -> float:
        """f_IM = im_loss_factor + max(0, threshold - peg_price) * factor."""
        f = self.im_loss_factor if self.im_loss_factor is not None else 0.0
        if self.peg_loss is not None:
            f += max(0.0, self.peg_loss.threshold - peg_price) * self.peg_loss.factor
        return f

    def confidence_charge(self, confidence, notional):
        """kappa(c, N) = (1 - c) margin N where c < threshold, else 0 (numpy broadcasting)."""
        cc = self.confidence_contingency
        if cc is None:
            return np.zeros(np.broadcast_shapes(np.shape(confidence), np.shape(notional)))
        return np.where(np.asarray(confidence) < cc.threshold, (1.0 - confidence) * cc.margin * notional, 0.0)


# ------------------------------------------------------------------------------ validation
def _number(value: Any, source: str, key: str, *, lo: float | None = 0.0, lo_open: bool = False,
            hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise ProfileError(source, key, f"expected a finite number, got {value!r}")
    x = float(value)
    if lo is not None and (x <= lo if lo_open else x < lo):
        raise ProfileError(source, key, f"must be {'>' if lo_open else '>='} {lo:g}, got {value!r}")
    if hi is not None and x > hi:
        raise ProfileError(source, key, f"must be <= {hi:g}, got {value!r}")
    return x


# per table: key -> (lo, lo_open, hi); lo None: any sign
_Bounds = tuple[float | None, bool, float | None]
_ANY: _Bounds = (None, False, None)
_NONNEG: _Bounds = (0.0, False, None)
_TABLES: dict[str, tuple[type, dict[str, _Bounds]]] = {
    "static_discount": (StaticDiscount, dict.fromkeys(
        ("base", "base_neg", "long_rate_mult", "long_rate_add", "short_rate_mult", "short_rate_add"), _NONNEG)),
    "skew_shock": (SkewShock, {
        "linear_scale_cap": _NONNEG, "linear_cbase": _ANY, "abs_scale_cap": _NONNEG, "abs_cbase": _ANY,
        "min_k_star": _NONNEG, "min_width_scale": _NONNEG, "vol_param_static": _NONNEG,
        "vol_param_scale": _ANY}),
    "basis_contingency": (BasisContingency, {
        "spot_up": (0.0, True, None), "spot_down": (-1.0, False, 0.0), "add_factor": _NONNEG,
        "mult_factor": _NONNEG}),
    "confidence_contingency": (ConfidenceContingency, {"threshold": (0.0, False, 1.0), "margin": _NONNEG}),
    "peg_loss": (PegLoss, {"threshold": _NONNEG, "factor": _NONNEG}),
}
_SCALARS: dict[str, _Bounds] = {
    "forward_fixing_window": (0.0, True, None), "perp_contingency": _NONNEG, "perp_contingency_im": _NONNEG,
    "short_option_contingency_im": _NONNEG, "im_loss_factor": (0.0, True, None),
}


def _table(value: Any, source: str, key: str, cls: type, bounds: dict[str, _Bounds]) -> Any:
    if not isinstance(value, Mapping):
        raise ProfileError(source, key, f"expected a table, got {type(value).__name__}")
    names = [f.name for f in fields(cls)]
    for k in value:
        if k not in names:
            raise ProfileError(source, f"{key}.{k}", f"unknown key; allowed: {', '.join(names)}")
    for k in names:
        if k not in value:
            raise ProfileError(source, f"{key}.{k}", "missing")
    args = {}
    for k in names:
        lo, lo_open, hi = bounds[k]
        args[k] = _number(value[k], source, f"{key}.{k}", lo=lo, lo_open=lo_open, hi=hi)
    if cls is BasisContingency and args["spot_down"] >= 0.0:
        raise ProfileError(source, f"{key}.spot_down", f"must be < 0, got {value['spot_down']!r}")
    return cls(**args)


def pmrm2_params(d: Mapping[str, Any], source: str) -> Pmrm2Params:
    """The PMRM_2 keys of the merged raw profile `d` of a `pmrm2` profile (another method's is
    checked by `pmrm2_keys.refuse_outside`)."""
    port = d.get("portfolio") or {}
    rows = skew_rows(port)
    if rows and "skew_shock" not in port:
        raise ProfileError(source, f"portfolio.scenarios[{rows[0]}][1]",
                           "a skew row needs portfolio.skew_shock")
    args: dict[str, Any] = {}
    for k, (cls, bounds) in _TABLES.items():
        if k in port:
            args[k] = _table(port[k], source, f"portfolio.{k}", cls, bounds)
    for k, (lo, lo_open, hi) in _SCALARS.items():
        if k in port:
            args[k] = _number(port[k], source, f"portfolio.{k}", lo=lo, lo_open=lo_open, hi=hi)
    if "haircut_in_scenarios" in port:
        v = port["haircut_in_scenarios"]
        if not isinstance(v, bool):
            raise ProfileError(source, "portfolio.haircut_in_scenarios", f"expected true or false, got {v!r}")
        args["haircut_in_scenarios"] = v
    if "im_haircuts" in d:
        table = d["im_haircuts"]
        if not isinstance(table, Mapping):
            raise ProfileError(source, "im_haircuts", f"expected a table, got {type(table).__name__}")
        args["im_haircuts"] = tuple(
            (str(a), _number(h, source, f"im_haircuts.{a}", hi=1.0)) for a, h in table.items())
    return Pmrm2Params(**args)
