"""Reconciliation: `venue_figures` in the portfolio file (strict, lossless), the store, the
reports' `venue_figures` / `venue_diff`, the `reconcile` command and the margin history."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_paths import EXAMPLES

from workstation.cli import main
from workstation.core.errors import PortfolioError
from workstation.core.model import VenueFigures
from workstation.core.portfolio_io import loads_portfolio
from workstation.core.portfolio_write import dumps_portfolio
from workstation.core.reconcile import diff, table_rows
from workstation.core.report import build_report, build_reports
from workstation.core.whatif import whatif
from workstation.store import repository as repo
from workstation.store.commands import history_table
from workstation.store.db import open_db

FAQ = EXAMPLES / "venues" / "binance-usdm-faq-cross.portfolio.json"
REL = 1e-12


def _faq(**extra: Any) -> dict[str, Any]:
    """The Binance FAQ cross book with the FAQ's own figures as venue figures."""
    doc = json.loads(FAQ.read_text())
    acc = doc["accounts"][0]
    acc["venue_figures"] = {"maintenance_margin": 427_713.31944, "currency": "USDT",
                            "as_of": "2021-03-19T00:00:00Z", "source": "Binance FAQ"}
    acc["positions"][0]["venue_figures"] = {"maintenance_margin": 71_200.81144, "liquidation_price": 26_316.89,
                                            "currency": "USDT"}
    acc["positions"][1]["venue_figures"] = {"maintenance_margin": 356_512.508, "liquidation_price": 1_153.26,
                                            "currency": "USDT"}
    for key, value in extra.items():
        acc[key] = value
    return doc


def _coin_book() -> dict[str, Any]:
    """Two accounts margined in coin: a Deribit-like inverse perpetual with a record index, and
    an account with one record per currency."""
    return {
        "format": "margin-workstation/portfolio@1", "as_of": "2026-11-25T08:00:00Z", "base_currency": "USD",
        "market": {"BTC": {"price": 60_000.0}, "ETH": {"price": 3_000.0}, "USDT": {"price": 0.999}},
        "accounts": [
            {"id": "d", "margin_mode": "cross", "collateral": {"BTC": 1.0}, "positions": [
                {"id": "perp", "kind": "perpetual", "underlying": "BTC", "settlement": "inverse",
                 "quantity": 60_000.0, "entry_price": 60_000.0,
                 "venue_figures": {"initial_margin": 0.02, "maintenance_margin": 0.01, "liquidation_price": 31_000.0,
                                   "currency": "BTC", "index_price": 59_900.0, "as_of": "2026-11-25T07:59:00Z",
                                   "source": "deribit get_positions"}},
                {"id": "lin", "kind": "perpetual", "underlying": "ETH", "settlement": "linear",
                 "quantity": -10.0, "entry_price": 3_000.0,
                 "venue_figures": {"initial_margin": 300.0, "liquidation_price": 5_000.0, "currency": "USDT"}}]},
            {"id": "m", "margin_mode": "cross", "collateral": {"USDT": 10_000.0}, "positions": [],
             "venue_figures": [{"initial_margin": 0.5, "maintenance_margin": 0.25, "currency": "BTC"},
                               {"initial_margin": 2.0, "maintenance_margin": 1.0, "currency": "ETH"}]}],
        "pools": [{"id": "both", "accounts": ["d", "m"]}],
    }


# ---------------------------------------------------------------- the portfolio file
def test_round_trip_is_lossless() -> None:
    text = dumps_portfolio(loads_portfolio(json.dumps(_coin_book())))
    assert dumps_portfolio(loads_portfolio(text)) == text
    doc = json.loads(text)
    perp = doc["accounts"][0]["positions"][0]["venue_figures"]
    assert perp == _coin_book()["accounts"][0]["positions"][0]["venue_figures"]
    assert doc["accounts"][1]["venue_figures"] == _coin_book()["accounts"][1]["venue_figures"]
    assert "venue_figures" not in doc["accounts"][0]


def test_round_trip_through_the_database(tmp_path: Path) -> None:
    book = loads_portfolio(json.dumps(_coin_book()))
    db = open_db(tmp_path / "w.db")
    try:
        repo.save_portfolio(db, book)
        assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(book)
        plain = copy.deepcopy(book)  # saving a book without them clears them
        plain.accounts[1].venue_figures = ()
        plain.accounts[0].positions[0].venue_figures = None
        repo.save_portfolio(db, plain)
        assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(plain)
    finally:
        db.close()


