"""Undo for the last replacing import or Apply-to-book, and notices of outside changes.

Such a change is backed up by the store before it commits; Undo brings that backup back
(`backups.restore`, which backs up the state it replaces in turn) as long as the book has not
changed since: the store refuses it otherwise, and the action is greyed out once the window
sees a newer book.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QPushButton

from workstation.ui.errors import show_error

if TYPE_CHECKING:
    from workstation.ui.main_window import MainWindow
    from workstation.ui.workspace import Workspace


@dataclass(frozen=True)
class Offer:
    label: str  # what Undo undoes, e.g. "import of positions.csv"
    backup: Path
    counter: int  # the book's change counter right after the change


class SafetyNet(QObject):
    """The window's Undo action and button, and its notices of changes made elsewhere."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.offer: Offer | None = None
        self.undo_action = QAction("&Undo", window)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setEnabled(False)
        self.undo_action.triggered.connect(self.undo)
        self.button = QPushButton("Undo")
        self.button.setObjectName("undoButton")
        self.button.setToolTip("Bring back the book as it was before the last import or Apply to book")
        self.button.clicked.connect(self.undo)
        self.button.hide()
        self._workspace: Workspace | None = None

    def watch(self, workspace: Workspace) -> None:
        """Follow a (new) workspace: its reloads and the changes it detects."""
        if workspace is not self._workspace:
            self.clear()
            self._workspace = workspace
            workspace.loaded.connect(lambda _p: self._follow_counter())
            workspace.changed_elsewhere.connect(self._changed_elsewhere)

    # -- offering undo --------------------------------------------------------------------
    def offer_undo(self, label: str, backup: Path | None, counter: int | None) -> None:
        """Offer to undo a change the store backed up (no backup: nothing to offer)."""
        if backup is None or counter is None:
            self.clear()
            return
        self.offer = Offer(label, Path(backup), counter)
        self.undo_action.setText(f"&Undo {label}")
        self.undo_action.setEnabled(True)
        bar = self.window.statusBar()
        if self.button.parent() is None:
            bar.insertPermanentWidget(0, self.button)  # never hidden by a status message
        self.button.setToolTip(f"Undo {label}: bring back the book as it was before")
        self.button.show()
        self._follow_counter()

    def clear(self) -> None:
        self.offer = None
        self.undo_action.setText("&Undo")
        self.undo_action.setEnabled(False)
        self.button.hide()

    def _follow_counter(self) -> None:
        """Grey Undo out once the window shows a book changed after the offered change."""
        ws = self.window.workspace
        if self.offer is not None and ws.book_counter not in (None, self.offer.counter):
            self.clear()

    def undo(self) -> bool:
        """Bring back the backup taken before the offered change; reload."""
        offer, ws = self.offer, self.window.workspace
        if offer is None or ws.db_path is None:
            return False
        from workstation.store.backups import restore

        try:
            result = restore(ws.db_path, offer.backup, expected_counter=offer.counter)
        except Exception as exc:
            self.clear()
            show_error(self.window, "Undo", exc)
            ws.load(record=False)
            return False
        self.clear()
        ws.load(record=True)
        self.window.statusBar().showMessage(
            f"Undid the {offer.label}; the state it replaced is backed up in {result.saved}", 12000)
        return True

    # -- changes made elsewhere -----------------------------------------------------------
    def _changed_elsewhere(self) -> None:
        self.window.statusBar().showMessage(
            "The database was changed by another window or command: the book has been reloaded",
            10000)
