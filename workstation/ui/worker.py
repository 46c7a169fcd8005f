"""Run a function on the global QThreadPool and report through typed signals.

Signals are emitted from the pool thread; Qt queues them onto the thread of the receivers
(the GUI thread), so slots may touch widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

_running: set[Worker] = set()


class WorkerSignals(QObject):
    """`returned(result)`, `errored(exception)`, then always `finished()`."""

    returned = Signal(object)
    errored = Signal(object)
    finished = Signal()


class Worker(QRunnable):
    """Calls `fn(*args, **kwargs)` once on a pool thread."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = WorkerSignals()
        self.setAutoDelete(False)

    @property
    def returned(self) -> Signal:
        return self.signals.returned

    @property
    def errored(self) -> Signal:
        return self.signals.errored

    @property
    def finished(self) -> Signal:
        return self.signals.finished

    def run(self) -> None:
        try:
            result = self.fn(*self.args, **self.kwargs)
        except Exception as exc:  # reported to the GUI, never lost
            self.signals.errored.emit(exc)
        else:
            self.signals.returned.emit(result)
        finally:
            self.signals.finished.emit()


def start_worker(
    fn: Callable[..., Any],
    *args: Any,
    on_returned: Callable[[Any], None] | None = None,
    on_errored: Callable[[BaseException], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> Worker:
    """Start `fn(*args, **kwargs)` on `pool` (default: the global pool); return the worker.

    The callbacks are connected before the worker starts, so no signal can be missed; the
    worker is kept alive until its `finished` signal has been delivered.
    """
    worker = Worker(fn, *args, **kwargs)
    if on_returned is not None:
        worker.signals.returned.connect(on_returned)
    if on_errored is not None:
        worker.signals.errored.connect(on_errored)
    if on_finished is not None:
        worker.signals.finished.connect(on_finished)
    _running.add(worker)
    worker.signals.finished.connect(lambda: _running.discard(worker))
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker
