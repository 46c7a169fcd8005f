"""Entry point of the window: `margin-workstation [--db PATH | --portfolio FILE]`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from workstation.ui.main_window import MainWindow

START = time.perf_counter()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="margin-workstation",
        description="Margin Workstation: pooled collateral, margin contribution, "
        "liquidation distance and hedge what-ifs for a derivatives book.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--db", type=Path, metavar="PATH",
                        help="database to open (created with the demo book if missing; "
                        "default: the user's data directory)")
    source.add_argument("--portfolio", type=Path, metavar="FILE",
                        help="open a portfolio JSON file read-only instead of the database")
    parser.add_argument("--smoke", action="store_true",
                        help="open, wait for the first figures, print the timings and exit")
    return parser.parse_args(argv)


def prepare_imports() -> None:
    """Before anything of the window: the engine's model is imported before PySide6 installs its
    import hook, and that hook is made cheap (`startup.lighten_pyside_import_hook`). The benchmark
    starts the window the same way."""
    from workstation.ui.startup import lighten_pyside_import_hook

    lighten_pyside_import_hook()


def make_application() -> QApplication:
    """The application (the one running, or a new one in the Fusion style from its start, which
    `theme.apply_theme` then need not ask for: the first QStyle handed to Python makes its type
    and enums, 8-11 ms of every start). The benchmark starts the window the same way."""
    from PySide6.QtWidgets import QApplication

    from workstation.ui.theme import FUSION_STYLE

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], "-style", "fusion"])
        app.setProperty(FUSION_STYLE, True)
    assert isinstance(app, QApplication)
    return app


def main(argv: list[str] | None = None) -> int:
    """Open the main window; returns the application's exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")  # before pyqtgraph is imported
    prepare_imports()

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon

    from workstation.ui.errors import ExceptionHooks, show_error
    from workstation.ui.gui_gc import GuiThreadCollector
    from workstation.ui.main_window import MainWindow
    from workstation.ui.settings import APPLICATION, ORGANIZATION, app_settings
    from workstation.ui.theme import resources_dir
    from workstation.ui.workspace import Workspace

    app = make_application()
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "margin-workstation.svg")))
    hooks = ExceptionHooks(app)
    hooks.install()
    collector = GuiThreadCollector(parent=app)  # reference cycles of Qt objects die on this thread

    try:
        if args.portfolio is not None:
            workspace = Workspace.from_file(args.portfolio)
        else:
            workspace = Workspace.from_database(args.db)
    except Exception as exc:
        show_error(None, "Margin Workstation: cannot open the book", exc)
        hooks.uninstall()
        collector.stop()
        return 2

    window = MainWindow(workspace, app_settings())
    window.show()
    QTimer.singleShot(0, workspace.load_in_background)  # the book is read on a worker
    deadline = _smoke(app, window) if args.smoke else None
    # quit at once when the last window closes: the quit event Qt posts by itself is cancelled by
    # any window shown before it is delivered, and the process would then outlive its window
    app.lastWindowClosed.connect(app.quit)
    try:
        code = app.exec()
    finally:
        app.lastWindowClosed.disconnect(app.quit)
        if deadline is not None:
            deadline.stop()
            deadline.deleteLater()
        _shut_down(app, window)
        hooks.uninstall()
        collector.stop()
        collector.deleteLater()
    return code


def _shut_down(app: QApplication, window: MainWindow) -> None:
    """After the event loop: let every engine call finish and deliver its result while the
    database is still open, then close the database and delete the window, so nothing of this
    window (a worker, a timer, a queued result) outlives `main` (the tests call it repeatedly
    in one process)."""
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool

    window.hide()
    workspace = window.workspace
    workspace.failed.disconnect()  # no error box once the window is closed: stderr instead
    workspace.failed.connect(lambda exc: print(f"error after closing: {exc}", file=sys.stderr))
    pool = QThreadPool.globalInstance()
    for _ in range(10):  # no engine call outlives the window (nor the interpreter: a job still
        pool.waitForDone(10_000)  # running at exit emits from a deleted object)
        app.processEvents()  # their results, queued to this thread (history is still recorded)
        if pool.activeThreadCount() == 0:  # a result may have started another job (the charts'
            break  # import starts the What-if's)
    workspace.close()  # stops watching the database, then closes it
    window.deleteLater()  # its timers and jobs go with it: none fires in a later event loop
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _smoke(app: QApplication, window: MainWindow) -> QTimer:
    """Print when the window was shown and when the first figures arrived, then end the event
    loop with `app.exit(0)`; exit code 1 if the figures fail or take more than 30 s.

    The loop is ended explicitly rather than by closing the last window: `quitOnLastWindowClosed`
    only posts a quit event, and any window shown before it is delivered removes it again (Qt
    does so in `QWindow::setVisible`), after which the loop would run forever. The deadline
    belongs to the application and runs until the loop has ended, so a modal error box or a
    stuck close still ends with exit code 1 instead of a hang."""
    from PySide6.QtCore import QTimer

    shown = (time.perf_counter() - START) * 1000.0
    deadline = QTimer(app)
    deadline.setSingleShot(True)
    deadline.timeout.connect(lambda: app.exit(1))
    deadline.start(30_000)

    def finish() -> None:
        window.close()
        app.exit(0)

    def done(_view: object) -> None:
        first = (time.perf_counter() - START) * 1000.0
        print(f"window shown after {shown:.0f} ms; first figures after {first:.0f} ms", flush=True)
        window.workspace.computed.disconnect(done)
        QTimer.singleShot(100, app, finish)

    def failed(exc: BaseException) -> None:
        print(f"error: {exc}", flush=True)
        app.exit(1)

    window.workspace.computed.connect(done)
    window.workspace.failed.connect(failed)
    return deadline


if __name__ == "__main__":
    sys.exit(main())
