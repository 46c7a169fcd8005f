"""Screenshots of the Stress tab: `python -m workstation.ui.stress_screenshots OUTDIR [--size WxH]`.

Each page (scenario, historical days, joint move, ADL) in the light and the dark theme, on the
demo book in a throw-away database with a user scenario that liquidates an account (so the
cascade and the top-ups show). Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def save_stress_views(window, app, out: Path, suffix: str = "") -> list[Path]:
    """Grab each page of the Stress tab in both themes; return the files."""
    from workstation.core.stress import Scenario
    from workstation.store.stress_store import save_stress_scenario
    from workstation.ui.screenshots import settle, wait_for

    ws, panel = window.workspace, window.stress
    out.mkdir(parents=True, exist_ok=True)
    save_stress_scenario(ws.db, Scenario("rally-btc-eth", shocks={"BTC": 0.45, "ETH": 0.6, "*": 0.6},
                                         title="BTC +45 %, ETH and the rest +60 % (your scenario)"))
    window.tree.select_scope("pool:all")
    settle(app, window, ws)
    panel.set_context(None, None)
    panel.set_context(ws.portfolio, ws.scope, ws.db)
    window.tabs.setCurrentWidget(panel)
    saved = []

    def idle() -> None:
        wait_for(app, lambda: not panel.is_busy(), 120)
        for _ in range(10):
            app.processEvents()

    for theme in ("light", "dark"):
        window.set_theme(theme)
        panel.select_scenario("rally-btc-eth")
        panel.pages.setCurrentWidget(panel.scenario_page)
        idle()
        shots = [("scenario", panel.scenario_page), ("days", panel.summary_page), ("joint", panel.joint_page),
                 ("adl", panel.adl_page)]
        for name, page in shots:
            if name == "joint":
                panel.select_scenario("ftx-2022/peak")
            panel.pages.setCurrentWidget(page)
            idle()
            path = out / f"stress-{name}{'-dark' if theme == 'dark' else ''}{suffix}.png"
            window.grab().save(str(path))
            saved.append(path)
    window.set_theme("light")
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workstation.ui.stress_screenshots")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--size", default="1600x1000", help="window size, WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    from workstation.ui.screenshots import demo_window

    with demo_window(args.size) as (window, app):
        for path in save_stress_views(window, app, args.outdir, f"-{args.size.lower()}"):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
