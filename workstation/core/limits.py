"""The ranges every reader holds its input to (README, "Bad input, decided").

One place for the rules, so that a portfolio file, a CSV or ccxt import and an edit in the
window refuse the same values. Each check returns None for a good value, else what was
expected (the caller adds the location).

Numbers: within these ranges every figure of the engine stays far inside float range (a
notional is at most 1e30, its square 1e60), so an accepted book gives a finite report.
Dates: 1970 to 2200, UTC; a year outside (a typo such as `0226`) is refused, not stored.
Ids and codes: printable text (no control characters, no unpaired surrogates), at most
MAX_CODE characters; names and venues: no control characters, at most MAX_NAME.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime

MAX_MAGNITUDE = 1e15  # quantities, amounts, margins, prices, strikes
MIN_PRICE = 1e-12  # a positive price or strike below this would overflow inverse P&L
MAX_VOL = 1e4  # implied vol as a fraction (Derive's test cases go to 2,511); prices stay finite
MAX_RATE = 1.0  # |rate|: 100 % a year
MAX_CODE = 200  # characters of an id or an asset code
MAX_NAME = 500  # characters of a name or venue
FIRST_YEAR, LAST_YEAR = 1970, 2200
# margin profiles: each entry is a scenario of the risk arrays (1,000,001 steps took 36 s, 1.9 GB)
MAX_PRICE_STEPS = 201
MAX_TAIL = 100
MAX_SCENARIOS = 1000
EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(LAST_YEAR, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def magnitude(x: float) -> str | None:
    """A finite number of at most MAX_MAGNITUDE in absolute value."""
    if not math.isfinite(x):
        return "a finite number"
    if abs(x) > MAX_MAGNITUDE:
        return f"a number between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}"
    return None


def price(x: float) -> str | None:
    """A positive price or strike between MIN_PRICE and MAX_MAGNITUDE."""
    if not math.isfinite(x) or x <= 0:
        return "a positive number"
    if not MIN_PRICE <= x <= MAX_MAGNITUDE:
        return f"a positive number between {MIN_PRICE:g} and {MAX_MAGNITUDE:g}"
    return None


def vol(x: float) -> str | None:
    if not math.isfinite(x) or not 0 <= x <= MAX_VOL:
        return f"a vol between 0 and {MAX_VOL:g} (a fraction: 0.5 is 50 %)"
    return None


def rate(x: float) -> str | None:
    if not math.isfinite(x) or abs(x) > MAX_RATE:
        return f"a rate between -{MAX_RATE:g} and {MAX_RATE:g} (a fraction: 0.05 is 5 %)"
    return None


def time_window(t: datetime) -> str | None:
    """An aware time within 1970-01-01 .. 2200-12-31 (UTC)."""
    if not EARLIEST <= t <= LATEST:
        return f"a time from {FIRST_YEAR} to {LAST_YEAR} (four-digit year)"
    return None


def epoch_micros(x: float) -> str | None:
    """A Unix time in microseconds within the date window (venues stamp records this way)."""
    lo, hi = EARLIEST.timestamp() * 1e6, LATEST.timestamp() * 1e6
    if not math.isfinite(x) or not lo <= x <= hi:
        return f"a time in microseconds since 1970 within {FIRST_YEAR}..{LAST_YEAR}"
    return None


def year_window(year: int) -> str | None:
    """The year of a time before its zone is applied (so that the conversion cannot overflow)."""
    if not FIRST_YEAR - 1 <= year <= LAST_YEAR + 1:
        return f"a time from {FIRST_YEAR} to {LAST_YEAR} (four-digit year)"
    return None


def _bad_char(text: str, *, strict: bool) -> str | None:
    """The first character an id (strict: anything non-printable) or a name (controls and
    unpaired surrogates) may not hold."""
    if text.isprintable():
        return None
    for char in text:
        category = unicodedata.category(char)
        if (strict and not char.isprintable()) or category in ("Cc", "Cs"):
            return char
    return None


def _text(text: str, most: int, strict: bool, wanted: str) -> str | None:
    """What `text` should be (`wanted` naming the bad character's code point), or None."""
    if not text.strip():
        return "a non-empty string"
    if len(text) > most:
        return f"at most {most} characters"
    bad = _bad_char(text, strict=strict)
    return None if bad is None else wanted.format(f"U+{ord(bad):04X}")


def code(text: str) -> str | None:
    """An id or asset code: non-empty printable text of at most MAX_CODE characters."""
    return _text(text, MAX_CODE, True, "printable text (no control characters: {} found)")


def name(text: str) -> str | None:
    """A display name or venue: non-empty, no control characters, at most MAX_NAME characters."""
    return _text(text, MAX_NAME, False, "text without control characters ({} found)")
