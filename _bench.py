import time, sys
sys.path.insert(0, "benchmarks")
from bench_margin import synthetic_book
from workstation.core.report import build_report
for prof in ("default", "deribit-pm", "okx-pm", "bybit-pm", "span"):
    for n in (1000, 10000):
        p = synthetic_book(n)
        p.accounts[0].profile = prof
        t = time.perf_counter(); r = build_report(p, "account:book"); dt = time.perf_counter() - t
        print(prof, n, f"{dt*1000:.0f} ms", round(r["initial_margin"]))
