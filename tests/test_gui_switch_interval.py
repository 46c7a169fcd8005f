"""From its first figures on, the window has a worker hand the GIL to the GUI thread within
0.5 ms of its asking (`startup.favour_gui_thread`), not Python's default 5 ms: a paint calls into
Python many times and waited up to 5 ms each time while a worker imported or computed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import open_window

from workstation.ui.formatting import DASH
from workstation.ui.startup import GUI_SWITCH_INTERVAL_S, favour_gui_thread

DEFAULT_S = 0.005  # Python's default switch interval


@pytest.fixture
def python_default_interval():
    before = sys.getswitchinterval()
    sys.setswitchinterval(DEFAULT_S)
    yield
    sys.setswitchinterval(before)


def test_a_window_with_its_figures_favours_the_gui_thread(
        qtbot, demo_db_path: Path, ui_settings, python_default_interval) -> None:
    from workstation.ui.workspace import Workspace

    assert sys.getswitchinterval() == pytest.approx(DEFAULT_S, rel=1e-6)
    win = open_window(qtbot, Workspace.from_database(demo_db_path), ui_settings, (1280, 760))
    assert win.dashboard.equity.value.text() != DASH  # the figures arrived and were painted
    assert sys.getswitchinterval() == pytest.approx(0.0005, rel=1e-6)


def test_a_shorter_interval_set_elsewhere_is_kept(python_default_interval) -> None:
    favour_gui_thread()
    assert sys.getswitchinterval() == pytest.approx(GUI_SWITCH_INTERVAL_S, rel=1e-6)
    sys.setswitchinterval(0.0001)
    favour_gui_thread()
    assert sys.getswitchinterval() == pytest.approx(0.0001, rel=1e-6)
