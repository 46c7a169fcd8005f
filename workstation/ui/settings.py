"""Display preferences (theme, number format, currency display) kept in QSettings."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from workstation.ui.formatting import CURRENCY_DISPLAYS, THOUSANDS_CHOICES, NumberFormat
from workstation.ui.theme import THEMES

ORGANIZATION = "margin-workstation"
APPLICATION = "Margin Workstation"


@dataclass(frozen=True)
class DisplaySettings:
    theme: str = "light"
    decimals: int = 0
    thousands: str = "comma"
    currency_display: str = "code"

    def number_format(self, base_currency: str = "USD") -> NumberFormat:
        return NumberFormat(self.decimals, self.thousands, self.currency_display, base_currency)

    @classmethod
    def load(cls, settings: QSettings) -> DisplaySettings:
        default = cls()
        theme = str(settings.value("display/theme", default.theme))
        thousands = str(settings.value("display/thousands", default.thousands))
        currency = str(settings.value("display/currency", default.currency_display))
        try:
            decimals = int(settings.value("display/decimals", default.decimals))
        except (TypeError, ValueError):
            decimals = default.decimals
        return cls(
            theme=theme if theme in THEMES else default.theme,
            decimals=min(6, max(0, decimals)),
            thousands=thousands if thousands in THOUSANDS_CHOICES else default.thousands,
            currency_display=currency if currency in CURRENCY_DISPLAYS else default.currency_display,
        )

    def save(self, settings: QSettings) -> None:
        settings.setValue("display/theme", self.theme)
        settings.setValue("display/decimals", self.decimals)
        settings.setValue("display/thousands", self.thousands)
        settings.setValue("display/currency", self.currency_display)


def app_settings() -> QSettings:
    """The user's settings store (platform default location)."""
    return QSettings(ORGANIZATION, APPLICATION)
