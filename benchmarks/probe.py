"""The machine's speed at the moment of a benchmark: a fixed pure-Python loop, timed.

The build machine is a shared VM that runs a process at one of two speeds (the slow one about
1.5 times the fast one) and switches between them from minute to minute; the probe says which
one a table was measured at, so tables taken at different moments can be compared."""

from __future__ import annotations

import time

STEPS = 2_000_000


def _loop() -> float:
    t = time.perf_counter()
    s = 0
    for i in range(STEPS):
        s += i * i
    return 1000.0 * (time.perf_counter() - t)


def speed() -> str:
    """The best of three timings of a 2,000,000-step Python loop, as a sentence."""
    best = min(_loop() for _ in range(3))
    return (f"speed probe: a {STEPS:,}-step Python loop {best:.0f} ms, best of 3 (the build machine: "
            "about 85 at its fast speed, 145 at its slow one)")
