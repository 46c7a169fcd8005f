"""Shared test set-up. Qt must run offscreen and pyqtgraph must pick PySide6: both are set
here, before anything imports Qt."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from pathlib import Path

import pytest


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
    """The main window on `workspace` (charts built at once) with its first figures computed;
    resized to `size` and shown when a size is given."""
    from workstation.ui.main_window import MainWindow

    win = MainWindow(workspace, settings, lazy_charts=False)
    qtbot.addWidget(win)
    if size is not None:
        win.resize(*size)
        win.show()
    workspace.load()
    wait_idle(qtbot, workspace)
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


@pytest.fixture(autouse=True)
def _error_dialogs_fail_the_test(monkeypatch):
    """An error dialog in a test fails the test instead of waiting (modal) for a click that never
    comes: `show_error`'s message box raises with the error it would have shown (pytest-qt fails a
    test on an exception raised in a Qt slot). Tests that expect an error patch `show_error`."""
    from workstation.ui import errors

    class _Box(errors.QMessageBox):
        def exec(self) -> int:
            raise AssertionError(f"error dialog {self.windowTitle()!r}: {self.text()}\n{self.detailedText()}")

    monkeypatch.setattr(errors, "QMessageBox", _Box)
