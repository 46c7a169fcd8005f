"""Uncaught errors become a dialog with the traceback, from any thread."""

from __future__ import annotations

import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, exc: BaseException, details: str | None = None) -> None:
    """A message box with the error's message, and the traceback under "Show Details"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
    box.setDetailedText(details or "".join(traceback.format_exception(exc)))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()


class _Relay(QObject):
    """Carries an exception from any thread to the GUI thread."""

    raised = Signal(object, str)


class ExceptionHooks:
    """Installs `sys.excepthook` and `threading.excepthook`; both end in `show_error`."""

    def __init__(self, app: QApplication) -> None:
        self.relay = _Relay(app)
        self.relay.raised.connect(self._show)
        self._previous = sys.excepthook, threading.excepthook

    def install(self) -> None:
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def _sys_hook(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        text = "".join(traceback.format_exception(kind, exc, tb))
        sys.stderr.write(text)
        self.relay.raised.emit(exc, text)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        name = args.thread.name if args.thread else "a thread"
        sys.stderr.write(f"in {name}:\n{text}")
        self.relay.raised.emit(args.exc_value, text)

    def _show(self, exc: BaseException, text: str) -> None:
        show_error(QApplication.activeWindow(), "Unexpected error", exc, text)
