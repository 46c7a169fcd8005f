"""Store: damage is found and explained; exports never overwrite the database.

Damaged, foreign, empty (0-byte) and newer-version files give one clear message pointing to
`db restore`; an empty file is never seeded with the demo book; read-only files open
read-only; flipped bytes never end in a traceback; exports are atomic, private and refuse
the database's own files.
"""

from __future__ import annotations

import random
import sqlite3
import stat
from pathlib import Path

import pytest

from workstation import cli
from workstation.store import backups, commands, health, paths
from workstation.store import repository as repo
from workstation.store.db import checkpoint, open_db
from workstation.store.errors import DatabaseUnusable, ReadOnlyDatabase

DATA = Path(__file__).parent / "data" / "store"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = commands.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _settled(path: Path) -> bytes:
    """The database with every commit in its main file; connection closed."""
    db = open_db(path)
    try:
        repo.record_history(db, {"scope": "account:main", "equity": 1.0})
        checkpoint(db)
    finally:
        db.close()
    for companion in ("-wal", "-shm"):
        Path(f"{path}{companion}").unlink(missing_ok=True)
    return path.read_bytes()


def _root_page(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        conn.close()


# ---------------------------------------------------------------- unusable files
def test_zero_length_file_is_refused_never_seeded(tmp_path: Path, capsys) -> None:
    path = tmp_path / "w.db"
    path.touch()
    for opener in (open_db, paths.ensure_database):
        with pytest.raises(DatabaseUnusable, match=r"empty \(0 bytes\).*not filled with the demo"):
            opener(path)
    code, out, err = run(capsys, "init", "--db", str(path))
    assert code == 2 and out == "" and "empty (0 bytes)" in err
    code, _, err = run(capsys, "import", "market-csv", str(DATA / "market.csv"), "--db", str(path))
    assert code == 2 and "empty (0 bytes)" in err
    assert cli.main(["margin", "--db", str(path)]) == 2
    assert path.stat().st_size == 0 and not Path(f"{path}-wal").exists()


def test_foreign_files_are_refused_and_left_alone(tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 20)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE songs (title TEXT)")
    conn.commit()
    conn.close()
    for path, why in ((text, "not an SQLite file"), (other, "holds other tables: songs")):
        before = path.read_bytes()
        code, _, err = run(capsys, "init", "--db", str(path))
        assert code == 2 and "not a margin-workstation database" in err and why in err, err
        assert "db restore" not in err or "backup" in err
        assert path.read_bytes() == before


def test_newer_version_is_refused(book_db_path: Path, capsys) -> None:
    conn = sqlite3.connect(book_db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    code, _, err = run(capsys, "export", "portfolio", "--db", str(book_db_path))
    assert code == 2 and "newer margin-workstation (schema version 99" in err


def test_damaged_pages_are_found_by_init_and_the_cli(book_db_path: Path, capsys) -> None:
    good = backups.take_backup(book_db_path, "test")
    _settled(book_db_path)
    page = _root_page(book_db_path, "positions")
    with open(book_db_path, "r+b") as fh:
        fh.seek((page - 1) * 4096)
        fh.write(b"\xff" * 12)
    for argv in (["init"], ["export", "portfolio"], ["history"]):
        code, out, err = run(capsys, *argv, "--db", str(book_db_path))
        assert code == 2 and out == "", argv
        assert "the database is damaged" in err and "db restore 1" in err, err
    assert cli.main(["margin", "--db", str(book_db_path)]) == 2
    assert "damaged" in capsys.readouterr().err
    code, out, err = run(capsys, "restore", str(good), "--db", str(book_db_path))
    assert code == 0 and "moved to" in out, err
    assert cli.main(["margin", "--db", str(book_db_path), "--json"]) == 0


@pytest.mark.parametrize("seed", range(4))
def test_flipped_bytes_never_give_a_traceback(book_db_path: Path, tmp_path: Path, capsys,
                                              seed: int) -> None:
    original = _settled(book_db_path)
    rng = random.Random(seed)
    for n in range(6):
        damaged = bytearray(original)
        for _ in range(rng.choice((1, 1, 4))):
            damaged[rng.randrange(len(damaged))] ^= rng.randrange(1, 256)
        path = tmp_path / f"flip-{seed}-{n}.db"
        path.write_bytes(bytes(damaged))
        for argv in (["margin", "--db", str(path), "--json"],
                     ["db", "export", "portfolio", "--db", str(path)],
                     ["db", "export", "report-csv", "--db", str(path)]):
            code = cli.main(argv)  # an exception here is the failure this test looks for
            _, err = capsys.readouterr()
            assert code in (0, 2), (argv, err)
            assert code == 0 or err.startswith("error: "), err


# ---------------------------------------------------------------- read-only
def test_read_only_file_opens_read_only_and_refuses_writes(book_db_path: Path, monkeypatch,
                                                           capsys) -> None:
    _settled(book_db_path)
    monkeypatch.setattr(health, "is_writable", lambda path: False)
    db = open_db(book_db_path)
    try:
        book, _ = repo.load_book(db)
        assert [a.id for a in book.accounts] == ["main", "iso"]
        with pytest.raises(ReadOnlyDatabase, match="read-only media or no permission"):
            repo.set_collateral(db, "main", "BTC", 1.0)
    finally:
        db.close()
    assert cli.main(["margin", "--db", str(book_db_path)]) == 0
    capsys.readouterr()
    code, _, err = run(capsys, "import", "balances-csv", str(DATA / "balances.csv"),
                       "--db", str(book_db_path), "--account", "main", "--merge")
    assert code == 2 and "read-only" in err


@pytest.mark.skipif(hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0,
                    reason="root can write a read-only file")
def test_read_only_permissions_open_read_only(book_db_path: Path) -> None:  # pragma: no cover
    _settled(book_db_path)
    book_db_path.chmod(0o400)
    book_db_path.parent.chmod(0o500)
    try:
        db = open_db(book_db_path)
        try:
            assert repo.load_portfolio(db).accounts
            with pytest.raises(ReadOnlyDatabase):
                repo.set_collateral(db, "main", "BTC", 1.0)
        finally:
            db.close()
    finally:
        book_db_path.parent.chmod(0o700)
        book_db_path.chmod(0o600)


# ---------------------------------------------------------------- exports
def test_export_never_overwrites_the_database(book_db_path: Path, tmp_path: Path, capsys) -> None:
    db = str(book_db_path)
    _settled(book_db_path)
    before = book_db_path.read_bytes()
    link = tmp_path / "link.json"
    link.symlink_to(book_db_path)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for target in (db, f"{db}-wal", f"{db}-shm", str(link), str(other)):
        code, out, err = run(capsys, "export", "portfolio", "--db", db, "-o", target)
        assert code == 2 and out == "", target
        assert "never" in err and "choose another file" in err, err
    assert book_db_path.read_bytes() == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_export_is_atomic_private_and_ignores_planted_symlinks(book_db_path: Path,
                                                               tmp_path: Path, capsys) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out_file = tmp_path / "out.json"
    (tmp_path / ".out.json.tmp").symlink_to(victim)  # the old, predictable temporary name
    code, _, err = run(capsys, "export", "portfolio", "--db", str(book_db_path), "-o",
                       str(out_file))
    assert code == 0, err
    assert victim.read_text() == "keep me"
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    assert out_file.read_text().startswith("{")
    leftovers = {p.name for p in tmp_path.iterdir()} - {"victim.txt", "out.json", ".out.json.tmp",
                                                         "w.db", "w.db-wal", "w.db-shm"}
    assert leftovers == set()
