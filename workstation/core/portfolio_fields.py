"""The portfolio reader's checks of single values: each returns the value or raises
`PortfolioError` naming its JSON path. Ranges come from `workstation.core.limits`."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from workstation.core import limits
from workstation.core.errors import PortfolioError
from workstation.core.jsonread import join_key

TIME_EXAMPLE = "an ISO-8601 UTC time such as 2026-11-25T08:00:00Z"


def obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PortfolioError(path, "an object", value)
    return value


def array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise PortfolioError(path, "an array", value)
    return value


def fields(d: dict[str, Any], path: str, allowed: set[str], required: tuple[str, ...]) -> None:
    """Refuse a key outside `allowed` and a missing `required` one."""
    for key in d:
        if key not in allowed:
            raise PortfolioError(join_key(path, key), f"no such field (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in d:
            raise PortfolioError(join_key(path, key), "a value for this required field")


def _text(value: Any, path: str, check: Callable[[str], str | None]) -> str:
    if not isinstance(value, str):
        raise PortfolioError(path, "a non-empty string", value)
    problem = check(value)
    if problem:
        raise PortfolioError(path, problem, value)
    return value


def code(value: Any, path: str) -> str:
    """An id, asset code or profile name: non-empty printable text (limits.code)."""
    return _text(value, path, limits.code)


def name(value: Any, path: str) -> str:
    """A display name or venue (limits.name)."""
    return _text(value, path, limits.name)


def choice(value: Any, path: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise PortfolioError(path, "one of " + ", ".join(options), value)
    return value


def number(
    value: Any,
    path: str,
    rule: Callable[[float], str | None] | None = None,
    *,
    minimum: float | None = None,
    positive: bool = False,
) -> float:
    """A JSON number (bools are refused) that passes `rule` (a limits check; default: a price
    if `positive`, else a magnitude within +/-1e15), and >= minimum."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PortfolioError(path, "a number", value)
    try:
        x = float(value)
    except OverflowError:  # an int beyond float range (the strict JSON reader refuses these)
        x = math.inf
    if rule is None:
        rule = limits.price if positive else limits.magnitude
    problem = rule(x)
    if problem:
        raise PortfolioError(path, problem, value)
    if minimum is not None and x < minimum:
        raise PortfolioError(path, f"a number >= {minimum:g}", value)
    return x


def parse_time(value: Any, path: str) -> datetime:
    """ISO-8601 time; a time without zone is taken as UTC. Returns an aware UTC datetime
    within limits.time_window (1970 to 2200)."""
    if not isinstance(value, str):
        raise PortfolioError(path, TIME_EXAMPLE, value)
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PortfolioError(path, TIME_EXAMPLE, value) from None
    problem = limits.year_window(t.year)  # before the zone is applied: no overflow
    if problem is None:
        t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
        problem = limits.time_window(t)
    if problem:
        raise PortfolioError(path, problem, value)
    return t


def format_time(t: datetime) -> str:
    """`2026-11-25T08:00:00Z` (fractions of a second only when there are some); the year always
    has four digits."""
    t = t.astimezone(UTC)
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text + "Z"