@pytest.mark.parametrize(("where", "value", "path", "expected"), [
    ("account", {}, "accounts[0].venue_figures", "at least one of"),
    ("account", [], "accounts[0].venue_figures", "non-empty list"),
    ("account", [{"initial_margin": 1, "currency": "USDT"}, {"initial_margin": 2, "currency": "USDT"}],
     "accounts[0].venue_figures[1].currency", "one entry per currency"),
    ("account", {"initial_margin": 1, "colour": "red"}, "accounts[0].venue_figures.colour", "no such field"),
    ("position", {"maintenance_margin": -1}, "accounts[0].positions[0].venue_figures.maintenance_margin", ">= 0"),
    ("position", {"liquidation_price": 0}, "accounts[0].positions[0].venue_figures.liquidation_price", "positive"),
    ("position", {"initial_margin": "12"}, "accounts[0].positions[0].venue_figures.initial_margin", "a number"),
    ("position", {"initial_margin": 1, "as_of": "soon"}, "accounts[0].positions[0].venue_figures.as_of", "ISO"),
    ("position", {"initial_margin": 1, "currency": "DOGE"}, "accounts[0].positions[0].venue_figures.currency",
     "price in market"),
    ("position", {"initial_margin": 1, "index_price": 2.0}, "accounts[0].positions[0].venue_figures.index_price",
     "no index_price"),
    ("position", {"initial_margin": math.nan}, "accounts[0].positions[0].venue_figures.initial_margin", "finite"),
])
def test_bad_venue_figures_are_refused_by_path(where: str, value: Any, path: str, expected: str) -> None:
    doc = _faq()
    target = doc["accounts"][0] if where == "account" else doc["accounts"][0]["positions"][0]
    target["venue_figures"] = value
    with pytest.raises(PortfolioError) as err:
        loads_portfolio(json.dumps(doc))
    assert err.value.path == path and expected in str(err.value)


# ---------------------------------------------------------------- reports
def test_reports_carry_venue_fields_only_where_given() -> None:
    book = loads_portfolio(json.dumps(_coin_book()))
    reports = {r["scope"]: r for r in build_reports(book)}
    d, m, pool = reports["account:d"], reports["account:m"], reports["pool:both"]
    assert "venue_figures" not in d and "venue_figures" in m
    assert all("venue_figures" in p for p in d["positions"])
    assert "venue_figures" not in pool and all("venue_figures" not in p for p in pool["positions"])
    plain = build_report(loads_portfolio(FAQ.read_text()), "account:bn")
    assert "venue_figures" not in plain and all("venue_diff" not in p for p in plain["positions"])
    # stress and the like (no liquidation search) carry none
    assert "venue_figures" not in build_report(book, "account:m", with_liquidation=False)


def test_conversions_of_each_figure() -> None:
    book = loads_portfolio(json.dumps(_coin_book()))
    d = build_report(book, "account:d")
    perp, lin = d["positions"]
    v = perp["venue_figures"]
    # coin margins at the record's index, the inverse liquidation price is in USD (the base)
    assert (v["initial_margin"], v["maintenance_margin"]) == (pytest.approx(0.02 * 59_900, rel=REL),
                                                              pytest.approx(0.01 * 59_900, rel=REL))
    assert v["liquidation_price"] == 31_000.0 and v["venue_currency"] == "BTC" and v["currency"] == "USD"
    assert v["conversion"] == {"initial_margin": "BTC x 59,900 (index at the record's time)",
                               "maintenance_margin": "BTC x 59,900 (index at the record's time)",
                               "liquidation_price": "none (in USD)"}
    assert (v["as_of"], v["source"]) == ("2026-11-25T07:59:00Z", "deribit get_positions")
    # a linear position's liquidation price is quoted in its margin currency (USDT at 0.999)
    w = lin["venue_figures"]
    assert w["liquidation_price"] == pytest.approx(5_000 * 0.999, rel=REL)
    assert w["initial_margin"] == pytest.approx(300 * 0.999, rel=REL)
    assert w["conversion"]["liquidation_price"] == "USDT x 0.999 (the book's price)"
    # one record per currency: summed in the base currency at the book's prices
    m = build_report(book, "account:m")["venue_figures"]
    assert m["initial_margin"] == pytest.approx(0.5 * 60_000 + 2.0 * 3_000, rel=REL)
    assert m["maintenance_margin"] == pytest.approx(0.25 * 60_000 + 1.0 * 3_000, rel=REL)
    assert m["venue_currency"] == "BTC + ETH"


