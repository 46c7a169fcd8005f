"""The window's editors of forwards per expiry, confidences, moves_with, peg price and a
perpetual's mark: what a trader types reaches the database and the figures follow."""

from __future__ import annotations

import pytest
from conftest import wait_idle

from workstation.core.portfolio_io import format_time
from workstation.store import repository
from workstation.ui.dialogs import PositionDialog
from workstation.ui.market_dialogs import ForwardsDialog, QuoteDetailsDialog


def test_forwards_are_added_from_the_books_expiries(qtbot, window, monkeypatch) -> None:
    book = repository.load_portfolio(window.workspace.db)
    expiries = sorted({p.expiry for a in book.accounts for p in a.positions
                       if p.underlying == "ETH" and p.expiry is not None and not p.expired})
    equity = window.dashboard.report()["equity"]

    def add_forward(dialog: ForwardsDialog) -> bool:
        dialog.asset.setCurrentText("ETH")
        dialog.add_row()
        assert dialog.table.item(0, 0).text() == format_time(expiries[0])
        dialog.table.item(0, 1).setText("3300")
        dialog.table.item(0, 2).setText("0.05")
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", add_forward)
    window.editor.edit_forwards()
    wait_idle(qtbot, window.workspace)
    (fwd,) = repository.load_portfolio(window.workspace.db).market["ETH"].forwards
    assert (fwd.expiry, fwd.forward, fwd.rate, fwd.confidence) == (expiries[0], 3300.0, 0.05, None)
    assert window.dashboard.report()["equity"] != pytest.approx(equity, rel=1e-12)


def test_bad_forward_keeps_the_dialog_open(qtbot, window) -> None:
    dialog = ForwardsDialog(repository.load_portfolio(window.workspace.db), "ETH")
    qtbot.addWidget(dialog)
    dialog.add_row()
    dialog.table.item(0, 1).setText("-5")
    dialog._on_ok()
    assert not dialog.error.isHidden() and "forward" in dialog.error.text()
    dialog.table.item(0, 1).setText("3000")
    dialog.table.item(0, 3).setText("2")
    dialog._on_ok()
    assert "confidence" in dialog.error.text()


def test_quote_details_are_saved(qtbot, window, monkeypatch) -> None:
    def details(dialog: QuoteDetailsDialog) -> bool:
        dialog.asset.setCurrentText("USDC")
        dialog.confidence.setText("0.9")
        dialog.peg.setText("0.97")
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", details)
    window.editor.edit_quote_details()
    wait_idle(qtbot, window.workspace)
    q = repository.load_portfolio(window.workspace.db).market["USDC"]
    assert (q.confidence, q.peg_price, q.moves_with) == (0.9, 0.97, None)

    def bad(dialog: QuoteDetailsDialog) -> bool:
        dialog.asset.setCurrentText("USDC")
        dialog.confidence.setText("1.5")
        dialog._on_ok()
        assert "confidence" in dialog.error.text()
        return False

    monkeypatch.setattr(window.editor, "run_dialog", bad)
    window.editor.edit_quote_details()


def test_position_dialog_edits_a_perpetuals_mark(qtbot, window) -> None:
    book = repository.load_portfolio(window.workspace.db)
    acc, perp = next((a, p) for a in book.accounts for p in a.positions if p.kind == "perpetual")
    dialog = PositionDialog(book, acc.id, perp)
    qtbot.addWidget(dialog)
    assert dialog.form.isRowVisible(dialog.mark)
    dialog.mark.setText(str(perp.entry_price * 1.01))
    dialog.mark_conf.setText("0.8")
    pos = dialog.result_value()
    assert pos.mark_price == pytest.approx(perp.entry_price * 1.01) and pos.mark_confidence == 0.8
    dialog.kind.setCurrentText("option")
    assert not dialog.form.isRowVisible(dialog.mark)
