"""Save screenshots of the main views: `python -m workstation.ui.screenshots OUTDIR [--size WxH]`.

Runs offscreen unless QT_QPA_PLATFORM says otherwise; uses a throw-away database with the
demo book (or `--portfolio FILE`, read-only) and throw-away settings. Besides the demo book's
views it records a week of made-up margin history (for the History tab) and, last, adds an
account past liquidation (for `underwater.png`); neither touches any real database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget

    from workstation.ui.main_window import MainWindow
    from workstation.ui.workspace import Workspace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

UNDERWATER = "stressed-perp"  # the account added for underwater.png


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
    """Wait for the recompute and the charts to finish and lay out."""
    wait_for(app, lambda: not window.is_busy() and workspace.view is not None and not window.history.is_busy()
             and not window.book.charts_painting())  # a chart waiting for its turn is not painted yet
    for _ in range(5):
        app.processEvents()


def _select(app: QApplication, window: MainWindow, scope: str) -> None:
    ws = window.workspace
    window.tree.select_scope(scope)
    wait_for(app, lambda: ws.view is not None and ws.view.scope == scope and not ws.is_busy())
    settle(app, window, ws)


def save_views(window: MainWindow, app: QApplication, out: Path) -> list[Path]:
    """Grab the window for the pool, each account, the dark theme, the Accounts and History tabs,
    the What-if and the dialogs; return the files."""
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
        _select(app, window, scope)
        grab(window, "main.png" if i == 0 else f"{scope.replace(':', '-')}.png")
    if window.charts is not None:
        grab(window.charts, "charts.png")
    _select(app, window, scopes[0])
    window.set_theme("dark")
    settle(app, window, ws)
    grab(window, "main-dark.png")
    window.tabs.setCurrentWidget(window.overview)
    settle(app, window, ws)
    grab(window, "overview-dark.png")
    window.set_theme("light")
    grab(window, "overview.png")
    if ws.db is not None:
        save_history(window, app, grab)
    window.tabs.setCurrentWidget(window.main_split)
    save_whatif(window, app, grab)
    save_dialogs(window, app, grab)
    if ws.db is not None:
        save_underwater(window, app, grab)
    return saved


def save_history(window: MainWindow, app: QApplication, grab: Callable[[QWidget, str], None]) -> None:
    """Record a made-up week of history (prices drifting) into the throw-away database, then
    show the History tab of the Deribit account: `history.png`, `history-dark.png`."""
    from workstation.store.db import transaction
    from workstation.store.repository import record_history

    ws = window.workspace
    with transaction(ws.db):
        for when, report in made_up_history(ws.portfolio):
            record_history(ws.db, report, recorded_at=when, as_of=when)
    account = next((a for a in ws.portfolio.accounts if a.venue == "deribit"), ws.portfolio.accounts[0])
    _select(app, window, f"account:{account.id}")
    window.tabs.setCurrentWidget(window.history)
    window.history.refresh(force=True)
    wait_for(app, lambda: not window.history.is_busy() and window.history.charts is not None)
    settle(app, window, ws)
    grab(window, "history.png")
    window.set_theme("dark")
    settle(app, window, ws)
    grab(window, "history-dark.png")
    window.set_theme("light")


def made_up_history(portfolio, steps: int = 42, hours: float = 4.0, seed: int = 5):
    """(time, report) pairs of the book under random-walk prices over the past week (for the
    History screenshot only)."""
    from dataclasses import replace
    from datetime import timedelta

    import numpy as np

    from workstation.core.report import build_reports

    rng = np.random.default_rng(seed)
    moving = [a for a in ("BTC", "ETH", "SOL") if a in portfolio.market]
    walk = np.cumsum(rng.normal(0.0, 0.018, (steps, len(moving))), axis=0)
    walk -= walk[-1]  # ends at today's prices
    for k in range(steps):
        market = dict(portfolio.market)
        for j, asset in enumerate(moving):
            market[asset] = replace(market[asset], price=market[asset].price * float(np.exp(walk[k, j])))
        when = portfolio.as_of - timedelta(hours=hours * (steps - k))
        moved = replace(portfolio, market=market, as_of=when)
        for report in build_reports(moved):
            yield when, report


def save_dialogs(window: MainWindow, app: QApplication, grab: Callable[[QWidget, str], None]) -> None:
    """The position, add-position, market and settings dialogs, light and dark (`-dark` names)."""
    from workstation.ui.dialogs import PositionDialog, QuoteDialog
    from workstation.ui.settings_dialog import SettingsDialog

    portfolio = window.workspace.portfolio
    account = next((a for a in portfolio.accounts if a.venue == "deribit"), portfolio.accounts[0])
    for theme in ("light", "dark"):
        window.set_theme(theme)
        suffix = "" if theme == "light" else "-dark"
        dialogs = []
        if account.positions:
            option = next((p for p in account.positions if p.kind == "option"), account.positions[0])
            dialogs.append((PositionDialog(portfolio, account.id, option, parent=window), "dialog-position"))
        add = PositionDialog(portfolio, account.id, parent=window)  # adding: the venue's settlement
        add.kind.setCurrentText("perpetual")
        add.underlying.setCurrentText("BTC")
        add.quantity.setText("-30000")
        dialogs.append((add, "dialog-add-position"))
        dialogs.append((QuoteDialog(portfolio, "BTC", parent=window), "dialog-quote"))
        dialogs.append((SettingsDialog(window.display, portfolio.base_currency, parent=window), "dialog-settings"))
        for dialog, name in dialogs:
            dialog.show()
            app.processEvents()
            grab(dialog, f"{name}{suffix}.png")
            dialog.close()
    window.set_theme("light")


def save_underwater(window: MainWindow, app: QApplication, grab: Callable[[QWidget, str], None]) -> None:
    """Add an account past liquidation (a long BTC perpetual bought far above the market, equity
    about −5,000) to the throw-away database: `underwater.png`, `underwater-dark.png`."""
    from workstation.core.model import Account, Position
    from workstation.store.repository import add_account

    ws = window.workspace
    price = ws.portfolio.market["BTC"].price
    add_account(ws.db, Account(
        id=UNDERWATER, name="Stressed BTC perp", venue="binance", margin_mode="cross", profile="binance-usdm",
        collateral={"USDT": 50_000.0},
        positions=[Position(id="BTCUSDT", kind="perpetual", underlying="BTC", quantity=1.0,
                            entry_price=round(price + 55_000.0, -3), settlement="linear")]))
    ws.load(record=False)
    wait_for(app, lambda: ws.portfolio is not None and any(a.id == UNDERWATER for a in ws.portfolio.accounts))
    _select(app, window, f"account:{UNDERWATER}")
    grab(window, "underwater.png")
    window.tabs.setCurrentWidget(window.overview)
    settle(app, window, ws)
    grab(window, "overview-underwater.png")
    window.tabs.setCurrentWidget(window.main_split)
    window.set_theme("dark")
    settle(app, window, ws)
    grab(window, "underwater-dark.png")
    window.set_theme("light")


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
    with demo_window(args.size, args.portfolio) as (window, app):
        for path in save_views(window, app, args.outdir):
            print(path)
    return 0


@contextmanager
def demo_window(size: str, portfolio: Path | None = None) -> Iterator[tuple[MainWindow, QApplication]]:
    """The main window (WIDTHxHEIGHT) on the demo book in a throw-away database (or `portfolio`,
    read-only) with throw-away settings, shown and loading; closed and cleaned up afterwards."""
    from PySide6.QtCore import QSettings, Qt

    from workstation.ui.app import make_application
    from workstation.ui.main_window import MainWindow
    from workstation.ui.scope_tree import dock_width
    from workstation.ui.workspace import Workspace

    app = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        workspace = Workspace.from_file(portfolio) if portfolio else Workspace.from_database(Path(tmp) / "demo.db")
        window = MainWindow(workspace, settings, lazy_charts=False)
        width, height = (int(v) for v in size.lower().split("x"))
        window.resize(width, height)
        window.resizeDocks([window.tree_dock], [dock_width(width)], Qt.Orientation.Horizontal)
        window.show()
        workspace.load()
        try:
            yield window, app  # type: ignore[misc]
        finally:
            window.close()
            if workspace.db is not None:
                workspace.db.close()


if __name__ == "__main__":
    sys.exit(main())
