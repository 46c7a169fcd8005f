"""What the window's edit and file actions do: dialogs, then the store, then a refresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from PySide6.QtWidgets import QFileDialog, QMessageBox, QStatusBar

from workstation.core.model import Portfolio, Position
from workstation.ui.errors import show_error


class EditorHost(Protocol):
    """What the edit actions need of the window, a QWidget (the main window is one; this module does
    not import it, so there is no import cycle)."""

    workspace: Any  # Workspace
    positions: Any  # PositionsPanel: current_record()
    collateral: Any  # CollateralPanel: current_record()
    display: Any  # DisplaySettings

    def number_format(self) -> Any: ...
    def statusBar(self) -> QStatusBar: ...
    def set_workspace(self, workspace: Any) -> None: ...
    def apply_display(self, display: Any, save: bool = True) -> None: ...


JSON_FILTER = "Portfolio files (*.json);;All files (*)"
EXPORT_FILTERS = (
    "Portfolio file (*.json)",
    "Margin reports, JSON (*.json)",
    "Margin reports, CSV (*.csv)",
    "Positions of every report, CSV (*.csv)",
)


def export_text(chosen: str, portfolio: Portfolio, reports: list[dict[str, Any]]) -> str:
    """The text of an export; `chosen` is one of EXPORT_FILTERS."""
    if chosen == EXPORT_FILTERS[0]:
        from workstation.core.portfolio_write import dumps_portfolio

        return dumps_portfolio(portfolio)
    if not reports:
        raise ValueError("No margin reports yet: wait for the recompute to finish")
    from workstation.store.exports import reports_csv, reports_json

    if chosen == EXPORT_FILTERS[1]:
        return reports_json(reports)
    return reports_csv(reports, positions=chosen == EXPORT_FILTERS[3])


class Editor:
    """Edit handlers of a `MainWindow`; every change goes through the repository."""

    def __init__(self, window: EditorHost) -> None:
        from workstation.ui.safety import SafetyNet

        self.window = window
        self.safety = SafetyNet(window)  # Undo, and notices of changes made elsewhere

    # -- helpers --------------------------------------------------------------------------
    @property
    def portfolio(self) -> Portfolio | None:
        return self.window.workspace.portfolio

    def confirm(self, text: str) -> bool:
        """Ask before a destructive edit (tests replace this)."""
        answer = QMessageBox.question(self.window, "Margin Workstation", text)
        return answer == QMessageBox.StandardButton.Yes

    def confirm_replace(self, changes: Any) -> bool:
        """Ask before an import that deletes data, naming it (tests replace this)."""
        from workstation.ui.import_dialog import confirm_deletions

        return confirm_deletions(self.window, changes)

    def run_dialog(self, dialog: Any) -> bool:
        """Show a modal dialog (tests replace this); True when accepted."""
        return bool(dialog.exec())

    def _account_for_new(self) -> str | None:
        """The selected account, or the first account of the selected pool."""
        ws = self.window.workspace
        if self.portfolio is None or not self.portfolio.accounts:
            return None
        kind, _, ident = (ws.scope or "").partition(":")
        if kind == "account":
            return ident
        if kind == "pool":
            accounts = self.portfolio.pool(ident).accounts
            if accounts:
                return accounts[0]
        return self.portfolio.accounts[0].id

    def _find_position(self, account_id: str, position_id: str) -> Position | None:
        if self.portfolio is None:
            return None
        for pos in self.portfolio.account(account_id).positions:
            if pos.id == position_id:
                return pos
        return None

    def _writable(self) -> bool:
        return not self.window.workspace.read_only and self.portfolio is not None

    def save(self, edit: Any, *args: Any) -> None:
        """Run a repository edit; raise on failure (dialogs show it), reload on success.

        The edit is refused if the book changed in the database since the window loaded it
        (another window or a command wrote to it): the window then reloads."""
        from workstation.store.edits import guarded_edit
        from workstation.store.errors import StaleBookError

        ws = self.window.workspace
        try:
            guarded_edit(ws.db, ws.book_counter, edit, *args)
        except StaleBookError:
            ws.load(record=False)
            raise
        ws.load(record=True)

    # -- positions ------------------------------------------------------------------------
    def add_position(self) -> None:
        account = self._account_for_new()
        if not self._writable() or account is None:
            return
        from workstation.store.repository import upsert_position
        from workstation.ui.dialogs import PositionDialog

        dialog = PositionDialog(self.portfolio, account, parent=self.window)

        def submit(pos: Position) -> None:
            if self._find_position(dialog.account_id(), pos.id) is not None:
                raise ValueError(f"Id: {dialog.account_id()} already has a position {pos.id!r}")
            self.save(upsert_position, dialog.account_id(), pos)

        dialog.on_submit = submit
        self.run_dialog(dialog)

    def edit_position(self, record: dict[str, Any]) -> None:
        pos = self._find_position(record["account"], record["id"]) if self._writable() else None
        if pos is None:
            return
        from workstation.store.repository import upsert_position
        from workstation.ui.dialogs import PositionDialog

        dialog = PositionDialog(self.portfolio, record["account"], pos, parent=self.window)
        dialog.on_submit = lambda p: self.save(upsert_position, record["account"], p)
        self.run_dialog(dialog)

    def delete_position(self, record: dict[str, Any]) -> None:
        if not self._writable():
            return
        label = record.get("instrument", record["id"])
        if not self.confirm(f"Delete position {label} from {record['account']}?"):
            return
        from workstation.store.repository import delete_position

        self._apply(delete_position, record["account"], record["id"])

    def edit_current_position(self) -> None:
        record = self.window.positions.current_record()
        if record is not None:
            self.edit_position(record)

    def delete_current_position(self) -> None:
        record = self.window.positions.current_record()
        if record is not None:
            self.delete_position(record)

    def apply_trades(self, account_id: str, trades: list[Position], cash: dict[str, float] | None = None) -> bool:
        """Book drafted what-if trades and their cash legs (collateral changes) in the account
        after asking: one store call (`edits.apply_trades`), one transaction, undoable; reload."""
        if not self._writable() or not trades:
            return False
        fmt = self.window.number_format()
        lines = "\n".join(
            f"• {t.id}: {t.kind} {t.underlying} {fmt.quantity(t.quantity)} at {fmt.price(t.entry_price)}"
            for t in trades
        )
        moves = "\n".join(f"• {asset} {fmt.quantity(change)}" for asset, change in (cash or {}).items() if change)
        plural = "" if len(trades) == 1 else "s"
        text = f"Save {len(trades)} drafted trade{plural} to account {account_id} in the database?\n\n{lines}"
        if moves:
            text += f"\n\nCollateral paid (premiums and fees):\n{moves}"
        if not self.confirm(text):
            return False
        from workstation.store.edits import apply_trades

        ws = self.window.workspace
        try:
            result = apply_trades(ws.db, account_id, trades, cash or {}, expected_counter=ws.book_counter)
        except Exception as exc:
            show_error(self.window, "Apply to book", exc)
            ws.load(record=False)
            return False
        ws.load(record=True)
        self.safety.offer_undo(f"Apply to book ({len(trades)} trade{plural} to {account_id})",
                               result.backup, result.counter)
        self.window.statusBar().showMessage(
            f"Saved {len(trades)} trade{plural} to {account_id}; Edit ▸ Undo takes them back", 8000)
        return True

    # -- collateral -----------------------------------------------------------------------
    def add_collateral(self) -> None:
        account = self._account_for_new()
        if not self._writable() or account is None:
            return
        self._collateral_dialog(account, None)

    def edit_collateral(self, record: dict[str, Any]) -> None:
        account = record.get("account") or self._account_for_new()
        if not self._writable() or account is None or record["asset"] == "isolated margin":
            return
        if record["asset"] not in self.portfolio.account(account).collateral:
            account = self._holder(record["asset"]) or account
        self._collateral_dialog(account, record["asset"])

    def _holder(self, asset: str) -> str | None:
        """In a pool: the first member account holding `asset`."""
        ws = self.window.workspace
        kind, _, ident = (ws.scope or "").partition(":")
        if kind != "pool" or self.portfolio is None:
            return None
        for acc_id in self.portfolio.pool(ident).accounts:
            if asset in self.portfolio.account(acc_id).collateral:
                return acc_id
        return None

    def _collateral_dialog(self, account: str, asset: str | None) -> None:
        from workstation.store.repository import set_collateral
        from workstation.ui.dialogs import CollateralDialog

        dialog = CollateralDialog(self.portfolio, account, asset, parent=self.window)
        dialog.on_submit = lambda v: self.save(set_collateral, *v)
        self.run_dialog(dialog)

    def delete_collateral(self, record: dict[str, Any]) -> None:
        if not self._writable() or record["asset"] == "isolated margin":
            return
        account = record.get("account") or self._holder(record["asset"]) or self._account_for_new()
        if not self.confirm(f"Remove {record['asset']} collateral from {account}?"):
            return
        from workstation.store.repository import delete_collateral

        self._apply(delete_collateral, account, record["asset"])

    def edit_current_collateral(self) -> None:
        record = self.window.collateral.current_record()
        if record is not None:
            self.edit_collateral(record)

    def delete_current_collateral(self) -> None:
        record = self.window.collateral.current_record()
        if record is not None:
            self.delete_collateral(record)

    # -- market and accounts --------------------------------------------------------------
    def edit_quote(self) -> None:
        if not self._writable():
            return
        from workstation.store.repository import set_quote
        from workstation.ui.dialogs import QuoteDialog

        dialog = QuoteDialog(self.portfolio, self.window.workspace.underlying, parent=self.window)
        dialog.on_submit = lambda v: self.save(set_quote, *v)
        self.run_dialog(dialog)

    def edit_forwards(self) -> None:
        if not self._writable():
            return
        from workstation.store.market_edits import set_forwards
        from workstation.ui.market_dialogs import ForwardsDialog

        dialog = ForwardsDialog(self.portfolio, self.window.workspace.underlying, parent=self.window)
        dialog.on_submit = lambda v: self.save(set_forwards, *v)
        self.run_dialog(dialog)

    def edit_quote_details(self) -> None:
        if not self._writable():
            return
        from workstation.store.market_edits import set_quote_details
        from workstation.ui.market_dialogs import QuoteDetailsDialog

        dialog = QuoteDetailsDialog(self.portfolio, self.window.workspace.underlying, parent=self.window)
        dialog.on_submit = lambda v: self.save(lambda db, asset, kw: set_quote_details(db, asset, **kw), *v)
        self.run_dialog(dialog)

    def edit_account_mode(self) -> None:
        account = self._account_for_new()
        if not self._writable() or account is None:
            return
        from workstation.core.profiles import shipped_profiles
        from workstation.store.repository import set_account_mode
        from workstation.ui.dialogs import AccountModeDialog

        view = self.window.workspace.view
        standalone = {}
        if view is not None:
            standalone = {p["id"]: p["standalone_margin"] for p in view.report.get("positions", [])
                          if p.get("account") == account}
        dialog = AccountModeDialog(
            self.portfolio, account, list(shipped_profiles()), standalone, parent=self.window
        )
        dialog.on_submit = lambda v: self.save(set_account_mode, *v)
        self.run_dialog(dialog)

    def open_settings(self) -> None:
        from workstation.ui.settings_dialog import SettingsDialog

        base = self.portfolio.base_currency if self.portfolio else "USD"
        dialog = SettingsDialog(self.window.display, base, parent=self.window)
        dialog.on_submit = self.window.apply_display
        self.run_dialog(dialog)

    # -- files ----------------------------------------------------------------------------
    def open_portfolio(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open portfolio (read-only)", "", JSON_FILTER)
        if path:
            from workstation.ui.workspace import Workspace

            self.window.set_workspace(Workspace.from_file(Path(path)))

    def open_database(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Open or create a database", "", "Databases (*.db *.sqlite);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            from workstation.ui.workspace import Workspace

            try:
                workspace = Workspace.from_database(Path(path))
            except Exception as exc:
                show_error(self.window, "Open database", exc)
                return
            self.window.set_workspace(workspace)

    def import_file(self) -> None:
        """Import a portfolio, venue dump or CSV into the database (atomic: all or nothing)."""
        if self.window.workspace.read_only:
            return
        from workstation.store.errors import StaleBookError
        from workstation.store.imports import import_file
        from workstation.ui.import_dialog import ImportDialog

        ws = self.window.workspace
        dialog = ImportDialog(self.portfolio, self._account_for_new(), ws.db, parent=self.window)

        def submit(options: dict[str, Any]) -> None:
            changes = options.pop("changes")
            kind, path = options.pop("kind"), Path(options.pop("path"))
            if changes is not None and changes.deletes and not self.confirm_replace(changes):
                raise ValueError("Nothing was imported: choose Merge, or confirm the replacement")
            try:
                result = import_file(ws.db, kind, path, **options)
            except StaleBookError:
                dialog.refresh_preview()  # the book changed since: show the new preview
                raise
            ws.load(record=True)
            undo = "; Edit ▸ Undo brings back the book as it was" if result.backup else ""
            self.window.statusBar().showMessage(
                f"Imported {result.rows} row(s) of {kind} from {path.name}{undo}", 12000)
            self.safety.offer_undo(f"import of {path.name}", result.backup, result.counter)

        dialog.on_submit = submit
        self.run_dialog(dialog)

    def export_file(self) -> None:
        """Export the book (portfolio file) or the margin reports (JSON or CSV)."""
        ws = self.window.workspace
        if self.portfolio is None:
            return
        path, chosen = QFileDialog.getSaveFileName(
            self.window, "Export", "portfolio.json", ";;".join(EXPORT_FILTERS)
        )
        if not path:
            return
        try:
            from workstation.store.files import write_export

            text = export_text(chosen, self.portfolio, ws.reports)
            write_export(text, path, protect=[ws.db_path] if ws.db_path else [])
        except Exception as exc:
            show_error(self.window, "Export", exc)
            return
        self.window.statusBar().showMessage(f"Exported {path}", 5000)

    def _apply(self, edit: Any, *args: Any) -> None:
        try:
            self.save(edit, *args)
        except Exception as exc:
            show_error(self.window, "Margin Workstation", exc)
