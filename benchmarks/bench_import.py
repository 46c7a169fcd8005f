"""Speed of imports into the database (not a timed test).

Positions CSVs of 2,000 and 20,000 rows (perpetuals, futures and options over three
underlyings) imported into the store's sample book: into a new account, then again with half
the rows changed or new (`--merge`, backed up first), then replacing the account's positions
(`--replace`, backed up first). Each import reads and checks the whole file, writes it in one
transaction and checks the whole book. Best of N runs of wall time and of CPU time
(`time.process_time`: the work itself; wall includes waiting for a core on a busy machine);
prints the load average and a markdown table.

    python benchmarks/bench_import.py [--repeat N] [--rows 2000 20000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not the editable install

from workstation.core.portfolio_io import read_portfolio
from workstation.store import repository
from workstation.store.db import open_db
from workstation.store.imports import import_file

BOOK = Path(__file__).resolve().parents[1] / "tests" / "data" / "store" / "book.json"
PRICES = {"BTC": 91245.5, "ETH": 3018.4, "SOL": 139.82}


def positions_csv(path: Path, rows: int, shift: int = 0) -> Path:
    """`rows` positions; `shift` moves the ids along, so half of them are new and the rest
    keep their id with another quantity."""
    lines = ["id,kind,underlying,settlement,quantity,entry_price,expiry,right,strike,vol"]
    names = list(PRICES)
    for i in range(shift, rows + shift):
        u = names[i % 3]
        s = PRICES[u]
        q = ((i * 7 + shift) % 19) - 9 or 1
        kind = ("perpetual", "future", "option")[i % 3]
        if kind == "perpetual":
            lines.append(f"p{i},perpetual,{u},linear,{q},{s * 0.98:.2f},,,,")
        elif kind == "future":
            lines.append(f"p{i},future,{u},linear,{q},{s:.2f},2027-03-26,,,")
        else:
            strike = round(s * (0.8 + (i % 9) * 0.05), 2)
            lines.append(f"p{i},option,{u},linear,{q},{s * 0.03:.2f},2027-03-26,"
                         f"{'call' if i % 2 else 'put'},{strike},0.6")
    path.write_text("\n".join(lines) + "\n")
    return path


def run_once(folder: Path, rows: int) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of each import."""
    db_path = folder / f"bench-{rows}.db"
    db = open_db(db_path)
    try:
        repository.save_portfolio(db, read_portfolio(BOOK))
        first = positions_csv(folder / "first.csv", rows)
        second = positions_csv(folder / "second.csv", rows, shift=rows // 2)
        times = {}
        for label, path, options in (
            ("new account", first, {}),
            ("merge (half new)", second, {"merge": True}),
            ("replace", first, {"replace": True}),
        ):
            start, cpu = time.perf_counter(), time.process_time()
            import_file(db, "positions-csv", path, account="bulk", **options)
            times[label] = (time.perf_counter() - start, time.process_time() - cpu)
        return times
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 20000])
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{platform.machine()}, {os.cpu_count()} cores; best of {args.repeat}; "
          f"load average {_load()} before")
    print()
    print("| rows | import | wall (s) | CPU (s) | rows per second (wall) |")
    print("|---:|---|---:|---:|---:|")
    for rows in args.rows:
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                for label, (wall, cpu) in run_once(Path(tmp), rows).items():
                    old = best.get(label, (wall, cpu))
                    best[label] = (min(old[0], wall), min(old[1], cpu))
        for label, (wall, cpu) in best.items():
            print(f"| {rows:,} | {label} | {wall:.2f} | {cpu:.2f} | {rows / wall:,.0f} |")
    print()
    print(f"load average {_load()} after")


def _load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "unknown"


if __name__ == "__main__":
    main()
