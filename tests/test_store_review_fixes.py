"""Store: regression tests for the reviewer's findings on the SQLite store's imports."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import save_book

from workstation.store import commands, records
from workstation.store import repository as repo
from workstation.store.connection import Database
from workstation.store.db import open_db
from workstation.store.errors import ImportFileError
from workstation.store.imports import import_file

DATA = Path(__file__).parent / "data" / "store"
PERP = "BTC/USDT:USDT"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _ccxt(tmp_path: Path, name: str, entries: list[dict]) -> Path:
    return _write(tmp_path, name, json.dumps(entries))


def _positions(db: Database, account: str) -> dict:
    return {p.id: p for p in repo.load_portfolio(db).account(account).positions}


def _entry(side: str, contracts: float, symbol: str = PERP) -> dict:
    return {"symbol": symbol, "side": side, "contracts": contracts, "entryPrice": 90000.0}


# ---------------------------------------------------------------- 1. hedge-mode ids
def test_hedge_pair_ids_do_not_depend_on_entry_order(db, tmp_path: Path) -> None:
    first = _ccxt(tmp_path, "a.json", [_entry("short", 1), _entry("long", 2)])
    second = _ccxt(tmp_path, "b.json", [_entry("long", 2), _entry("short", 1)])
    import_file(db, "ccxt-positions", first, account="hedge")
    assert set(_positions(db, "hedge")) == {f"{PERP} long", f"{PERP} short"}
    import_file(db, "ccxt-positions", second, account="hedge", merge=True)
    got = _positions(db, "hedge")
    assert set(got) == {f"{PERP} long", f"{PERP} short"}
    assert sum(p.quantity for p in got.values()) == pytest.approx(1.0)


def test_hedge_mode_file_suffixes_every_entry(db, tmp_path: Path) -> None:
    entries = [{**_entry("long", 2), "hedged": True},
               {**_entry("short", 1, "ETH/USDT:USDT"), "entryPrice": 3000.0}]
    import_file(db, "ccxt-positions", _ccxt(tmp_path, "h.json", entries), account="hedge")
    assert set(_positions(db, "hedge")) == {f"{PERP} long", "ETH/USDT:USDT short"}


def test_same_side_twice_is_refused(db, tmp_path: Path) -> None:
    path = _ccxt(tmp_path, "d.json", [_entry("long", 1), _entry("long", 2)])
    with pytest.raises(ImportFileError, match="same side"):
        import_file(db, "ccxt-positions", path, account="hedge")


# ---------------------------------------------------------------- 2. venue symbols as assets
@pytest.mark.parametrize("code", [PERP, "BTC/USDT", "BTC-PERPETUAL"])
def test_market_csv_refuses_a_venue_symbol_as_asset(db, tmp_path: Path, code: str) -> None:
    path = _write(tmp_path, "m.csv", f"symbol,price\nETH,3100\n{code},91000\n")
    with pytest.raises(ImportFileError) as err:
        import_file(db, "market-csv", path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), 3, "symbol")
    assert "venue symbol" in err.value.message and "BTC" in err.value.message
    assert PERP not in repo.market(db) and repo.market(db)["ETH"].price == 3018.4


def test_market_csv_still_takes_plain_codes(db, tmp_path: Path) -> None:
    import_file(db, "market-csv", _write(tmp_path, "m.csv", "asset,price\nBTC,92000\nBUSD,1\n"))
    assert repo.market(db)["BTC"].price == 92000 and "BUSD" in repo.market(db)


# ---------------------------------------------------------------- 3. vol in percent
def test_market_csv_refuses_a_percentage_vol(db, tmp_path: Path) -> None:
    path = _write(tmp_path, "m.csv", "asset,price,mark_iv\nBTC,92000,52.3\n")
    with pytest.raises(ImportFileError) as err:
        import_file(db, "market-csv", path)
    assert (err.value.line, err.value.field) == (2, "mark_iv")
    assert "looks like a percentage: give 0.523 for 52.3 %" in err.value.message
    assert repo.market(db)["BTC"].vol == 0.52


def test_positions_csv_refuses_a_percentage_vol(db, tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv",
                  "symbol,quantity,entry_price,iv\nBTC-27DEC26-100000-C,1,0.02,0.5\n"
                  "BTC-27DEC26-110000-C,1,0.01,55\n")
    with pytest.raises(ImportFileError) as err:
        import_file(db, "positions-csv", path, account="main")
    assert (err.value.line, err.value.field) == (3, "iv")
    assert "looks like a percentage: give 0.55 for 55 %" in err.value.message


# ---------------------------------------------------------------- 4. OKX / Bitget sides
@pytest.mark.parametrize("header", ["posSide", "holdSide", "pos_side"])
def test_okx_and_bitget_side_columns(db, tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, "okx.csv", f"instId,{header},pos,avgPx\nBTC-USDT-SWAP,short,3,90000\n")
    import_file(db, "positions-csv", path, account="okx")
    assert _positions(db, "okx")["BTC-USDT-SWAP"].quantity == -3


# ---------------------------------------------------------------- 5. Binance positionRisk
POSITION_RISK = (
    "symbol,positionAmt,entryPrice,markPrice,unRealizedProfit,liquidationPrice,leverage,"
    "maxNotionalValue,marginType,isolatedMargin,isAutoAddMargin,positionSide,notional,"
    "isolatedWallet,updateTime\n"
    "BTCUSDT,0.5,90000,91000,500,0,10,1000000,cross,0.00000000,false,BOTH,45500,0,1\n"
    "ETHUSDT,0,0,3000,0,0,10,1000000,cross,0.00000000,false,BOTH,0,0,0\n"
    "SOLUSDT,0.000,0.0,140,0,0,10,1000000,cross,0.00000000,false,BOTH,0,0,0\n"
)


def test_binance_position_risk_csv(db, tmp_path: Path) -> None:
    path = _write(tmp_path, "risk.csv", POSITION_RISK)
    result = import_file(db, "positions-csv", path, account="binance")
    got = _positions(db, "binance")
    assert list(got) == ["BTCUSDT"] and result.rows == 1
    assert got["BTCUSDT"].quantity == 0.5 and got["BTCUSDT"].isolated_margin is None


def test_isolated_margin_still_refused_when_nonzero_outside_isolated(db, tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv", "symbol,qty,entry_price,isolatedMargin\nBTCUSDT,1,90000,5\n")
    with pytest.raises(ImportFileError):
        import_file(db, "positions-csv", path, account="main")


# ---------------------------------------------------------------- 6. kind vs symbol
def test_symbol_kind_wins_over_a_compatible_kind_column(db, tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "instrument_name,kind,size,average_price\n"
                                     "BTC-PERPETUAL,future,-1000,90000\n")
    import_file(db, "positions-csv", path, account="deribit")
    pos = _positions(db, "deribit")["BTC-PERPETUAL"]
    assert (pos.kind, pos.settlement, pos.expiry) == ("perpetual", "inverse", None)


def test_contradicting_kind_is_refused(db, tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "instrument_name,kind,size,average_price\n"
                                     "BTC-PERPETUAL,option,-1000,90000\n")
    with pytest.raises(ImportFileError) as err:
        import_file(db, "positions-csv", path, account="deribit")
    assert (err.value.line, err.value.field) == (2, "kind")
    assert "contradicts" in err.value.message


# ---------------------------------------------------------------- 7. closed entries in merges
def test_merge_closed_ccxt_entry_deletes_the_position(db, tmp_path: Path) -> None:
    import_file(db, "ccxt-positions", _ccxt(tmp_path, "a.json", [_entry("long", 2)]),
                account="m")
    assert PERP in _positions(db, "m")
    closed = [_entry("long", 0), {**_entry("long", 1, "ETH/USDT:USDT"), "entryPrice": 3000.0}]
    result = import_file(db, "ccxt-positions", _ccxt(tmp_path, "b.json", closed), account="m",
                         merge=True)
    assert list(_positions(db, "m")) == ["ETH/USDT:USDT"] and result.rows == 2


def test_merge_closed_hedge_side_deletes_only_that_side(db, tmp_path: Path) -> None:
    both = [_entry("long", 2), _entry("short", 1)]
    import_file(db, "ccxt-positions", _ccxt(tmp_path, "a.json", both), account="m")
    later = [_entry("long", 0), _entry("short", 1)]
    import_file(db, "ccxt-positions", _ccxt(tmp_path, "b.json", later), account="m", merge=True)
    assert list(_positions(db, "m")) == [f"{PERP} short"]


def test_merge_closed_csv_row_deletes_the_position(db, tmp_path: Path) -> None:
    import_file(db, "positions-csv", _write(tmp_path, "a.csv", POSITION_RISK), account="b")
    closing = POSITION_RISK.replace("BTCUSDT,0.5,", "BTCUSDT,0,")
    import_file(db, "positions-csv", _write(tmp_path, "b.csv", closing), account="b", merge=True)
    assert _positions(db, "b") == {}


# ---------------------------------------------------------------- 8. history as_of
def test_record_history_takes_the_books_as_of(db, tmp_path: Path) -> None:
    book_as_of = datetime(2026, 11, 24, 8, tzinfo=UTC)
    report = {"scope": "account:main", "base_currency": "USD", "equity": 1.0}
    records.record_history(db, report, as_of=book_as_of)
    records.record_history(db, report)
    rows = records.history(db)
    assert rows[0]["snapshot_as_of"] == book_as_of
    assert rows[1]["snapshot_as_of"] == datetime(2026, 11, 25, 8, tzinfo=UTC)


def test_record_reports_passes_as_of(tmp_path: Path) -> None:
    path = save_book(tmp_path / "r.db")
    book_as_of = datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert commands.record_reports(path, [{"scope": "pool:both"}], as_of=book_as_of) == 1
    database = open_db(path)
    try:
        assert records.history(database)[0]["snapshot_as_of"] == book_as_of
    finally:
        database.close()


# ---------------------------------------------------------------- 9. synchronous=FULL
def test_synchronous_is_full(db) -> None:
    assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


# ---------------------------------------------------------------- 10. failed import, new db
def test_refused_import_into_new_path_leaves_no_file(tmp_path: Path, capsys) -> None:
    target = tmp_path / "new.db"
    bad = _write(tmp_path, "m.csv", "asset,price\nBTC,abc\n")
    assert commands.main(["import", "market-csv", str(bad), "--db", str(target)]) == 2
    assert "error:" in capsys.readouterr().err
    assert not target.exists() and not Path(f"{target}-wal").exists()
    good = _write(tmp_path, "g.csv", "asset,price\nBTC,90000\n")
    assert commands.main(["import", "market-csv", str(good), "--db", str(target)]) == 0
    assert target.exists()
    assert commands.main(["import", "market-csv", str(bad), "--db", str(target)]) == 2
    assert target.exists()  # an existing database is never removed
    capsys.readouterr()


# ---------------------------------------------------------------- 11. init --empty
def test_init_empty_is_never_seeded_later(tmp_path: Path, capsys) -> None:
    target = tmp_path / "e.db"
    assert commands.main(["init", "--empty", "--db", str(target)]) == 0
    assert commands.main(["init", "--db", str(target)]) == 0
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0
        assert conn.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone() == ("empty",)
    finally:
        conn.close()
    assert "0 account(s)" in capsys.readouterr().out


# ---------------------------------------------------------------- hedge-mode positions CSV
def test_hedge_mode_positions_csv_keeps_both_legs(db, tmp_path: Path) -> None:
    # Binance hedge mode lists a LONG and a SHORT leg of one symbol: two positions, the ids the
    # ccxt import gives them; a one-sided symbol keeps its bare id
    path = _write(tmp_path, "hedge.csv", "symbol,positionSide,positionAmt,entryPrice\n"
                  "BTCUSDT,LONG,0.5,90000\nBTCUSDT,SHORT,-0.2,92000\nETHUSDT,LONG,3,3000\n")
    import_file(db, "positions-csv", path, account="hedge")
    got = {pid: p.quantity for pid, p in _positions(db, "hedge").items()}
    assert got == {"BTCUSDT long": 0.5, "BTCUSDT short": -0.2, "ETHUSDT": 3.0}
    # a merge that closes the short leg deletes it and keeps the long one
    closed = _write(tmp_path, "close.csv", "symbol,positionSide,positionAmt,entryPrice\n"
                    "BTCUSDT,LONG,0.5,90000\nBTCUSDT,SHORT,0,0\n")
    import_file(db, "positions-csv", closed, account="hedge", merge=True)
    assert set(_positions(db, "hedge")) == {"BTCUSDT long", "ETHUSDT"}


# ---------------------------------------------------------------- namespaced scope ids
def test_a_pool_may_share_an_account_id_in_the_store(db) -> None:
    # as in the portfolio file: scopes are account:ID and pool:ID
    from workstation.core.model import Pool

    book = repo.load_portfolio(db)
    acc = book.accounts[0].id
    repo.add_pool(db, Pool(id=acc, accounts=[acc]))
    assert any(p.id == acc for p in repo.load_portfolio(db).pools)
    with pytest.raises(Exception, match="already a pool"):
        repo.add_pool(db, Pool(id=acc, accounts=[acc]))
