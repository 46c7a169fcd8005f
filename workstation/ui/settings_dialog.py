"""Settings dialog: theme, number format and how the base currency is shown."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QWidget

from workstation.ui.fields import FormDialog
from workstation.ui.formatting import CURRENCY_DISPLAYS, THOUSANDS_CHOICES
from workstation.ui.settings import DisplaySettings
from workstation.ui.theme import THEMES

THOUSANDS_LABELS = {"comma": "1,234,567", "space": "1 234 567", "apostrophe": "1'234'567",
                    "none": "1234567"}
CURRENCY_LABELS = {"code": "Code (1,000 USD)", "symbol": "Symbol ($1,000)", "none": "None (1,000)"}


class SettingsDialog(FormDialog):
    """Edit `DisplaySettings`; `result_value()` gives the new settings."""

    def __init__(self, current: DisplaySettings, base_currency: str = "USD",
                 parent: QWidget | None = None) -> None:
        super().__init__("Settings", parent)
        self.theme = QComboBox()
        for name in THEMES:
            self.theme.addItem(name.capitalize(), name)
        self.theme.setCurrentIndex(THEMES.index(current.theme))
        self.decimals = QSpinBox()
        self.decimals.setRange(0, 6)
        self.decimals.setValue(current.decimals)
        self.thousands = QComboBox()
        for key in THOUSANDS_CHOICES:
            self.thousands.addItem(THOUSANDS_LABELS[key], key)
        self.thousands.setCurrentIndex(list(THOUSANDS_CHOICES).index(current.thousands))
        self.currency = QComboBox()
        for key in CURRENCY_DISPLAYS:
            self.currency.addItem(CURRENCY_LABELS[key], key)
        self.currency.setCurrentIndex(CURRENCY_DISPLAYS.index(current.currency_display))
        self.preview = QLabel()
        self.preview.setObjectName("muted")
        self.base_currency = base_currency
        self.form.addRow("Theme", self.theme)
        self.form.addRow("Money decimals", self.decimals)
        self.form.addRow("Thousands separator", self.thousands)
        self.form.addRow(f"Base currency ({base_currency})", self.currency)
        self.form.addRow("Preview", self.preview)
        for box in (self.theme, self.thousands, self.currency):
            box.currentIndexChanged.connect(self._preview)
        self.decimals.valueChanged.connect(self._preview)
        self._preview()
        self.setMinimumWidth(360)

    def result_value(self) -> DisplaySettings:
        return DisplaySettings(
            theme=self.theme.currentData(),
            decimals=self.decimals.value(),
            thousands=self.thousands.currentData(),
            currency_display=self.currency.currentData(),
        )

    def _preview(self) -> None:
        fmt = self.result_value().number_format(self.base_currency)
        self.preview.setText(f"{fmt.money(1234567.891, unit=True)}   {fmt.money(-9876.5, unit=True)}")
