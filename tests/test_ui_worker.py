"""Recompute off the GUI thread: the worker factory, coalescing, and error hooks."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import wait_idle
from PySide6.QtCore import QThreadPool, QTimer

from workstation.ui.worker import Worker, start_worker

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


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
