"""Store: the book round trip and the edit functions the UI and CLI call."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shared_paths import EXAMPLES as _SHARED_EXAMPLES

from workstation.core.model import Account, Pool, Position, Quote
from workstation.core.portfolio_io import loads_portfolio, read_portfolio
from workstation.core.portfolio_write import dumps_portfolio
from workstation.store import repository as repo
from workstation.store.db import integrity_ok, open_db
from workstation.store.errors import InvalidInput, NotFoundError, StoreError
from workstation.store.paths import demo_portfolio_path

DATA = Path(__file__).parent / "data" / "store"
BOOK = DATA / "book.json"
EXAMPLES = sorted(_SHARED_EXAMPLES.glob("*.json"))
ROUND_TRIP = [BOOK, *EXAMPLES] + ([demo_portfolio_path()] if demo_portfolio_path().exists() else [])
T0 = datetime(2026, 11, 25, 8, tzinfo=UTC)


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: p.name)
def test_round_trip_json_db_json(path: Path, tmp_path: Path) -> None:
    book = read_portfolio(path)
    database = open_db(tmp_path / "w.db")
    try:
        repo.save_portfolio(database, book)
    finally:
        database.close()
    database = open_db(tmp_path / "w.db")  # a fresh connection reads what was committed
    try:
        back = repo.load_portfolio(database)
    finally:
        database.close()
    assert back == book
    assert dumps_portfolio(back) == dumps_portfolio(book)
    assert loads_portfolio(dumps_portfolio(back)) == book


def test_save_portfolio_replaces_book_keeps_history_and_scenarios(db) -> None:
    sid = repo.save_scenario(db, "hedge", "main", [])
    gone = repo.save_scenario(db, "iso hedge", "iso", [])
    repo.record_history(db, {"scope": "account:main", "equity": 5.0})
    book = read_portfolio(BOOK)
    main = book.account("main")
    smaller = replace(book, accounts=[replace(main, positions=main.positions[:1])], pools=[],
                      market={**book.market, "BTC": Quote(80000.0, 0.6)})
    repo.save_portfolio(db, smaller)
    assert repo.load_portfolio(db) == smaller
    assert repo.load_scenario(db, sid)["name"] == "hedge"  # its account is still there
    with pytest.raises(NotFoundError):
        repo.load_scenario(db, gone)  # its account was dropped with the book
    repo.save_portfolio(db, read_portfolio(BOOK))
    assert len(repo.history(db)) == 1
    assert len(repo.snapshots(db)) == 3
    assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(read_portfolio(BOOK))


def test_same_market_reuses_the_snapshot(db) -> None:
    repo.save_portfolio(db, read_portfolio(BOOK))
    assert len(repo.snapshots(db)) == 1


def test_empty_database_has_no_book(tmp_path: Path) -> None:
    database = open_db(tmp_path / "e.db")
    try:
        with pytest.raises(StoreError, match="no market snapshot"):
            repo.load_portfolio(database)
    finally:
        database.close()


def test_upsert_and_delete_position(db) -> None:
    new = Position(id="eth-perp", kind="perpetual", underlying="ETH", quantity=3,
                   entry_price=3000, settlement="linear")
    repo.upsert_position(db, "main", new)
    ids = [p.id for p in repo.load_portfolio(db).account("main").positions]
    assert ids == ["btc-perp", "btc-c100", "eth-old-p", "eth-perp"]
    repo.upsert_position(db, "main", replace(new, id="btc-perp", underlying="BTC", quantity=-2.0))
    acc = repo.load_portfolio(db).account("main")
    assert [p.id for p in acc.positions] == ["btc-perp", "btc-c100", "eth-old-p", "eth-perp"]
    assert acc.positions[0].quantity == -2.0 and acc.positions[0].entry_price == 3000
    repo.delete_position(db, "main", "eth-perp")
    assert "eth-perp" not in [p.id for p in repo.load_portfolio(db).account("main").positions]
    with pytest.raises(NotFoundError):
        repo.delete_position(db, "main", "eth-perp")
    with pytest.raises(NotFoundError):
        repo.upsert_position(db, "nobody", new)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": float("nan")}, "quantity"),
        ({"entry_price": -1.0}, "entry_price"),
        ({"underlying": "DOGE"}, "underlying"),
        ({"kind": "swap"}, "kind"),
        ({"kind": "option", "right": "call", "strike": -5.0,
          "expiry": datetime(2027, 1, 1, tzinfo=UTC)}, "strike"),
        ({"kind": "option", "right": "call", "strike": 1e5}, "expiry"),
        ({"kind": "option", "right": "call", "strike": 1e5,
          "expiry": datetime(2026, 1, 1, tzinfo=UTC)}, "expiry"),
        ({"isolated_margin": 100.0}, "isolated_margin"),
        ({"id": ""}, "id"),
    ],
)
def test_upsert_position_refuses_bad_input(db, change: dict, field: str) -> None:
    before = dumps_portfolio(repo.load_portfolio(db))
    bad = replace(Position(id="x", kind="perpetual", underlying="BTC", quantity=1,
                           entry_price=90000, settlement="linear"), **change)
    with pytest.raises(InvalidInput) as err:
        repo.upsert_position(db, "main", bad)
    assert err.value.field.endswith(field)
    assert str(err.value).startswith(err.value.field + ": ")
    assert dumps_portfolio(repo.load_portfolio(db)) == before


def test_isolated_account_needs_isolated_margin(db) -> None:
    pos = Position(id="btc", kind="perpetual", underlying="BTC", quantity=0.1,
                   entry_price=90000, settlement="linear")
    with pytest.raises(InvalidInput, match="isolated_margin"):
        repo.upsert_position(db, "iso", pos)
    repo.upsert_position(db, "iso", replace(pos, isolated_margin=1000.0))


def test_collateral(db) -> None:
    repo.set_collateral(db, "main", "ETH", 4.5)
    repo.set_collateral(db, "main", "BTC", -0.5)
    assert repo.load_portfolio(db).account("main").collateral == {
        "BTC": -0.5, "USDC": 20000.0, "ETH": 4.5
    }
    repo.delete_collateral(db, "main", "USDC")
    assert "USDC" not in repo.load_portfolio(db).account("main").collateral
    with pytest.raises(InvalidInput, match="DOGE"):
        repo.set_collateral(db, "main", "DOGE", 1.0)
    with pytest.raises(InvalidInput, match="finite"):
        repo.set_collateral(db, "main", "ETH", float("inf"))
    with pytest.raises(InvalidInput, match="number"):
        repo.set_collateral(db, "main", "ETH", "12")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        repo.set_collateral(db, "nobody", "ETH", 1.0)
    with pytest.raises(NotFoundError):
        repo.delete_collateral(db, "main", "USDC")


def test_quotes_and_snapshots(db) -> None:
    repo.set_quote(db, "BTC", 95000.0, 0.5)
    repo.set_quote(db, "AVAX", 35.0)
    book = repo.load_portfolio(db)
    assert book.market["BTC"] == Quote(95000.0, 0.5)
    assert list(book.market)[-1] == "AVAX"
    with pytest.raises(InvalidInput, match="positive"):
        repo.set_quote(db, "BTC", 0.0)
    with pytest.raises(InvalidInput, match="finite"):
        repo.set_quote(db, "BTC", 1.0, float("nan"))

    later = datetime(2026, 11, 26, 8, tzinfo=UTC)
    sid = repo.add_snapshot(db, later, None, {"BTC": Quote(97000.0, 0.51), "ETH": 3100.0})
    book = repo.load_portfolio(db)
    assert book.as_of == later and book.rate == 0.01
    assert book.market["BTC"] == Quote(97000.0, 0.51)
    assert book.market["ETH"] == Quote(3100.0, None)
    assert book.market["SOL"] == Quote(139.82, 0.78)  # carried forward
    assert [s["id"] for s in repo.snapshots(db)][-1] == sid
    assert repo.market(db, repo.snapshots(db)[0]["id"])["BTC"] == Quote(95000.0, 0.5)


def test_snapshot_that_would_break_the_book_is_refused(db) -> None:
    before = len(repo.snapshots(db))
    with pytest.raises(InvalidInput, match="btc-c100"):  # option expired, not marked
        repo.add_snapshot(db, datetime(2027, 1, 1, tzinfo=UTC), 0.0, {})
    with pytest.raises(InvalidInput, match="USDC"):  # collateral held, no price
        repo.add_snapshot(db, T0, 0.0, {"BTC": 1.0, "ETH": 1.0, "SOL": 1.0, "USDT": 1.0},
                          carry_forward=False)
    assert len(repo.snapshots(db)) == before


def test_account_mode_and_profile(db) -> None:
    with pytest.raises(InvalidInput, match="isolated_margin"):
        repo.set_account_mode(db, "main", "isolated")
    with pytest.raises(InvalidInput, match="profile"):
        repo.set_account_mode(db, "main", "cross", "no-such-profile")
    repo.set_account_mode(db, "main", "isolated", "default",
                          {"btc-perp": 1000.0, "btc-c100": 500.0, "eth-old-p": 0.0})
    acc = repo.load_portfolio(db).account("main")
    assert (acc.margin_mode, acc.profile) == ("isolated", "default")
    assert acc.positions[0].isolated_margin == 1000.0
    repo.set_account_mode(db, "main", "cross")
    acc = repo.load_portfolio(db).account("main")
    assert acc.margin_mode == "cross"
    assert all(p.isolated_margin is None for p in acc.positions)
    with pytest.raises(InvalidInput):
        repo.set_account_mode(db, "main", "hedged")


def test_accounts_and_pools(db) -> None:
    acc = Account(id="new", margin_mode="cross", collateral={"USDT": 100.0},
                  positions=[Position("p", "perpetual", "ETH", 1.0, 3000.0)], venue="okx")
    repo.add_account(db, acc)
    book = repo.load_portfolio(db)
    assert book.accounts[-1] == replace(acc, profile="default")
    with pytest.raises(InvalidInput, match="already"):
        repo.add_account(db, acc)
    # scopes are namespaced as in the portfolio file: an account may share a pool's id ("both")
    repo.add_account(db, replace(acc, id="both"))
    assert "both" in {a.id for a in repo.load_portfolio(db).accounts}
    repo.delete_account(db, "both")
    with pytest.raises(InvalidInput, match="DOGE"):
        repo.add_account(db, replace(acc, id="x", collateral={"DOGE": 1.0}))
    with pytest.raises(InvalidInput, match="unique"):
        repo.add_account(db, replace(acc, id="x", positions=acc.positions * 2))

    repo.add_pool(db, Pool(id="pair", accounts=["main", "new"]))
    assert repo.load_portfolio(db).pool("pair").accounts == ["main", "new"]
    with pytest.raises(InvalidInput, match="no account"):
        repo.add_pool(db, Pool(id="p2", accounts=["main", "ghost"]))
    with pytest.raises(InvalidInput, match="twice"):
        repo.add_pool(db, Pool(id="p2", accounts=["main", "main"]))
    with pytest.raises(InvalidInput, match="margin_mode"):
        repo.add_pool(db, Pool(id="p2", accounts=["main"], margin_mode="isolated"))

    repo.delete_account(db, "new")
    assert repo.load_portfolio(db).pool("pair").accounts == ["main"]
    repo.delete_pool(db, "pair")
    with pytest.raises(NotFoundError):
        repo.delete_pool(db, "pair")
    with pytest.raises(NotFoundError):
        repo.delete_account(db, "new")
    assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(read_portfolio(BOOK))
    assert integrity_ok(db)


def test_history(db) -> None:
    from workstation.core.report import build_reports

    reports = build_reports(repo.load_portfolio(db))
    t1 = datetime(2026, 11, 25, 9, tzinfo=UTC)
    for report in reports:
        repo.record_history(db, report, t1)
    repo.record_history(db, {**reports[0], "margin_usage": float("inf")},
                        datetime(2026, 11, 25, 10, tzinfo=UTC))
    rows = repo.history(db)
    assert [r["scope"] for r in rows] == [*[r["scope"] for r in reports], reports[0]["scope"]]
    first = rows[0]
    assert first["recorded_at"] == t1 and first["snapshot_as_of"] == T0
    assert first["initial_margin"] == pytest.approx(reports[0]["initial_margin"])
    assert first["liquidation"]["all"].keys() == {"down_pct", "up_pct"}
    assert rows[-1]["margin_usage"] is None
    only = repo.history(db, scope="pool:both")
    assert [r["scope"] for r in only] == ["pool:both"]
    assert only[0]["segregated_initial_margin"] == pytest.approx(
        reports[-1]["segregated_initial_margin"])
    assert len(repo.history(db, limit=2)) == 2
    with pytest.raises(InvalidInput, match="scope"):
        repo.record_history(db, {"equity": 1.0})
    with pytest.raises(InvalidInput, match="equity"):
        repo.record_history(db, {"scope": "account:main", "equity": "lots"})


def test_scenarios(db) -> None:
    trades = [
        Position("", "perpetual", "BTC", -0.5, 91000.0, "linear"),
        Position("c", "option", "BTC", 2.0, 0.01, "inverse",
                 expiry=datetime(2027, 3, 26, 8, tzinfo=UTC), right="call", strike=110000.0),
    ]
    sid = repo.save_scenario(db, "hedge", "main", trades)
    other = repo.save_scenario(db, "nothing", "iso", [])
    assert [s["id"] for s in repo.list_scenarios(db)] == [sid, other]
    listed = repo.list_scenarios(db, "main")
    assert [(s["name"], s["trade_count"]) for s in listed] == [("hedge", 2)]
    loaded = repo.load_scenario(db, sid)
    assert loaded["account_id"] == "main" and loaded["trades"] == trades
    repo.delete_scenario(db, sid)
    with pytest.raises(NotFoundError):
        repo.load_scenario(db, sid)
    with pytest.raises(NotFoundError):
        repo.delete_scenario(db, sid)
    with pytest.raises(InvalidInput, match=r"trades\[0\].quantity"):
        repo.save_scenario(db, "bad", "main", [replace(trades[0], quantity=float("nan"))])
    with pytest.raises(NotFoundError):
        repo.save_scenario(db, "x", "ghost", [])


def test_quote_edit_that_would_break_the_book_is_refused(db) -> None:
    opt = Position("eth-c", "option", "ETH", 1.0, 50.0, "linear",
                   expiry=datetime(2027, 1, 29, 8, tzinfo=UTC), right="call", strike=3500.0)
    repo.upsert_position(db, "main", opt)  # priced with market.ETH.vol
    with pytest.raises(InvalidInput, match=r"accounts\[main\].positions\[eth-c\].vol"):
        repo.set_quote(db, "ETH", 3000.0, None)
    assert repo.load_portfolio(db).market["ETH"] == Quote(3018.4, 0.66)


def test_history_is_in_time_order(db) -> None:
    for when in (datetime(2026, 11, 25, 9, 0, 0, 500, tzinfo=UTC),
                 datetime(2026, 11, 25, 9, tzinfo=UTC),
                 datetime(2026, 11, 25, 9, 0, 1, tzinfo=UTC)):
        repo.record_history(db, {"scope": "account:main"}, when)
    times = [r["recorded_at"] for r in repo.history(db)]
    assert times == sorted(times)
    assert [r["recorded_at"] for r in repo.history(db, limit=1)] == [times[-1]]
