"""The window never loses data silently: it reloads when the database changes under it,
refuses edits made from stale data, previews imports (merge by default), asks before one that
deletes, and offers Undo for replacing imports and Apply to book."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import open_window, wait_idle, write_elsewhere

from workstation.core.model import Position
from workstation.store import health
from workstation.store import repository as repo
from workstation.store.db import open_db
from workstation.ui.import_dialog import MAX_ERROR, ImportDialog

POSITIONS_CSV = "id,kind,underlying,settlement,quantity,entry_price\nimp-1,perpetual,BTC,linear,2,90000\n"


def _select(qtbot, win, scope: str) -> None:
    assert win.tree.select_scope(scope)
    qtbot.waitUntil(lambda: win.workspace.view is not None and win.workspace.view.scope == scope,
                    timeout=20_000)
    wait_idle(qtbot, win.workspace)


def test_window_reloads_when_the_database_changes_under_it(qtbot, window, demo_db_path) -> None:
    _select(qtbot, window, "account:binance-usdm")
    equity = window.dashboard.report()["equity"]
    write_elsewhere(demo_db_path, repo.set_collateral, "binance-usdm", "USDT", 343870.25)
    qtbot.waitUntil(lambda: window.workspace.portfolio.account("binance-usdm").collateral["USDT"]
                    == 343870.25, timeout=5_000)  # the timer polls PRAGMA data_version
    wait_idle(qtbot, window.workspace)
    assert window.dashboard.report()["equity"] == pytest.approx(equity + 100_000, rel=1e-9)
    usdt = next(r for r in window.collateral.model.records() if r["asset"] == "USDT")
    assert usdt["amount"] == pytest.approx(343870.25)
    assert "changed by another window or command" in window.statusBar().currentMessage()


def test_history_written_elsewhere_does_not_reload(qtbot, window, demo_db_path) -> None:
    ws = window.workspace
    shown = ws.portfolio
    write_elsewhere(demo_db_path, repo.record_history, {"scope": "account:x", "equity": 1.0})
    assert not ws.check_for_changes()
    assert ws.portfolio is shown


def test_edit_from_stale_data_is_refused(qtbot, window, demo_db_path, monkeypatch) -> None:
    ws = window.workspace
    ws._watch.stop()  # the other write lands between the window's load and the user's OK
    _select(qtbot, window, "account:binance-usdm")
    pos = next(p for p in ws.portfolio.account("binance-usdm").positions if p.id == "ETHUSDT")
    seen: list[str] = []

    def edit_quantity(dialog) -> bool:
        write_elsewhere(demo_db_path, repo.upsert_position, "binance-usdm",
                   Position(**{**pos.__dict__, "quantity": 123.0}))
        dialog.quantity.setText("7")
        dialog._on_ok()
        seen.append(dialog.error.text())
        return False

    monkeypatch.setattr(window.editor, "run_dialog", edit_quantity)
    record = next(r for r in window.positions.model.records() if r["id"] == "ETHUSDT")
    window.editor.edit_position(record)
    assert "changed in the database since this window loaded it" in seen[0]
    db = open_db(demo_db_path)
    try:
        saved = next(p for p in repo.load_portfolio(db).account("binance-usdm").positions
                     if p.id == "ETHUSDT")
    finally:
        db.close()
    assert saved.quantity == 123.0  # the other write survives
    assert next(p for p in ws.portfolio.account("binance-usdm").positions
                if p.id == "ETHUSDT").quantity == 123.0  # and the window now shows it
    wait_idle(qtbot, ws)


def test_import_dialog_detects_previews_and_starts_on_merge(qtbot, window, tmp_path) -> None:
    csv = tmp_path / "venue.csv"
    csv.write_text(POSITIONS_CSV)
    dialog = ImportDialog(window.workspace.portfolio, "binance-usdm", window.workspace.db,
                          parent=window)
    qtbot.addWidget(dialog)
    assert dialog.merge.isChecked() and not dialog.ok_button.isEnabled()
    dialog.path.setText(str(csv))
    dialog.refresh_preview()
    assert dialog.chosen_kind() == "positions-csv"
    assert "Detected: Positions, CSV" in dialog.kind_note.text()
    assert "account binance-usdm: positions 1 added" in dialog.preview.text()
    assert dialog.deletes.isHidden() and dialog.ok_button.text() == "Import"
    dialog.replace.setChecked(True)
    dialog.refresh_preview()
    assert "positions 1 added, 3 deleted" in dialog.preview.text()
    assert dialog.deletes.text().startswith("Deletes: 3 positions of account binance-usdm: BTCUSDT")
    assert dialog.ok_button.text() == "Replace…"


def test_wrong_kind_shows_a_short_error_not_the_file(qtbot, window, tmp_path) -> None:
    big = tmp_path / "positions.csv"
    big.write_text("id,kind,underlying,settlement,quantity,entry_price\n"
                   + "x" * 200_000 + ",perpetual,BTC,linear,1,1\n")
    dialog = ImportDialog(window.workspace.portfolio, "binance-usdm", window.workspace.db,
                          parent=window)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(big))
    dialog.kind.setCurrentIndex(dialog.kind.findData("balances-csv"))
    dialog.refresh_preview()
    assert "missing column" in dialog.preview.text()
    assert len(dialog.preview.text()) <= MAX_ERROR
    assert "looks like Positions, CSV" in dialog.kind_note.text()
    assert not dialog.ok_button.isEnabled()
    dialog.resize(dialog.sizeHint())
    assert dialog.height() < 700  # the form keeps its size


def _import(window, monkeypatch, path: Path, replace: bool, answer: bool) -> list:
    asked: list = []

    def choose(dialog) -> bool:
        dialog.path.setText(str(path))
        dialog.replace.setChecked(replace)
        dialog.refresh_preview()
        dialog._on_ok()
        asked.append(dialog.error.text() if not dialog.error.isHidden() else "")
        return True

    def confirm(changes) -> bool:
        asked.append(changes.deletions())
        return answer

    monkeypatch.setattr(window.editor, "run_dialog", choose)
    monkeypatch.setattr(window.editor, "confirm_replace", confirm)
    window.editor.import_file()
    return asked


def test_replacing_import_asks_then_undo_brings_the_book_back(qtbot, window, tmp_path,
                                                               monkeypatch) -> None:
    ws = window.workspace
    csv = tmp_path / "venue.csv"
    csv.write_text(POSITIONS_CSV)
    _select(qtbot, window, "account:binance-usdm")
    before = [p.id for p in ws.portfolio.account("binance-usdm").positions]

    asked = _import(window, monkeypatch, csv, replace=True, answer=False)
    assert asked[0] == ["3 positions of account binance-usdm: BTCUSDT, ETHUSDT, SOLUSDT"]
    assert "Nothing was imported" in asked[1]
    assert [p.id for p in ws.portfolio.account("binance-usdm").positions] == before

    asked = _import(window, monkeypatch, csv, replace=True, answer=True)
    assert asked[-1] == ""
    wait_idle(qtbot, ws)
    assert [p.id for p in ws.portfolio.account("binance-usdm").positions] == ["imp-1"]
    assert window.editor.safety.undo_action.isEnabled()
    assert "import of venue.csv" in window.editor.safety.undo_action.text()

    window.editor.safety.undo_action.trigger()
    wait_idle(qtbot, ws)
    assert [p.id for p in ws.portfolio.account("binance-usdm").positions] == before
    assert not window.editor.safety.undo_action.isEnabled()


def test_merge_import_asks_nothing(qtbot, window, tmp_path, monkeypatch) -> None:
    csv = tmp_path / "venue.csv"
    csv.write_text(POSITIONS_CSV)
    _select(qtbot, window, "account:binance-usdm")
    asked = _import(window, monkeypatch, csv, replace=False, answer=False)
    assert asked == [""]  # no confirmation: nothing is deleted
    wait_idle(qtbot, window.workspace)
    ids = [p.id for p in window.workspace.portfolio.account("binance-usdm").positions]
    assert ids == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "imp-1"]


def test_apply_to_book_can_be_undone_until_the_book_changes(qtbot, window, demo_db_path,
                                                            monkeypatch) -> None:
    ws = window.workspace
    monkeypatch.setattr(window.editor, "confirm", lambda _text: True)
    trade = Position(id="hedge-1", kind="perpetual", underlying="BTC", quantity=-0.5,
                     entry_price=90000.0, settlement="linear")
    assert window.editor.apply_trades("binance-usdm", [trade])
    wait_idle(qtbot, ws)
    assert "hedge-1" in [p.id for p in ws.portfolio.account("binance-usdm").positions]
    safety = window.editor.safety
    assert safety.undo_action.isEnabled() and "Apply to book" in safety.undo_action.text()
    assert safety.undo()
    wait_idle(qtbot, ws)
    assert "hedge-1" not in [p.id for p in ws.portfolio.account("binance-usdm").positions]

    assert window.editor.apply_trades("binance-usdm", [trade])
    wait_idle(qtbot, ws)
    write_elsewhere(demo_db_path, repo.set_collateral, "binance-usdm", "USDT", 1000.0)
    assert ws.check_for_changes()
    wait_idle(qtbot, ws)
    assert not safety.undo_action.isEnabled()  # undoing would lose the newer change


def test_read_only_database_opens_and_says_so(qtbot, demo_db_path, ui_settings,
                                              monkeypatch) -> None:
    from workstation.ui.workspace import Workspace

    monkeypatch.setattr(health, "is_writable", lambda path: False)
    workspace = Workspace.from_database(demo_db_path)
    win = open_window(qtbot, workspace, ui_settings)
    assert workspace.read_only and "read-only" in win.source_label.text()
    assert not win.import_action.isEnabled()
    assert all(not a.isEnabled() for a in win.edit_actions)
    assert workspace.portfolio.accounts
    win.workspace.close()
