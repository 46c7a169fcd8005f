"""Save screenshots of the main views: `python -m workstation.ui.screenshots OUTDIR`.

Runs offscreen unless QT_QPA_PLATFORM says otherwise; uses a throw-away database with the
demo book (or `--portfolio FILE`, read-only) and throw-away settings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget

    from workstation.ui.main_window import MainWindow
    from workstation.ui.workspace import Workspace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def wait_for(app: QApplication, predicate: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    """Process events until `predicate()` holds (or the timeout passes)."""
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        app.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return False


def settle(app: QApplication, window: MainWindow, workspace: Workspace) -> None:
    """Wait for the recompute to finish and the charts to lay out."""
    wait_for(app, lambda: not workspace.is_busy() and workspace.view is not None)
    for _ in range(5):
        app.processEvents()


def save_views(window: MainWindow, app: QApplication, out: Path) -> list[Path]:
    """Grab the window for the pool, each account and the dark theme; return the files."""
    from workstation.ui.dialogs import PositionDialog
    from workstation.ui.settings_dialog import SettingsDialog

    ws = window.workspace
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    def grab(widget: QWidget, name: str) -> None:
        path = out / name
        widget.grab().save(str(path))
        saved.append(path)

    settle(app, window, ws)
    portfolio = ws.portfolio
    scopes = [f"pool:{p.id}" for p in portfolio.pools] + [f"account:{a.id}" for a in portfolio.accounts]
    for i, scope in enumerate(scopes):
        window.tree.select_scope(scope)
        wait_for(app, lambda s=scope: ws.view is not None and ws.view.scope == s and not ws.is_busy())
        settle(app, window, ws)
        grab(window, "main.png" if i == 0 else f"{scope.replace(':', '-')}.png")
    if window.charts is not None:
        grab(window.charts, "charts.png")
    window.tree.select_scope(scopes[0])
    settle(app, window, ws)
    window.set_theme("dark")
    settle(app, window, ws)
    grab(window, "main-dark.png")
    window.set_theme("light")
    save_whatif(window, app, grab)
    account = portfolio.accounts[0]
    if account.positions:
        dialog = PositionDialog(portfolio, account.id, account.positions[0], parent=window)
        dialog.show()
        app.processEvents()
        grab(dialog, "dialog-position.png")
        dialog.close()
    dialog = SettingsDialog(window.display, portfolio.base_currency, parent=window)
    dialog.show()
    app.processEvents()
    grab(dialog, "dialog-settings.png")
    dialog.close()
    return saved


def save_whatif(window: MainWindow, app: QApplication, grab: Callable[[QWidget, str], None]) -> None:
    """The What-if tab on the Deribit account (else the first): `-3 BTC-PERPETUAL` typed in the
    trade line, the risk profile at the next weekly expiry (`whatif.png`), then the same from the
    first pool with the members side by side (`whatif-pool.png`)."""
    ws, panel = window.workspace, window.whatif
    portfolio = ws.portfolio
    account = next((a for a in portfolio.accounts if a.venue == "deribit"), portfolio.accounts[0])
    scopes = [(f"account:{account.id}", "whatif.png")]
    if portfolio.pools:
        scopes.append((f"pool:{portfolio.pools[0].id}", "whatif-pool.png"))
    for scope, name in scopes:
        window.tree.select_scope(scope)
        wait_for(app, lambda s=scope: ws.view is not None and ws.view.scope == s and not ws.is_busy())
        settle(app, window, ws)
        window.show_whatif()
        if scope.startswith("pool:"):
            panel.account_box.setCurrentIndex(max(0, panel.account_box.findData(account.id)))
        wait_for(app, lambda: not panel.is_busy() and panel.is_current())
        panel.clear_drafts()
        panel.add_line("-3 BTC-PERPETUAL")
        wait_for(app, lambda: not panel.is_busy() and panel.is_current() and panel.profile_result is not None)
        weekly = next((d for d, label in panel.chart.stops if "weekly" in label), 0.0)
        panel.chart.set_days(weekly)
        wait_for(app, lambda w=weekly: panel.profile_result.horizon.days == w and not panel.is_busy())
        if scope.startswith("pool:"):
            panel.tabs.setCurrentIndex(3)
        for _ in range(5):
            app.processEvents()
        grab(window, name)
        panel.tabs.setCurrentIndex(0)
        panel.chart.set_days(0.0)
        panel.clear_drafts()
        wait_for(app, lambda: not panel.is_busy())
    window.tabs.setCurrentIndex(0)
    settle(app, window, ws)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workstation.ui.screenshots")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--portfolio", type=Path, help="show this file (read-only) instead of the demo DB")
    parser.add_argument("--size", default="1600x1000", help="window size, WIDTHxHEIGHT")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from workstation.ui.main_window import MainWindow
    from workstation.ui.workspace import Workspace

    app = QApplication.instance() or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        if args.portfolio:
            workspace = Workspace.from_file(args.portfolio)
        else:
            workspace = Workspace.from_database(Path(tmp) / "demo.db")
        window = MainWindow(workspace, settings, lazy_charts=False)
        width, height = (int(v) for v in args.size.lower().split("x"))
        window.resize(width, height)
        window.show()
        workspace.load()
        for path in save_views(window, app, args.outdir):
            print(path)
        window.close()
        if workspace.db is not None:
            workspace.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
