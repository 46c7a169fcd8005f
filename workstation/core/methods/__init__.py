"""Margin methods: one module each, one contract (`base.MarginMethod`).

`method_for(scope)` picks the method: `isolated` and `cross` accounts are margined position by
position (`per_position`); a `portfolio` account or pool uses the method its profile names
(`method` key, default `risk-array`, the generic portfolio method of method.md). An unknown
name is refused when the profile is read (`profiles.METHODS` lists the valid ones).
"""

from __future__ import annotations

from workstation.core.methods.base import Attribution, MarginMethod, Parts, Scope
from workstation.core.methods.per_position import CrossMethod, IsolatedMethod
from workstation.core.methods.risk_array import RiskArrayMethod

PORTFOLIO_METHODS: dict[str, type[MarginMethod]] = {
    RiskArrayMethod.name: RiskArrayMethod,
}


def method_for(scope: Scope) -> MarginMethod:
    """The margin method object for `scope` (see the module docstring)."""
    if scope.mode == "isolated":
        return IsolatedMethod(scope)
    if scope.mode == "cross":
        return CrossMethod(scope)
    return PORTFOLIO_METHODS[scope.profile.method](scope)


__all__ = ["PORTFOLIO_METHODS", "Attribution", "CrossMethod", "IsolatedMethod", "MarginMethod", "Parts",
           "RiskArrayMethod", "Scope", "method_for"]
