"""Reconciliation, imports: a venue's ccxt dump keeps the figures the venue reports, with the unit
traps of venues.md "Venue figures" minded (store/venue_import.py).

The dumps in tests/data/venue_dumps/ are built from the venues' documented responses (sources in
that folder's README and each positions file's `_source`): Binance's liquidation-price FAQ and its
Position Information V2 example, OKX's and Bybit's position and balance examples, Deribit's
get_positions example as quoted in ccxt's deribit.ts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shared_paths import EXAMPLES

from workstation.core.model import VenueFigures
from workstation.core.portfolio_io import loads_portfolio
from workstation.core.report import build_report
from workstation.store import repository as repo
from workstation.store.connection import Database
from workstation.store.db import open_db
from workstation.store.errors import ImportFileError
from workstation.store.imports import import_file
from workstation.store.venue_import import fit_to_book, venue_of

DUMPS = Path(__file__).parent / "data" / "venue_dumps"
FAQ = EXAMPLES / "venues" / "binance-usdm-faq-cross.portfolio.json"
FAQ_ISO = EXAMPLES / "venues" / "binance-usdm-faq-isolated-eth.portfolio.json"
REL = 1e-12


def _book(as_of: str, market: dict[str, float], mode: str, profile: str = "default",
          collateral: dict[str, float] | None = None) -> dict[str, Any]:
    return {"format": "margin-workstation/portfolio@1", "as_of": as_of, "base_currency": "USD",
            "market": {a: {"price": p} for a, p in market.items()},
            "accounts": [{"id": "a", "margin_mode": mode, "profile": profile,
                          "collateral": collateral or {}, "positions": []}]}


@pytest.fixture
def new_db(tmp_path: Path) -> Iterator[Any]:
    """open(doc) -> a database holding that book (made once per test)."""
    opened: list[Database] = []

    def make(doc: dict[str, Any]) -> Database:
        db = open_db(tmp_path / f"w{len(opened)}.db")
        opened.append(db)
        repo.save_portfolio(db, loads_portfolio(json.dumps(doc)))
        return db

    yield make
    for db in opened:
        db.close()


def _faq_book(path: Path, account: str) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    doc["accounts"][0]["id"] = account
    doc["accounts"][0]["positions"] = []
    return doc


def _position(db: Database, account: str, pid: str):
    return next(p for p in repo.load_portfolio(db).account(account).positions if p.id == pid)


# ---------------------------------------------------------------- Binance
def test_binance_cross_keeps_the_venues_mm_not_ccxts(new_db) -> None:
    """FAQ cross example: info.maintMargin is the venue's MM (with cum); ccxt's maintenanceMargin
    (MMR x notional, cum ignored) is never taken; leverage comes along; the USDT balance is the
    only collateral (ccxt's back-solved cross `collateral` is not a wallet balance)."""
    db = new_db(_faq_book(FAQ, "bn"))
    import_file(db, "ccxt-positions", DUMPS / "binance-faq-cross-positions.json", account="bn", replace=True)
    btc = _position(db, "bn", "BTC/USDT:USDT")
    eth = _position(db, "bn", "ETH/USDT:USDT")
    vf = btc.venue_figures
    assert vf is not None and vf.currency == "USDT"
    # FAQ: BTCUSDT MM = 109.488 x 31,967.27 x 2.5 % - 16,300 = 71,200.81144 (printed)
    assert vf.maintenance_margin == pytest.approx(71_200.81144, abs=1e-3)
    ccxt_mm = 109.488 * 31_967.27 * 0.025  # 87,500.81144: what ccxt reports
    assert abs(vf.maintenance_margin - ccxt_mm) == pytest.approx(16_300.0, abs=1e-3)
    assert eth.venue_figures.maintenance_margin == pytest.approx(356_512.508, abs=1e-3)
    # IM = notional / leverage (info.positionInitialMargin), leverage 20x and 5x
    assert vf.initial_margin == pytest.approx(109.488 * 31_967.27 / 20, rel=1e-9)
    assert (btc.leverage, eth.leverage) == (20.0, 5.0)
    assert vf.liquidation_price == 26_316.89
    assert vf.as_of == datetime(2021, 3, 19, tzinfo=UTC)
    assert "info.maintMargin" in vf.source
    assert repo.load_portfolio(db).account("bn").collateral == {"USDT": 1_535_443.01}


def test_binance_faq_reconciles_to_the_cent(new_db) -> None:
    """With the 2021-03-18 brackets our MM and liquidation prices are the FAQ's: the differences
    are the FAQ's rounding (MM printed to 1e-5, prices to 0.01)."""
    db = new_db(_faq_book(FAQ, "bn"))
    import_file(db, "ccxt-positions", DUMPS / "binance-faq-cross-positions.json", account="bn", replace=True)
    import_file(db, "ccxt-balance", DUMPS / "binance-faq-balance.json", account="bn", replace=True)
    report = build_report(repo.load_portfolio(db), "account:bn")
    assert report["venue_figures"]["maintenance_margin"] == pytest.approx(427_713.31944, rel=REL)
    assert report["venue_figures"]["venue_currency"] == "USDT"
    assert report["venue_diff"]["maintenance_margin"] == pytest.approx(0.0, abs=1e-3)
    assert report["venue_diff"]["initial_margin"] == pytest.approx(0.0, abs=1e-6)
    rows = {p["id"]: p for p in report["positions"]}
    for pid, liq in (("BTC/USDT:USDT", 26_316.89), ("ETH/USDT:USDT", 1_153.26)):
        d = rows[pid]["venue_diff"]
        assert d["computed"]["liquidation_price"] == pytest.approx(liq, abs=0.005)
        assert d["liquidation_price"] == pytest.approx(d["computed"]["liquidation_price"] - liq, rel=REL)
        assert d["maintenance_margin"] == pytest.approx(0.0, abs=1e-5)


def test_binance_isolated_margin_is_the_isolated_wallet(new_db) -> None:
    """ccxt's isolated `collateral` is isolatedMargin = wallet + unrealized P&L; the margin set
    aside is info.isolatedWallet (1,535,443.01): with it, our LP is the FAQ's 1,114.78."""
    db = new_db(_faq_book(FAQ_ISO, "iso"))
    import_file(db, "ccxt-positions", DUMPS / "binance-faq-isolated-positions.json", account="iso", replace=True)
    eth = _position(db, "iso", "ETH/USDT:USDT")
    dump = json.loads((DUMPS / "binance-faq-isolated-positions.json").read_text())["positions"][0]
    assert dump["collateral"] == pytest.approx(1_535_443.01 + 3_683.979 * (1_335.18 - 1_456.84))
    assert eth.isolated_margin == 1_535_443.01
    report = build_report(repo.load_portfolio(db), "account:iso")
    d = report["positions"][0]["venue_diff"]
    assert d["computed"]["liquidation_price"] == pytest.approx(1_114.78, abs=0.005)
    assert abs(d["liquidation_price_pct"]) < 1e-3


def test_binance_v2_record_has_no_venue_mm(new_db) -> None:
    """Position Information V2 has no maintMargin: no MM is kept (ccxt's is MMR x notional), IM
    is ccxt's notional / leverage, the closed SHORT side is skipped, hedge mode gives `long`."""
    db = new_db(_book("2022-06-14T14:37:41Z", {"BTC": 21_123.05052574, "USDT": 1.0}, "cross",
                      "binance-usdm", {"USDT": 100.0}))
    import_file(db, "ccxt-positions", DUMPS / "binance-v2-docs-positions.json", account="a")
    (pos,) = repo.load_portfolio(db).account("a").positions
    assert pos.id == "BTC/USDT:USDT long" and pos.leverage == 4.0
    vf = pos.venue_figures
    assert vf.maintenance_margin is None and "maintenanceMargin left out" in vf.source
    assert vf.initial_margin == pytest.approx(21.12305052 / 4, rel=1e-12)
    assert vf.liquidation_price == 19_731.45529116
    assert vf.as_of == datetime(2022, 6, 14, 14, 37, 41, 579_000, tzinfo=UTC)


# ---------------------------------------------------------------- OKX
def _okx(new_db) -> Database:
    db = new_db(_book("2021-04-27T07:16:01Z", {"ETH": 2_353.849, "USD": 1.0}, "isolated"))
    import_file(db, "ccxt-positions", DUMPS / "okx-docs-positions.json", account="a")
    return db


def test_okx_positions_coin_margins_and_inverted_margin_ratio(new_db) -> None:
    (pos,) = repo.load_portfolio(_okx(new_db)).account("a").positions
    assert (pos.quantity, pos.settlement, pos.leverage) == (10.0, "inverse", 10.0)  # 1 contract x ctVal 10 USD
    vf = pos.venue_figures
    assert vf.currency == "ETH"  # inverse: OKX margins in the coin (info.ccy)
    assert vf.maintenance_margin == 0.0000311811092368
    assert vf.margin_usage == pytest.approx(1 / 11.731726509588816, rel=REL)  # mgnRatio inverted
    assert vf.initial_margin == pytest.approx(10 / 2_353.849 / 10, rel=1e-12)  # imr "": notional / lever
    assert vf.liquidation_price == 2_352.8496681818233
    assert vf.as_of == datetime(2021, 4, 27, 7, 16, 1, 462_000, tzinfo=UTC)
    assert pos.isolated_margin == pytest.approx(0.0003896645377994 * 2_353.849, rel=REL)


def test_okx_report_converts_coin_at_the_book_price(new_db) -> None:
    report = build_report(repo.load_portfolio(_okx(new_db)), "account:a")
    (row,) = report["positions"]
    venue, d = row["venue_figures"], row["venue_diff"]
    s = 2_353.849
    assert venue["maintenance_margin"] == pytest.approx(0.0000311811092368 * s, rel=REL)
    assert venue["conversion"]["maintenance_margin"].startswith("ETH x 2,353.849")
    assert venue["conversion"]["liquidation_price"] == "none (in USD)"  # inverse: quoted in USD
    # ours, by hand: IM = 10 USD / 10x = 1; MM = 10 x 0.4 % (default ETH tier 1) = 0.04
    assert d["computed"]["initial_margin"] == pytest.approx(1.0, rel=REL)
    assert d["computed"]["maintenance_margin"] == pytest.approx(0.04, rel=REL)
    assert d["maintenance_margin"] == pytest.approx(0.04 - 0.0000311811092368 * s, rel=1e-9)
    assert d["maintenance_margin_pct"] == pytest.approx(100 * (0.04 / (0.0000311811092368 * s) - 1), rel=1e-9)
    # isolated LP alone: iso + 10 (S/2566.31 - 1) = 0.04  ->  S = 2566.31 (1 - (iso - 0.04) / 10)
    iso = 0.0003896645377994 * s
    assert d["computed"]["liquidation_price"] == pytest.approx(2_566.31 * (1 - (iso - 0.04) / 10), rel=1e-6)
    # usage = MM / (isolated margin + value), value = 10 (S / entry - 1)
    assert d["computed"]["margin_usage"] == pytest.approx(0.04 / (iso + 10 * (s / 2_566.31 - 1)), rel=1e-9)


def test_okx_balance_account_figures(new_db) -> None:
    db = new_db(_book("2024-01-17T06:49:24Z", {"BTC": 42_000.0, "USDT": 1.0}, "cross"))
    import_file(db, "ccxt-balance", DUMPS / "okx-docs-balance.json", account="a", replace=True)
    (vf,) = repo.load_portfolio(db).account("a").venue_figures
    assert (vf.initial_margin, vf.maintenance_margin, vf.currency) == (8.57068529, 0.3428274116, None)
    assert vf.margin_usage == pytest.approx(1 / 143_682.59776662575, rel=REL)
    assert vf.as_of == datetime(2024, 1, 17, 6, 49, 24, 160_000, tzinfo=UTC)


# ---------------------------------------------------------------- Bybit
def test_bybit_inverse_position_and_wallet(new_db) -> None:
    db = new_db(_book("2023-10-19T00:00:00Z", {"BTC": 28_224.5, "USDT": 1.0}, "cross", collateral={"BTC": 0.01}))
    import_file(db, "ccxt-positions", DUMPS / "bybit-docs-positions.json", account="a")
    import_file(db, "ccxt-balance", DUMPS / "bybit-balance.json", account="a", replace=True)
    book = repo.load_portfolio(db)
    (pos,) = book.account("a").positions
    assert (pos.quantity, pos.leverage) == (-300.0, 10.0)
    vf = pos.venue_figures
    assert (vf.initial_margin, vf.maintenance_margin, vf.currency) == (0.00010923, 0.0000015, "BTC")
    assert vf.liquidation_price is None  # liqPrice "": none
    (acc,) = book.account("a").venue_figures
    assert acc.maintenance_margin == pytest.approx(0.0000015 * 28_224.5, rel=1e-8)
    assert acc.margin_usage == 0.00004234  # accountMMRate, MM / margin balance already: as is
    report = build_report(book, "account:a")
    d = report["positions"][0]["venue_diff"]
    assert d["computed"]["initial_margin"] == pytest.approx(300 / 10, rel=REL)  # notional / leverage
    assert d["initial_margin"] == pytest.approx(30 - 0.00010923 * 28_224.5, rel=1e-9)


# ---------------------------------------------------------------- Deribit
def _deribit(new_db) -> Database:
    db = new_db(_book("2020-01-02T08:00:00Z", {"BTC": 7_466.79}, "cross"))
    import_file(db, "ccxt-positions", DUMPS / "deribit-docs-positions.json", account="a")
    return db


def test_deribit_size_coin_margins_at_the_index(new_db) -> None:
    """ccxt gives Deribit positions no contracts: info.size (50 USD) is the size, not 50 x 10;
    margins are BTC, converted at the record's index (7,466.79); Deribit's leverage (34, derived
    from its margin) is not the user's and is not read."""
    db = _deribit(new_db)
    (pos,) = repo.load_portfolio(db).account("a").positions
    assert (pos.quantity, pos.settlement, pos.leverage) == (50.0, "inverse", None)
    vf = pos.venue_figures
    assert (vf.initial_margin, vf.maintenance_margin, vf.currency) == (0.000197283, 0.000143783, "BTC")
    assert (vf.index_price, vf.liquidation_price) == (7_466.79, 1.74)
    report = build_report(repo.load_portfolio(db), "account:a")
    venue = report["positions"][0]["venue_figures"]
    assert venue["initial_margin"] == pytest.approx(0.000197283 * 7_466.79, rel=REL)
    assert "index at the record's time" in venue["conversion"]["initial_margin"]
    # ours: 50 USD x 0.8 % / 0.4 % (default BTC tier 1)
    assert report["positions"][0]["venue_diff"]["computed"]["initial_margin"] == pytest.approx(0.4, rel=REL)


def test_deribit_percentages_are_percent(new_db, tmp_path: Path) -> None:
    """Without absolute figures, IM = initialMarginPercentage x |notional|: Deribit's in percent
    (2.95 % of 0.006687487 BTC), another venue's a fraction."""
    doc = json.loads((DUMPS / "deribit-docs-positions.json").read_text())
    entry = doc["positions"][0]
    entry["initialMargin"] = None
    del entry["info"]["initial_margin"]
    deribit = tmp_path / "deribit.json"
    deribit.write_text(json.dumps(doc))
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"symbol": "BTC/USDT:USDT", "contracts": 2, "side": "long",
                                  "entryPrice": 7000.0, "notional": 14_000.0, "initialMarginPercentage": 0.05}]))
    db = new_db(_book("2020-01-02T08:00:00Z", {"BTC": 7_466.79, "USDT": 1.0}, "cross"))
    import_file(db, "ccxt-positions", deribit, account="a")
    import_file(db, "ccxt-positions", other, account="b")
    book = repo.load_portfolio(db)
    assert book.account("a").positions[0].venue_figures.initial_margin == pytest.approx(0.000197283, rel=1e-12)
    assert book.account("b").positions[0].venue_figures.initial_margin == pytest.approx(0.05 * 14_000, rel=REL)
    assert "/ 100" in book.account("a").positions[0].venue_figures.source


