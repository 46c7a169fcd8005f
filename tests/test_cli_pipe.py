"""The command line when its reader goes away (`margin FILE --json | head -c 10`): it stops
quietly, as Python's note on SIGPIPE recommends, instead of printing `error: [Errno 32] Broken
pipe` (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "resources" / "demo" / "demo-portfolio.json"


@pytest.mark.parametrize("args", [["margin", str(DEMO), "--json"], ["margin", str(DEMO)]])
def test_a_closed_pipe_ends_the_command_quietly(args: list[str]) -> None:
    with subprocess.Popen([sys.executable, "-m", "workstation", *args], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.close()  # the reader is gone before the first byte is written: EPIPE for certain
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 1
    assert err == ""  # neither "error: [Errno 32] Broken pipe" nor "Exception ignored ... BrokenPipeError"


def test_a_reader_that_stops_early_gets_the_start_of_the_output() -> None:
    """Like `| head -c 10`: the bytes read are the output's first; nothing on stderr."""
    with subprocess.Popen([sys.executable, "-m", "workstation", "margin", str(DEMO), "--json"], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        head = proc.stdout.read(10)
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) in (0, 1)  # 0 when the whole output fitted in the pipe first
    assert head == b'{"reports"'
    assert err == ""
