"""The window's start (`window_start.py`): new figures are set up with the window's updates off and
painted in a later turn. Whatever happens between the two, the window ends with its updates on:
an error while the figures are set up, the window hidden before its paint, a second set of figures
before the first is painted. The charts of a lazily started window are built after that paint (a
posted event of the window's own type; other custom events still reach Qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wait_idle
from PySide6.QtCore import QCoreApplication, QEvent, QSettings

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"


def test_an_error_while_the_figures_are_set_up_leaves_the_window_painting(qtbot, window, monkeypatch) -> None:
    wait_idle(qtbot, window.workspace)

    def broken(*_args: object) -> None:
        raise RuntimeError("set-up failed")

    monkeypatch.setattr(window, "_show_computed", broken)
    with pytest.raises(RuntimeError):
        window._on_computed(window.workspace.view)
    qtbot.waitUntil(window.updatesEnabled, timeout=2_000)


def test_a_window_hidden_before_its_paint_paints_when_shown_again(qtbot, window) -> None:
    wait_idle(qtbot, window.workspace)
    window._on_computed(window.workspace.view)
    window.hide()
    qtbot.waitUntil(window.updatesEnabled, timeout=2_000)
    window.show()
    assert window.updatesEnabled() and window.dashboard.updatesEnabled()


def test_figures_set_up_twice_before_a_paint_end_with_the_window_painting(qtbot, window) -> None:
    wait_idle(qtbot, window.workspace)
    window._on_computed(window.workspace.view)
    window._on_computed(window.workspace.view)
    assert not window.updatesEnabled()
    qtbot.waitUntil(window.updatesEnabled, timeout=2_000)
    qtbot.wait(20)  # the second turn's paint comes too: nothing turns them off again
    assert window.updatesEnabled()


def test_a_lazy_window_builds_its_charts_after_the_first_paint(qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import QThreadPool

    from workstation.ui.main_window import MainWindow
    from workstation.ui.workspace import Workspace

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Workspace.from_file(DEMO), settings)  # lazy charts, as the app
    qtbot.addWidget(window)
    window.resize(1280, 760)
    window.show()
    window.workspace.load()
    qtbot.waitUntil(lambda: window.charts is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not window.is_busy() and not window.book.charts_painting(), timeout=30_000)
    assert window.updatesEnabled()
    assert all(f.updatesEnabled() for f in window.charts.frames.values())
    # another custom event goes to Qt's handler, not to the start's
    QCoreApplication.postEvent(window, QEvent(QEvent.Type(QEvent.registerEventType())))
    qtbot.wait(20)
    assert QThreadPool.globalInstance().waitForDone(30_000)


def test_a_lazy_window_freezes_the_loaded_code_after_its_last_import(qtbot, tmp_path: Path, monkeypatch) -> None:
    """Once the What-if and Stress code is imported, the objects that exist (mostly the modules')
    leave the cyclic collector's reach (`gc.freeze`): a full collection no longer scans them."""
    import sys

    from workstation.ui import window_start
    from workstation.ui.main_window import MainWindow
    from workstation.ui.startup import LATER_MODULES
    from workstation.ui.workspace import Workspace

    frozen: list[bool] = []  # at each freeze: were the What-if and Stress code imported?
    monkeypatch.setattr(window_start, "freeze_loaded_code",
                        lambda: frozen.append(all(m in sys.modules for m in LATER_MODULES)))
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Workspace.from_file(DEMO), settings)  # lazy charts, as the app
    qtbot.addWidget(window)
    window.show()
    window.workspace.load()
    qtbot.waitUntil(lambda: bool(frozen), timeout=30_000)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30_000)
    assert frozen == [True]  # once, after the last import


def test_freeze_loaded_code_moves_what_exists_out_of_the_collectors_reach() -> None:
    import gc

    from workstation.ui.startup import freeze_loaded_code

    before = gc.get_freeze_count()
    kept = [[i] for i in range(1000)]  # tracked containers, alive
    try:
        freeze_loaded_code()
        assert gc.get_freeze_count() >= before + len(kept)
        assert len(gc.get_objects()) < gc.get_freeze_count()
    finally:
        gc.unfreeze()
