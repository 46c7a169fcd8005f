"""Wall time of the command line (not a timed test): `python -m workstation margin FILE --json`.

Median and best of N runs on the demo portfolio and on a 10,000-position file (the synthetic
book of bench_margin.py), plus the import time of the modules `margin FILE` loads
(`python -X importtime`, the largest ones). Prints a markdown table with the goal beside each
figure; the README records it. The machine is shared: compare medians of runs taken together.

    python benchmarks/bench_cli.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not the editable install

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_margin import machine, synthetic_book

from workstation.core.portfolio_write import write_portfolio

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "demo-portfolio.json"
GOALS = {"demo": "< 250 ms", "10k": ""}


def _env() -> dict[str, str]:
    # as installed: bytecode cached (pip compiles it; the first, uncounted run of `wall` writes it
    # where the environment forbids writing it)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def wall(args: list[str], runs: int) -> tuple[float, float]:
    """(median, best) seconds of `python -m workstation *args`, output discarded, after one
    uncounted run (bytecode and the OS file cache, as on a machine the command ran on before)."""
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "workstation", *args], stdout=subprocess.DEVNULL,
                       check=True, env=_env(), cwd=ROOT)
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def import_times(args: list[str], top: int = 6) -> list[tuple[str, float]]:
    """Import time (ms) by top-level package (sum of the modules' own times), largest first."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "workstation", *args],
                         capture_output=True, text=True, check=True, env=_env(), cwd=ROOT).stderr
    by: dict[str, float] = {}
    for line in out.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line[len("import time:"):].split("|")
        if own.strip().isdigit():
            pkg = name.strip().split(".")[0]
            by[pkg] = by.get(pkg, 0.0) + int(own) / 1000.0
    return sorted(by.items(), key=lambda r: -r[1])[:top]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "book-10k.json"
        write_portfolio(synthetic_book(10_000), big)
        cases = {"demo": [str(DEMO), "--json"], "10k": [str(big), "--json"]}
        print("| command | median (ms) | best (ms) | goal |")
        print("|---|---:|---:|---|")
        for name, cmd in cases.items():
            med, best = wall(["margin", *cmd], args.runs)
            shown = " ".join(["margin", "demo" if name == "demo" else "10k.json", *cmd[1:]])
            print(f"| `{shown}` | {1000 * med:,.0f} | {1000 * best:,.0f} | {GOALS[name]} |", flush=True)
        med, best = wall(["--help"], args.runs)
        print(f"| `--help` (start-up) | {1000 * med:,.0f} | {1000 * best:,.0f} | |")
        print()
        print("imports of `margin demo --json` by package (ms, one run): " + ", ".join(
            f"{n} {ms:,.0f}" for n, ms in import_times(["margin", *cases["demo"]])))
    print(f"(python {platform.python_version()})")


if __name__ == "__main__":
    main()
