"""Python's cyclic garbage collector, run on the GUI thread only.

Left automatic, a collection runs in whichever thread happens to allocate when a threshold is
crossed, usually an engine worker (they allocate the most). A widget, chart item or timer that is
only kept alive by a reference cycle is then destroyed on that worker thread, and its destructor
touches Qt there: offscreen under load this showed as "QBasicTimer::start: Timers cannot be
started from another thread" raised from the middle of engine code (numpy calls) on a pool
thread, and it can crash Qt. pyqtgraph gives the same advice (`pyqtgraph.util.garbage_collector`).

`GuiThreadCollector` turns automatic collection off and does the same work from a GUI timer:
the thresholds are Python's own, checked every `interval_ms`.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    """While it runs, cyclic garbage is collected here (the GUI thread), never on a worker."""

    def __init__(self, interval_ms: int = 250, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose counts passed Python's thresholds, as Python would."""
        t0, t1, t2 = self.threshold
        c0, c1, c2 = gc.get_count()
        if c0 > t0:
            generation = 2 if c2 > t2 and c1 > t1 else 1 if c1 > t1 else 0
            gc.collect(generation)

    def stop(self) -> None:
        """Automatic collection as before (after a last collection here)."""
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
