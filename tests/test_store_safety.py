"""Store: nothing is lost without the user saying so.

Replacing imports name what they delete and need `replace`; `merge` keeps the rest of the book;
empty venue dumps are refused; every import that deletes or changes data is backed up first,
and `restore` brings any backup back (after backing up the current state).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from workstation.core.model import Position
from workstation.core.portfolio_io import read_portfolio
from workstation.core.portfolio_write import dumps_portfolio
from workstation.core.stress import Scenario
from workstation.store import backups, commands
from workstation.store import repository as repo
from workstation.store.connection import Database
from workstation.store.db import SCHEMA_VERSION, book_counter, open_db
from workstation.store.errors import ImportFileError, ReplaceRefused, StaleBookError
from workstation.store.imports import import_file
from workstation.store.stress_store import list_stress_scenarios, save_stress_scenario

DATA = Path(__file__).parent / "data" / "store"
BOOK = DATA / "book.json"


def _book_doc() -> dict:
    return json.loads(BOOK.read_text())


def _write(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def _main_only(tmp_path: Path) -> Path:
    """book.json with only account `main` (one position fewer) and no pools or profiles."""
    doc = _book_doc()
    main = doc["accounts"][0]
    main["positions"] = main["positions"][:2]
    main["profile"] = "default"
    doc["accounts"], doc["pools"], doc["profiles"] = [main], [], {}
    return _write(tmp_path, "main-only.json", doc)


def _dump(db: Database) -> str:
    return dumps_portfolio(repo.load_portfolio(db))


def _trade(pid: str, quantity: float = 1.0) -> Position:
    return Position(id=pid, kind="perpetual", underlying="ETH", quantity=quantity,
                    entry_price=3000.0, settlement="linear")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = commands.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- replacing the book
def test_portfolio_import_names_what_it_would_delete(db, tmp_path: Path) -> None:
    repo.save_scenario(db, "hedge", "iso", [_trade("h1")])
    before, counter = _dump(db), book_counter(db)
    with pytest.raises(ReplaceRefused) as err:
        import_file(db, "portfolio", _main_only(tmp_path))
    text = str(err.value)
    assert "account iso (1 position, 1 balance, 1 saved scenario)" in text
    assert "1 position of account main: eth-old-p" in text
    assert "1 pool: both" in text and "1 profile: house" in text
    assert "--replace" in text and "--merge" in text
    assert _dump(db) == before and book_counter(db) == counter
    assert backups.list_backups(repo_path(db)) == []  # nothing happened, nothing backed up


def repo_path(db: Database) -> Path:
    from workstation.store.db import db_file

    path = db_file(db)
    assert path is not None
    return path


def test_replace_backs_up_first_and_restore_brings_it_back(db, tmp_path: Path) -> None:
    original = _dump(db)
    repo.save_scenario(db, "hedge", "iso", [_trade("h1")])
    result = import_file(db, "portfolio", _main_only(tmp_path), replace=True)
    assert [a.id for a in repo.load_portfolio(db).accounts] == ["main"]
    assert result.backup is not None and result.backup.exists()
    assert repo.list_scenarios(db) == []  # went with account iso
    # history recorded and stress scenarios saved after the import survive the restore
    repo.record_history(db, {"scope": "account:main", "equity": 1.0})
    save_stress_scenario(db, Scenario(name="btc-down", shocks={"BTC": -0.3}))
    counter = book_counter(db)

    restored = backups.restore(repo_path(db), result.backup)
    assert _dump(db) == original
    assert [s["name"] for s in repo.list_scenarios(db)] == ["hedge"]
    assert len(repo.history(db, "account:main")) == 1
    assert [sc.name for sc in list_stress_scenarios(db)] == ["btc-down"]
    assert book_counter(db) > counter  # the counter never goes back: stale edits stay stale
    assert restored.saved is not None and restored.saved.exists()  # the state before it
    # ... which can itself be brought back
    backups.restore(repo_path(db), restored.saved)
    assert [a.id for a in repo.load_portfolio(db).accounts] == ["main"]


def test_cli_replace_backups_and_restore(book_db_path: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    original = dumps_portfolio(read_portfolio(BOOK))
    db = str(book_db_path)
    code, out, err = run(capsys, "import", "portfolio", str(_main_only(tmp_path)), "--db", db)
    assert code == 2 and out == ""
    assert "would delete 1 position of account main" in err and "account iso (" in err
    assert "--replace" in err
    code, out, err = run(capsys, "import", "portfolio", str(_main_only(tmp_path)), "--db", db,
                         "--replace")
    assert code == 0, err
    assert "; deleted " in out and "account iso (" in out and "backed up in" in out
    code, out, _ = run(capsys, "backups", "--db", db)
    assert code == 0 and "before-import-portfolio" in out and out.splitlines()[1].startswith("1 ")
    code, out, err = run(capsys, "restore", "1", "--db", db)
    assert code == 0, err
    assert "restored" in out
    database = open_db(book_db_path)
    try:
        assert _dump(database) == original
    finally:
        database.close()
    code, out, _ = run(capsys, "backups", "--db", db)
    assert "before-restore" in out.splitlines()[1]  # restore backed up the state it replaced
    code, _, err = run(capsys, "restore", "9", "--db", db)
    assert code == 2 and "no backup number 9" in err
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    code, _, err = run(capsys, "restore", str(broken), "--db", db)
    assert code == 2 and "this backup cannot be" in err
    database = open_db(book_db_path)
    try:
        assert _dump(database) == original  # a refused restore changes nothing
    finally:
        database.close()


def test_portfolio_merge_replaces_the_files_accounts_and_keeps_the_rest(db, tmp_path) -> None:
    repo.save_scenario(db, "hedge", "iso", [_trade("h1")])
    doc = _book_doc()
    main = doc["accounts"][0]
    main["positions"] = main["positions"][:1]
    main["collateral"] = {"USDC": 5000}
    main["profile"] = "default"
    new = {"id": "new", "margin_mode": "cross", "collateral": {"USDT": 100}, "positions": []}
    doc["accounts"] = [main, new]
    doc["pools"] = [{"id": "pair", "accounts": ["main", "new"]}]
    doc["profiles"] = {}
    doc["market"]["BTC"]["price"] = 95000.0
    result = import_file(db, "portfolio", _write(tmp_path, "merge.json", doc), merge=True)
    book = repo.load_portfolio(db)
    assert [a.id for a in book.accounts] == ["main", "iso", "new"]
    assert [p.id for p in book.account("main").positions] == ["btc-perp"]
    assert book.account("main").collateral == {"USDC": 5000.0}
    assert book.account("iso").positions[0].id == "sol-perp"  # kept as it was
    assert [p.id for p in book.pools] == ["both", "pair"] and "house" in book.profiles
    assert book.market["BTC"].price == 95000.0 and book.market["SOL"].price == 139.82
    assert [s["name"] for s in repo.list_scenarios(db)] == ["hedge"]
    assert result.backup is not None  # main's positions were replaced


def test_portfolio_merge_needs_one_base_currency(db, tmp_path: Path) -> None:
    doc = _book_doc()
    doc["base_currency"] = "EUR"
    before = _dump(db)
    with pytest.raises(ImportFileError, match="base_currency: the book is in USD"):
        import_file(db, "portfolio", _write(tmp_path, "eur.json", doc), merge=True)
    assert _dump(db) == before


def test_options_that_mean_nothing_are_refused(db) -> None:
    for flag in ("merge", "replace"):
        with pytest.raises(ImportFileError, match=f"--{flag}: means nothing for a market-csv"):
            import_file(db, "market-csv", DATA / "market.csv", **{flag: True})
    with pytest.raises(ImportFileError, match="not both"):
        import_file(db, "balances-csv", DATA / "balances.csv", account="main", merge=True,
                    replace=True)
    with pytest.raises(ImportFileError, match="--allow-empty: means nothing"):
        import_file(db, "portfolio", BOOK, allow_empty=True)


# ---------------------------------------------------------------- accounts' positions
def test_positions_import_refused_when_it_would_delete(db, tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("id,kind,underlying,settlement,quantity,entry_price\n"
                   "a,perpetual,BTC,linear,1,90000\nb,perpetual,BTC,linear,2,90000\n")
    first = import_file(db, "positions-csv", csv, account="new")  # nothing to delete
    assert first.backup is None and first.changes is not None and not first.changes.deletes
    again = import_file(db, "positions-csv", csv, account="new")  # the same state: no change
    assert again.backup is None and again.changes is not None and not again.changes.overwrites
    csv.write_text("id,kind,underlying,settlement,quantity,entry_price\n"
                   "a,perpetual,BTC,linear,3,90000\n")
    with pytest.raises(ReplaceRefused, match=r"would delete 1 position of account new: b\."):
        import_file(db, "positions-csv", csv, account="new")
    assert [p.quantity for p in repo.load_portfolio(db).account("new").positions] == [1, 2]
    merged = import_file(db, "positions-csv", csv, account="new", merge=True)
    assert merged.backup is not None  # `a` changed: the old value is kept in a backup
    assert [p.quantity for p in repo.load_portfolio(db).account("new").positions] == [3, 2]


@pytest.mark.parametrize(("kind", "text"), [
    ("ccxt-balance", "{}"),
    ("ccxt-balance", '{"info": {}, "free": {}, "used": {}, "total": {}}'),
    ("ccxt-positions", "[]"),
    ("ccxt-positions", '{"positions": []}'),
    ("positions-csv", "symbol,quantity,entry_price\n"),
    ("balances-csv", "asset,total\n"),
])
def test_empty_venue_dump_is_refused_unless_allowed(db, tmp_path: Path, kind, text) -> None:
    path = tmp_path / ("dump.csv" if kind.endswith("csv") else "dump.json")
    path.write_text(text)
    before = _dump(db)
    with pytest.raises(ImportFileError, match=r"lists no .* pass --allow-empty"):
        import_file(db, kind, path, account="main")
    with pytest.raises(ReplaceRefused):  # allowed, but it still deletes: --replace too
        import_file(db, kind, path, account="main", allow_empty=True)
    assert _dump(db) == before
    import_file(db, kind, path, account="main", allow_empty=True, replace=True)
    main = repo.load_portfolio(db).account("main")
    assert (main.collateral if "balance" in kind else main.positions) in ({}, [])


def test_dry_run_reports_and_changes_nothing(db, tmp_path: Path) -> None:
    before, counter = _dump(db), book_counter(db)
    preview = import_file(db, "portfolio", _main_only(tmp_path), dry_run=True)
    assert preview.dry_run and preview.changes is not None and preview.changes.deletes
    assert preview.backup is None and "would import" in str(preview)
    assert _dump(db) == before and book_counter(db) == counter
    with pytest.raises(StaleBookError, match="since the preview"):
        import_file(db, "portfolio", _main_only(tmp_path), replace=True,
                    expected_counter=counter - 1)
    import_file(db, "portfolio", _main_only(tmp_path), replace=True, expected_counter=counter)


# ---------------------------------------------------------------- backups
def test_backups_are_private_rotated_and_listed_newest_first(db, monkeypatch) -> None:
    path = repo_path(db)
    monkeypatch.setattr(backups, "KEEP", 3)
    made = [backups.take_backup(path, f"test {i}") for i in range(5)]
    backups.rotate(path, keep=3)
    found = backups.list_backups(path)
    assert [b.path for b in found] == made[:1:-1]  # the newest three, newest first
    assert [b.reason for b in found] == ["test-4", "test-3", "test-2"]
    assert stat.S_IMODE(found[0].path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backups.backup_dir(path).stat().st_mode) == 0o700
    assert backups.resolve(path, "1") == made[-1]


def test_new_database_and_data_directory_are_private(tmp_path: Path) -> None:
    from workstation.store.paths import ensure_database

    path = tmp_path / "data" / "margin-workstation" / "w.db"
    ensure_database(path, demo=False).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_migration_is_backed_up_first(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    open_db(path, version=1).close()
    open_db(path).close()
    found = backups.list_backups(path)
    assert [b.reason for b in found] == [f"before-migration-1-to-{SCHEMA_VERSION}"]
    old = sqlite3.connect(found[0].path)
    try:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        old.close()


def test_undo_is_refused_once_the_book_changed_since(db, tmp_path: Path) -> None:
    result = import_file(db, "portfolio", _main_only(tmp_path), replace=True)
    assert result.counter == book_counter(db)
    repo.upsert_position(db, "main", _trade("later"))  # someone else's change after it
    after = _dump(db)
    with pytest.raises(StaleBookError, match="changed in the database after that change"):
        backups.restore(repo_path(db), result.backup, expected_counter=result.counter)
    assert _dump(db) == after


def test_restore_over_a_damaged_or_empty_file_sets_it_aside(book_db_path: Path) -> None:
    good = backups.take_backup(book_db_path, "good")
    original = book_db_path.read_bytes()
    for damage in (b"", b"garbage" * 100):
        for companion in ("-wal", "-shm"):
            Path(f"{book_db_path}{companion}").unlink(missing_ok=True)
        book_db_path.write_bytes(damage)
        result = backups.restore(book_db_path, good)
        assert result.set_aside and result.saved is not None
        assert result.saved.read_bytes() == damage  # moved, never deleted
        database = open_db(book_db_path)
        try:
            assert [a.id for a in repo.load_portfolio(database).accounts] == ["main", "iso"]
        finally:
            database.close()
    assert original  # the fixture's file was a whole database before the damage
    missing = book_db_path.with_name("gone.db")
    backups.restore(missing, good)
    assert os.path.exists(missing)
