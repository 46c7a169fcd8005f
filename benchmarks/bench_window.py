"""Speed of the window (not a timed test): time to the first figures and the longest GUI-thread
block, on the demo book and on a generated 10,000-position book, offscreen.

Each run is a fresh process (imports from cached bytecode, as a user starts the app), doing what
`margin-workstation --db PATH` does: the window is shown, the book loaded and computed on a worker,
the charts built after the first figures (the What-if is built when first opened, not here). A
2 ms heartbeat timer on the GUI thread measures how long the thread was ever busy without
processing events, from the moment the window is shown until the charts are drawn and all idle.

    python benchmarks/bench_window.py [--repeat 3] [--books demo,10000]

Columns: first figures after the app's start (its first import, like `--smoke`: the figures in
the window's widgets) and after the process start (interpreter start-up included); the CPU time
the process used until then (all its threads: about the wall time on an idle machine, whatever
the load while measuring); the first paint that puts the figures on screen (the dashboard
painted with them; the rest of the window is painted in the same pass); charts drawn; the
longest GUI block in wall time (which includes waits for the CPU when the machine is busy, and
for the GIL while a worker runs Python) and the GUI thread's own CPU time in its busiest gap
(the work done on it, whatever the load), and what the window was doing then.
Goals from issue 14.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, in the parent and in each child
GOALS = {"demo": "first figures < 400 ms", "10000": "first figures < 1 s, GUI never blocked > 50 ms"}
HEARTBEAT_MS = 2


def _process_age_ms() -> float:
    """Milliseconds since this process started (Linux /proc; 0 elsewhere)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return 1000.0 * (uptime - start)
    except (OSError, ValueError, IndexError):
        return 0.0


def child(db: str) -> None:
    """One start of the window on `db`; prints a JSON line of timings."""
    age0 = _process_age_ms()
    t0, cpu0 = time.perf_counter(), time.process_time()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from workstation.ui import app as app_module

    app_module.prepare_imports()
    from PySide6.QtCore import QEvent, QObject, QSettings, QTimer

    from workstation.ui.gui_gc import GuiThreadCollector
    from workstation.ui.main_window import MainWindow
    from workstation.ui.workspace import Workspace

    def ms() -> float:
        return 1000.0 * (time.perf_counter() - t0)

    if os.environ.get("BENCH_TRACE"):
        _trace_gui_slots(t0)
        _trace_gc(t0)
    qapp = app_module.make_application()  # as the app
    collector = GuiThreadCollector(parent=qapp)  # as the app: cyclic garbage collected on this thread
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    workspace = Workspace.from_database(Path(db))
    window = MainWindow(workspace, settings)
    window.resize(1600, 1000)
    window.show()
    marks: dict[str, float] = {"imports": 0.0, "shown": ms()}
    phase = ["loading"]
    blocks: list[tuple[float, float, str]] = []  # (gap ms, at ms, phase)
    cpu_blocks: list[tuple[float, float, str]] = []  # the GUI thread's own CPU time in each gap, at, phase
    last = [time.perf_counter()]
    last_cpu = [time.thread_time()]

    def beat() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        blocks.append((1000.0 * (now - last[0]) - HEARTBEAT_MS, 1000.0 * (now - t0), phase[0]))
        cpu_blocks.append((1000.0 * (cpu - last_cpu[0]), 1000.0 * (now - t0), phase[0]))
        last[0], last_cpu[0] = now, cpu

    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)

    class PaintProbe(QObject):
        """`first paint`: the dashboard painted with the figures (the paint that puts them on
        screen; the rest of the window is painted in the same pass)."""

        def eventFilter(self, _obj: object, event: QEvent) -> bool:  # Qt's name
            if event.type() == QEvent.Type.Paint and "first figures" in marks:
                marks.setdefault("first paint", ms())
            return False

    probe = PaintProbe()
    window.dashboard.installEventFilter(probe)

    def computed(_view: object) -> None:
        if "first figures" not in marks:
            marks["first figures"] = ms()
            marks["cpu to first figures"] = 1000.0 * (time.process_time() - cpu0)
            phase[0] = "after first figures"

    def poll() -> None:
        ready = window.charts is not None and not window.is_busy() \
            and workspace.view is not None and workspace.view.curve is not None
        if ready and "charts" not in marks:
            marks["charts"] = ms()
            phase[0] = "idle"
            QTimer.singleShot(400, qapp.quit)

    workspace.computed.connect(computed)
    workspace.failed.connect(lambda exc: (print(json.dumps({"error": str(exc)})), qapp.exit(1)))
    poller = QTimer()
    poller.timeout.connect(poll)
    poller.start(20)
    QTimer.singleShot(0, workspace.load_in_background)  # as the app does
    QTimer.singleShot(60_000, qapp.quit)
    heartbeat.start()
    last[0], last_cpu[0] = time.perf_counter(), time.thread_time()
    if os.environ.get("BENCH_TRACE"):
        _watch_main_thread(last, t0)
    qapp.exec()
    worst = sorted(blocks, reverse=True)[:5]
    positions = sum(len(a.positions) for a in workspace.portfolio.accounts)
    cpu_worst = sorted(cpu_blocks, reverse=True)[:5]
    print(json.dumps({"marks": marks, "age0": age0, "cpu_block": cpu_worst[0][0] if cpu_worst else 0.0,
                      "cpu_when": cpu_worst[0][2] if cpu_worst else "", "positions": positions,
                      "worst": worst, "cpu_worst": cpu_worst}), flush=True)
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(10_000)  # as the app at exit: no job outlives the window
    window.close()
    workspace.db.close()
    collector.stop()


