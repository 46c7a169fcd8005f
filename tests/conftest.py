"""Shared test set-up. Qt must run offscreen and pyqtgraph must pick PySide6: both are set
here, before anything imports Qt."""

from __future__ import annotations

import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from pathlib import Path

import pytest
from hypothesis import settings

# `make test` (CI) draws the same examples at every run (a hash of each test: a clean checkout
# cannot fail on examples no earlier run tried); HYPOTHESIS_PROFILE=explore draws new ones, as
# `make explore` does, to look for what the fixed ones miss
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def demo_db_path(tmp_path: Path) -> Path:
    """A fresh database holding the demo book."""
    from workstation.store.paths import ensure_database

    path = tmp_path / "demo.db"
    ensure_database(path).close()
    return path


STORE_BOOK = Path(__file__).parent / "data" / "store" / "book.json"  # the store tests' sample book


def save_book(path: Path, book: Path = STORE_BOOK) -> Path:
    """A new database at `path` holding the portfolio file `book`; `path`."""
    from workstation.core.portfolio_io import read_portfolio
    from workstation.store import repository
    from workstation.store.db import open_db

    db = open_db(path)
    try:
        repository.save_portfolio(db, read_portfolio(book))
    finally:
        db.close()
    return path


def write_elsewhere(path: Path, edit, *args) -> None:
    """`edit(db, *args)` on its own connection to `path`: a write as the command line or another
    window makes it."""
    from workstation.store.db import open_db

    db = open_db(path)
    try:
        edit(db, *args)
    finally:
        db.close()


@pytest.fixture
def book_db_path(tmp_path: Path) -> Path:
    """A fresh database holding the store tests' sample book (tests/data/store/book.json)."""
    return save_book(tmp_path / "w.db")


@pytest.fixture
def db(book_db_path: Path):
    """That database, open (a module with another book defines its own `db`)."""
    from workstation.store.db import open_db

    database = open_db(book_db_path)
    yield database
    database.close()


