"""What the command line costs at start and exit.

`margin FILE` imports only what the book needs: not the store, pandas or scipy.special, and
not PMRM_2's profile records for a book with no `pmrm2` profile.

`cli.run`, the command's entry point, ends the process without the interpreter's teardown
(20-25 ms of a `margin FILE --json`): what a caller sees must be the ordinary exit's. A thread
still running is waited for, the exit handlers run, the whole output arrives, and the exit status
is the command's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "resources" / "demo" / "demo-portfolio.json"

SCRIPT = """
import atexit, sys, threading, time
atexit.register(lambda: print("exit handler ran", file=sys.stderr))
if {thread}:
    def late():
        time.sleep(0.3)
        print("thread finished", file=sys.stderr)
    threading.Thread(target=late).start()
sys.argv = ["margin-workstation-cli", *{args!r}]
from workstation.cli import run
run()
print("not reached", file=sys.stderr)
"""


def _run(args: list[str], thread: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT.format(args=args, thread=thread)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_output_is_whole_and_the_exit_handlers_run() -> None:
    proc = _run(["margin", str(DEMO), "--json"])
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)  # all of it: a cut output would not parse
    assert [r["scope"] for r in doc["reports"]][:1] == ["account:deribit-pm"]
    assert proc.stderr.splitlines() == ["exit handler ran"]


def test_an_error_keeps_its_exit_status_and_message() -> None:
    proc = _run(["margin", str(ROOT / "no-such-book.json")])
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: ") and "no-such-book.json" in lines[0]
    assert lines[1:] == ["exit handler ran"]


def test_a_running_thread_is_waited_for_as_at_an_ordinary_exit() -> None:
    proc = _run(["margin", str(DEMO), "--json"], thread=True)
    assert proc.returncode == 0
    assert "thread finished" in proc.stderr.splitlines()  # the process waited for it
    assert "not reached" not in proc.stderr


def test_margin_file_imports_only_what_the_book_needs() -> None:
    code = f"""
import io, contextlib, json, sys
from workstation.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["margin", {str(DEMO)!r}, "--json"]) == 0
names = ("workstation.store", "sqlite_utils", "pandas", "scipy.special", "workstation.core.profile_pmrm2", "shutil")
print(json.dumps({{n: n in sys.modules for n in names}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"workstation.store": False, "sqlite_utils": False, "pandas": False,
                                      "scipy.special": False, "workstation.core.profile_pmrm2": False,
                                      "shutil": False}


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-5", "50", "132"])
def test_help_is_as_wide_as_shutil_says(monkeypatch, columns: str | None) -> None:
    """The help's width without `shutil`: what `shutil.get_terminal_size` gives (COLUMNS when a
    positive number, else the terminal, else 80; the tests' stdout is no terminal)."""
    import shutil

    from workstation.cli import _columns

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _columns() == shutil.get_terminal_size().columns
