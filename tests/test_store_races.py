"""Store: processes racing to create or import never delete each other's files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workstation.store import repository as repo
from workstation.store.db import integrity_ok, open_db
from workstation.store.imports import PAUSE_ENV

DATA = Path(__file__).parent / "data" / "store"
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

# Waits for a shared start time, then runs the `db` command line with the rest of argv.
STARTER = (
    "import sys, time\n"
    "start = float(sys.argv[1])\n"
    "while time.time() < start:\n"
    "    time.sleep(0.002)\n"
    "from workstation.store.commands import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != PAUSE_ENV}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _start(at: float, *argv: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", STARTER, str(at), *argv], env=_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err


def _accounts(path: Path) -> list[str]:
    db = open_db(path)
    try:
        assert integrity_ok(db)
        return [a.id for a in repo.load_portfolio(db).accounts]
    finally:
        db.close()


def test_racing_to_create_a_database_keeps_the_one_that_succeeded(tmp_path: Path) -> None:
    # refused inside the database's transaction (no market snapshot yet, or no price for ZZZ)
    bad = tmp_path / "positions.csv"
    bad.write_text("id,kind,underlying,settlement,quantity,entry_price\n"
                   "p,perpetual,ZZZ,linear,1,90000\n")
    for round_ in range(2):
        path = tmp_path / f"new-{round_}.db"
        at = time.time() + 1.5
        good_proc = _start(at, "import", "portfolio", str(DATA / "book.json"), "--db", str(path))
        bad_proc = _start(at, "import", "positions-csv", str(bad), "--db", str(path),
                          "--account", "x")
        (good, good_err), (refused, bad_err) = _finish(good_proc), _finish(bad_proc)
        assert good == 0, good_err
        assert refused == 2 and "positions.csv" in bad_err
        assert _accounts(path) == ["main", "iso"]
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_refused_import_leaves_another_writers_files_alone(tmp_path: Path) -> None:
    """A writer sits inside its import transaction (its -wal holds the uncommitted pages)
    while another import into the same database is refused: the refused one deletes nothing,
    and the writer commits."""
    path = tmp_path / "w.db"
    csv = tmp_path / "many.csv"
    csv.write_text("id,kind,underlying,settlement,quantity,entry_price\n" + "".join(
        f"p{i},perpetual,BTC,linear,1,90000\n" for i in range(40)))
    first = _start(0, "import", "portfolio", str(DATA / "book.json"), "--db", str(path))
    assert _finish(first)[0] == 0
    writer = _start(0, "import", "positions-csv", str(csv), "--db", str(path), "--account",
                    "bulk", **{PAUSE_ENV: "3"})
    try:
        assert writer.stderr is not None
        assert "import paused" in writer.stderr.readline()
        wal = Path(f"{path}-wal")
        assert wal.exists()
        refused = subprocess.run(
            [sys.executable, "-m", "workstation.store", "import", "balances-csv",
             str(DATA / "bad" / "balances-bad-number.csv"), "--db", str(path), "--account",
             "main"], env=_env(), capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2
        assert path.exists() and wal.exists()
    finally:
        code, err = _finish(writer)
    assert code == 0, err
    assert _accounts(path) == ["main", "iso", "bulk"]
