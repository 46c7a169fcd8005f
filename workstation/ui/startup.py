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


def lighten_pyside_import_hook() -> bool:
    """Import PySide6.QtCore and make its import hook cheap; True if the hook was replaced.

    PySide6 replaces `__import__` (for its opt-in `from __feature__ import ...`) and, after
    every later import of any module, asks `shibokensupport.feature._mod_uses_pyside` whether
    the module's source mentions "PySide6", through `inspect.getsource`: tokenising and caching
    the whole file. On this machine that was 25-30 ms before the window's first figures (147
    modules) and 110-190 ms more while the charts and the What-if are imported (PySide6 6.11;
    also reported by napari, issue 8584). The same question is answered here by scanning the
    module file's bytes; anything but a plain `.py` file is left to PySide's own function. The
    project never uses `__feature__`, but the answer stays the one PySide would give, so a
    module that does use it behaves as before. If PySide changes its internals, nothing is
    replaced."""
    import sys

    import PySide6.QtCore  # noqa: F401  # installs the hook

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original) or getattr(original, "lightened", False):
        return False

    def mod_uses_pyside(module: object) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))
        try:
            with open(path, "rb") as file:
                return b"PySide6" in file.read()
        except OSError:
            return bool(original(module))

    mod_uses_pyside.lightened = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = mod_uses_pyside
    return True
