"""Store: forwards per expiry, confidences, moves_with, peg price and perpetual marks (schema
version 4) survive the database round trip, migrate from version 2, and are edited one
transaction at a time with the whole-book check."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from shared_paths import EXAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import save_book
from pmrm2_helpers import AS_OF

from workstation.core.model import Forward, Position
from workstation.core.portfolio_io import read_portfolio
from workstation.core.portfolio_write import dumps_portfolio
from workstation.store import market_edits
from workstation.store import repository as repo
from workstation.store.connection import Database
from workstation.store.db import SCHEMA_VERSION, integrity_ok, open_db, schema_version
from workstation.store.errors import InvalidInput

CASES = sorted((EXAMPLES / "derive-pmrm2").glob("test_*.json"))
SOME = [c for c in CASES if c.stem.split("_")[1] in ("5", "13", "29", "61", "125")]
BOOK = CASES[0].parent / "test_61_general_general_test_1.json"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A database of the PMRM_2 example `BOOK` (its forwards and confidences)."""
    database = open_db(save_book(tmp_path / "w.db", BOOK))
    yield database
    database.close()


@pytest.mark.parametrize("path", SOME, ids=lambda p: p.stem)
def test_round_trip_json_db_json(path: Path, tmp_path: Path) -> None:
    book = read_portfolio(path)
    database = open_db(tmp_path / "w.db")
    try:
        repo.save_portfolio(database, book)
        assert dumps_portfolio(repo.load_portfolio(database)) == dumps_portfolio(book)
        repo.save_portfolio(database, book)  # same market: no second snapshot
        assert len(repo.snapshots(database)) == 1
        assert integrity_ok(database)
    finally:
        database.close()


def test_migration_from_version_2_keeps_the_book(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    plain = read_portfolio(Path(__file__).parent / "data" / "store" / "book.json")
    db = open_db(path, version=2)
    try:
        repo.save_portfolio(db, plain)
    finally:
        db.close()
    db = open_db(path)
    try:
        assert schema_version(db) == SCHEMA_VERSION
        assert "forwards" in db.utils.table_names()
        assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(plain)
        repo.save_portfolio(db, read_portfolio(BOOK))  # and holds the new fields now
        assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(read_portfolio(BOOK))
    finally:
        db.close()


def test_edit_forwards_and_quote_details(db) -> None:
    expiry = AS_OF + timedelta(days=9)
    later = AS_OF + timedelta(days=40)
    market_edits.set_forwards(db, "ETH", [Forward(expiry, 1800.0, 0.1, 0.9), Forward(later, 1900.0)])
    q = repo.load_portfolio(db).market["ETH"]
    assert q.forwards == (Forward(expiry, 1800.0, 0.1, 0.9), Forward(later, 1900.0))
    market_edits.set_quote_details(db, "USDC", peg_price=0.97, confidence=0.8)
    usdc = repo.load_portfolio(db).market["USDC"]
    assert (usdc.peg_price, usdc.confidence, usdc.moves_with) == (0.97, 0.8, None)
    # a price edit keeps the rest of the quote
    repo.set_quote(db, "USDC", 1.0)
    assert repo.load_portfolio(db).market["USDC"].peg_price == 0.97
    # a new snapshot keeps what an asset moves with
    repo.add_snapshot(db, AS_OF, None, {"RSWETH": 5000.0})
    assert repo.load_portfolio(db).market["RSWETH"].moves_with == "ETH"


@pytest.mark.parametrize(("call", "field"), [
    (lambda db: market_edits.set_forwards(db, "ETH", [Forward(AS_OF, -1.0)]), "market.ETH.forwards[0].forward"),
    (lambda db: market_edits.set_forwards(db, "ETH", [Forward(AS_OF, 1.0), Forward(AS_OF, 2.0)]),
     "market.ETH.forwards[1].expiry"),
    (lambda db: market_edits.set_quote_details(db, "SDAI", confidence=1.5), "market.SDAI.confidence"),
    (lambda db: market_edits.set_quote_details(db, "USDC", peg_price=0.0), "market.USDC.peg_price"),
    (lambda db: market_edits.set_quote_details(db, "SDAI", moves_with="NOPE"), "market.SDAI.moves_with"),
    # RSWETH moves with ETH: ETH cannot move with another asset (the whole-book check)
    (lambda db: market_edits.set_quote_details(db, "ETH", moves_with="BTC"), "market.RSWETH.moves_with"),
])
def test_bad_edits_are_refused_and_change_nothing(db, call, field) -> None:
    before = dumps_portfolio(repo.load_portfolio(db))
    with pytest.raises(InvalidInput) as err:
        call(db)
    assert err.value.field == field, str(err.value)
    assert dumps_portfolio(repo.load_portfolio(db)) == before


def test_perpetual_mark_is_set_and_cleared(db) -> None:
    perp = next(p for p in repo.load_portfolio(db).account("derive").positions if p.kind == "perpetual")
    assert perp.mark_price == 4000.0
    repo.upsert_position(db, "derive", replace(perp, mark_price=None, mark_confidence=None))
    again = next(p for p in repo.load_portfolio(db).account("derive").positions if p.id == perp.id)
    assert again.mark_price is None and again.mark_confidence is None
    # its place in the account is kept
    assert repo.load_portfolio(db).account("derive").positions[0].id == perp.id
    with pytest.raises(InvalidInput) as err:
        repo.upsert_position(db, "derive", Position(id="o", kind="option", underlying="ETH", quantity=1.0,
                                                    entry_price=0.0, settlement="linear", expiry=AS_OF,
                                                    right="call", strike=1000.0, vol=0.5, mark_price=10.0))
    assert err.value.field.endswith(".mark_price")
