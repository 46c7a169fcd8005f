"""Margin methods: one module each, one contract (`base.MarginMethod`).

`method_for(scope)` picks the method: `isolated` and `cross` accounts are margined position by
position (`per_position`); a `portfolio` account or pool uses the method its profile names
(`method` key, default `risk-array`, the generic portfolio method of method.md). An unknown
name is refused when the profile is read (`profiles.METHODS` lists the valid ones).
"""

from __future__ import annotations

from workstation.core.methods.base import Attribution, MarginMethod, Parts, Scope
from workstation.core.methods.bybit_pm import BybitPMMethod
from workstation.core.methods.deribit_pm import DeribitPMMethod
from workstation.core.methods.okx_pm import OkxPMMethod
from workstation.core.methods.per_position import CrossMethod, IsolatedMethod
from workstation.core.methods.pmrm2 import Pmrm2Method
from workstation.core.methods.risk_array import RiskArrayMethod
from workstation.core.methods.span import SpanMethod

PORTFOLIO_METHODS: dict[str, type[MarginMethod]] = {
    RiskArrayMethod.name: RiskArrayMethod,
    Pmrm2Method.name: Pmrm2Method,  # Derive PMRM_2
    DeribitPMMethod.name: DeribitPMMethod,
    OkxPMMethod.name: OkxPMMethod,
    BybitPMMethod.name: BybitPMMethod,
    SpanMethod.name: SpanMethod,
}


def method_for(scope: Scope) -> MarginMethod:
    """The margin method object for `scope` (see the module docstring)."""
    if scope.mode == "isolated":
        return IsolatedMethod(scope)
    if scope.mode == "cross":
        return CrossMethod(scope)
    return PORTFOLIO_METHODS[scope.profile.method](scope)


__all__ = ["PORTFOLIO_METHODS", "Attribution", "BybitPMMethod", "CrossMethod", "DeribitPMMethod",
           "IsolatedMethod", "MarginMethod", "OkxPMMethod", "Parts", "Pmrm2Method", "RiskArrayMethod", "Scope",
           "SpanMethod", "method_for"]
