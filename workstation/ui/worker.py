"""Run a function on the global QThreadPool and report through typed signals.

Signals are emitted from the pool thread; Qt queues them onto the thread of the receivers
(the GUI thread), so slots may touch widgets.

Nothing of a job is released on the pool thread: the function, its arguments and the signals
object (with the callbacks connected to it, which may hold widgets) are let go here, on the GUI
thread, once the job's `finished` has arrived and its `run()` is over (`_sweep`). Released on the
pool thread, a Qt object would be destroyed in the wrong thread; kept by the old
`finished -> lambda: discard(worker)` cycle through the connection, every job leaked them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

_running: dict[int, Worker] = {}  # started, `finished` not yet delivered
_retired: list[Worker] = []  # `finished` delivered; released once their run() is over


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
        self.over = False
        signals = self.signals
        try:
            result = self.fn(*self.args, **self.kwargs)
        except Exception as exc:  # reported to the GUI, never lost
            signals.errored.emit(exc)
        else:
            signals.returned.emit(result)
            del result  # engine data only: fine to free on this thread
        finally:
            signals.finished.emit()
            del signals
            self.over = True  # the last thing this thread does with the job


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
    _sweep()
    _running[id(worker)] = worker
    worker.signals.finished.connect(partial(_retire, id(worker)))  # no reference to the worker
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker


def _retire(key: int) -> None:
    """`finished` arrived (GUI thread): the worker is released by the next sweep after its run()."""
    worker = _running.pop(key, None)
    if worker is not None:
        _retired.append(worker)
    _sweep()


def _sweep() -> None:
    """Release, on this (the GUI) thread, the jobs whose run() is over."""
    keep = []
    for worker in _retired:
        if getattr(worker, "over", False):
            worker.fn, worker.args, worker.kwargs = _done, (), {}
            worker.signals = None  # type: ignore[assignment]  # the QObject and its callbacks go here
        else:
            keep.append(worker)  # its thread is still between `finished` and the end of run()
    _retired[:] = keep


def _done(*_args: Any, **_kwargs: Any) -> None:
    """What a released worker would call."""


class LatestJob(QObject):
    """One job at a time, newest request wins.

    `submit()` while a job runs replaces any request still waiting (it never starts); a
    result is delivered only if no newer request was made since it was asked for. Given
    `on_superseded`, a result that a newer request replaced goes there instead of nowhere (if
    it is newer than any result already delivered): a dragged slider asks every 16 ms, and a
    job longer than that would otherwise never deliver until the drag stops.
    """

    busy_changed = Signal(bool)

    def __init__(
        self,
        on_returned: Callable[[Any], None],
        on_errored: Callable[[BaseException], None],
        pool: QThreadPool | None = None,
        parent: QObject | None = None,
        on_superseded: Callable[[Any], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._on_returned = on_returned
        self._on_errored = on_errored
        self._on_superseded = on_superseded
        self._pool = pool
        self._serial = 0
        self._delivered = 0  # serial of the newest result delivered
        self._running = False
        self._pending: tuple[int, Callable[..., Any], tuple[Any, ...]] | None = None

    @property
    def serial(self) -> int:
        """Number of the newest request."""
        return self._serial

    def is_busy(self) -> bool:
        return self._running or self._pending is not None

    def submit(self, fn: Callable[..., Any], *args: Any) -> int:
        """Ask for `fn(*args)`; returns the request's number."""
        self._serial += 1
        request = (self._serial, fn, args)
        if self._running:
            self._pending = request
        else:
            self.busy_changed.emit(True)
            self._start(*request)
        return self._serial

    def _start(self, serial: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._running = True
        start_worker(
            fn, *args,
            on_returned=lambda result: self._deliver(serial, self._on_returned, result, self._on_superseded),
            on_errored=lambda exc: self._deliver(serial, self._on_errored, exc),
            on_finished=self._finished,
            pool=self._pool,
        )

    def _deliver(self, serial: int, slot: Callable[[Any], None], value: Any,
                 superseded: Callable[[Any], None] | None = None) -> None:
        if not _alive(self):
            return
        if serial == self._serial:
            self._delivered = serial
            slot(value)
        elif superseded is not None and serial > self._delivered:
            self._delivered = serial
            superseded(value)

    def _finished(self) -> None:
        if not _alive(self):
            return
        self._running = False
        if self._pending is not None:
            request, self._pending = self._pending, None
            self._start(*request)
        else:
            self.busy_changed.emit(False)


def _alive(obj: QObject) -> bool:
    """False once the C++ object is gone (a job may outlive the widget that asked for it)."""
    import shiboken6

    return shiboken6.isValid(obj)
