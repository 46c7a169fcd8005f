"""The Stress tab: it runs a scenario off the GUI thread and shows the engine's figures."""

from __future__ import annotations

import pytest

from workstation.core.stress import Scenario


# the offscreen plugin warns when the panel changes the window's size hints (to chase)
@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_stress_tab_runs_a_scenario_and_marks_breaches(qtbot, window):
    from workstation.store.stress_store import save_stress_scenario

    save_stress_scenario(window.workspace.db, Scenario("rally", shocks={"*": 0.5}))
    panel = window.stress
    assert panel is not None
    panel.set_context(None, None)
    panel.set_context(window.workspace.portfolio, window.workspace.scope, window.workspace.db)
    window.tabs.setCurrentWidget(panel)
    panel.select_scenario("rally")
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.scenario == "rally" and not panel.is_busy(),
                    timeout=60_000)
    rows = {r["scope"]: r for r in panel.model.records()}
    assert rows["account:binance-usdm"]["breach"] and rows["account:binance-usdm"]["status"] == "liquidated"
    assert "Cascade, apart" in panel.timeline.toPlainText()
    assert "What would have saved account:binance-usdm" in panel.timeline.toPlainText()
    assert panel.view.grid is not None and len(panel.view.curve["equity"]) == 25
    red = panel.model.data(panel.model.index(panel.model.row_of("account:binance-usdm"), 0),
                           __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.ItemDataRole.ForegroundRole)
    assert red is not None
