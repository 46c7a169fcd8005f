"""Speed of the stress engine on the demo book (17 positions, 3 accounts, 1 pool; not a timed test).

Figures, best of `--repeat` runs, wall time:
- one scenario's document (results, 5x breach multiples, pooled vs apart, both cascades) on a
  new session (profiles, scopes and method objects built in the run) and on a session that
  has evaluated another day (the Stress tab keeps one session per book);
- the Stress tab's run for a scenario: the document, the shock-size curve, the BTC x ETH grid
  and every scope's joint-move liquidation distance, on a new session;
- the BTC x ETH grid alone (23 x 23 moves, one scope);
- every historical day x every scope (the "Historical days" table), on a new session;
- the same document through the exact path (one shocked book per point, as `build_report`).

    python benchmarks/bench_stress.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not the editable install

import numpy as np

from workstation.core.correlated import joint_grid
from workstation.core.portfolio_io import read_portfolio
from workstation.core.scenario_library import historical_scenarios
from workstation.core.stress_eval import StressSession
from workstation.core.stress_report import stress_document, summary
from workstation.ui.stress_compute import compute_joint, compute_stress, grid_moves

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` runs, in ms."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_stress.py")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    p = read_portfolio(DEMO)
    days = historical_scenarios()
    ftx, luna = next(s for s in days if s.name == "ftx-2022/peak"), next(s for s in days if s.name ==
                                                                             "terra-luna-2022/peak")
    stress_document(p, ftx, session=StressSession(p))  # imports, the profile cache, numpy warm-up
    moves = grid_moves()

    def warm() -> None:
        s = StressSession(p)
        stress_document(p, luna, session=s)
        start = time.perf_counter()
        stress_document(p, ftx, session=s)
        warm.ms = min(getattr(warm, "ms", 1e9), 1000.0 * (time.perf_counter() - start))

    def tab() -> None:
        s = StressSession(p)
        compute_stress(s, ftx, "pool:all")
        compute_joint(s, "pool:all")

    grid_session = StressSession(p)
    rows = [
        ("one scenario (ftx-2022/peak), new session", best(lambda: stress_document(p, ftx, session=StressSession(p)),
                                                           args.repeat), "< 50 ms"),
    ]
    for _ in range(args.repeat):
        warm()
    rows.append(("one scenario, session kept (another day run before)", warm.ms, "< 50 ms"))
    rows.append(("the Stress tab's run (document, curve, grid, joint distances)", best(tab, args.repeat),
                 "< 300 ms"))
    rows.append((f"BTC x ETH grid, pool ({len(moves)} x {len(moves)} moves)",
                 best(lambda: joint_grid(p, "pool:all", "BTC", "ETH", moves, moves, session=grid_session),
                      args.repeat), "< 200 ms"))
    rows.append((f"every historical day x every scope ({len(days)} x 4), new session",
                 best(lambda: summary(p, days, StressSession(p)), args.repeat), ""))
    rows.append(("one scenario, exact path (a shocked book per point)",
                 best(lambda: stress_document(p, ftx, session=StressSession(p, exact=True)), max(1, args.repeat // 3)),
                 ""))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}; load average {load:.1f} at the start; "
          f"best of {args.repeat}")
    print()
    print("| figure | ms | goal |")
    print("|---|---:|---|")
    for name, ms, goal in rows:
        print(f"| {name} | {ms:.1f} | {goal} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