def _trace_gui_slots(t0: float) -> None:
    """Print how long the window's main GUI-thread steps take (BENCH_TRACE=1, diagnosis only)."""
    import functools
    import importlib

    targets = {
        "workstation.ui.workspace": ("Workspace", ("load", "load_in_background", "_take", "_on_result", "_record")),
        "workstation.ui.main_window": ("MainWindow", ("_on_computed", "_on_loaded", "load_charts")),
        "workstation.ui.charts_panel": ("ChartsPanel", ("__init__", "show_view")),
        "workstation.ui.charts": ("ScenarioHeatmap", ("__init__", "set_heatmap")),
        "workstation.ui.book_tab": ("BookTab", ("show_view", "_draw", "_on_charts", "_install")),
        "workstation.ui.positions": ("PositionsPanel", ("set_table", "fit_columns")),
        "workstation.ui.scope_tree": ("ScopeTreeModel", ("set_reports", "set_portfolio")),
        "workstation.ui.accounts_overview": ("AccountsOverview", ("set_reports",)),
        "workstation.ui.dashboard": ("Dashboard", ("set_report",)),
    }
    for module, (cls_name, names) in targets.items():
        cls = getattr(importlib.import_module(module), cls_name)
        for name in names:
            fn = getattr(cls, name)

            def wrapped(*a, _fn=fn, _n=f"{cls_name}.{name}", **k):
                start, cpu = time.perf_counter(), time.thread_time()
                try:
                    return _fn(*a, **k)
                finally:
                    end, cpu_end = time.perf_counter(), time.thread_time()
                    print(f"  trace {1000 * (start - t0):8.0f} ms  {1000 * (end - start):7.1f} ms wall "
                          f"{1000 * (cpu_end - cpu):7.1f} ms cpu  {_n}", file=sys.stderr)
            setattr(cls, name, functools.wraps(fn)(wrapped))


