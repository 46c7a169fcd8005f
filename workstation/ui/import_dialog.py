"""The import dialog: detects the file's kind, previews what the import will change, and
starts on the choice that deletes nothing (merge).

The preview is the store's own import run without committing (`dry_run`), so it lists exactly
what the import would add, change and delete, or the file's first error (shortened). An
import that deletes anything is confirmed separately, naming the accounts and counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from workstation.core.model import Portfolio
from workstation.ui.fields import FormDialog

DETECT = "detect"
IMPORT_KINDS = {
    "positions-csv": "Positions, CSV",
    "balances-csv": "Balances, CSV",
    "ccxt-positions": "Positions, ccxt JSON (fetch_positions)",
    "ccxt-balance": "Balances, ccxt JSON (fetch_balance)",
    "market-csv": "Market prices and vols, CSV",
    "portfolio": "Portfolio file (the whole book)",
}
NEEDS_ACCOUNT = ("ccxt-positions", "ccxt-balance", "positions-csv", "balances-csv")
MAX_ERROR = 300  # characters of an error shown in the preview (a wrong kind can echo a lot)


def shorten(text: str, limit: int = MAX_ERROR) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _modes(kind: str | None) -> tuple[str, str]:
    """Labels of (merge, replace) for `kind`."""
    if kind == "portfolio":
        return ("Merge: add the file's accounts, replace those with the same id, keep the others",
                "Replace the whole book with the file (deletes what it does not list)")
    what = "balances" if kind and "balance" in kind else "positions"
    return (f"Merge: add and update {what}, keep everything else",
            f"Replace: the account's {what} become the file's (deletes the others)")


class ImportDialog(FormDialog):
    """Choose a file; its kind is detected, the account and merge / replace chosen, and the
    preview shows what will change before anything is written."""

    def __init__(self, portfolio: Portfolio | None, account_id: str | None, db: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Import", parent)
        self.db = db
        self.preview_result: Any = None  # the dry run's ImportResult, when the file is good
        self.preview_counter: int | None = None  # the book's change counter it was made at
        self.detected: str | None = None
        self.path = QLineEdit()
        self.path.setPlaceholderText("a portfolio file, a venue dump (ccxt JSON) or a CSV")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.kind = QComboBox()
        self.kind.addItem("Detect from the file", DETECT)
        for key, label in IMPORT_KINDS.items():
            self.kind.addItem(label, key)
        self.kind_note = QLabel("")
        self.kind_note.setObjectName("muted")
        self.kind_note.setWordWrap(True)
        accounts = [a.id for a in portfolio.accounts] if portfolio else []
        self.account = QComboBox()
        self.account.setEditable(True)
        self.account.addItems(accounts)
        if account_id:
            self.account.setCurrentText(account_id)
        self.merge = QRadioButton()
        self.replace = QRadioButton()
        self.merge.setChecked(True)  # the choice that deletes nothing
        group = QButtonGroup(self)
        group.addButton(self.merge)
        group.addButton(self.replace)
        self.allow_empty = QCheckBox("The file may be empty: the account really holds nothing")
        how = QWidget()
        how_layout = QVBoxLayout(how)
        how_layout.setContentsMargins(0, 0, 0, 0)
        how_layout.setSpacing(4)
        for w in (self.merge, self.replace, self.allow_empty):
            how_layout.addWidget(w)
        self.preview = QLabel("")
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.preview.setObjectName("preview")
        scroll = QScrollArea()
        scroll.setWidget(self.preview)
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(90)
        scroll.setMaximumHeight(170)
        self.deletes = QLabel("")
        self.deletes.setObjectName("error")
        self.deletes.setWordWrap(True)
        self.deletes.hide()
        self.form.addRow("File", file_row)
        self.form.addRow("Kind", self.kind)
        self.form.addRow("", self.kind_note)
        self.form.addRow("Account", self.account)
        self.form.addRow("How", how)
        self.form.addRow("Preview", scroll)
        self.form.addRow("", self.deletes)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.refresh_preview)
        self.path.textChanged.connect(self._on_path)
        self.kind.currentIndexChanged.connect(self._schedule)
        self.account.currentTextChanged.connect(self._schedule)
        self.merge.toggled.connect(self._schedule)
        self.allow_empty.toggled.connect(self._schedule)
        self.setMinimumWidth(600)
        self.refresh_preview()

    # -- choices --------------------------------------------------------------------------
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import", "", "Portfolio, ccxt JSON or CSV (*.json *.csv *.txt);;All files (*)")
        if path:
            self.path.setText(path)

    def _on_path(self) -> None:
        from workstation.store.detect import detect_kind

        path = self.path.text().strip()
        self.detected, why = detect_kind(path) if path and Path(path).is_file() else (None, "")
        if self.detected:
            self.kind_note.setText(f"Detected: {IMPORT_KINDS[self.detected]} ({why})")
        else:
            self.kind_note.setText(f"Could not tell the kind: {why}; choose it above" if why else "")
        self._schedule()

    def chosen_kind(self) -> str | None:
        kind = self.kind.currentData()
        return self.detected if kind == DETECT else kind

    def _schedule(self) -> None:
        self._timer.start()

    def _follow_kind(self, kind: str | None) -> None:
        needs = kind in NEEDS_ACCOUNT
        self.form.setRowVisible(self.account, needs)
        has_modes = kind not in (None, "market-csv")
        for w in (self.merge, self.replace):
            w.setVisible(has_modes)
        self.allow_empty.setVisible(needs)
        merge_text, replace_text = _modes(kind)
        self.merge.setText(merge_text)
        self.replace.setText(replace_text)
        forced = self.kind.currentData()
        if forced not in (DETECT, None) and self.detected and forced != self.detected:
            self.kind_note.setText(f"The file looks like {IMPORT_KINDS[self.detected]}, "
                                   f"not {IMPORT_KINDS[forced]}")

    def options(self) -> dict[str, Any]:
        """The import's arguments as chosen (without `dry_run` / `expected_counter`)."""
        kind = self.chosen_kind()
        options: dict[str, Any] = {"kind": kind, "path": self.path.text().strip()}
        if kind in NEEDS_ACCOUNT:
            options["account"] = self.account.currentText().strip() or None
            options["allow_empty"] = self.allow_empty.isChecked()
        if kind not in (None, "market-csv"):
            options["merge"] = self.merge.isChecked()
            options["replace"] = self.replace.isChecked()
        return options

    # -- preview --------------------------------------------------------------------------
    def refresh_preview(self) -> None:
        """Run the import without committing and show what it would change."""
        self._timer.stop()
        kind = self.chosen_kind()
        self._follow_kind(kind)
        self.preview_result, self.preview_counter = None, None
        self.deletes.hide()
        self.ok_button.setEnabled(False)
        self.ok_button.setText("Import")
        path = self.path.text().strip()
        if not path:
            return self._show("Choose a file: its kind is detected and what it would change is "
                              "shown here before anything is written.")
        if kind is None:
            return self._show("Choose the kind of file.")
        if self.db is None:
            return self._show("No database is open.")
        from workstation.store.db import book_counter
        from workstation.store.imports import import_file

        options = self.options()
        try:
            counter = book_counter(self.db)
            result = import_file(self.db, options.pop("kind"), Path(options.pop("path")),
                                 dry_run=True, **options)
        except Exception as exc:  # shown in the preview: the user picks another file or kind
            return self._show(shorten(str(exc)), error=True)
        self.preview_result, self.preview_counter = result, counter
        changes = result.changes
        lines = changes.summary() if changes is not None else []
        self._show("\n".join(f"• {line}" for line in lines))
        if changes is not None and changes.deletes:
            self.deletes.setText("Deletes: " + "; ".join(changes.deletions()))
            self.deletes.show()
            self.ok_button.setText("Replace…")
        self.ok_button.setEnabled(True)
        return None

    def _show(self, text: str, error: bool = False) -> None:
        self.preview.setText(text)
        self.preview.setObjectName("error" if error else "preview")
        self.preview.style().unpolish(self.preview)
        self.preview.style().polish(self.preview)

    def result_value(self) -> dict[str, Any]:
        if self._timer.isActive():  # a choice changed since the last preview: preview it first
            self.refresh_preview()
        if self.preview_result is None:
            raise ValueError(shorten(self.preview.text()) or "Choose a file to import")
        return {**self.options(), "expected_counter": self.preview_counter,
                "changes": self.preview_result.changes}


def confirm_deletions(parent: QWidget | None, changes: Any) -> bool:
    """Ask before an import that deletes data; the answer defaults to Cancel."""
    box, replace = deletions_box(parent, changes)
    box.exec()
    return box.clickedButton() is replace


def deletions_box(parent: QWidget | None, changes: Any) -> tuple[QMessageBox, QPushButton]:
    """The question `confirm_deletions` asks, and its Replace button."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Replace data?")
    box.setStyleSheet("QLabel#qt_msgbox_informativelabel { min-width: 420px; }")  # ids on one line
    box.setText("This import deletes data from the book:")
    box.setInformativeText("\n".join(f"• {line}" for line in changes.deletions())
                           + "\n\nA backup is taken first; Edit ▸ Undo brings the book back.")
    replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    return box, replace
