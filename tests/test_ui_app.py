"""The window's entry point: arguments, start-up on a database or a file, start-up time."""

from __future__ import annotations

from pathlib import Path

import pytest

from workstation.ui import app

DEMO = Path(__file__).parents[1] / "resources" / "demo" / "demo-portfolio.json"


def test_arguments() -> None:
    args = app.parse_args(["--db", "x.db"])
    assert args.db == Path("x.db") and args.portfolio is None
    assert app.parse_args(["--portfolio", str(DEMO)]).portfolio == DEMO
    with pytest.raises(SystemExit):
        app.parse_args(["--db", "x.db", "--portfolio", "y.json"])


@pytest.fixture
def isolated_settings(monkeypatch, ui_settings):
    import workstation.ui.settings as settings

    monkeypatch.setattr(settings, "app_settings", lambda: ui_settings)
    return ui_settings


@pytest.mark.parametrize("source", ["db", "portfolio"])
def test_main_opens_the_window_and_shows_figures(qtbot, tmp_path, capsys, isolated_settings, source) -> None:
    import sys

    hooks = (sys.excepthook, __import__("threading").excepthook)
    argv = ["--db", str(tmp_path / "app.db")] if source == "db" else ["--portfolio", str(DEMO)]
    assert app.main([*argv, "--smoke"]) == 0
    out = capsys.readouterr().out
    assert "first figures after" in out
    assert (sys.excepthook, __import__("threading").excepthook) == hooks  # put back on exit
    if source == "db":
        assert (tmp_path / "app.db").exists()


def test_main_reports_a_bad_file(qtbot, tmp_path, monkeypatch, isolated_settings) -> None:
    import workstation.ui.errors as errors
    import workstation.ui.main_window as main_window

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "margin-workstation/portfolio@1"}', encoding="utf-8")
    shown = []
    monkeypatch.setattr(main_window, "show_error", lambda _p, _t, exc, *a: shown.append(exc))
    monkeypatch.setattr(errors, "show_error", lambda _p, _t, exc, *a: shown.append(exc))
    assert app.main(["--portfolio", str(bad), "--smoke"]) == 1
    assert shown and "as_of" in str(shown[0])


def test_closing_the_window_ends_the_app_even_if_a_window_flashes(qtbot, isolated_settings) -> None:
    """Closing the last window ends the event loop even when another window is shown right after
    (as the charts' reset button briefly was, when built while the window closed): the quit event
    Qt posts by itself is removed again by any window shown before it is delivered
    (`QWindow::setVisible`), which hung `--smoke`. `main` quits at once on `lastWindowClosed`."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    import workstation.ui.main_window as main_window

    qapp = QApplication.instance()
    flashed = []

    def close_and_flash(window) -> None:
        window.close()  # the last window: Qt posts its quit event here
        flash = QWidget()  # parentless: a top-level window while shown
        flash.show()  # ... and showing it takes that quit event back
        flash.hide()
        flashed.append(flash)

    scheduled = []

    def close_once(window) -> None:  # the first figures, then every scope: two `computed`
        if not scheduled:
            scheduled.append(window)
            QTimer.singleShot(50, lambda: close_and_flash(window))

    def close_when_computed() -> None:
        for w in qapp.topLevelWidgets():
            if isinstance(w, main_window.MainWindow) and w.isVisible():
                w.workspace.computed.connect(lambda _v, w=w: close_once(w))

    QTimer.singleShot(0, close_when_computed)
    guard = QTimer(qapp)  # ends a hung loop with another code
    guard.setSingleShot(True)
    guard.timeout.connect(lambda: qapp.exit(7))
    guard.start(30_000)
    try:
        assert app.main(["--portfolio", str(DEMO)]) == 0
    finally:
        guard.stop()
        guard.deleteLater()
    assert flashed


def test_a_window_deleted_while_the_charts_import_runs_is_not_called(qtbot, tmp_path: Path) -> None:
    """The charts' import runs on a worker; a window deleted meanwhile (closed during the start,
    as `main`'s shut-down can do) must not be called back when it ends: the callback is a bound
    method, which Qt drops with its receiver (a lambda was called on the deleted window)."""
    from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QThreadPool

    from workstation.ui.main_window import MainWindow
    from workstation.ui.workspace import Workspace

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Workspace.from_file(DEMO), settings)
    window._import_charts()  # the worker starts importing the charts
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # deleted before it ends
    assert QThreadPool.globalInstance().waitForDone(30_000)
    qtbot.wait(50)  # its result is delivered here: nothing may be called (pytest-qt fails on it)
