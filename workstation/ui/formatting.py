"""Number formatting and usage colours for display. No Qt here: plain functions, easy to test."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "USDT": "₮", "BTC": "₿"}
THOUSANDS_CHOICES = {"comma": ",", "space": "\u2009", "apostrophe": "'", "none": ""}
CURRENCY_DISPLAYS = ("code", "symbol", "none")

# Margin usage bands (maintenance margin / equity): calm, amber, red.
USAGE_AMBER = 0.50
USAGE_RED = 0.80
# Liquidation distance bands (absolute percent move).
LIQ_RED_PCT = 15.0
LIQ_AMBER_PCT = 30.0

MINUS = "\u2212"
DASH = "\u2014"


@dataclass(frozen=True)
class NumberFormat:
    """How figures are written: decimals for money, thousands separator, currency display."""

    decimals: int = 0
    thousands: str = "comma"
    currency_display: str = "code"
    base_currency: str = "USD"

    def with_currency(self, code: str) -> NumberFormat:
        return replace(self, base_currency=code)

    @property
    def separator(self) -> str:
        return THOUSANDS_CHOICES.get(self.thousands, ",")

    def _group(self, value: float, decimals: int) -> str:
        text = f"{abs(value):,.{decimals}f}"
        if self.separator != ",":
            text = text.replace(",", self.separator)
        return (MINUS if value < 0 and float(text.replace(self.separator, "") or 0) else "") + text

    def number(self, value: float | None, decimals: int | None = None) -> str:
        """A plain number with grouping; `None` and non-finite values as a dash."""
        if not _finite(value):
            return DASH
        return self._group(float(value), self.decimals if decimals is None else decimals)

    def money(self, value: float | None, decimals: int | None = None, unit: bool = False) -> str:
        """A base-currency amount; with `unit`, followed or preceded by the currency."""
        text = self.number(value, decimals)
        if not unit or text == DASH:
            return text
        return self.with_unit(text)

    def with_unit(self, text: str) -> str:
        if self.currency_display == "symbol":
            sym = CURRENCY_SYMBOLS.get(self.base_currency)
            if sym:
                if text.startswith(MINUS):
                    return f"{MINUS}{sym}{text[1:]}"
                return f"{sym}{text}"
        if self.currency_display == "none":
            return text
        return f"{text} {self.base_currency}"

    def unit_label(self) -> str:
        if self.currency_display == "symbol":
            return CURRENCY_SYMBOLS.get(self.base_currency, self.base_currency)
        return "" if self.currency_display == "none" else self.base_currency

    def price(self, value: float | None) -> str:
        """A price: 2 decimals from 1 upward, 4 significant digits below (coin-quoted premiums)."""
        if not _finite(value):
            return DASH
        v = float(value)
        if v == 0 or abs(v) >= 1:
            return self._group(v, 2)
        return self._group(v, min(8, max(4, 3 - math.floor(math.log10(abs(v))))))

    def quantity(self, value: float | None) -> str:
        """A quantity: integers without decimals, up to 6 decimals otherwise."""
        if not _finite(value):
            return DASH
        v = float(value)
        if v == int(v):
            return self._group(v, 0)
        text = f"{v:.6f}".rstrip("0")
        decimals = len(text.split(".")[1]) if "." in text else 0
        return self._group(v, decimals)

    def greek(self, value: float | None) -> str:
        """A Greek: no decimals from 100 up, 2 from 1 up, 3 significant digits below."""
        if not _finite(value):
            return DASH
        v = float(value)
        if abs(v) >= 100:
            return self._group(v, 0)
        if v == 0 or abs(v) >= 1:
            return self._group(v, 2)
        return self._group(v, min(10, 2 - math.floor(math.log10(abs(v)))))

    def percent(self, value: float | None, decimals: int = 1, signed: bool = False) -> str:
        """`value` already in percent (e.g. -23.4)."""
        if not _finite(value):
            return DASH
        v = float(value)
        text = f"{abs(v):.{decimals}f} %"
        if v < 0 and float(f"{abs(v):.{decimals}f}"):
            return MINUS + text
        return ("+" + text) if signed and v > 0 else text

    def ratio(self, value: float | None, decimals: int = 1) -> str:
        """A fraction (0.42) written as a percent (42.0 %)."""
        return self.percent(None if not _finite(value) else float(value) * 100.0, decimals)


def significant(value: float) -> str:
    """Up to 10 significant digits, comma-grouped, with the true minus sign the tables use
    (a size as the engine holds it: "−273,740", "−3.000038")."""
    return f"{value:,.10g}".replace("-", MINUS)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def usage_level(usage: float | None) -> str:
    """'calm' below 50 %, 'amber' to 80 %, 'red' above (and when equity is gone)."""
    if usage is None or (isinstance(usage, float) and math.isnan(usage)):
        return "none"
    if usage < 0 or usage >= USAGE_RED:
        return "red"
    return "amber" if usage >= USAGE_AMBER else "calm"


PAST_LIQUIDATION = "past liquidation"


def margin_state(equity: float | None, maintenance: float | None, usage: float | None) -> str:
    """'past' when equity is at or below maintenance margin (usage >= 100 %, or equity <= 0 where
    the engine gives no usage), else the usage band of `usage_level`."""
    eq, mm = (float(v) if _finite(v) else None for v in (equity, maintenance))
    if eq is not None and (eq < 0 or (mm is not None and mm > 0 and eq <= mm)):
        return "past"
    if _finite(usage) and float(usage) >= 1.0:
        return "past"
    return usage_level(usage)


def state_colour_level(state: str) -> str:
    """The colour band of a `margin_state`: past liquidation is red."""
    return "red" if state == "past" else state


def usage_text(fmt: NumberFormat, state: str, usage: float | None, decimals: int = 1) -> str:
    """Usage as a percent, or the words when the account is past liquidation."""
    return PAST_LIQUIDATION if state == "past" else fmt.ratio(usage, decimals)


def distance_level(pct: float | None) -> str:
    """Liquidation distance band: 'red' under 15 %, 'amber' under 30 %, else 'calm'."""
    if not _finite(pct):
        return "calm"
    d = abs(float(pct))
    if d < LIQ_RED_PCT:
        return "red"
    return "amber" if d < LIQ_AMBER_PCT else "calm"
