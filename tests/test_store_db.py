"""Store: connection settings, migrations, transactions, cascades."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workstation.core.portfolio_io import read_portfolio
from workstation.core.portfolio_write import dumps_portfolio
from workstation.store import repository as repo
from workstation.store.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    connect,
    integrity_ok,
    open_db,
    schema_version,
    transaction,
)
from workstation.store.errors import StoreError

BOOK = Path(__file__).parent / "data" / "store" / "book.json"


def test_open_db_settings(tmp_path: Path) -> None:
    db = open_db(tmp_path / "sub" / "w.db")
    try:
        conn = db.conn
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert schema_version(db) == SCHEMA_VERSION >= 2
        tables = set(db.utils.table_names())
        assert {"meta", "assets", "snapshots", "quotes", "accounts", "pools", "pool_members",
                "collateral", "positions", "profiles", "scenarios", "margin_history"} <= tables
        assert integrity_ok(db)
    finally:
        db.close()


def test_migration_from_version_1(tmp_path: Path) -> None:
    """A database made by migration 1 alone, holding a book, upgrades and keeps the book."""
    path = tmp_path / "old.db"
    db = open_db(path, version=1)
    try:
        assert schema_version(db) == 1
        assert "margin_history" not in db.utils.table_names()
        book = read_portfolio(BOOK)
        repo.save_portfolio(db, book)
    finally:
        db.close()

    db = open_db(path)
    try:
        assert schema_version(db) == SCHEMA_VERSION
        assert "margin_history" in db.utils.table_names()
        assert dumps_portfolio(repo.load_portfolio(db)) == dumps_portfolio(book)
        repo.record_history(db, {"scope": "account:main", "equity": 1.0})
        assert [r["scope"] for r in repo.history(db)] == ["account:main"]
        indexes = {r[1] for r in db.conn.execute("PRAGMA index_list(margin_history)")}
        assert "margin_history_scope_time" in indexes
        assert integrity_ok(db)
    finally:
        db.close()


def test_migrations_are_idempotent_and_ordered(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    for _ in range(2):
        open_db(path).close()
    db = connect(path)
    try:
        assert schema_version(db) == len(MIGRATIONS)
    finally:
        db.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    open_db(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        open_db(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        open_db(path)


def test_transaction_rolls_back_everything(tmp_path: Path) -> None:
    db = open_db(tmp_path / "w.db")
    try:
        with pytest.raises(RuntimeError), transaction(db):
            db.conn.execute("INSERT INTO meta(key, value) VALUES ('a', '1')")
            with transaction(db):  # nested: a savepoint
                db.conn.execute("INSERT INTO meta(key, value) VALUES ('b', '2')")
            raise RuntimeError("boom")
        assert db.conn.execute("SELECT count(*) FROM meta").fetchone()[0] == 0
        assert not db.conn.in_transaction

        with transaction(db):
            db.conn.execute("INSERT INTO meta(key, value) VALUES ('a', '1')")
            with pytest.raises(RuntimeError), transaction(db):
                db.conn.execute("INSERT INTO meta(key, value) VALUES ('b', '2')")
                raise RuntimeError("inner only")
        assert [r[0] for r in db.conn.execute("SELECT key FROM meta")] == ["a"]
    finally:
        db.close()


def test_foreign_keys_cascade(tmp_path: Path) -> None:
    db = open_db(tmp_path / "w.db")
    try:
        repo.save_portfolio(db, read_portfolio(BOOK))
        repo.save_scenario(db, "hedge", "iso", [])
        repo.delete_account(db, "iso")
        for table in ("positions", "collateral", "pool_members", "scenarios"):
            n = db.conn.execute(
                f"SELECT count(*) FROM {table} WHERE account_id = 'iso'"
            ).fetchone()[0]
            assert n == 0, table
        with pytest.raises(sqlite3.IntegrityError):
            db.conn.execute(
                "INSERT INTO collateral(account_id, asset, seq, amount) VALUES ('nobody', 'BTC', 0, 1)"
            )
        assert integrity_ok(db)
    finally:
        db.close()


def test_query_gives_rows_as_dicts_and_utils_is_sqlite_utils_on_the_same_connection(tmp_path: Path) -> None:
    db = open_db(tmp_path / "q.db")
    try:
        with transaction(db):
            db.conn.execute("INSERT INTO meta(key, value) VALUES ('a', '1'), ('b', '2')")
        rows = db.query("SELECT key, value FROM meta WHERE key IN (?, ?) ORDER BY key", ["a", "b"])
        assert list(rows) == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
        named = db.query("SELECT value FROM meta WHERE key = :k", {"k": "b"})
        assert list(named) == [{"value": "2"}]
        with pytest.raises(ValueError, match="reads"):
            db.query("UPDATE meta SET value = '3' WHERE key = 'a'")
        assert db.conn.execute("SELECT value FROM meta WHERE key = 'a'").fetchone() == ("1",)  # unrun
        with pytest.raises(ValueError, match="reads"):
            db.query("   ")
        assert list(db.query("SELECT 1 AS x, 2 AS x, 3 AS x")) == [{"x": 1, "x_2": 2, "x_3": 3}]
        assert db.conn.execute("PRAGMA recursive_triggers").fetchone() == (1,)  # as sqlite-utils had it
        assert db.utils.conn is db.conn  # sqlite-utils' API over this very connection
        assert db.utils["meta"].count == db.conn.execute("SELECT count(*) FROM meta").fetchone()[0]
    finally:
        db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        db.conn.execute("SELECT 1")  # closed
