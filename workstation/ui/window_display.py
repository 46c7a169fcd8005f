"""The main window's display settings: theme and number format applied to every part of the
window, and remembered. A mixin of `MainWindow` (main_window.py), which holds the parts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QApplication

from workstation.ui.formatting import NumberFormat
from workstation.ui.settings import DisplaySettings
from workstation.ui.theme import apply_theme, theme_named


class WindowDisplay:
    """Theme and number format of the window (`display`, a `DisplaySettings`)."""

    display: DisplaySettings
    settings: Any
    workspace: Any

    def number_format(self) -> NumberFormat:
        """The number format of the settings, in the book's base currency."""
        base = self.workspace.portfolio.base_currency if self.workspace.portfolio else "USD"
        return self.display.number_format(base)

    def set_theme(self, name: str) -> None:
        self.apply_display(replace(self.display, theme=name))

    def apply_display(self, display: DisplaySettings, save: bool = True) -> None:
        """Apply theme and number format everywhere (and remember them)."""
        self.display = display
        if save:
            display.save(self.settings)
        theme = theme_named(display.theme)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.theme_actions[display.theme].setChecked(True)
        for target in (self.tree.tree_model, self.overview.model, self.dashboard, self.history, self.book,
                       *self._built()):
            target.set_theme(theme)
        self._apply_number_format()

    def _collateral_total(self, report: dict[str, Any]) -> str:
        return f"after haircuts {self.number_format().money(report.get('collateral_value'), unit=True)}"

    def _apply_number_format(self) -> None:
        fmt = self.number_format()
        for target in (self.overview.model, self.dashboard, self.history, *self._built()):
            target.set_number_format(fmt)
        self.book.set_number_format(fmt, fmt.unit_label())
        self.tree.tree_model.set_number_format(replace(fmt, decimals=0))
        if self.workspace.view is not None:
            self.collateral.total.setText(self._collateral_total(self.workspace.view.report))