def _trace_gc(t0: float) -> None:
    """Print garbage collections longer than 10 ms (BENCH_TRACE=1, diagnosis only)."""
    import gc
    import threading

    started: dict[int, float] = {}

    def callback(phase: str, info: dict) -> None:
        ident = threading.get_ident()
        if phase == "start":
            started[ident] = time.perf_counter()
        elif ident in started:
            took = 1000 * (time.perf_counter() - started.pop(ident))
            if took > 10:
                main = "GUI" if threading.current_thread() is threading.main_thread() else "worker"
                print(f"  gc gen {info['generation']} {took:6.1f} ms on {main} at "
                      f"{1000 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr)

    gc.callbacks.append(callback)


def _watch_main_thread(last: list[float], t0: float) -> None:
    """Sample the GUI thread's stack while it has not run the heartbeat for > 40 ms (diagnosis)."""
    import collections
    import threading
    import traceback

    main = threading.main_thread().ident
    seen: collections.Counter[str] = collections.Counter()

    def watch() -> None:
        while True:
            time.sleep(0.01)
            if time.perf_counter() - last[0] > 0.04:
                frame = sys._current_frames().get(main)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-6:]
                    seen[" < ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(stack))] += 1

    threading.Thread(target=watch, daemon=True).start()
    import atexit

    atexit.register(lambda: [print(f"  blocked x{n}: {k}", file=sys.stderr) for k, n in seen.most_common(15)])


def make_db(book: str, folder: Path) -> Path:
    """A database holding the demo book, or a generated book of `book` positions."""
    from workstation.store.paths import ensure_database

    path = folder / f"{book}.db"
    if book == "demo":
        ensure_database(path).close()
        return path
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_margin import synthetic_book

    from workstation.store.db import open_db
    from workstation.store.repository import save_portfolio

    db = open_db(path)
    save_portfolio(db, synthetic_book(int(book), "portfolio"))
    db.close()
    return path


def run(db: Path) -> dict:
    # as installed: bytecode cached (a first, uncounted run writes it if the environment forbids it)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)})
    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", str(db)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120, check=False)
    wall = 1000.0 * (time.perf_counter() - start)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"window run failed:\n{out.stdout}\n{out.stderr}")
    result = json.loads(line)
    result["wall"] = wall
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--books", default="demo,10000")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores{load}, {platform.python_implementation()} "
          f"{platform.python_version()}; best and median of {args.repeat} starts, offscreen")
    from probe import speed  # the parent's only: each child is timed from its start

    print(f"before: {speed()}")
    print("| book | positions | first figures (ms, app start) | (ms, process start) | CPU to first figures (ms) "
          "| first paint (ms) | charts drawn (ms) | longest GUI block (ms, wall) | (ms, GUI-thread CPU) | when "
          "| goal |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for book in args.books.split(","):
            db = make_db(book, Path(tmp))
            run(db)  # warm-up: bytecode and the OS file cache, as on a machine the app ran on before
            runs = [run(db) for _ in range(args.repeat)]
            first = [r["marks"]["first figures"] for r in runs]
            process = [r["marks"]["first figures"] + r["age0"] for r in runs]
            cpu_first = [r["marks"]["cpu to first figures"] for r in runs]
            paint = [r["marks"].get("first paint", float("nan")) for r in runs]
            charts = [r["marks"].get("charts", float("nan")) for r in runs]
            block = [r["worst"][0][0] for r in runs]
            cpu = [r["cpu_block"] for r in runs]
            when = runs[block.index(max(block))]["worst"][0][2]

            def bm(xs: list[float]) -> str:
                return f"{min(xs):,.0f} / {statistics.median(xs):,.0f}"

            print(f"| {book} | {runs[0]['positions']:,} | {bm(first)} | {bm(process)} | {bm(cpu_first)} | "
                  f"{bm(paint)} | {bm(charts)} | {bm(block)} | {bm(cpu)} | {when} | {GOALS.get(book, '')} |",
                  flush=True)
            if os.environ.get("BENCH_VERBOSE"):
                for r in runs:
                    print("   ", json.dumps(r["marks"]), [(round(g), round(t), p) for g, t, p in r["worst"]])
    print(f"after: {speed()}")


if __name__ == "__main__":
    main()
