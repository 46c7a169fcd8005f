"""Form pieces shared by the editing dialogs: number fields and a submit-checked dialog."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimeZone
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


def combo(items: list[str] | tuple[str, ...], current: str | None = None, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.setEditable(editable)
    box.addItems(list(items))
    if current is not None:
        idx = box.findText(current)
        if idx >= 0:
            box.setCurrentIndex(idx)
        elif editable:
            box.setEditText(current)
    return box


def qdatetime(value: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(value.timestamp()), QTimeZone.utc())


class NumberField(QLineEdit):
    """A line edit for one number; empty means `None` when `optional`. The value it was given is
    shown to 10 significant digits and given back exactly while its text is left alone (an edit of
    another field never rounds this one)."""

    def __init__(self, value: float | None = None, optional: bool = False, placeholder: str = ""):
        super().__init__()
        self.optional = optional
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setPlaceholderText(placeholder or ("optional" if optional else ""))
        self.set_value(value)

    def set_value(self, value: float | None) -> None:
        self.setText("" if value is None else self.shown(value))
        self._given = (self.text(), value)

    def shown(self, value: float) -> str:
        return f"{value:.10g}"

    def given(self) -> float | None:
        """The finite value `set_value` showed, while its text is left as shown; else None."""
        text, value = self._given
        if value is None or self.text() != text or not math.isfinite(value):
            return None
        return float(value)

    def value(self, name: str) -> float | None:
        """The number typed in; raises ValueError naming the field when it is not one."""
        given = self.given()
        return given if given is not None else self._parse(name)

    def _parse(self, name: str) -> float | None:
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
    """A number typed and shown in percent (55 means 55 %), held as a fraction (0.55)."""

    def __init__(self, value: float | None = None, optional: bool = False, placeholder: str = ""):
        super().__init__(value, optional, placeholder or "in %, e.g. 55 for 55 %")

    def shown(self, value: float) -> str:
        return f"{value * 100.0:.8g}"

    def value(self, name: str) -> float | None:
        """The fraction typed in percent ("55", "55 %", "55%" are all 0.55)."""
        given = self.given()
        if given is not None:
            return given
        text = self.text()
        self.setText(text.strip().removesuffix("%").strip())
        try:
            number = self._parse(name)
        finally:
            self.setText(text)
        return None if number is None else number / 100.0


VOL_ASK_ABOVE = 3.0  # ask before accepting a vol above 300 %
PRICE_ASK_MOVE = 0.5  # ask before accepting a price more than 50 % away from the last one


def unusual_vol(vol: float | None, name: str = "Implied vol") -> str | None:
    """The question to ask about a vol above 300 % (None: nothing unusual)."""
    if vol is not None and vol > VOL_ASK_ABOVE:
        return (f"{name} of {vol * 100:,.4g} % is above {VOL_ASK_ABOVE * 100:.0f} % (vols are typed in "
                "percent: 55 means 55 %). Use it?")
    return None


def unusual_price(price: float | None, last: float | None, name: str = "Price") -> str | None:
    """The question to ask about a price more than 50 % away from the last one."""
    if price is None or not last or last <= 0:
        return None
    move = price / last - 1.0
    if abs(move) > PRICE_ASK_MOVE:
        return f"{name} {price:,.10g} is {move * 100:+,.0f} % from the last one ({last:,.10g}). Use it?"
    return None


class FormDialog(QDialog):
    """A form with OK / Cancel; OK calls `submit()`, and an error keeps the dialog open.

    Values that are allowed but unusual are asked about (`check`) before they are accepted."""

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
