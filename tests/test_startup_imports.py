"""What the window imports before its first figures, checked in fresh interpreters: the store's
read and history path without sqlite-utils, and PySide6's import hook made cheap with the same
answers as its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_window_start_path_does_not_import_sqlite_utils(tmp_path: Path) -> None:
    """Creating the database with the demo book, reading it on a read-only connection, recording
    history and importing the window's modules: all plain SQL, no sqlite-utils (70-90 ms)."""
    code = f"""
import json, sys
from workstation.ui.app import prepare_imports
prepare_imports()
from workstation.store.connection import connect, transaction
from workstation.store.paths import ensure_database
from workstation.store.repository import load_book, record_history
import workstation.ui.main_window, workstation.ui.workspace
db = ensure_database({str(tmp_path / "w.db")!r})
reader = connect({str(tmp_path / "w.db")!r}, read_only=True)
portfolio, counter = load_book(reader)
with transaction(db):
    record_history(db, {{"scope": "account:x", "equity": 1.0}})
print(json.dumps(["sqlite_utils" in sys.modules, "pandas" in sys.modules, len(portfolio.accounts), counter]))
"""
    has_utils, has_pandas, accounts, counter = json.loads(_run(code))
    assert (has_utils, has_pandas) == (False, False)
    assert accounts > 0 and counter > 0  # the demo book was written and read back


def test_the_lightened_pyside_hook_answers_as_pysides_own() -> None:
    """For every module loaded by the window and its charts, the byte scan says what PySide's
    `inspect.getsource` scan says; a second call replaces nothing."""
    code = """
import json, sys
import PySide6.QtCore
feature = sys.modules["shibokensupport.feature"]
original = feature._mod_uses_pyside
from workstation.ui.startup import lighten_pyside_import_hook
first, second = lighten_pyside_import_hook(), lighten_pyside_import_hook()
import workstation.ui.main_window, workstation.ui.charts_panel
light = feature._mod_uses_pyside
modules = [m for name, m in list(sys.modules.items()) if name not in ("typing.io", "typing.re")]
differ = [m.__name__ for m in modules if bool(original(m)) != light(m)]
users = sum(1 for m in modules if light(m))
print(json.dumps([first, second, differ, users]))
"""
    first, second, differ, users = json.loads(_run(code))
    assert (first, second) == (True, False)
    assert differ == []
    assert users >= 10  # our window modules and pyqtgraph's mention PySide6


def test_pyqtgraph_makes_no_qt_type_once_they_are_made_on_the_gui_thread() -> None:
    """`make_qt_types` makes every type of the Qt modules pyqtgraph uses in turns of the event
    loop; importing the charts (pyqtgraph, on a worker in the window) afterwards makes none:
    PySide's lazily made types appear in their module's namespace when made, so no namespace of
    any PySide6 module grows."""
    code = """
import json, os, sys
os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication([])
from workstation.ui.startup import make_qt_types

def sizes():
    return {n: len(vars(m)) for n, m in list(sys.modules.items()) if n.startswith("PySide6.Qt") and m}

before = sizes()
turns = []
context = QtCore.QObject()
make_qt_types(lambda: (turns.append("done"), app.quit()), context, step_s=0.004)
app.exec()
made = sizes()
import workstation.ui.charts_panel  # noqa: F401  # pyqtgraph and the charts
after = {n: v for n, v in sizes().items() if n in made}
print(json.dumps([turns, before["PySide6.QtWidgets"], made, after]))
"""
    turns, widgets_before, made, after = json.loads(_run(code))
    assert turns == ["done"]
    assert made["PySide6.QtWidgets"] > widgets_before + 100  # hundreds of types made here
    assert "PySide6.QtOpenGLWidgets" in made  # pyqtgraph takes QOpenGLWidget from it
    assert after == made  # importing pyqtgraph and the charts made none


def test_make_qt_types_calls_done_without_an_optional_qt_module() -> None:
    """pyqtgraph does without QtTest (and QtSvg, OpenGL): so does `make_qt_types`, which still
    makes the rest and calls `done`."""
    code = """
import json, sys
sys.modules["PySide6.QtTest"] = None  # as if not installed
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication([])
from workstation.ui.startup import make_qt_types
turns = []
context = QtCore.QObject()
make_qt_types(lambda: (turns.append("done"), app.quit()), context, step_s=0.004)
QtCore.QTimer.singleShot(20_000, app.quit)
app.exec()
print(json.dumps([turns, len(vars(QtWidgets)) > 200]))
"""
    assert json.loads(_run(code)) == [["done"], True]