def test_deribit_account_summary(new_db) -> None:
    db = _deribit(new_db)
    import_file(db, "ccxt-balance", DUMPS / "deribit-balance.json", account="a", replace=True)
    book = repo.load_portfolio(db)
    (vf,) = book.account("a").venue_figures
    assert (vf.initial_margin, vf.maintenance_margin, vf.currency) == (0.000197283, 0.000143783, "BTC")
    report = build_report(book, "account:a")
    assert report["venue_figures"]["maintenance_margin"] == pytest.approx(0.000143783 * 7_466.79, rel=REL)
    assert report["venue_figures"]["conversion"]["maintenance_margin"] == "BTC x 7,466.79 (the book's price)"


# ---------------------------------------------------------------- rules of the import
def test_leverage_only_in_cross_and_isolated_accounts(new_db) -> None:
    db = new_db(_book("2022-06-14T14:37:41Z", {"BTC": 21_123.05052574, "USDT": 1.0}, "portfolio",
                      collateral={"USDT": 100.0}))
    import_file(db, "ccxt-positions", DUMPS / "binance-v2-docs-positions.json", account="a")
    (pos,) = repo.load_portfolio(db).account("a").positions
    assert pos.leverage is None and pos.venue_figures.liquidation_price == 19_731.45529116


def test_a_balance_import_replaces_or_merges_the_account_figures(new_db, tmp_path: Path) -> None:
    db = new_db(_book("2024-01-17T06:49:24Z", {"BTC": 42_000.0, "USDT": 1.0}, "cross"))
    import_file(db, "ccxt-balance", DUMPS / "okx-docs-balance.json", account="a", replace=True)
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"USDT": {"free": 1.0, "used": 0.0, "total": 1.0}}))
    import_file(db, "ccxt-balance", plain, account="a", merge=True)
    assert repo.load_portfolio(db).account("a").venue_figures != ()  # a merge keeps them
    import_file(db, "ccxt-balance", plain, account="a", replace=True)
    assert repo.load_portfolio(db).account("a").venue_figures == ()  # the dump is the whole state


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda e: e["info"].update(maintMargin="lots"), "positions[0].info.maintMargin", "finite"),
    (lambda e: e["info"].update(positionInitialMargin="-3"), "positions[0].info.positionInitialMargin",
     "margin >= 0"),
    (lambda e: e["info"].update(marginAsset="BNFCR"), "positions[0].info", "BNFCR"),
])
def test_bad_venue_figures_are_located(new_db, tmp_path: Path, change, field, message) -> None:
    doc = json.loads((DUMPS / "binance-faq-cross-positions.json").read_text())
    change(doc["positions"][0])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc, indent=2))
    db = new_db(_faq_book(FAQ, "bn"))
    with pytest.raises(ImportFileError) as err:
        import_file(db, "ccxt-positions", path, account="bn", replace=True)
    assert err.value.field == field and message in err.value.message
    assert err.value.line is not None and err.value.line > 1
    assert repo.load_portfolio(db).account("bn").positions == []  # nothing was written


