"""Store: the `db` commands, `margin --db --record`, the default path and first-run seeding."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from workstation.core.portfolio_io import loads_portfolio, read_portfolio
from workstation.core.portfolio_write import dumps_portfolio
from workstation.store import commands, paths
from workstation.store import repository as repo
from workstation.store.db import open_db

DATA = Path(__file__).parent / "data" / "store"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = commands.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def book_of(path: Path):
    db = open_db(path)
    try:
        return repo.load_portfolio(db)
    finally:
        db.close()


@pytest.fixture
def db_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "w.db"
    code, _, err = run(capsys, "import", "portfolio", str(DATA / "book.json"), "--db", str(path))
    assert code == 0, err
    return path


def test_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.db"
    code, out, _ = run(capsys, "init", "--db", str(empty), "--empty")
    assert code == 0 and "0 account(s)" in out and empty.exists()
    if paths.demo_portfolio_path().exists():
        demo = tmp_path / "demo.db"
        code, out, _ = run(capsys, "init", "--db", str(demo))
        assert code == 0 and "market as of" in out
        assert book_of(demo) == read_portfolio(paths.demo_portfolio_path())


def test_import_export_history(db_path: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "import", "balances-csv", str(DATA / "balances.csv"),
                       "--db", str(db_path), "--account", "main", "--replace")
    assert code == 0 and "imported 3 row(s) of balances-csv" in out
    code, out, _ = run(capsys, "import", "market-csv", str(DATA / "market.csv"), "--db",
                       str(db_path), "--as-of", "2026-11-25T12:00:00Z", "--rate", "0.02")
    assert code == 0

    exported = tmp_path / "out.json"
    code, out, _ = run(capsys, "export", "portfolio", "--db", str(db_path), "-o", str(exported))
    assert code == 0 and out == ""
    book = loads_portfolio(exported.read_text())
    assert book.rate == 0.02 and book.market["AVAX"].price == 35.2
    assert book.account("main").collateral == {"BTC": 2.5, "USDT": 10000.0, "ETH": -1.5}

    code, out, _ = run(capsys, "export", "report-json", "--db", str(db_path), "--pool", "both")
    assert code == 0 and json.loads(out)["scope"] == "pool:both"
    code, out, _ = run(capsys, "export", "report-json", "--db", str(db_path))
    assert [r["scope"] for r in json.loads(out)["reports"]] == [
        "account:main", "account:iso", "pool:both"]
    code, out, _ = run(capsys, "export", "report-csv", "--db", str(db_path), "--positions")
    assert code == 0
    assert {r["account"] for r in csv.DictReader(io.StringIO(out))} == {"main", "iso"}

    code, out, _ = run(capsys, "history", "--db", str(db_path))
    assert code == 0 and "no margin history" in out
    db = open_db(db_path)
    try:
        reports = json.loads(commands.exports.reports_json(commands.exports.build(db)))
    finally:
        db.close()
    assert commands.record_reports(db_path, reports["reports"]) == 3
    code, out, _ = run(capsys, "history", "--db", str(db_path))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4
    assert lines[0].split()[:3] == ["recorded_at", "scope", "equity"]
    assert len({len(line) for line in lines}) <= 2  # aligned columns (rstrip of the last)
    assert "pool:both" in lines[3]
    code, out, _ = run(capsys, "history", "--db", str(db_path), "--account", "iso", "--json")
    rows = json.loads(out)
    assert [r["scope"] for r in rows] == ["account:iso"] and rows[0]["equity"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["import", "balances-csv", str(DATA / "bad" / "balances-bad-number.csv"),
          "--account", "main"], "balances-bad-number.csv:3: total: expected a number"),
        (["import", "ccxt-balance", str(DATA / "ccxt-balance.json")], "--account"),
        (["import", "market-csv", str(DATA / "market.csv"), "--as-of", "yesterday"], "--as-of"),
        (["import", "portfolio", "/nonexistent/file.json"], "(file): expected a readable file"),
        (["export", "report-json", "--account", "ghost"], "ghost"),
    ],
)
def test_errors_exit_2(db_path: Path, capsys: pytest.CaptureFixture[str], argv, message) -> None:
    before = dumps_portfolio(book_of(db_path))
    code, out, err = run(capsys, *argv, "--db", str(db_path))
    assert code == 2 and out == "" and message in err
    assert dumps_portfolio(book_of(db_path)) == before


def test_missing_database_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "history", "--db", str(tmp_path / "nope.db"))
    assert code == 2 and "db init" in err and not (tmp_path / "nope.db").exists()


def test_margin_db_record_via_main_cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip("workstation.cli")
    assert cli.main(["margin", "--db", str(db_path), "--record", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["scope"] for r in doc["reports"]] == ["account:main", "account:iso", "pool:both"]
    assert cli.main(["margin", "--db", str(db_path), "--account", "iso", "--record"]) == 0
    capsys.readouterr()
    assert cli.main(["db", "history", "--db", str(db_path), "--scope", "account:iso"]) == 0
    out = capsys.readouterr().out
    assert out.count("account:iso") == 2
    db = open_db(db_path)
    try:
        assert len(repo.history(db)) == 4
    finally:
        db.close()


def test_default_path_and_seeding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.DB_ENV, raising=False)
    assert paths.APP_NAME in str(paths.default_db_path())
    target = tmp_path / "data" / "mw.db"
    monkeypatch.setenv(paths.DB_ENV, str(target))
    assert paths.default_db_path() == target

    demo = tmp_path / "demo.json"
    demo.write_text((DATA / "book.json").read_text())
    monkeypatch.setattr(paths, "demo_portfolio_path", lambda: demo)
    db = paths.ensure_database()
    try:
        assert [a.id for a in repo.load_portfolio(db).accounts] == ["main", "iso"]
        repo.delete_account(db, "main")
        repo.delete_account(db, "iso")
    finally:
        db.close()
    db = paths.ensure_database()  # seeded once: an emptied book stays empty
    try:
        assert repo.load_portfolio(db).accounts == []
    finally:
        db.close()
    assert commands.load_portfolio_from_db().accounts == []
