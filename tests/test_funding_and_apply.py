"""`market.<asset>.funding_rate` through reader, writer and store; Apply to book as one store call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workstation.core.errors import PortfolioError
from workstation.core.model import Position, Quote
from workstation.core.portfolio_io import loads_portfolio, read_portfolio
from workstation.core.portfolio_write import dumps_portfolio, portfolio_to_dict
from workstation.store import repository as repo
from workstation.store.db import open_db
from workstation.store.errors import InvalidInput

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"


def _doc(**quote) -> dict:
    doc = json.loads(DEMO.read_text())
    doc["market"]["BTC"].update(quote)
    return doc


def test_funding_rate_reads_writes_and_round_trips() -> None:
    book = loads_portfolio(json.dumps(_doc(funding_rate=0.0003)))
    assert book.market["BTC"] == Quote(91_245.5, 0.52, funding_rate=0.0003)
    assert book.market["USDT"].funding_rate is None
    out = portfolio_to_dict(book)
    assert out["market"]["BTC"]["funding_rate"] == 0.0003 and "funding_rate" not in out["market"]["USDT"]
    assert loads_portfolio(dumps_portfolio(book)) == book


@pytest.mark.parametrize(("value", "expected"), [("0.01 %", "a number"), (0.5, r"within \+/-0\.1"),
                                                 (True, "a number")])
def test_bad_funding_rate_is_refused_at_its_path(value, expected) -> None:
    with pytest.raises(PortfolioError, match=expected) as err:
        loads_portfolio(json.dumps(_doc(funding_rate=value)), source="book.json")
    assert err.value.path == "market.BTC.funding_rate"
    assert "book.json" in str(err.value)


def test_store_keeps_funding_rates(tmp_path: Path) -> None:
    book = loads_portfolio(json.dumps(_doc(funding_rate=-0.00025)))
    db = open_db(tmp_path / "w.db")
    try:
        repo.save_portfolio(db, book)
        assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(book)
        repo.set_quote(db, "BTC", 92_000.0, 0.5)  # a price edit keeps the funding rate
        assert repo.load_portfolio(db).market["BTC"] == Quote(92_000.0, 0.5, funding_rate=-0.00025)
        repo.set_quote(db, "BTC", 92_000.0, 0.5, funding_rate=0.0003)
        assert repo.load_portfolio(db).market["BTC"].funding_rate == 0.0003
        with pytest.raises(InvalidInput, match="funding_rate"):
            repo.set_quote(db, "BTC", 92_000.0, 0.5, funding_rate=0.2)
        cols = {r[1] for r in db.conn.execute("PRAGMA table_info(quotes)")}
        assert "funding_rate" in cols
    finally:
        db.close()


def test_apply_trades_books_positions_and_cash_in_one_transaction(tmp_path: Path) -> None:
    db = open_db(tmp_path / "w.db")
    try:
        repo.save_portfolio(db, read_portfolio(DEMO))
        before = repo.load_portfolio(db).account("deribit-pm")
        trade = Position("trade-1", "perpetual", "BTC", -273_740.0, 91_245.5, "inverse")
        repo.apply_trades(db, "deribit-pm", [trade], {"BTC": -0.0015, "USDC": -12.5})
        after = repo.load_portfolio(db).account("deribit-pm")
        assert after.positions[-1] == trade
        assert after.collateral["BTC"] == pytest.approx(before.collateral["BTC"] - 0.0015, rel=1e-15)
        assert after.collateral["USDC"] == -12.5  # an asset not held becomes a (borrowed) balance
        # a clash with an existing id, or a bad asset, writes nothing at all
        snapshot = repo.load_portfolio(db)
        clash = Position("trade-2", "perpetual", "BTC", 10.0, 91_245.5, "inverse")
        with pytest.raises(InvalidInput, match="new position id"):
            repo.apply_trades(db, "deribit-pm", [clash, trade], {"BTC": -1.0})
        with pytest.raises(InvalidInput, match="no price"):
            repo.apply_trades(db, "deribit-pm", [clash], {"XYZ": -1.0})
        assert repo.load_portfolio(db) == snapshot
    finally:
        db.close()
