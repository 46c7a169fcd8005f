"""Store: a process killed inside an import, and two processes writing at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from shared_paths import EXAMPLES as _SHARED_EXAMPLES

from workstation.store import repository as repo
from workstation.store.db import integrity_ok, open_db
from workstation.store.imports import PAUSE_ENV

DATA = Path(__file__).parent / "data" / "store"
ROOT = Path(__file__).resolve().parents[1]
ROWS = 200

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != PAUSE_ENV}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _big_csv(path: Path) -> Path:
    lines = ["id,kind,underlying,settlement,quantity,entry_price"]
    lines += [f"p{i:03d},perpetual,BTC,linear,{(i % 7) - 3}.5,{90000 + i}" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _state(path: Path) -> tuple[bool, list[str]]:
    db = open_db(path)
    try:
        ids = [p.id for p in repo.load_portfolio(db).account("main").positions]
        return integrity_ok(db), ids
    finally:
        db.close()


def _import_cmd(db: Path, csv: Path) -> list[str]:
    return [sys.executable, "-m", "workstation.store", "import", "positions-csv", str(csv),
            "--db", str(db), "--account", "main", "--replace"]


def _reap(proc: subprocess.Popen) -> None:
    """Make sure a test's import process is gone and its pipe closed, whatever happened."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


def test_killed_import_leaves_none_of_the_rows(book_db_path: Path, tmp_path: Path) -> None:
    csv = _big_csv(tmp_path / "many.csv")
    ok, before = _state(book_db_path)
    assert ok and len(before) == 3
    proc = subprocess.Popen(_import_cmd(book_db_path, csv), env=_env(**{PAUSE_ENV: "60"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the hook prints once half the rows are written
        assert f"import paused after {ROWS // 2} of {ROWS} rows" in line
        # While the writer sits inside its transaction, a reader sees the old book.
        ok, during = _state(book_db_path)
        assert ok and during == before
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _reap(proc)
    assert proc.returncode == -signal.SIGKILL
    ok, after = _state(book_db_path)
    assert ok and after == before  # none of the rows

    done = subprocess.run(_import_cmd(book_db_path, csv), env=_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ok, after = _state(book_db_path)
    assert ok and after == [f"p{i:03d}" for i in range(ROWS)]  # all of the rows (replaced)


def test_killed_portfolio_import_keeps_the_old_book(book_db_path: Path) -> None:
    other = str(_SHARED_EXAMPLES / "pooled-three-accounts.json")
    if not Path(other).exists():
        pytest.skip("example missing")
    cmd = [sys.executable, "-m", "workstation.store", "import", "portfolio", other,
           "--db", str(book_db_path), "--replace"]
    proc = subprocess.Popen(cmd, env=_env(**{PAUSE_ENV: "60"}), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        assert "import paused" in proc.stderr.readline()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _reap(proc)
    db = open_db(book_db_path)
    try:
        assert integrity_ok(db)
        assert [a.id for a in repo.load_portfolio(db).accounts] == ["main", "iso"]
    finally:
        db.close()


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from workstation.core.model import Position
    from workstation.store import repository as repo
    from workstation.store.db import open_db

    path, tag, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    while time.time() < start:
        time.sleep(0.005)
    db = open_db(path)
    try:
        for i in range(count):
            repo.upsert_position(db, "main", Position(
                id=f"{tag}-{i}", kind="perpetual", underlying="ETH", quantity=1.0 + i,
                entry_price=3000.0, settlement="linear"))
            repo.record_history(db, {"scope": f"account:{tag}", "equity": float(i)})
            repo.set_collateral(db, "main", "SOL", float(i))
    finally:
        db.close()
""")


def test_two_processes_writing_at_once(book_db_path: Path) -> None:
    count = 40
    start = time.time() + 2.0  # both start their loops together
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(book_db_path), tag, str(count),
                          str(start)], env=_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for tag in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    db = open_db(book_db_path)
    try:
        assert integrity_ok(db)
        ids = [p.id for p in repo.load_portfolio(db).account("main").positions]
        for tag in ("a", "b"):
            assert [i for i in ids if i.startswith(f"{tag}-")] == [
                f"{tag}-{i}" for i in range(count)]
            assert len(repo.history(db, scope=f"account:{tag}")) == count
        assert repo.load_portfolio(db).account("main").collateral["SOL"] == count - 1
    finally:
        db.close()