def test_venue_is_told_by_info_else_the_hint() -> None:
    assert venue_of({"info": {"instId": "BTC-USDT-SWAP"}}, "binance") == "okx"
    assert venue_of({"info": {"positionAmt": "1"}}, None) == "binance"
    assert venue_of({"info": {}}, "OKEx main") == "okx"
    assert venue_of({}, "deribit") == "deribit"
    assert venue_of({}, None) is None


def test_deribit_index_is_kept_only_for_a_usd_book() -> None:
    from workstation.core.model import Position, Quote
    from workstation.store.staging import StagedPosition

    vf = VenueFigures(initial_margin=0.1, currency="BTC", index_price=7000.0)
    pos = Position("p", "perpetual", "BTC", 50.0, 7000.0, "inverse", venue_figures=vf)
    item = StagedPosition(file="f", line=1)
    quotes = {"BTC": Quote(7000.0), "USD": Quote(0.9)}
    assert fit_to_book(item, pos, quotes, "USD").venue_figures.index_price == 7000.0
    assert fit_to_book(item, pos, quotes, "EUR").venue_figures.index_price is None
    usd = Position("q", "perpetual", "BTC", 1.0, 7000.0, "linear",
                   venue_figures=VenueFigures(initial_margin=1.0, currency="USD"))
    assert fit_to_book(item, usd, quotes, "USD").venue_figures.currency is None  # the base: implicit
