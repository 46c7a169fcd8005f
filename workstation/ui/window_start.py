"""The window's start, in the order that keeps the GUI thread free: the figures painted in a turn
of their own, then the Qt types made a few per turn, the charts imported on a worker and built
one per turn, and the What-if and Stress code imported once the window is idle.

A mixin of `MainWindow` (it uses the window's `book`, `charts`, `load_charts` and `is_busy`).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer

from workstation.ui.startup import (
    LATER_MODULES,
    LAZY_MODULES,
    favour_gui_thread,
    freeze_loaded_code,
    import_modules,
    make_qt_types,
)
from workstation.ui.worker import start_worker

AFTER_PAINT = QEvent.Type(QEvent.registerEventType())  # the first figures painted: `_preload`
LATER_IMPORT_WAIT_MS = 50  # between looks for an idle window (`_preload_later`)


class WindowStart:
    """Paints new figures in a turn of their own, and loads the lazily built parts after the first."""

    _lazy_charts: bool
    _preloading: bool

    def _paint_figures(self) -> None:
        """The figures set up with the window's updates off (`_on_computed`), painted now: set-up
        and paint at once (15-30 + 25-45 ms of the GUI thread on 10,000 positions) held input
        twice as long. The layouts first, so that one paint shows them; the curve and heatmap
        asked for after it."""
        favour_gui_thread()
        self.setUpdatesEnabled(True)  # the charts' frames disabled one by one stay so
        if self.isVisible():
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self.repaint()
        self.book.ask_charts()
        if self.charts is None and self._lazy_charts:  # after the paint: `_preload`'s turns would hold it back
            QCoreApplication.postEvent(self, QEvent(AFTER_PAINT), Qt.EventPriority.LowEventPriority.value - 1)

    def customEvent(self, event: QEvent) -> None:
        if event.type() == AFTER_PAINT:
            self._preload()
        else:
            super().customEvent(event)  # type: ignore[misc]

    def _preload(self) -> None:
        """Make the Qt types here, a few per turn (`make_qt_types`), then import the charts on a
        worker and build them here; then import the What-if and Stress code on a worker
        (`_preload_later`)."""
        if self._preloading or self.charts is not None:
            return
        self._preloading = True
        make_qt_types(self._import_charts, self)

    def _import_charts(self) -> None:
        # a bound method, not a lambda: Qt drops the call if the window was deleted meanwhile (closed)
        start_worker(import_modules, LAZY_MODULES, on_returned=self._after_preload, on_errored=self._after_preload)

    def _after_preload(self, _result: object = None) -> None:
        self.book.charts_ready.connect(self._preload_later, Qt.ConnectionType.SingleShotConnection)
        self.load_charts(staged=True)  # the What-if is built when first opened

    def _preload_later(self) -> None:
        """Import the What-if and Stress code (with scipy.optimize) on a worker once the window is
        idle (the curve and heatmap computed, the charts painted): imported meanwhile, the threads'
        contention for the GIL held the GUI thread 55-85 ms. A failed import shows when the tab
        that needs it is opened and imports it again."""
        if self.is_busy() or self.book.charts_painting():
            QTimer.singleShot(LATER_IMPORT_WAIT_MS, self, self._preload_later)
            return
        start_worker(import_modules, LATER_MODULES, on_returned=self._after_later_imports,
                     on_errored=lambda _e: None)

    def _after_later_imports(self, _result: object = None) -> None:
        freeze_loaded_code()
