"""What the window does to start fast and stay responsive: the slow modules are imported on a
worker after the first figures, and a large book's objects are kept out of the cyclic collector."""

from __future__ import annotations

import gc

from workstation.core.model import Portfolio

FREEZE_FROM = 2_000  # positions
# imported on a worker after the first figures: the charts (pyqtgraph) first, built as soon as
# they are imported; then, once the charts are up, the What-if (scipy.optimize) and Stress code,
# which no chart waits for
LAZY_MODULES = ("workstation.ui.charts_panel",)
LATER_MODULES = ("workstation.ui.whatif_panel", "workstation.ui.stress_panel")


def freeze_if_large(portfolio: Portfolio) -> None:
    """A large book's figures are many long-lived Python objects (10,000 positions, their report
    rows): moved out of the cyclic collector's reach, a full collection no longer stops the window
    (or the worker, which holds the GIL) for 100+ ms. They are still freed by reference counting
    when the next figures replace them. Small books are left alone."""
    if sum(len(a.positions) for a in portfolio.accounts) >= FREEZE_FROM:
        gc.freeze()


def import_modules(names: tuple[str, ...]) -> None:
    import importlib

    for name in names:
        importlib.import_module(name)
