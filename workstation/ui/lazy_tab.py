"""A tab whose page is built when first needed (opened, or asked for in code): until then a
placeholder holds its place, so building it never delays the window's first figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget


def placeholder(text: str) -> QWidget:
    """A page that says what is still loading."""
    host = QWidget()
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(text)
    label.setObjectName("muted")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addWidget(label)
    return host


class LazyTab:
    """One tab of `tabs`: a placeholder page until `get()` builds the real one with `build()`
    and puts it in the placeholder's place (same index, title, tooltip, enabled state)."""

    def __init__(self, tabs: QTabWidget, title: str, tip: str, build: Callable[[], QWidget],
                 loading: str = "Loading…", minimum: tuple[int, int] | None = None) -> None:
        self.tabs = tabs
        self.title = title
        self._build = build
        self.page: Any = None
        self._placeholder: QWidget | None = placeholder(loading)
        if minimum is not None:  # the page's own minimum: the window's minimum is fixed from it
            self._placeholder.setMinimumSize(*minimum)
        tabs.setTabToolTip(tabs.addTab(self._placeholder, title), tip)

    def widget(self) -> QWidget:
        """The tab's current page (the placeholder until built)."""
        return self.page if self.page is not None else self._placeholder  # type: ignore[return-value]

    def index(self) -> int:
        return self.tabs.indexOf(self.widget())

    def get(self) -> Any:
        """The real page, built now if it was not yet."""
        if self.page is not None:
            return self.page
        page = self._build()
        index, current = self.index(), self.tabs.currentIndex()
        enabled, tip = self.tabs.isTabEnabled(index), self.tabs.tabToolTip(index)
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, page, self.title)
        self.tabs.setTabToolTip(index, tip)
        self.tabs.setTabEnabled(index, enabled)
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        if self._placeholder is not None:
            self._placeholder.deleteLater()
            self._placeholder = None
        self.page = page
        return page