def test_our_figures_beside_the_venues() -> None:
    """Cross: per-position IM and MM of the bracket; the liquidation price on the side the
    position loses (a short loses upward). Checked by hand against the default brackets."""
    book = loads_portfolio(json.dumps(_coin_book()))
    d = build_report(book, "account:d")
    perp, lin = d["positions"]
    # inverse BTC perp, N = 60,000 USD: tier 2 (50k-600k) IM 1 %, MM 0.5 % - 50
    assert perp["venue_diff"]["computed"]["initial_margin"] == pytest.approx(600.0, rel=REL)
    assert perp["venue_diff"]["computed"]["maintenance_margin"] == pytest.approx(250.0, rel=REL)
    assert perp["venue_diff"]["initial_margin"] == pytest.approx(600 - 0.02 * 59_900, rel=REL)
    assert perp["venue_diff"]["initial_margin_pct"] == pytest.approx(100 * (600 / (0.02 * 59_900) - 1), rel=1e-9)
    assert perp["venue_diff"]["computed"]["liquidation_price"] == d["liquidation"]["BTC"]["down_price"]
    assert lin["venue_diff"]["computed"]["liquidation_price"] == d["liquidation"]["ETH"]["up_price"]
    assert "maintenance_margin" not in lin["venue_diff"]  # the venue gave none: nothing compared
    assert set(lin["venue_diff"]["computed"]) == {"initial_margin", "liquidation_price"}


def test_a_portfolio_account_compares_components_and_no_position_mm() -> None:
    doc = _coin_book()
    doc["accounts"][0]["margin_mode"] = "portfolio"
    report = build_report(loads_portfolio(json.dumps(doc)), "account:d")
    perp = report["positions"][0]
    assert perp["venue_diff"]["computed"]["initial_margin"] == perp["component_margin"]
    assert perp["venue_diff"]["computed"]["maintenance_margin"] is None
    assert perp["venue_diff"]["maintenance_margin"] is None and perp["venue_diff"]["maintenance_margin_pct"] is None


@settings(max_examples=60, deadline=None)
@given(venue=st.floats(-1e9, 1e9, allow_nan=False), computed=st.floats(-1e9, 1e9, allow_nan=False))
def test_diff_is_ours_minus_the_venues(venue: float, computed: float) -> None:
    d = diff({"initial_margin": venue}, {"initial_margin": computed})
    assert d["initial_margin"] == computed - venue
    assert d["computed"] == {"initial_margin": computed}
    if venue == 0:
        assert d["initial_margin_pct"] is None
    else:
        assert d["initial_margin_pct"] == pytest.approx(100 * (computed - venue) / abs(venue), rel=1e-12, abs=1e-300)
        assert math.copysign(1, d["initial_margin_pct"]) == math.copysign(1, computed - venue) or computed == venue


def test_whatif_keeps_working_on_a_book_with_venue_figures() -> None:
    book = loads_portfolio(json.dumps(_faq()))
    trade = loads_portfolio(json.dumps(_faq())).accounts[0].positions[0]
    trade.id, trade.quantity, trade.venue_figures = "hedge", -10.0, None
    result = whatif(book, "bn", [trade])
    plain = whatif(loads_portfolio(FAQ.read_text()), "bn", [trade])
    assert result["delta"]["initial_margin"] == pytest.approx(plain["delta"]["initial_margin"], rel=REL)
    assert result["delta"]["maintenance_margin"] == pytest.approx(plain["delta"]["maintenance_margin"], rel=REL)


# ---------------------------------------------------------------- the reconcile command
def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_table(tmp_path: Path, capsys) -> None:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(_coin_book()))
    code, out, err = _run(capsys, "reconcile", str(path))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "== account:d (USD; profile default undated)"
    header = lines[1].split()
    assert header[:3] == ["Item", "Figure", "Venue"] and "Conversion" in header
    row = next(line for line in lines if line.startswith("perp") and "initial margin" in line)
    # venue 0.02 BTC x 59,900 = 1,198.00; ours 600.00; -598.00; -49.92 %
    assert "1,198.00" in row and "600.00" in row and "-598.00" in row and "-49.92 %" in row
    assert "BTC x 59,900 (index at the record's time)" in row
    summed = "BTC x 60,000 (the book's price) + ETH x 3,000"
    assert any(line.startswith("(account)") and summed in line for line in lines)
    assert "sources:" in out and "deribit get_positions (as of 2026-11-25T07:59:00Z)" in out


