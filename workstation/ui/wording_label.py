"""A label that shows the longest of its wordings that fits its width, never a clipped one (the
dashboard's `FitLabel` shrinks the font of one text instead).

For a label beside a slider or in a narrow column: "+2 d · Fri 27 Nov (weekly expiry)" when
there is room, "+2 d · Fri 27 Nov" when less, "+2 d" at worst; the tooltip keeps the whole text.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class WordingLabel(QLabel):
    """`set_texts(full, shorter, ...)`: longest first; the last one sets the minimum width."""

    def __init__(self, *texts: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: tuple[str, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.set_texts(*texts)

    def set_texts(self, *texts: str) -> None:
        self._texts = tuple(t for t in texts if t) or ("",)
        self.setToolTip(self._texts[0] if len(self._texts) > 1 else "")
        self.updateGeometry()
        self._fit()

    def texts(self) -> Sequence[str]:
        return self._texts

    def _advance(self, text: str) -> int:
        return self.fontMetrics().horizontalAdvance(text) + 2 * self.margin() + 2

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self._advance(self._texts[-1]), hint.height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self._advance(self._texts[0]), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.contentsRect().width()
        text = next((t for t in self._texts if self._advance(t) <= room), self._texts[-1])
        if text != self.text():
            super().setText(text)
