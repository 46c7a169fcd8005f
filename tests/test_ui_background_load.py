"""The window reads the book on a worker (`Workspace.load_in_background`): the same book and
change counter as a load on the GUI thread, edits checked against that counter, a change made
elsewhere while the book is read seen by the next poll, and an older read never shown over a
newer load."""

from __future__ import annotations

from conftest import wait_idle, write_elsewhere

from workstation.core.model import Position
from workstation.store import repository as repo
from workstation.store.db import book_counter
from workstation.store.errors import StaleBookError
from workstation.ui.workspace import Workspace


def _loaded(qtbot, ws: Workspace) -> None:
    ws.load_in_background()
    assert ws.is_busy()  # reading: a caller waiting for idle waits for the book too
    wait_idle(qtbot, ws)


def test_background_load_gives_the_book_and_counter_of_a_load(qtbot, demo_db_path) -> None:
    ws = Workspace.from_database(demo_db_path)
    try:
        _loaded(qtbot, ws)
        background, counter = ws.portfolio, ws.book_counter
        ws.load()
        wait_idle(qtbot, ws)
        assert background == ws.portfolio
        assert counter == ws.book_counter == book_counter(ws.db)
        assert ws.view is not None and ws.reports
    finally:
        ws.close()


def test_edits_after_a_background_load_check_its_counter(qtbot, demo_db_path) -> None:
    ws = Workspace.from_database(demo_db_path)
    try:
        _loaded(qtbot, ws)
        pos = next(p for p in ws.portfolio.account("binance-usdm").positions if p.id == "ETHUSDT")
        # nothing changed since the read: the edit is accepted
        repo.require_counter(ws.db, ws.book_counter)
        # a write from another connection after the read: an edit from this book is refused,
        # and the poll reloads the newer book (on a worker again)
        write_elsewhere(demo_db_path, repo.upsert_position, "binance-usdm",
                   Position(**{**pos.__dict__, "quantity": 123.0}))
        try:
            repo.require_counter(ws.db, ws.book_counter)
            raise AssertionError("a stale edit was accepted")
        except StaleBookError:
            pass
        assert ws.check_for_changes()
        wait_idle(qtbot, ws)
        new = next(p for p in ws.portfolio.account("binance-usdm").positions if p.id == "ETHUSDT")
        assert new.quantity == 123.0
        repo.require_counter(ws.db, ws.book_counter)
        assert not ws.check_for_changes()  # the version polled before the read is current
    finally:
        ws.close()


def test_a_newer_load_wins_over_an_older_background_read(qtbot, demo_db_path) -> None:
    ws = Workspace.from_database(demo_db_path)
    try:
        ws.load_in_background()  # still reading when the next load (an edit's) runs here
        pos = next(p for p in repo.load_portfolio(ws.db).account("binance-usdm").positions
                   if p.id == "ETHUSDT")
        repo.upsert_position(ws.db, "binance-usdm", Position(**{**pos.__dict__, "quantity": 7.0}))
        ws.load()
        wait_idle(qtbot, ws)
        shown = next(p for p in ws.portfolio.account("binance-usdm").positions if p.id == "ETHUSDT")
        assert shown.quantity == 7.0
        assert ws.book_counter == book_counter(ws.db)
    finally:
        ws.close()
