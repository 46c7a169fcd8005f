"""A tab widget that repaints only what changed when a label on one of its pages changes text.

A label's new text makes Qt lay out its ancestors again, up to the first tab widget (a layout's
`activate` always passes the request up). `QTabWidget` answers each such request by placing its
tab bar and page again and repainting all of itself, pages included, even when nothing moved:
on the What-if tab every step of a dragged size slider (its size label and the status line
change) repainted the whole window's tab area, about 6 ms of the GUI thread on an idle
machine, more under load.

`steady(tabs)` filters those requests: when the inputs of the tab widget's placement are those
of the last request it let through (its size, the tab bar's size hint and visibility, the
corner widgets' size hints, position and document mode), nothing can move, so the request only
passes the new size hints up (`updateGeometry`) and nothing is repainted beyond the label.
Resizes, new tabs and style changes place the tabs as before (Qt does those directly).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QTabWidget


class SteadyTabs(QObject):
    """Event filter of one tab widget (see the module)."""

    def __init__(self, tabs: QTabWidget) -> None:
        super().__init__(tabs)
        self._last: tuple[Any, ...] | None = None
        tabs.installEventFilter(self)

    @staticmethod
    def placement(tabs: QTabWidget) -> tuple[Any, ...]:
        """What the placement of the tab bar and the page depends on."""
        corners = tuple(w.sizeHint().toTuple() if w is not None and w.isVisibleTo(tabs) else None
                        for w in (tabs.cornerWidget(Qt.Corner.TopLeftCorner),
                                  tabs.cornerWidget(Qt.Corner.TopRightCorner)))
        bar = tabs.tabBar()
        return (tabs.size().toTuple(), bar.sizeHint().toTuple(), bar.isVisibleTo(tabs), corners,
                tabs.tabPosition(), tabs.documentMode())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # Qt's name
        if event.type() != QEvent.Type.LayoutRequest or not isinstance(obj, QTabWidget) or not obj.isVisible():
            return False
        key = self.placement(obj)
        if key == self._last:
            obj.updateGeometry()  # the pages' new size hints still reach the window's layout
            return True
        self._last = key
        return False


def steady(tabs: QTabWidget) -> QTabWidget:
    """Install the filter on `tabs`; returns `tabs`."""
    SteadyTabs(tabs)
    return tabs
