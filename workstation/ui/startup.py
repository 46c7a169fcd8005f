"""What the window does to start fast and stay responsive: the slow modules are imported on a
worker after the first figures, and a large book's objects are kept out of the cyclic collector."""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
import time
from collections.abc import Callable
from typing import Any

from workstation.core.model import Portfolio

FREEZE_FROM = 2_000  # positions
# imported on a worker after the first figures: the charts (pyqtgraph) first, built as soon as
# they are imported; then, once the charts are up, the What-if (scipy.optimize) and Stress code,
# which no chart waits for
LAZY_MODULES = ("workstation.ui.charts_panel",)
LATER_MODULES = ("workstation.ui.whatif_panel", "workstation.ui.stress_panel")


def freeze_if_large(portfolio: Portfolio) -> None:
    """A large book's figures are many long-lived Python objects (10,000 positions, their report
    rows): moved out of the cyclic collector's reach, a full collection no longer stops the window
    (or the worker, which holds the GIL) for 100+ ms. They are still freed by reference counting
    when the next figures replace them. Small books are left alone."""
    if sum(len(a.positions) for a in portfolio.accounts) >= FREEZE_FROM:
        gc.freeze()


def freeze_loaded_code() -> None:
    """Once the window has imported all it imports at start (the What-if and Stress code last),
    the objects that exist are mostly the modules' (the functions, classes and tables of numpy,
    scipy, PySide6, pyqtgraph and ours: about 110,000 with the demo book) and live as long as
    the process. Moved out of the cyclic collector's reach (`gc.freeze`), a full collection,
    which runs on the GUI thread (`gui_gc`), takes a few ms instead of about 60. They are still
    freed by reference counting; what is cyclic garbage at this moment (a few hundred objects)
    is kept, as with `freeze_if_large`."""
    gc.freeze()


# PySide6 makes its Qt types (and their enums) on first use. pyqtgraph's import touches every
# name of QtCore, QtGui and QtWidgets (its `_copy_attrs` mirror), imports four more modules and
# takes QOpenGLWidget from one; done on a worker while the GUI thread paints, that raced with the
# GUI thread inside shiboken and crashed the window about once in a hundred starts (a segfault on
# the GUI thread while the worker made enums)
QT_MODULES = ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtOpenGL",
              "PySide6.QtOpenGLWidgets", "PySide6.QtSvg", "PySide6.QtTest")
STEP_S = 0.008  # GUI-thread time per turn of the event loop


def make_qt_types(done: Callable[[], None], context: Any, step_s: float = STEP_S) -> None:
    """Make every type of the Qt modules pyqtgraph uses here, on the GUI thread, about `step_s`
    per turn of the event loop (about 120 ms in all, 750 names), then call `done()`: the worker
    importing pyqtgraph next finds them all made. A module that is not installed (pyqtgraph does
    without QtSvg, QtTest or OpenGL) or a name that cannot be made is skipped: `done` is always
    called. The steps belong to `context` (a QObject): once it is deleted, none runs."""
    from PySide6.QtCore import QTimer

    pending = list(QT_MODULES)
    names: list[tuple[Any, str]] = []

    def step() -> None:
        end = time.perf_counter() + step_s
        while time.perf_counter() < end:
            if names:
                module, attr = names.pop()
                with contextlib.suppress(Exception):
                    getattr(module, attr)
            elif pending:
                try:
                    module = importlib.import_module(pending.pop(0))
                except ImportError:
                    continue
                names.extend((module, attr) for attr in reversed(dir(module)))
            else:
                done()
                return
        QTimer.singleShot(0, context, step)

    QTimer.singleShot(0, context, step)


GUI_SWITCH_INTERVAL_S = 0.0005


def favour_gui_thread() -> None:
    """From the first figures on, a worker running Python (an import, the engine) hands the GIL
    to the GUI thread 0.5 ms after it asks, not Python's default 5 ms (`sys.setswitchinterval`).
    A paint calls into Python many times (the item models, pyqtgraph's items), and each call
    waits for the GIL: with 5 ms, a chart painted while the What-if's code was imported held
    the window 100-160 ms (the GUI thread's own work: 30-50 ms). Not before the first figures:
    then both threads work towards them, and longer turns cost fewer switches."""
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


def import_modules(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


def lighten_pyside_import_hook() -> bool:
    """Import PySide6.QtCore and make its import hook cheap; True if the hook was replaced.

    PySide6 replaces `__import__` (for its opt-in `from __feature__ import ...`) and, after
    every later import of any module, asks `shibokensupport.feature._mod_uses_pyside` whether
    the module's source mentions "PySide6", through `inspect.getsource`: tokenising and caching
    the whole file. On this machine that was 25-30 ms before the window's first figures (147
    modules) and 110-190 ms more while the charts and the What-if are imported (PySide6 6.11;
    also reported by napari, issue 8584). The same question is answered here by scanning the
    module file's bytes; anything but a plain `.py` file is left to PySide's own function. The
    project never uses `__feature__`, but the answer stays the one PySide would give, so a
    module that does use it behaves as before. If PySide changes its internals, nothing is
    replaced."""
    import sys

    import PySide6.QtCore  # noqa: F401  # installs the hook

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original) or getattr(original, "lightened", False):
        return False

    def mod_uses_pyside(module: object) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))
        try:
            with open(path, "rb") as file:
                return b"PySide6" in file.read()
        except OSError:
            return bool(original(module))

    mod_uses_pyside.lightened = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = mod_uses_pyside
    return True
