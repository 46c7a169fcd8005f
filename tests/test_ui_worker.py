"""Recompute off the GUI thread: the worker factory, coalescing, and error hooks."""

from __future__ import annotations

import threading
import time

from conftest import wait_idle
from PySide6.QtCore import QThreadPool, QTimer

from workstation.ui.worker import Worker, start_worker


def test_worker_returns_on_another_thread(qtbot) -> None:
    main = threading.get_ident()
    got: list[object] = []
    finished: list[bool] = []
    start_worker(lambda a, b: (a + b, threading.get_ident()), 2, 3,
                 on_returned=got.append, on_finished=lambda: finished.append(True))
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    value, thread = got[0]
    assert value == 5 and thread != main


def test_worker_reports_errors(qtbot) -> None:
    def boom() -> None:
        raise ValueError("no margin today")

    errors: list[BaseException] = []
    worker = Worker(boom)
    worker.errored.connect(errors.append)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        QThreadPool.globalInstance().start(worker)
    assert isinstance(errors[0], ValueError)
    assert "no margin today" in str(errors[0])


def test_heavy_recompute_keeps_the_gui_responsive(qtbot, window, monkeypatch) -> None:
    """The engine runs in a worker: a GUI timer keeps firing while it computes."""
    import workstation.core.report as report

    real = report.build_reports
    threads: list[int] = []

    def slow(portfolio):
        threads.append(threading.get_ident())
        time.sleep(0.8)
        return real(portfolio)

    monkeypatch.setattr(report, "build_reports", slow)
    ticks = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    ws = window.workspace
    with qtbot.waitSignal(ws.computed, timeout=20_000):
        ws.recompute(all_reports=True)
        assert ws.is_busy()
        assert window.dashboard.busy.text() == "recomputing…"
    timer.stop()
    assert threads and threads[0] != threading.get_ident()
    assert len(ticks) >= 15, f"GUI timer fired only {len(ticks)} times in 0.8 s"
    wait_idle(qtbot, ws)
    assert window.dashboard.busy.text() == ""


def test_requests_during_a_recompute_are_coalesced(qtbot, window, monkeypatch) -> None:
    import workstation.core.report as report

    real = report.build_report
    calls: list[str] = []

    def counted(portfolio, scope, **kw):
        calls.append(scope)
        time.sleep(0.05)
        return real(portfolio, scope, **kw)

    monkeypatch.setattr(report, "build_report", counted)
    scopes = [n.scope for n in window.tree.tree_model.nodes()]
    ws = window.workspace
    ws.reports = []  # force build_report for each scope asked
    for scope in scopes * 3:
        ws.select(scope)
    wait_idle(qtbot, ws)
    assert ws.view.scope == scopes[-1]
    assert len(calls) <= 3  # the first request, then only the latest one


def test_engine_errors_reach_the_user(qtbot, window, monkeypatch) -> None:
    import workstation.core.report as report
    import workstation.ui.main_window as main_window

    shown = []
    monkeypatch.setattr(main_window, "show_error", lambda _p, title, exc, *a: shown.append(exc))

    def broken(_portfolio):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(report, "build_reports", broken)
    window.workspace.recompute(all_reports=True)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert "engine exploded" in str(shown[0])
    wait_idle(qtbot, window.workspace)


def test_excepthooks_show_a_dialog_from_any_thread(qtbot, monkeypatch) -> None:
    import sys

    from PySide6.QtWidgets import QApplication

    import workstation.ui.errors as errors

    shown = []
    monkeypatch.setattr(errors, "show_error", lambda _p, _t, exc, text=None: shown.append((exc, text)))
    monkeypatch.setattr(sys, "stderr", __import__("io").StringIO())
    hooks = errors.ExceptionHooks(QApplication.instance())
    hooks.install()
    try:
        def fail() -> None:
            raise KeyError("lost in a thread")

        thread = threading.Thread(target=fail)
        thread.start()
        thread.join()
        try:
            raise ZeroDivisionError("in a slot")
        except ZeroDivisionError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        qtbot.waitUntil(lambda: len(shown) == 2, timeout=5000)
    finally:
        hooks.uninstall()
    kinds = {type(exc) for exc, _ in shown}
    assert kinds == {KeyError, ZeroDivisionError}
    assert all("Traceback" in text for _, text in shown)


def test_a_finished_job_is_released_on_the_gui_thread(qtbot) -> None:
    """The job's arguments and its signals object (a QObject of the GUI thread, holding the
    callbacks) are let go once it has finished, and on the GUI thread: they used to leak
    (a cycle through the `finished` connection), and freed on the pool thread a Qt object
    would be destroyed in the wrong thread."""
    import gc
    import weakref

    from PySide6.QtCore import Qt

    class Book:  # stands for a portfolio snapshot
        pass

    books, destroyed_in, got = [], [], []
    for n in range(20):
        book = Book()
        books.append(weakref.ref(book))
        worker = start_worker(lambda b, k: k, book, n, on_returned=got.append)
        worker.signals.destroyed.connect(lambda *_: destroyed_in.append(threading.get_ident()),
                                         Qt.ConnectionType.DirectConnection)
        del book, worker
    qtbot.waitUntil(lambda: len(got) == 20, timeout=20_000)
    QThreadPool.globalInstance().waitForDone(20_000)
    start_worker(lambda: None)  # a later job sweeps the last ones
    qtbot.waitUntil(lambda: len(destroyed_in) >= 20, timeout=20_000)
    gc.collect()
    assert sorted(got) == list(range(20))
    assert set(destroyed_in) == {threading.get_ident()}  # all on this (the GUI) thread
    assert sum(ref() is not None for ref in books) == 0


def test_reference_cycles_of_qt_objects_die_on_the_gui_thread(qtbot) -> None:
    """With `GuiThreadCollector` running (the app and the UI tests do), a Qt object kept only by a
    reference cycle is destroyed on the GUI thread, however much the engine allocates on a worker
    meanwhile: collected there, its destructor touched Qt off its thread ("QBasicTimer::start:
    Timers cannot be started from another thread" from the middle of engine code)."""
    import gc

    from PySide6.QtCore import QObject, Qt

    from workstation.ui.gui_gc import GuiThreadCollector

    collector = GuiThreadCollector(interval_ms=20)
    assert not gc.isenabled()
    died: list[int] = []
    for _ in range(50):
        obj = QObject()
        obj.me = obj  # a cycle: only the cyclic collector frees it
        obj.destroyed.connect(lambda *_: died.append(threading.get_ident()), Qt.ConnectionType.DirectConnection)
        del obj

    def allocate() -> int:  # cyclic garbage enough to pass every threshold many times over
        for _ in range(50_000):
            a: list = []
            a.append(a)
        return 0

    done: list[int] = []
    start_worker(allocate, on_returned=done.append)
    qtbot.waitUntil(lambda: bool(done) and len(died) == 50, timeout=30_000)
    assert set(died) == {threading.get_ident()}
    collector.stop()
    collector.deleteLater()
