"""Form pieces shared by the editing dialogs: number fields and a submit-checked dialog."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class NumberField(QLineEdit):
    """A line edit for one number; empty means `None` when `optional`."""

    def __init__(self, value: float | None = None, optional: bool = False, placeholder: str = ""):
        super().__init__()
        self.optional = optional
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setPlaceholderText(placeholder or ("optional" if optional else ""))
        self.set_value(value)

    def set_value(self, value: float | None) -> None:
        self.setText("" if value is None else f"{value:.10g}")

    def value(self, name: str) -> float | None:
        """The number typed in; raises ValueError naming the field when it is not one."""
        text = self.text().strip().replace(",", "").replace("_", "").replace(" ", "")
        if not text:
            if self.optional:
                return None
            raise ValueError(f"{name}: a number is required")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{name}: {self.text()!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{name}: must be a finite number")
        return number


class PercentField(NumberField):
    """A number typed and shown in percent (55 means 55 %); `value()` is the fraction (0.55)."""

    def __init__(self, value: float | None = None, optional: bool = False, placeholder: str = ""):
        super().__init__(None, optional, placeholder or ("e.g. 55 for 55 %" if not optional else ""))
        self.set_value(value)

    def set_value(self, value: float | None) -> None:
        self.setText("" if value is None else f"{value * 100.0:.10g}")

    def value(self, name: str) -> float | None:
        text = self.text().strip().rstrip("%").strip()
        if text != self.text().strip():
            self.setText(text)
        number = super().value(name)
        return None if number is None else number / 100.0


VOL_ASK_ABOVE = 3.0  # ask before accepting a vol above 300 %
PRICE_ASK_MOVE = 0.5  # ask before accepting a price more than 50 % away from the last one


def unusual_vol(vol: float | None, name: str = "Implied vol") -> str | None:
    """The question to ask about a vol above 300 % (None: nothing unusual)."""
    if vol is not None and vol > VOL_ASK_ABOVE:
        return f"{name} of {vol * 100:,.4g} % is above {VOL_ASK_ABOVE * 100:.0f} %. Use it?"
    return None


def unusual_price(price: float | None, last: float | None, name: str = "Price") -> str | None:
    """The question to ask about a price more than 50 % away from the last one."""
    if price is None or not last or last <= 0:
        return None
    move = price / last - 1.0
    if abs(move) > PRICE_ASK_MOVE:
        return (f"{name} {price:,.10g} is {move * 100:+,.0f} % from the last one ({last:,.10g}). "
                "Use it?")
    return None


class FormDialog(QDialog):
    """A form with OK / Cancel; OK calls `submit()`, and an error keeps the dialog open."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(8)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.on_submit: Callable[[Any], None] | None = None
        self.ask: Callable[[str], bool] = self._ask  # tests replace it

    def _ask(self, question: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(self, self.windowTitle(), question)
        return answer == QMessageBox.StandardButton.Yes

    def check(self, *questions: str | None) -> None:
        """Ask each unusual-value question; ValueError (the dialog stays open) on No."""
        for question in questions:
            if question and not self.ask(question):
                raise ValueError(question.replace(" Use it?", "") + ": not accepted; correct it")

    def result_value(self) -> Any:
        """What the form describes; raise ValueError with a message for bad input."""
        raise NotImplementedError

    def _on_ok(self) -> None:
        try:
            value = self.result_value()
            if self.on_submit is not None:
                self.on_submit(value)
        except Exception as exc:  # shown in the dialog: the user fixes and retries
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()
