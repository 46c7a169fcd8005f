"""Speed of the what-if on a 500-position account (not a timed test).

What a dragged slider costs once the "before" is prepared (issue 14: < 16 ms per update), and
each suggestion objective (< 100 ms each), on `bench_margin.synthetic_book` (500 positions over 10
underlyings, portfolio and cross mode). Sizes and dates change at every update, as when dragging:
nothing is served from a cache of the same request.

    python benchmarks/bench_whatif.py [--repeat N] [--positions N]

Rows:
- full recompute: the old what-if (a deep copy of the book, two full reports) for reference;
- prepare: the before (report and liquidation) of a session, once per book and scope;
- size slider: the after of one drafted perpetual at a new size (figures, attribution, Greeks,
  liquidation of every underlying and all together);
- date slider: the risk profile at a new date, before and after (P&L and equity on 161 moves,
  maintenance margin on 25 while dragging);
- suggestion objectives: delta, margin, liquidation (scan and bounded Brent), and the largest
  size that fits free margin (brentq).
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not the editable install

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
from bench_margin import synthetic_book
from probe import speed

from workstation.core.model import Position
from workstation.core.report import build_report
from workstation.core.risk_profile import Horizon
from workstation.core.suggest import HedgeProblem, largest_size, suggest
from workstation.core.whatif import compare
from workstation.core.whatif_session import WhatIfSession
from workstation.ui.whatif_compute import Draft, WhatIfEngine, run_profile

ACCOUNT = "book"


def times(fn: Callable[[int], object], n: int) -> tuple[float, float, float]:
    """(min, median) wall time and min CPU time of this process, in ms, of fn(i), i < n. On a
    shared machine the CPU time is the cost of the work itself (waits for a core excluded)."""
    wall, cpu = [], []
    for i in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn(i)
        wall.append((time.perf_counter() - t) * 1000.0)
        cpu.append((time.process_time() - c) * 1000.0)
    return min(wall), statistics.median(wall), min(cpu)


def row(name: str, mode: str, ms: tuple[float, float, float], goal: str) -> None:
    print(f"| {name} | {mode} | {ms[0]:,.1f} | {ms[1]:,.1f} | {ms[2]:,.1f} | {goal} |", flush=True)


def bench(mode: str, n: int, repeat: int) -> None:
    book = synthetic_book(n, mode)
    perp = Position("draft", "perpetual", "ETH", -3.0, 3012.5, "linear")

    def old(i: int) -> None:
        b = build_report(book, f"account:{ACCOUNT}")
        copied = copy.deepcopy(book)
        copied.account(ACCOUNT).positions.append(replace(perp, quantity=-3.0 - 0.01 * i))
        a = build_report(copied, f"account:{ACCOUNT}")
        assert a and b

    row("full recompute (old what-if)", mode, times(old, max(3, repeat // 3)), "")
    sessions: list[WhatIfSession] = []

    def prepare(_i: int) -> None:
        s = WhatIfSession(book, f"account:{ACCOUNT}")
        s.before_report  # noqa: B018
        sessions.append(s)

    row("prepare the before (once per book and scope)", mode, times(prepare, 3), "")
    session = sessions[-1]
    row("size slider: after at a new size", mode,
        times(lambda i: compare(session, ACCOUNT, [replace(perp, quantity=-3.0 - 0.01 * i)]), repeat), "< 16 ms")

    engine = WhatIfEngine()
    engine._session, engine._book, engine._scope = session, book, f"account:{ACCOUNT}"
    draft = [Draft("d", perp)]
    run_profile(book, f"account:{ACCOUNT}", "ETH", Horizon(), account_id=ACCOUNT, drafts=draft, engine=engine)
    row("date slider: risk profile at a new date", mode,
        times(lambda i: run_profile(book, f"account:{ACCOUNT}", "ETH", Horizon(days=1.0 + 0.5 * i),
                                    account_id=ACCOUNT, drafts=draft, fast=True, engine=engine), repeat),
        "< 16 ms")
    hedge = Position("h", "perpetual", "BTC", 1.0, 91_250.0, "linear")
    for objective in ("delta", "margin", "liquidation"):
        row(f"suggestion: {objective}", mode,
            times(lambda _i, o=objective: suggest(book, ACCOUNT, hedge, o, session=session), max(3, repeat // 5)),
            "< 100 ms")
    row("largest size that fits free margin", mode,
        times(lambda i: largest_size(HedgeProblem(session, ACCOUNT, hedge), 1.0 + i), max(3, repeat // 5)),
        "< 100 ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--positions", type=int, default=500)
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}; {args.positions} positions, 10 underlyings")
    print(f"load average before: {os.getloadavg()[0]:.1f}; {speed()}")
    print("| what | mode | wall min (ms) | wall median (ms) | CPU min (ms) | goal |")
    print("|---|---|---:|---:|---:|---|")
    for mode in ("portfolio", "cross"):
        bench(mode, args.positions, args.repeat)


if __name__ == "__main__":
    main()