def test_cli_json_and_one_account(tmp_path: Path, capsys) -> None:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(_faq()))
    code, out, _ = _run(capsys, "reconcile", str(path), "--account", "bn", "--json")
    assert code == 0
    (section,) = json.loads(out)["reconcile"]
    assert (section["account"], section["profile"], section["profile_version"]) == ("bn", "binance-usdm", "2021-03-18")
    rows = section["rows"]
    assert [(r["position"], r["figure"]) for r in rows] == [
        (None, "maintenance_margin"), ("btcusdt", "maintenance_margin"), ("btcusdt", "liquidation_price"),
        ("ethusdt", "maintenance_margin"), ("ethusdt", "liquidation_price")]
    for r in rows:
        assert r["diff"] == pytest.approx(r["computed"] - r["venue"], rel=REL)
        assert abs(r["pct"]) < 1e-3  # the FAQ to its printed precision
        assert r["conversion"] == "USDT x 1 (the book's price)" and r["venue_currency"] == "USDT"


def test_cli_errors_and_an_account_without_figures(tmp_path: Path, capsys) -> None:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(_coin_book()))
    code, out, err = _run(capsys, "reconcile", str(path), "--account", "nope")
    assert code == 2 and out == "" and "no account 'nope'" in err
    code, out, err = _run(capsys, "reconcile", str(FAQ))
    assert code == 0 and "no venue figures" in out


def test_cli_reads_the_database(tmp_path: Path, capsys) -> None:
    db = open_db(tmp_path / "w.db")
    try:
        repo.save_portfolio(db, loads_portfolio(json.dumps(_faq())))
    finally:
        db.close()
    code, out, _ = _run(capsys, "reconcile", "--db", str(tmp_path / "w.db"), "--json")
    assert code == 0 and len(json.loads(out)["reconcile"][0]["rows"]) == 5


def test_table_rows_follow_the_report() -> None:
    report = build_report(loads_portfolio(json.dumps(_faq())), "account:bn")
    rows = table_rows(report)
    assert rows[0]["venue"] == report["venue_figures"]["maintenance_margin"]
    assert rows[0]["computed"] == report["maintenance_margin"]


# ---------------------------------------------------------------- history
def test_history_keeps_the_venues_figures_and_ours(tmp_path: Path, capsys) -> None:
    db_path = tmp_path / "w.db"
    db = open_db(db_path)
    try:
        repo.save_portfolio(db, loads_portfolio(json.dumps(_faq())))
    finally:
        db.close()
    assert main(["margin", "--db", str(db_path), "--record"]) == 0
    capsys.readouterr()
    db = open_db(db_path)
    try:
        (row,) = repo.history(db, "account:bn")
    finally:
        db.close()
    venue = row["venue"]
    assert venue["venue_figures"]["maintenance_margin"] == pytest.approx(427_713.31944, rel=REL)
    assert venue["venue_diff"]["computed"]["maintenance_margin"] == row["maintenance_margin"]
    assert [p["id"] for p in venue["positions"]] == ["btcusdt", "ethusdt"]
    assert venue["positions"][0]["venue_diff"]["liquidation_price"] == pytest.approx(0.0, abs=0.005)
    table = history_table([row])
    assert table.splitlines()[0].endswith("mm_vs_venue")
    assert main(["db", "history", "--db", str(db_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["venue"]["venue_figures"]["currency"] == "USD"


def test_history_without_venue_figures_has_none(tmp_path: Path) -> None:
    db = open_db(tmp_path / "w.db")
    try:
        repo.save_portfolio(db, loads_portfolio(FAQ.read_text()))
        repo.record_history(db, build_report(repo.load_portfolio(db), "account:bn"))
        (row,) = repo.history(db)
        assert row["venue"] is None
        assert "mm_vs_venue" not in history_table([row])
    finally:
        db.close()


def test_model_defaults() -> None:
    assert VenueFigures().currency is None
    book = loads_portfolio(FAQ.read_text())
    assert book.accounts[0].venue_figures == () and book.accounts[0].positions[0].venue_figures is None
