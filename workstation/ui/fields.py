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
