"""Store: imports (ccxt JSON, CSVs, portfolio JSON) land whole or not at all; exports."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shared_paths import EXAMPLES as _SHARED_EXAMPLES

from workstation.core.model import Quote
from workstation.core.portfolio_io import loads_portfolio, read_portfolio
from workstation.core.portfolio_write import dumps_portfolio
from workstation.store import exports
from workstation.store import repository as repo
from workstation.store.connection import Database
from workstation.store.db import checkpoint, integrity_ok, open_db
from workstation.store.errors import ImportFileError
from workstation.store.imports import import_file
from workstation.store.locate import line_of

DATA = Path(__file__).parent / "data" / "store"
BAD = DATA / "bad"
EXAMPLES_BAD = _SHARED_EXAMPLES / "bad"


def _positions(db: Database, account: str) -> dict:
    return {p.id: p for p in repo.load_portfolio(db).account(account).positions}


def _file_bytes(path: Path) -> bytes:
    """The database file with every commit in it (WAL checkpointed, connection closed)."""
    db = open_db(path)
    try:
        checkpoint(db)
    finally:
        db.close()
    return path.read_bytes()


# ---------------------------------------------------------------- ccxt
def test_ccxt_positions_replace_an_account(db) -> None:
    result = import_file(db, "ccxt-positions", DATA / "ccxt-positions.json", account="main",
                         replace=True)
    assert result.rows == 4 and result.accounts == ["main"]
    got = _positions(db, "main")
    assert list(got) == ["BTC/USD:BTC", "BTC/USDT:USDT", "ETH/USDT:USDT-261225",
                         "BTC/USD:BTC-261225-100000-C"]
    inverse = got["BTC/USD:BTC"]
    assert (inverse.kind, inverse.settlement, inverse.quantity) == ("perpetual", "inverse", -30000)
    assert inverse.entry_price == 90120.5
    assert got["BTC/USDT:USDT"].quantity == 1.5
    fut = got["ETH/USDT:USDT-261225"]
    assert (fut.kind, fut.quantity, fut.expiry) == (
        "future", pytest.approx(-20.0), datetime(2026, 12, 25, 8, tzinfo=UTC))
    opt = got["BTC/USD:BTC-261225-100000-C"]
    assert (opt.kind, opt.right, opt.strike, opt.quantity, opt.settlement) == (
        "option", "call", 100000.0, -4.0, "inverse")


def test_ccxt_positions_create_account_and_merge(db) -> None:
    import_file(db, "ccxt-positions", DATA / "ccxt-positions.json", account="okx")
    book = repo.load_portfolio(db)
    assert book.account("okx").margin_mode == "cross"
    assert len(book.account("okx").positions) == 4
    import_file(db, "ccxt-positions", DATA / "ccxt-positions.json", account="main", merge=True)
    assert len(_positions(db, "main")) == 3 + 4


def test_ccxt_isolated_positions(db, tmp_path: Path) -> None:
    entries = [{"symbol": "SOL/USDT:USDT", "contracts": 10, "contractSize": 1, "side": "long",
                "entryPrice": 130.0, "marginMode": "isolated", "collateral": 300.0},
               {"symbol": "BTC/USD:BTC", "contracts": 100, "contractSize": 10, "side": "long",
                "entryPrice": 90000.0, "marginMode": "isolated", "initialMargin": 0.01}]
    path = tmp_path / "iso.json"
    path.write_text(json.dumps(entries, indent=2))
    import_file(db, "ccxt-positions", path, account="iso", replace=True)
    got = _positions(db, "iso")
    assert got["SOL/USDT:USDT"].isolated_margin == 300.0
    assert got["BTC/USD:BTC"].isolated_margin == pytest.approx(0.01 * 91245.5)

    entries[1] = {**entries[1], "marginMode": "cross", "initialMargin": None}
    path.write_text(json.dumps(entries, indent=2))
    with pytest.raises(ImportFileError) as err:
        import_file(db, "ccxt-positions", path, account="iso", replace=True)
    assert (err.value.line, err.value.field) == (11, "[1].collateral")


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ({"symbol": "BTC/USDT:USDT", "contracts": "many", "entryPrice": 1.0}, "[1].contracts",
         "finite"),
        ({"symbol": "BTC/USDT:USDT", "contracts": 1, "entryPrice": None}, "[1].entryPrice",
         "required"),
        ({"symbol": "NOT A SYMBOL", "contracts": 1, "entryPrice": 1.0}, "[1].symbol", "symbol"),
        ({"symbol": "DOGE/USDT:USDT", "contracts": 1, "entryPrice": 1.0}, "[1].symbol",
         "price in market"),
        ({"symbol": "BTC/USDT:USDT", "contracts": 1, "entryPrice": 1.0, "side": "up"},
         "[1].side", "long or short"),
    ],
)
def test_ccxt_positions_errors(book_db_path: Path, tmp_path: Path, entry, field, message) -> None:
    good = {"symbol": "ETH/USDT:USDT", "contracts": 2, "side": "long", "entryPrice": 3000.0}
    path = tmp_path / "pos.json"
    path.write_text(json.dumps([good, entry], indent=2))
    before = _file_bytes(book_db_path)
    db = open_db(book_db_path)
    try:
        with pytest.raises(ImportFileError) as err:
            import_file(db, "ccxt-positions", path, account="main")
    finally:
        db.close()
    assert err.value.field == field and message in err.value.message
    key = field.split(".")[1]
    text = path.read_text()
    assert err.value.line == line_of(text, field)
    assert f'"{key}"' in text.splitlines()[err.value.line - 1]
    assert str(err.value).startswith(f"{path}:{err.value.line}: {field}: ")
    assert _file_bytes(book_db_path) == before


def test_ccxt_balance(db) -> None:
    result = import_file(db, "ccxt-balance", DATA / "ccxt-balance.json", account="main",
                         replace=True)
    assert result.rows == 3
    assert repo.load_portfolio(db).account("main").collateral == {
        "BTC": 1.75, "USDT": 52500.0, "ETH": 4.0}


def test_ccxt_balance_unknown_asset(db, tmp_path: Path) -> None:
    path = tmp_path / "bal.json"
    path.write_text('{\n  "BTC": {"total": 1},\n  "XYZ": {"free": 1, "used": 0, "total": 1}\n}\n')
    with pytest.raises(ImportFileError, match=r"bal.json:3: XYZ: asset 'XYZ' has no price"):
        import_file(db, "ccxt-balance", path, account="main")


def test_ccxt_needs_an_account(db) -> None:
    with pytest.raises(ImportFileError, match="--account"):
        import_file(db, "ccxt-balance", DATA / "ccxt-balance.json")


# ---------------------------------------------------------------- CSV
def test_positions_csv_with_venue_symbols(db) -> None:
    result = import_file(db, "positions-csv", DATA / "positions.csv", account="main",
                         replace=True)
    assert result.rows == 5
    got = _positions(db, "main")
    assert list(got) == ["BTC-PERPETUAL", "BTC-26MAR27", "BTC-26MAR27-120000-C",
                         "ETH-26MAR27-2400-P", "BTCUSDT"]
    assert (got["BTC-PERPETUAL"].quantity, got["BTC-PERPETUAL"].settlement) == (-50000, "inverse")
    assert got["BTC-26MAR27"].kind == "future" and got["BTC-26MAR27"].quantity == 20000
    call = got["BTC-26MAR27-120000-C"]
    assert (call.quantity, call.vol, call.entry_price) == (-3, 0.57, 0.041)
    assert got["ETH-26MAR27-2400-P"].vol is None
    assert got["BTCUSDT"].settlement == "linear"


def test_positions_csv_explicit_columns_and_accounts(db) -> None:
    result = import_file(db, "positions-csv", DATA / "positions-explicit.csv")
    assert result.accounts == ["spot-book", "other-book"]
    book = repo.load_portfolio(db)
    call, spot = book.account("spot-book").positions
    assert (call.kind, call.right, call.strike, call.quantity) == ("option", "call", 3600, -5)
    assert call.expiry == datetime(2027, 1, 29, 8, tzinfo=UTC)
    assert (spot.kind, spot.settlement) == ("spot", "linear")
    assert book.account("other-book").positions[0].quantity == -100


def test_balances_csv_and_merge(db) -> None:
    import_file(db, "balances-csv", DATA / "balances.csv", account="main", replace=True)
    assert repo.load_portfolio(db).account("main").collateral == {
        "BTC": 2.5, "USDT": 10000.0, "ETH": -1.5}
    path = DATA / "balances.csv"
    import_file(db, "balances-csv", path, account="iso", merge=True)
    assert repo.load_portfolio(db).account("iso").collateral == {
        "USDT": 10000.0, "BTC": 2.5, "ETH": -1.5}


def test_market_csv_adds_a_snapshot(db) -> None:
    when = datetime(2026, 11, 26, 8, tzinfo=UTC)
    import_file(db, "market-csv", DATA / "market.csv", as_of=when)
    book = repo.load_portfolio(db)
    assert book.as_of == when and book.rate == 0.01
    assert book.market["BTC"] == Quote(95000.0, 0.5)
    assert book.market["AVAX"] == Quote(35.2, 0.9)
    assert book.market["SOL"] == Quote(139.82, 0.78)
    assert len(repo.snapshots(db)) == 2


BAD_CSV = [
    # file, kind, line, field, message
    ("balances-bad-number.csv", "balances-csv", 3, "total", "expected a number (got '12O00')"),
    ("balances-unknown-asset.csv", "balances-csv", 4, "currency", "no price"),
    ("balances-missing-column.csv", "balances-csv", 1, "total", "missing column"),
    ("positions-nan.csv", "positions-csv", 4, "qty", "finite"),
    ("positions-short-row.csv", "positions-csv", 3, "(row)", "expected 4 fields"),
    ("positions-unknown-asset.csv", "positions-csv", 3, "symbol", "price in market"),
    ("positions-expired-option.csv", "positions-csv", 3, "symbol", "expiry after as_of"),
    ("positions-missing-column.csv", "positions-csv", 1, "entry_price", "missing column"),
    ("positions-bad-side.csv", "positions-csv", 2, "side", "sideways"),
    ("market-negative-price.csv", "market-csv", 3, "price", "positive"),
    ("market-duplicate.csv", "market-csv", 3, "asset", "twice"),
]


@pytest.mark.parametrize(("name", "kind", "line", "field", "message"), BAD_CSV,
                         ids=[c[0] for c in BAD_CSV])
def test_bad_csv_changes_nothing(book_db_path: Path, tmp_path: Path, name, kind, line, field,
                                 message) -> None:
    path = tmp_path / name
    shutil.copy(BAD / name, path)
    before = _file_bytes(book_db_path)
    db = open_db(book_db_path)
    try:
        with pytest.raises(ImportFileError) as err:
            import_file(db, kind, path, account="main")
        assert integrity_ok(db)
    finally:
        db.close()
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)
    assert message in err.value.message
    assert str(err.value).startswith(f"{path}:{line}: {field}: ")
    assert _file_bytes(book_db_path) == before


# ---------------------------------------------------------------- portfolio
def test_portfolio_import_replaces_the_book(db) -> None:
    path = _SHARED_EXAMPLES / "pooled-three-accounts.json"
    result = import_file(db, "portfolio", path, replace=True)
    assert result.accounts == ["deribit-btc", "binance-usdm", "spot-wallet"]
    assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(read_portfolio(path))


EXPECTED_BAD = {  # file: (JSON path, text on the line named; a missing field: its object's)
    "quantity-not-a-number.json": ("accounts[0].positions[1].quantity", '"quantity"'),
    "option-without-expiry.json": ("accounts[0].positions[0].expiry", "{"),
    "pool-unknown-account.json": ("pools[0].accounts[1]", '"nope"'),
    "nan-price.json": ("market.BTC.price", '"price"'),
    "asset-without-price.json": ("accounts[0].collateral.DOGE", '"DOGE"'),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_BAD))
def test_bad_portfolio_names_path_and_line(book_db_path: Path, name: str) -> None:
    path = EXAMPLES_BAD / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    before = _file_bytes(book_db_path)
    db = open_db(book_db_path)
    try:
        with pytest.raises(ImportFileError) as err:
            import_file(db, "portfolio", path)
    finally:
        db.close()
    field, on_line = EXPECTED_BAD[name]
    text = path.read_text()
    assert err.value.field == field
    assert err.value.line == line_of(text, field)
    assert on_line in text.splitlines()[err.value.line - 1]
    assert _file_bytes(book_db_path) == before


def test_portfolio_with_bad_json(db, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format": "margin-workstation/portfolio@1",\n  "as_of": ,\n}\n')
    with pytest.raises(ImportFileError, match=r"broken.json:3: as_of: expected valid JSON"):
        import_file(db, "portfolio", path)


# ---------------------------------------------------------------- exports
def test_exports(db) -> None:
    text = exports.portfolio_json(db)
    assert loads_portfolio(text) == repo.load_portfolio(db)
    reports = exports.build(db)
    assert [r["scope"] for r in reports] == ["account:main", "account:iso", "pool:both"]
    doc = json.loads(exports.reports_json(reports))
    assert [r["scope"] for r in doc["reports"]] == ["account:main", "account:iso", "pool:both"]
    one = exports.build(db, "account:iso")
    assert json.loads(exports.reports_json(one, single=True))["scope"] == "account:iso"

    rows = list(csv.DictReader(io.StringIO(exports.reports_csv(reports))))
    assert [r["scope"] for r in rows] == ["account:main", "account:iso", "pool:both"]
    assert float(rows[0]["initial_margin"]) == pytest.approx(reports[0]["initial_margin"])
    assert rows[1]["segregated_initial_margin"] == ""
    assert float(rows[1]["liquidation_SOL_down_pct"]) == pytest.approx(
        reports[1]["liquidation"]["SOL"]["down_pct"])
    detail = list(csv.DictReader(io.StringIO(exports.reports_csv(reports, positions=True))))
    assert [(r["scope"], r["id"]) for r in detail[:3]] == [
        ("account:main", "btc-perp"), ("account:main", "btc-c100"), ("account:main", "eth-old-p")]
    assert float(detail[0]["component_margin"]) == pytest.approx(
        reports[0]["positions"][0]["component_margin"])


def test_docs_list_every_column_synonym() -> None:
    from workstation.store.from_csv import BALANCE_COLUMNS, MARKET_COLUMNS, POSITION_COLUMNS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "store.md").read_text()
    for table in (POSITION_COLUMNS, BALANCE_COLUMNS, MARKET_COLUMNS):
        for column, names in table.items():
            assert f"`{column}`" in doc
            for name in names:
                assert f"`{name}`" in doc, name


def test_empty_venue_dump_empties_the_account(db, tmp_path: Path) -> None:
    path = tmp_path / "none.json"
    path.write_text('[{"symbol": "BTC/USDT:USDT", "contracts": 0, "entryPrice": null}]')
    result = import_file(db, "ccxt-positions", path, account="main", replace=True)
    assert result.rows == 0 and _positions(db, "main") == {}
    assert repo.load_portfolio(db).account("iso").positions  # other accounts untouched


def test_malformed_csv(db, tmp_path: Path) -> None:
    path = tmp_path / "quotes.csv"
    path.write_text('asset,total\nBTC,1\nETH,"2"x\n')
    with pytest.raises(ImportFileError, match=r"quotes.csv:3: \(csv\)"):
        import_file(db, "balances-csv", path, account="main")
    path.write_bytes(b"")
    with pytest.raises(ImportFileError, match="empty"):
        import_file(db, "balances-csv", path, account="main")
