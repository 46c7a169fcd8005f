"""Checks on values handed to the store, following the portfolio format's rules.

Every check raises `InvalidInput(field, message)`; callers that know a file and line turn it
into an `ImportFileError`. The ranges are the portfolio reader's (`core.limits`), so an edit in
the window, an import and a portfolio file refuse the same values; messages quote an offending
value shortened (`core.errors.shown`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Container, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from workstation.core import limits
from workstation.core.errors import PortfolioError, shown
from workstation.core.model import MARGIN_MODES, Position, Quote
from workstation.core.portfolio_io import position_from_dict
from workstation.core.portfolio_write import position_to_dict
from workstation.store.codec import dumps
from workstation.store.errors import InvalidInput


def number(
    value: object,
    field: str,
    *,
    minimum: float | None = None,
    positive: bool = False,
    optional: bool = False,
    rule: Callable[[float], str | None] | None = None,
) -> float | None:
    """A finite float (None allowed when `optional`), at least `minimum`, > 0 if `positive`,
    within `rule` (a `core.limits` check; default: by the field's name, see `_rule`)."""
    if value is None:
        if optional:
            return None
        raise InvalidInput(field, "a number is required")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(field, f"expected a number (got {shown(value)})")
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise InvalidInput(field, f"expected a finite number (got {shown(value)})")
    if positive and result <= 0:
        raise InvalidInput(field, f"expected a positive number (got {shown(value)})")
    if minimum is not None and result < minimum:
        raise InvalidInput(field, f"expected a number >= {minimum:g} (got {shown(value)})")
    problem = (rule or _rule(field, positive))(result)
    if problem:
        raise InvalidInput(field, f"expected {problem} (got {shown(value)})")
    return result


def _rule(field: str, positive: bool) -> Callable[[float], str | None]:
    """The range of a number by its field's last name: a vol, the rate, a price, else a
    quantity or amount (callers name fields as the portfolio format does)."""
    last = field.rsplit(".", 1)[-1].lstrip("-")
    if last == "vol":
        return limits.vol
    if last == "rate":
        return limits.rate
    return limits.price if positive else limits.magnitude


def text(value: object, field: str, *, optional: bool = False, name: bool = False) -> str | None:
    """An id or code (printable, at most limits.MAX_CODE characters), or with `name` a display
    name (no control characters, at most limits.MAX_NAME)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, f"expected a non-empty string (got {shown(value)})")
    problem = limits.name(value) if name else limits.code(value)
    if problem:
        raise InvalidInput(field, f"expected {problem} (got {shown(value)})")
    return value


def choice(value: object, field: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise InvalidInput(field, f"expected one of {', '.join(options)} (got {shown(value)})")
    return value


def margin_mode(value: object, field: str) -> str:
    return choice(value, field, MARGIN_MODES)


def asset(code: object, field: str, market: Container[str]) -> str:
    name = text(code, field)
    assert name is not None
    if name not in market:
        raise InvalidInput(field, f"asset {shown(name)} has no price in the market snapshot")
    return name


def utc(value: object, field: str, *, optional: bool = True) -> datetime | None:
    """An aware UTC time (naive: taken as UTC) within 1970 to 2200 (core.limits)."""
    if value is None and optional:
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(field, f"expected a date-time (got {shown(value)})")
    problem = limits.year_window(value.year)  # before the zone is applied: no overflow
    if problem is None:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        problem = limits.time_window(value)
    if problem:
        raise InvalidInput(field, f"expected {problem} (got {shown(value.isoformat())})")
    return value


def position(
    p: Position,
    field: str,
    *,
    market: Mapping[str, Quote],
    as_of: datetime,
    mode: str | None = None,
    require_id: bool = True,
) -> Position:
    """Check one position by the portfolio reader's own rules; return it as the reader would.

    `mode` is the account's margin mode (isolated_margin is required there and refused
    elsewhere; None skips that rule). `field` prefixes the name of the offending value.
    """
    if not isinstance(p, Position):
        raise InvalidInput(field, f"expected a position (got {type(p).__name__})")
    if require_id or p.id:
        text(p.id, f"{field}.id")
    elif not isinstance(p.id, str):
        raise InvalidInput(f"{field}.id", f"expected a string (got {p.id!r})")
    expiry = utc(p.expiry, f"{field}.expiry")
    doc = position_to_dict(p if expiry is p.expiry else replace(p, expiry=expiry))
    if not p.expired and p.settlement_price is not None:
        doc["settlement_price"] = p.settlement_price  # left out by position_to_dict
    if p.kind != "option":
        for key in ("right", "strike"):
            if getattr(p, key) is not None:
                doc[key] = getattr(p, key)
    if not p.id:
        doc.pop("id", None)
    try:
        return position_from_dict(
            doc, field, market, as_of, margin_mode=mode, default_id=None if p.id else ""
        )
    except PortfolioError as err:
        raise InvalidInput(err.path, err.detail) from None


def json_dumps(value: Any, field: str) -> str:
    """JSON text for a TEXT column; refuses what JSON cannot hold (NaN, objects, ...)."""
    try:
        return dumps(value)
    except (TypeError, ValueError) as err:
        raise InvalidInput(field, f"cannot be stored as JSON: {err}") from None
