"""The names of Derive's PMRM_2 profile keys, and their refusal under any other method.

Apart from `profile_pmrm2` (the keys' records and validation), which is then imported only
for a profile whose method is `pmrm2`: its records cost 4 ms of every start that does not
need them (`margin FILE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workstation.core.errors import ProfileError

METHOD = "pmrm2"
SKEW_DIRECTIONS = ("skew_linear", "skew_abs")
PORTFOLIO_KEYS = (
    "static_discount", "skew_shock", "basis_contingency", "forward_fixing_window",
    "perp_contingency", "perp_contingency_im", "short_option_contingency_im",
    "confidence_contingency", "peg_loss", "im_loss_factor", "haircut_in_scenarios",
)
TOP_KEYS = ("im_haircuts",)


def skew_rows(port: Mapping[str, Any]) -> list[int]:
    """Indices of the `[portfolio]` scenario rows that shock the skew."""
    return [i for i, row in enumerate(port.get("scenarios") or ())
            if isinstance(row, list | tuple) and len(row) == 3 and row[1] in SKEW_DIRECTIONS]


def refuse_outside(d: Mapping[str, Any], method: str, source: str) -> None:
    """A PMRM_2 key or skew row in the merged raw profile `d` of another method is an error."""
    port = d.get("portfolio") or {}
    given = [f"portfolio.{k}" for k in PORTFOLIO_KEYS if k in port] + [k for k in TOP_KEYS if k in d]
    if given:
        raise ProfileError(source, given[0], f'only with method = "{METHOD}" (this profile\'s is {method!r})')
    rows = skew_rows(port)
    if rows:
        raise ProfileError(source, f"portfolio.scenarios[{rows[0]}][1]",
                           f'skew rows only with method = "{METHOD}" and portfolio.skew_shock')
