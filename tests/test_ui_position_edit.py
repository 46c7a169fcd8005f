"""Editing a position in the window's dialog keeps every field the dialog does not show (venue
figures, leverage, an expired option's settlement) and every optional field it shows but the
user leaves alone (mark price and confidence of a perpetual)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import wait_idle

from workstation.core.model import Position, VenueFigures
from workstation.store import repository

FIGURES = VenueFigures(initial_margin=1234.5, maintenance_margin=617.25, liquidation_price=41_000.0,
                       margin_usage=0.125, currency="USDT", index_price=1.0, source="test")


def _edit_quantity(qtbot, window, monkeypatch, account: str, position: Position, factor: float) -> Position:
    """Open the window's edit dialog on `position`, change only its quantity, save; the stored
    position after the edit."""
    window.tree.select_scope(f"account:{account}")
    wait_idle(qtbot, window.workspace)

    def change_quantity(dialog) -> bool:
        dialog.quantity.setText(repr(position.quantity * factor))
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", change_quantity)
    window.editor.edit_position({"account": account, "id": position.id})
    wait_idle(qtbot, window.workspace)
    saved = repository.load_portfolio(window.workspace.db).account(account)
    return next(p for p in saved.positions if p.id == position.id)


def test_editing_a_perpetual_keeps_its_leverage_marks_and_venue_figures(qtbot, window, monkeypatch) -> None:
    db = window.workspace.db
    book = repository.load_portfolio(db)
    perp = next(p for p in book.account("binance-usdm").positions if p.kind == "perpetual")
    price = book.market[perp.underlying].price
    stored = replace(perp, leverage=5.0, mark_price=price * 1.001, mark_confidence=0.97, venue_figures=FIGURES)
    repository.upsert_position(db, "binance-usdm", stored)
    window.workspace.load(record=False)
    wait_idle(qtbot, window.workspace)

    after = _edit_quantity(qtbot, window, monkeypatch, "binance-usdm", stored, 2.0)

    assert after.quantity == pytest.approx(stored.quantity * 2.0, rel=1e-15)
    assert after.leverage == 5.0
    assert after.mark_price == pytest.approx(price * 1.001, rel=1e-15)
    assert after.mark_confidence == 0.97
    assert after.venue_figures == FIGURES
    # everything else as it was
    assert replace(after, quantity=stored.quantity) == stored


def test_editing_an_expired_option_keeps_its_settlement(qtbot, window, monkeypatch) -> None:
    db = window.workspace.db
    book = repository.load_portfolio(db)
    option = next(p for p in book.account("deribit-pm").positions if p.kind == "option")
    stored = replace(option, expiry=book.as_of - timedelta(days=2), expired=True, settlement_price=88_000.0,
                     venue_figures=FIGURES)
    repository.upsert_position(db, "deribit-pm", stored)
    window.workspace.load(record=False)
    wait_idle(qtbot, window.workspace)

    after = _edit_quantity(qtbot, window, monkeypatch, "deribit-pm", stored, 0.5)

    assert after.quantity == pytest.approx(stored.quantity * 0.5, rel=1e-15)
    assert after.expired and after.settlement_price == 88_000.0
    assert after.venue_figures == FIGURES
    assert replace(after, quantity=stored.quantity) == stored


def test_a_new_kind_drops_what_it_cannot_carry(qtbot, window) -> None:
    """Leverage belongs to perpetuals and futures: a perpetual edited into spot leaves it behind
    (the dialog has no field to clear it), but keeps its venue figures."""
    from workstation.ui.dialogs import PositionDialog

    book = repository.load_portfolio(window.workspace.db)
    perp = next(p for p in book.account("binance-usdm").positions if p.kind == "perpetual")
    stored = replace(perp, leverage=5.0, venue_figures=FIGURES)
    dialog = PositionDialog(book, "binance-usdm", stored)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentText("spot")
    got = dialog.result_value()
    assert got.kind == "spot" and got.leverage is None and got.mark_price is None
    assert got.venue_figures == FIGURES
    dialog.kind.setCurrentText("future")
    assert dialog.result_value().leverage == 5.0


def test_fields_give_back_their_value_exactly_until_edited(qtbot) -> None:
    from workstation.ui.fields import NumberField, PercentField

    price = NumberField(91336.74549999999)
    qtbot.addWidget(price)
    assert price.text() == "91336.7455"  # shown to 10 significant digits
    assert price.value("Mark price") == 91336.74549999999  # given back exactly
    price.setText("91336.7456")
    assert price.value("Mark price") == 91336.7456
    price.setText("91336.7455")  # typed back as shown: the exact value again
    assert price.value("Mark price") == 91336.74549999999
    vol = PercentField(0.523456789123)
    qtbot.addWidget(vol)
    assert vol.text() == "52.345679" and vol.value("Vol") == 0.523456789123
    vol.setText("52.345679 %")  # an edit that reads as the shown number: taken as typed
    assert vol.value("Vol") == pytest.approx(0.52345679, rel=1e-15)
    empty = NumberField(None, optional=True)
    qtbot.addWidget(empty)
    assert empty.value("Isolated margin") is None
