"""Margin methods: one module each, one contract (`base.MarginMethod`).

`method_for(scope)` picks the method: `isolated` and `cross` accounts are margined position by
position (`per_position`); a `portfolio` account or pool uses the method its profile names
(`method` key, default `risk-array`, the generic portfolio method of method.md). An unknown
name is refused when the profile is read (`profiles.METHODS` lists the valid ones).

The method modules are imported on first use (`_MODULES`: name -> module path): a command or
window that margins only a Deribit and a cross account does not import PMRM_2, SPAN or OKX
(about a third of the engine's import time). The classes stay importable from here
(`from workstation.core.methods import RiskArrayMethod`), loaded when first named.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from workstation.core.methods.base import Attribution, MarginMethod, Parts, Scope

if TYPE_CHECKING:
    from workstation.core.methods.bybit_pm import BybitPMMethod
    from workstation.core.methods.deribit_pm import DeribitPMMethod
    from workstation.core.methods.okx_pm import OkxPMMethod
    from workstation.core.methods.per_position import CrossMethod, IsolatedMethod
    from workstation.core.methods.pmrm2 import Pmrm2Method
    from workstation.core.methods.risk_array import RiskArrayMethod
    from workstation.core.methods.span import SpanMethod

# class name -> module that defines it
_MODULES = {
    "RiskArrayMethod": "workstation.core.methods.risk_array",
    "Pmrm2Method": "workstation.core.methods.pmrm2",  # Derive PMRM_2
    "DeribitPMMethod": "workstation.core.methods.deribit_pm",
    "OkxPMMethod": "workstation.core.methods.okx_pm",
    "BybitPMMethod": "workstation.core.methods.bybit_pm",
    "SpanMethod": "workstation.core.methods.span",
    "CrossMethod": "workstation.core.methods.per_position",
    "IsolatedMethod": "workstation.core.methods.per_position",
}
# profile `method` name -> class name (profiles.METHODS lists the same names)
_PORTFOLIO = {
    "risk-array": "RiskArrayMethod",
    "pmrm2": "Pmrm2Method",
    "deribit-pm": "DeribitPMMethod",
    "okx-pm": "OkxPMMethod",
    "bybit-pm": "BybitPMMethod",
    "span": "SpanMethod",
}


def _class(name: str) -> type[MarginMethod]:
    cls: type[MarginMethod] = getattr(importlib.import_module(_MODULES[name]), name)
    return cls


class _PortfolioMethods(Mapping[str, type[MarginMethod]]):
    """Profile method name -> method class, each module imported when its class is asked for."""

    def __getitem__(self, key: str) -> type[MarginMethod]:
        return _class(_PORTFOLIO[key])

    def __iter__(self) -> Iterator[str]:
        return iter(_PORTFOLIO)

    def __len__(self) -> int:
        return len(_PORTFOLIO)


PORTFOLIO_METHODS: Mapping[str, type[MarginMethod]] = _PortfolioMethods()


def method_for(scope: Scope) -> MarginMethod:
    """The margin method object for `scope` (see the module docstring)."""
    if scope.mode == "isolated":
        return _class("IsolatedMethod")(scope)
    if scope.mode == "cross":
        return _class("CrossMethod")(scope)
    return PORTFOLIO_METHODS[scope.profile.method](scope)


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return _class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PORTFOLIO_METHODS", "Attribution", "BybitPMMethod", "CrossMethod", "DeribitPMMethod",
           "IsolatedMethod", "MarginMethod", "OkxPMMethod", "Parts", "Pmrm2Method", "RiskArrayMethod", "Scope",
           "SpanMethod", "method_for"]