@pytest.fixture
def ui_settings(tmp_path: Path):
    """Window settings in the test's own INI file (never the user's)."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "ui-settings.ini"), QSettings.Format.IniFormat)


def wait_idle(qtbot, workspace, timeout: int = 20_000) -> None:
    """Wait until the workspace has results and no recompute is running or queued."""
    qtbot.waitUntil(lambda: workspace.view is not None and not workspace.is_busy(), timeout=timeout)


def open_window(qtbot, workspace, settings, size: tuple[int, int] | None = None):
    """The main window on `workspace` (charts built at once) with its first figures, curve and
    heatmap computed; resized to `size` and shown when a size is given."""
    from workstation.ui.main_window import MainWindow

    win = MainWindow(workspace, settings, lazy_charts=False)
    qtbot.addWidget(win)
    if size is not None:
        win.resize(*size)
        win.show()
    workspace.load()
    wait_idle(qtbot, workspace)
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=20_000)  # the curve and heatmap too (asked after the paint)
    return win


@pytest.fixture
def window(qtbot, demo_db_path: Path, ui_settings):
    """The main window on the demo database, with its first figures computed."""
    from workstation.ui.workspace import Workspace

    win = open_window(qtbot, Workspace.from_database(demo_db_path), ui_settings, (1600, 1000))
    yield win
    wait_idle(qtbot, win.workspace)
    win.save_layout()
    if win.workspace.db is not None:
        win.workspace.db.close()


class ModalDialogOpened(AssertionError):
    """A test opened a modal dialog (an error box, a question) nobody would ever close."""


def _no_modal_loops(monkeypatch: pytest.MonkeyPatch, *classes: type) -> None:
    """Replace every call that runs a modal event loop by one that raises: offscreen nobody clicks,
    so an unexpected error box (`show_error` after a failed engine call) hung the suite. Raised in
    a slot, pytest-qt fails the test with it. A test that means to answer a dialog patches the
    call itself (its monkeypatch is applied after this one)."""

    def refuse(what: str):
        def run(*args, **_kwargs):
            shown = [a for a in args if isinstance(a, str)]
            if args and hasattr(args[0], "windowTitle"):
                box = args[0]
                shown = [box.windowTitle(), getattr(box, "text", lambda: "")()]
            raise ModalDialogOpened(f"{what} opened a modal dialog in a test: {' | '.join(shown)[:300]}")
        return run

    statics = {"QMessageBox": ("about", "aboutQt", "critical", "information", "question", "warning"),
               "QFileDialog": ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"),
               "QInputDialog": ("getText", "getInt", "getDouble", "getItem", "getMultiLineText")}
    for cls in classes:
        monkeypatch.setattr(cls, "exec", refuse(f"{cls.__name__}.exec"))
        for name in statics.get(cls.__name__, ()):
            monkeypatch.setattr(cls, name, refuse(f"{cls.__name__}.{name}"))


@pytest.fixture(scope="session")
def _gui_thread_gc(qapp):
    """From the first UI test on, Python's cyclic GC runs on the GUI thread only, as in the app
    (`workstation/ui/gui_gc.py`): a collection on an engine worker destroyed the widgets of
    earlier tests there ("QBasicTimer::start: Timers cannot be started from another thread")."""
    from workstation.ui.gui_gc import GuiThreadCollector

    collector = GuiThreadCollector()
    yield collector
    collector.stop()


@pytest.fixture(autouse=True)
def _qt_hygiene(request: pytest.FixtureRequest):
    """Every UI test: (0) a modal dialog fails the test instead of waiting for a click forever
    (`_no_modal_loops`); (1) no widget is shown as a top-level window while it is still parentless
    and then put in a layout (a stray flash of a window; showing any window also cancels a
    pending quit of the application, which hung `margin-workstation --smoke`); (2) no engine call
    is still running on the thread pool when the test ends (it would deliver into a later test)."""
    if not request.node.path.name.startswith("test_ui_"):
        yield
        return
    request.getfixturevalue("_gui_thread_gc")
    from PySide6.QtCore import QEvent, QObject, QThreadPool
    from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QInputDialog, QMenu, QMessageBox, QWidget

    _no_modal_loops(request.getfixturevalue("monkeypatch"), QDialog, QMessageBox, QFileDialog, QInputDialog, QMenu)

    class ShownWindows(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.widgets: list[tuple[QWidget, str]] = []

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Show and isinstance(watched, QWidget) and watched.isWindow():
                import traceback

                where = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in traceback.extract_stack()
                         if "/workstation/" in f.filename]
                self.widgets.append((watched, " < ".join(reversed(where[-3:]))))
            return False

    app = QApplication.instance()
    spy = ShownWindows()
    app.installEventFilter(spy)
    try:
        yield
    finally:
        app.removeEventFilter(spy)
        import shiboken6

        stray = [f"{type(w).__name__} {w.objectName()!r} at {where}" for w, where in spy.widgets
                 if shiboken6.isValid(w) and w.parentWidget() is not None and not w.isWindow()]
        idle = QThreadPool.globalInstance().waitForDone(30_000)
    assert not stray, f"shown as a top-level window before being given a parent: {stray}"
    assert idle, "an engine call was still running 30 s after the test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stop with a clear message, instead of a crash mid-run, on a PySide6 build that corrupts
    reference counts under CPython < 3.12 (6.12.0: every `data()` returning None and every
    signal emit from Python drops a reference to None / True, and the interpreter aborts)."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    if sys.version_info >= (3, 12) or not any(i.path.name.startswith("test_ui_") for i in items):
        return
    try:
        pyside = version("PySide6-Essentials")
    except PackageNotFoundError:
        try:
            pyside = version("PySide6")
        except PackageNotFoundError:
            return
    if pyside.startswith("6.12."):
        pytest.exit(f"PySide6 {pyside} aborts CPython {sys.version.split()[0]} (refcount bug); "
                    "install PySide6-Essentials<6.12 (6.11.3 works)", returncode=3)



def assert_documents_close(a, b, abs_tol=lambda path: 1e-300, rel_tol: float = 1e-12,
                           names: tuple[str, str] = ("a", "b"), path: str = "$") -> None:
    """Two report documents equal key by key and item by item; floats to `rel_tol` relative and
    `abs_tol(path)` absolute (the JSON path of the float), everything else exactly."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_documents_close(a[k], b[k], abs_tol, rel_tol, names, f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_documents_close(x, y, abs_tol, rel_tol, names, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == b or math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol(path)), \
            f"{path}: {names[0]} {a!r} {names[1]} {b!r}"
    else:
        assert a == b, path
