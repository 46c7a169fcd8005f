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


def test_the_style_is_set_once_and_not_asked_for_when_made_in_fusion(qapp, monkeypatch) -> None:
    """`apply_theme` sets Fusion once per application and marks it (`FUSION_STYLE`): with a style
    sheet, the application's style is Qt's style sheet style, whose name is empty, and asking it
    set the style again at every theme switch (`setStyle` destroys the old style: a crash risk).
    Marked from its start (`make_application`), the style is not even asked for."""
    from workstation.ui.theme import DARK, FUSION_STYLE, LIGHT, apply_theme

    real = qapp.style()
    asked: list[int] = []
    set_to: list[str] = []

    def style() -> object:
        asked.append(1)
        return real

    monkeypatch.setattr(qapp, "style", style, raising=False)
    monkeypatch.setattr(qapp, "setStyle", lambda name: set_to.append(name), raising=False)
    qapp.setProperty(FUSION_STYLE, True)
    apply_theme(qapp, LIGHT)
    assert asked == [] and set_to == []
    qapp.setProperty(FUSION_STYLE, None)
    qapp.setStyleSheet("QLabel { color: red; }")  # the style sheet style: its name is empty
    apply_theme(qapp, DARK)
    apply_theme(qapp, LIGHT)
    assert asked == [1] and set_to == ["Fusion"]  # asked and set once, not at every switch
    assert qapp.property(FUSION_STYLE) is True


def test_make_application_starts_in_fusion() -> None:
    import json
    import subprocess
    import sys

    code = ("import json, os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'; "
            "from workstation.ui.app import make_application; from workstation.ui.theme import FUSION_STYLE; "
            "app = make_application(); "
            "print(json.dumps([app.style().name().lower(), app.property(FUSION_STYLE), make_application() is app]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["fusion", True, True]


def test_shut_down_waits_for_a_job_a_late_result_starts(qtbot, isolated_settings) -> None:
    """A result delivered while the app shuts down may start another job (the charts' import
    starts the What-if's): `_shut_down` waits for that one too, so no job outlives the window
    (one still running at exit emitted from a deleted object: 'Signal source has been deleted')."""
    import time

    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from workstation.ui.main_window import MainWindow
    from workstation.ui.worker import start_worker
    from workstation.ui.workspace import Workspace

    qapp = QApplication.instance()
    pool = QThreadPool.globalInstance()
    assert pool.waitForDone(30_000)
    window = MainWindow(Workspace.from_file(DEMO), isolated_settings)
    done: list[bool] = []
    # delivered by the shut-down's own processEvents, after its first wait for the pool
    QTimer.singleShot(0, lambda: start_worker(time.sleep, 0.3, on_finished=lambda: done.append(True)))
    app._shut_down(qapp, window)
    assert pool.activeThreadCount() == 0
    assert done == [True]  # its result was delivered while the app still ran
