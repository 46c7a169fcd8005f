"""Speed of a full margin report on synthetic books (not a timed test).

Books of 100, 1,000 and 10,000 positions over 10 underlyings (half options, a quarter futures,
a quarter perpetuals, linear and inverse), one account, in portfolio and cross mode. A full report
is margin, attribution (standalone, marginal, component) and liquidation for every underlying
and for all together (the exact search). Prints a markdown table with the machine and the goal
beside each figure (best and median of N runs: the machine may be shared, the best is the
figure least disturbed by other jobs); the README records it. The normal CDF is timed in its
steady state, through scipy.special: a process prices its first small arrays through the C
library's erfc until scipy.special is loaded (`core.pricing.ndtr`, cheaper than the import for
one command), which `bench_cli.py` measures.

    python benchmarks/bench_margin.py [--repeat N] [--sizes 100,1000,10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not the editable install

import numpy as np
import scipy
from probe import speed

from workstation.core.model import Account, Portfolio, Position, Quote
from workstation.core.report import build_report

UNDERLYINGS = {"BTC": 91250.0, "ETH": 3012.5, "SOL": 138.4, "XRP": 2.21, "BNB": 612.0,
               "DOGE": 0.162, "ADA": 0.71, "AVAX": 24.3, "LINK": 14.8, "DOT": 4.35}
# issue 14's goals (full report, best of N on a quiet machine)
GOALS = {(1000, "portfolio"): "< 20 ms", (10000, "portfolio"): "< 150 ms"}


def machine() -> str:
    """CPU model, cores, load, Python and numpy/scipy versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    load = ", load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return (f"machine: {cpu}, {os.cpu_count()} cores{load}; CPython {platform.python_version()}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}\n{speed()}")


def synthetic_book(n: int, mode: str = "portfolio", seed: int = 7) -> Portfolio:
    rng = np.random.default_rng(seed)
    as_of = datetime(2026, 11, 25, 8, tzinfo=UTC)
    market = {a: Quote(price=p, vol=float(rng.uniform(0.45, 0.9))) for a, p in UNDERLYINGS.items()}
    market["USDT"] = Quote(price=1.0)
    names = list(UNDERLYINGS)
    positions = []
    for i in range(n):
        u = names[i % len(names)]
        s = UNDERLYINGS[u]
        r = rng.random()
        inverse = u in ("BTC", "ETH") and rng.random() < 0.5
        settle = "inverse" if inverse else "linear"
        q = float(rng.normal(0, 10)) * (s if inverse else 1.0) if r >= 0.5 else float(rng.normal(0, 10))
        expiry = as_of + timedelta(days=int(rng.integers(2, 200)))
        if r < 0.5:
            k = float(s * rng.uniform(0.7, 1.3))
            positions.append(Position(id=f"p{i}", kind="option", underlying=u, quantity=q,
                                      entry_price=0.01 if inverse else s * 0.03,
                                      settlement=settle, expiry=expiry,
                                      right="call" if rng.random() < 0.5 else "put", strike=k))
        elif r < 0.75:
            positions.append(Position(id=f"p{i}", kind="future", underlying=u, quantity=q,
                                      entry_price=s * rng.uniform(0.9, 1.1), settlement=settle,
                                      expiry=expiry))
        else:
            positions.append(Position(id=f"p{i}", kind="perpetual", underlying=u, quantity=q,
                                      entry_price=s * rng.uniform(0.9, 1.1), settlement=settle))
    collateral = {"USDT": 5e6 * n / 1000, "BTC": 10.0, "ETH": 100.0}
    acc = Account(id="book", margin_mode=mode, collateral=collateral, positions=positions,
                  profile="default" if mode == "portfolio" else "binance-usdm")
    return Portfolio(as_of=as_of, market=market, accounts=[acc], rate=0.0)


def _times(fn, repeat: int) -> tuple[list[float], float]:
    """Wall times of `repeat` runs after a warm-up, and the least CPU time of one run (threads
    included; less disturbed than wall time by other jobs on a shared machine)."""
    fn()  # warm-up
    out, cpu = [], float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return out, cpu


def time_report(p: Portfolio, repeat: int) -> dict[str, float]:
    """Best and median wall time of the full report, its best CPU time, the best time of the
    report without liquidation, peak memory (MiB)."""
    full, cpu = _times(lambda: build_report(p, "account:book"), repeat)
    bare, _ = _times(lambda: build_report(p, "account:book", with_liquidation=False), repeat)
    tracemalloc.start()
    build_report(p, "account:book")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"best": min(full), "median": statistics.median(full), "cpu": cpu, "bare": min(bare),
            "mib": peak / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--modes", default="portfolio,cross")
    args = ap.parse_args()
    import scipy.special  # noqa: F401  (steady state: see the docstring)

    print(machine())
    print("steady state: scipy.special loaded (a fresh process's first small arrays: bench_cli.py)")
    print("| positions | mode | full report, best / median (ms) | CPU, best (ms) | without liquidation (ms) "
          "| peak memory (MiB) | goal |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        for mode in args.modes.split(","):
            r = time_report(synthetic_book(n, mode), args.repeat)
            goal = GOALS.get((n, mode), "")
            print(f"| {n:,} | {mode} | {1000 * r['best']:,.1f} / {1000 * r['median']:,.1f} | {1000 * r['cpu']:,.1f} "
                  f"| {1000 * r['bare']:,.1f} | {r['mib']:,.1f} | {goal} |", flush=True)


if __name__ == "__main__":
    main()
