"""Building blocks of every profile table: frozen mappings and the checks of one raw value.

Shared by `profile_tables` (the core tables), `profile_venues` (`[deribit]`, `[okx]`, ...) and
`profile_versions` (reading the TOML files). Every check raises
`ProfileError(source, dotted_key, problem)` with the offending value shortened by `shown`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from workstation.core import limits
from workstation.core.errors import ProfileError, shown

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenMap(Mapping[_K, _V]):
    """A read-only, hashable mapping (keeps frozen dataclasses hashable)."""

    __slots__ = ("_d", "_h")

    def __init__(self, items: Mapping[_K, _V] | None = None) -> None:
        self._d: dict[_K, _V] = dict(items or {})
        self._h: int | None = None

    def __getitem__(self, key: _K) -> _V:
        return self._d[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(frozenset(self._d.items()))
        return self._h

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"


def num(
    value: Any,
    source: str,
    key: str,
    *,
    lo: float | None = 0.0,
    lo_open: bool = False,
    hi: float | None = None,
    allow_inf: bool = False,
) -> float:
    """A real number (not bool), finite unless `allow_inf`, within [lo, hi] (or (lo, hi])."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(source, key, f"expected a number, got {shown(value)}")
    try:
        x = float(value)
    except OverflowError:  # an integer beyond float range
        x = math.inf if value > 0 else -math.inf
        allow_inf = False
    if math.isnan(x) or (math.isinf(x) and not (allow_inf and x > 0)):
        raise ProfileError(source, key, f"must be a finite number, got {shown(value)}")
    if lo is not None and (x <= lo if lo_open else x < lo):
        bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise ProfileError(source, key, f"must be {bound}, got {shown(value)}")
    if hi is not None and x > hi:
        raise ProfileError(source, key, f"must be <= {hi:g}, got {shown(value)}")
    return x


def text(value: Any, source: str, key: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(source, key, f"expected a non-empty string, got {shown(value)}")
    return value


def seq(value: Any, source: str, key: str, *, empty_ok: bool = False) -> list[Any]:
    """A list (TOML array or JSON list), not empty unless `empty_ok`."""
    if not isinstance(value, list | tuple):
        raise ProfileError(source, key, f"expected a list, got {type(value).__name__}")
    if not value and not empty_ok:
        raise ProfileError(source, key, "must not be empty")
    return list(value)


def table(value: Any, source: str, key: str) -> dict[str, Any]:
    """A table (TOML table or JSON object), copied."""
    if not isinstance(value, Mapping):
        raise ProfileError(source, key, f"expected a table, got {type(value).__name__}")
    return dict(value)


def increasing_pairs(value: Any, source: str, key: str, shape: str,
                     hi: float | None = None) -> tuple[tuple[float, float], ...]:
    """[[upper, value], ...] (`shape` names the two in messages) with increasing positive uppers
    (the last may be inf) and values >= 0 (<= `hi`): haircut bands, progressive scaling tiers."""
    out: list[tuple[float, float]] = []
    last = 0.0
    for i, row in enumerate(seq(value, source, key)):
        k = f"{key}[{i}]"
        pair = seq(row, source, k)
        if len(pair) != 2:
            raise ProfileError(source, k, f"expected {shape}, got {shown(row)}")
        upper = num(pair[0], source, f"{k}[0]", lo_open=True, allow_inf=True)
        if upper <= last:
            raise ProfileError(source, f"{k}[0]", f"upper values must increase, got {upper:g} after {last:g}")
        out.append((upper, num(pair[1], source, f"{k}[1]", hi=hi)))
        last = upper
    return tuple(out)


def at_most(value: Any, count: int, source: str, key: str) -> None:
    """Refuse a list longer than `count` (each entry is a scenario: the risk arrays grow with it)."""
    if isinstance(value, list | tuple) and len(value) > count:
        raise ProfileError(source, key, f"at most {count} entries, got {len(value):,}")


def known(d: Mapping[str, Any], allowed: tuple[str, ...], source: str, prefix: str) -> None:
    """Refuse a key not in `allowed` (named `prefix + key`)."""
    for key in d:
        if key not in allowed:
            raise ProfileError(
                source, f"{prefix}{key}", f"unknown key; allowed: {', '.join(allowed)}"
            )


def require(d: Mapping[str, Any], keys: tuple[str, ...], source: str, prefix: str) -> None:
    """Refuse a table that lacks one of `keys`."""
    for key in keys:
        if key not in d:
            raise ProfileError(source, f"{prefix}{key}", "missing")


def iso_date(value: Any, source: str, key: str) -> str:
    """An ISO date or date-time (TOML reads an unquoted date as a date) within the years the
    engine handles, as text."""
    if isinstance(value, datetime | date):
        when: date = value
        out = value.isoformat()
    else:
        out = text(value, source, key)
        try:
            when = date.fromisoformat(out)
        except ValueError:
            try:
                when = datetime.fromisoformat(out)
            except ValueError:
                raise ProfileError(
                    source, key, f"expected an ISO date such as 2026-11-01, got {shown(out)}"
                ) from None
    if not limits.FIRST_YEAR <= when.year <= limits.LAST_YEAR:
        raise ProfileError(source, key, f"expected a date from {limits.FIRST_YEAR} to "
                                        f"{limits.LAST_YEAR}, got {shown(out)}")
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's tables; a located error for an unreadable or invalid file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise ProfileError(str(path), "(file)", f"cannot read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(str(path), "(file)", f"not valid TOML: {err}") from None
    except RecursionError:
        raise ProfileError(str(path), "(file)", "not valid TOML: nested too deep") from None
    except ValueError as err:  # an integer of more than 4,300 digits
        raise ProfileError(str(path), "(file)", f"not valid TOML: {shown(str(err))}") from None
