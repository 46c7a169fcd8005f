"""The Stress tab: it runs scenarios off the GUI thread and shows the engine's figures; the
historical days table, the joint move (betas fitted on an imported history), ADL, and user
scenarios created, edited and deleted through the store. No Qt warning is tolerated: the tab
never changes the window's size constraints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt

from workstation.core.stress import Scenario

TIMEOUT = 90_000


def _idle(qtbot, panel) -> None:
    """Let every job the test started finish: none may outlive the test's window."""
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=TIMEOUT)


def _open(qtbot, window, name: str | None = None):
    panel = window.stress
    ws = window.workspace
    panel.set_context(None, None)
    panel.set_context(ws.portfolio, ws.scope, ws.db)
    window.tabs.setCurrentWidget(panel)
    if name:
        panel.select_scenario(name)
    qtbot.waitUntil(lambda: panel.view is not None and not panel.is_busy()
                    and (name is None or panel.view.scenario == name), timeout=TIMEOUT)
    return panel


def test_stress_tab_runs_a_scenario_and_marks_breaches(qtbot, window):
    from workstation.store.stress_store import save_stress_scenario

    save_stress_scenario(window.workspace.db, Scenario("rally", shocks={"*": 0.5}))
    panel = _open(qtbot, window, "rally")
    page = panel.scenario_page
    rows = {r["scope"]: r for r in page.model.records()}
    assert rows["account:binance-usdm"]["breach"] and rows["account:binance-usdm"]["status"] == "liquidated"
    text = page.timeline.toPlainText()
    assert "Cascade, apart" in text and "What would have saved account:binance-usdm" in text
    assert len(panel.view.curve["equity"]) == 25
    red = page.model.data(page.model.index(page.model.row_of("account:binance-usdm"), 0),
                          Qt.ItemDataRole.ForegroundRole)
    assert red is not None
    # the figures are the engine's document, row for row
    doc = {s["scope"]: s for s in panel.view.document["scopes"]}
    assert rows["pool:all"]["equity"] == doc["pool:all"]["equity"]
    _idle(qtbot, panel)


def test_the_tab_fits_the_smallest_window(qtbot, window):
    """The Stress tab's minimum fits in the window at its own minimum size (no clipped page and
    no change of the window's constraints when the tab shows)."""
    before = window.minimumSize()
    panel = _open(qtbot, window)
    assert window.minimumSize() == before
    window.resize(before)
    qtbot.waitUntil(lambda: window.size() == before, timeout=5_000)
    hint = panel.minimumSizeHint()
    assert hint.width() <= panel.width() and hint.height() <= panel.height(), (hint, panel.size())
    _idle(qtbot, panel)


def test_historical_days_say_which_day_liquidates_which_account(qtbot, window):
    panel = _open(qtbot, window)
    page = panel.summary_page
    qtbot.waitUntil(lambda: page.summary is not None and not panel.is_busy(), timeout=TIMEOUT)
    s = page.summary
    assert len(s["rows"]) == 14 and s["scopes"] == ["account:deribit-pm", "account:binance-usdm",
                                                     "account:bybit-uta", "pool:all"]
    # on the demo book no shipped day liquidates anything, even at 5x: said plainly
    assert all(not c["breach"] and c["multiple"] is None for r in s["rows"] for c in r["cells"].values())
    assert page.sentence.text().startswith("No historical day liquidates any account or pool, apart or pooled, "
                                           "even at 5× its moves.")
    record = page.model.records()[0]
    assert record["account:binance-usdm"].startswith("safe · ") and record["order"] == "none up to 5×"
    assert [c.key for c in page.model.columns][-1] == "pool:all"  # no order column when none would go
    assert page.model.columns[4].header == "all (pooled)"
    page.scenario_chosen.emit("ftx-2022/peak")
    assert panel.scenario().name == "ftx-2022/peak" and panel.pages.currentWidget() is panel.scenario_page
    _idle(qtbot, panel)


def test_joint_move_shows_the_pools_liquidation_line(qtbot, window):
    panel = _open(qtbot, window)
    panel.scope_box.setCurrentIndex(panel.scope_box.findData("pool:all"))
    panel.pages.setCurrentWidget(panel.joint_page)
    page = panel.joint_page
    qtbot.waitUntil(lambda: page.view is not None and page.view.scope == "pool:all" and not panel.is_busy(),
                    timeout=TIMEOUT)
    grid = page.view.grid
    assert grid["line"], "the demo pool's liquidation line is on the grid"
    assert max(grid["y_moves"]) > 6.0 and min(grid["x_moves"]) < -0.9
    # the pool is liquidated when the joint move (every asset following BTC, beta 1) is large
    up = page.view.distances["pool:all"]["up"]
    assert up is not None and 4.0 < up < 8.0
    rows = {r["scope"]: r for r in page.distance_model.records()}
    assert rows["pool:all"]["up"].startswith("BTC +") and rows["account:deribit-pm"]["up"] is None
    _idle(qtbot, panel)


def test_betas_fitted_on_an_imported_history_drive_the_joint_move(qtbot, window, tmp_path):
    rng = np.random.default_rng(3)
    rd = rng.normal(0, 0.03, 120)
    re = 1.4 * rd + rng.normal(0, 0.01, 120)
    days = pd.date_range("2025-01-01", periods=121, freq="D")
    csv = tmp_path / "majors.csv"
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "BTC": 90_000 * np.exp(np.r_[0, np.cumsum(rd)]),
                  "ETH": 3_000 * np.exp(np.r_[0, np.cumsum(re)])}).to_csv(csv, index=False)
    panel = _open(qtbot, window)
    panel.pages.setCurrentWidget(panel.joint_page)
    page = panel.joint_page
    qtbot.waitUntil(lambda: page.view is not None and not panel.is_busy(), timeout=TIMEOUT)
    page.choose_csv = lambda: str(csv)
    page.import_csv()
    qtbot.waitUntil(lambda: page.source.currentData() == "majors" and page.view is not None
                    and page.view.betas["source"] == "fitted" and not panel.is_busy(), timeout=TIMEOUT)
    betas = page.view.betas
    assert betas["window"] == ["2025-01-01", "2025-05-01"] and betas["observations"] == 120
    slope = np.cov(re, rd, ddof=1)[0, 1] / np.var(rd, ddof=1)
    assert betas["betas"]["ETH"] == pytest.approx(slope, rel=1e-9)
    assert "120 returns" in page.caption.text()
    assert {r["asset"]: r for r in page.beta_model.records()}["ETH"]["beta"] == f"{slope:.3f}"
    # a shorter window refits; the move between the dates is saved as a scenario
    page.start.setDate(page.start.date().addDays(30))
    qtbot.waitUntil(lambda: page.view.betas["observations"] == 90 and not panel.is_busy(), timeout=TIMEOUT)
    page.save_between()
    names = [s.name for s in panel.scenarios]
    assert "majors 2025-01-31 to 2025-05-01" in names
    _idle(qtbot, panel)


def test_user_scenarios_are_created_edited_and_deleted(qtbot, window):
    from workstation.store.stress_store import list_stress_scenarios

    panel = _open(qtbot, window)
    dialog = panel.scenario_dialog(new=True)
    dialog.name.setText("btc-down-vol-up")
    dialog.moves["BTC"].setText("-30")
    dialog.vols["BTC"].setText("15")
    dialog.prices["USDT"].setText("0.97")
    dialog.days.setText("2")
    dialog._on_ok()
    assert dialog.result() == dialog.DialogCode.Accepted
    saved = {s.name: s for s in list_stress_scenarios(window.workspace.db)}["btc-down-vol-up"]
    assert saved.shocks == {"BTC": pytest.approx(-0.3)} and saved.vol_shift == {"BTC": pytest.approx(0.15)}
    assert saved.depeg == {"USDT": 0.97} and saved.days == 2.0 and saved.vol_mode == "points"
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.scenario == "btc-down-vol-up"
                    and not panel.is_busy(), timeout=TIMEOUT)
    # a bad figure keeps the dialog open with the field named
    bad = panel.scenario_dialog(new=False)
    bad.moves["ETH"].setText("-120")
    bad._on_ok()
    assert bad.error.text() == "ETH price move: must be above -100 %, got -120 %"
    # rename it: the old one goes
    edit = panel.scenario_dialog(new=False)
    edit.name.setText("btc-down")
    edit._on_ok()
    names = [s.name for s in list_stress_scenarios(window.workspace.db)]
    assert "btc-down" in names and "btc-down-vol-up" not in names
    # a shipped day is copied, never edited
    panel.select_scenario("ftx-2022/peak")
    assert panel.edit_button.text() == "Copy…" and not panel.delete_button.isEnabled()
    copy = panel.scenario_dialog(new=False)
    assert copy.name.text() == "ftx-2022/peak (copy)" and copy.moves["BTC"].text()
    panel.select_scenario("btc-down")
    panel.confirm = lambda _text: True
    panel.delete_scenario()
    assert "btc-down" not in [s.name for s in list_stress_scenarios(window.workspace.db)]
    assert "btc-down" not in [s.name for s in panel.scenarios]
    _idle(qtbot, panel)


def test_adl_ranks_winners_and_shows_the_book_without_them(qtbot, window):
    panel = _open(qtbot, window)
    panel.pages.setCurrentWidget(panel.adl_page)
    page = panel.adl_page
    qtbot.waitUntil(lambda: page.view is not None and not panel.is_busy(), timeout=TIMEOUT)
    at_risk = [r for r in page.view.rows if r["at_risk"]]
    assert at_risk and all(r["account"] == "binance-usdm" for r in at_risk)  # Deribit socialises, ranks none
    assert len(page.view.closed) == 2
    page.top.setValue(0)
    qtbot.waitUntil(lambda: page.view.closed == [] and not panel.is_busy(), timeout=TIMEOUT)
    same = {s["scope"]: s for s in page.view.scopes}
    assert same["pool:all"]["mm_after"] == pytest.approx(same["pool:all"]["mm_before"], rel=1e-12)


def test_screenshot_script_writes_every_page(qtbot, window, tmp_path):
    from workstation.ui.stress_screenshots import save_stress_views

    app = __import__("PySide6.QtWidgets", fromlist=["QApplication"]).QApplication.instance()
    files = save_stress_views(window, app, Path(tmp_path))
    assert len(files) == 8 and all(f.stat().st_size > 10_000 for f in files)
    _idle(qtbot, window.stress)


def test_summary_sentence_and_cells_name_days_scopes_and_order():
    from workstation.ui.stress_summary import summary_rows, summary_sentence

    def cell(breach, multiple, headroom):
        return {"breach": breach, "multiple": multiple, "headroom": headroom}

    s = {"limit": 5.0, "scopes": ["account:a", "account:b", "pool:p"], "pools": {"p": ["a", "b"]},
         "rows": [{"scenario": "d1", "title": "", "dates": [], "cells": {
             "account:a": cell(True, 0.8, -1_500.0), "account:b": cell(False, 2.5, 120_000.0),
             "pool:p": cell(False, 1.6, 60_000.0)}},
             {"scenario": "d2", "title": "", "dates": [], "cells": {
                 "account:a": cell(False, None, 1e6), "account:b": cell(False, None, 2e6),
                 "pool:p": cell(False, None, 3.4e6)}}]}
    assert summary_sentence(s) == "d1 liquidates a apart. Closest: p (pooled) at 1.60× d1."
    rows = summary_rows(s)
    assert rows[0]["account:a"] == "liquidated · −1.5 k" and rows[0]["account:b"] == "at 2.50× · 120 k"
    assert rows[0]["order"] == "a 0.80× → p (pooled) 1.60× → b 2.50×"
    assert rows[1]["pool:p"] == "safe · 3.4 M" and rows[1]["order"] == "none up to 5×"
    assert rows[0]["_level:account:a"] == "red" and rows[0]["_level:pool:p"] == "amber"


def test_a_scenario_runs_on_the_what_if_draft(qtbot, window, monkeypatch):
    import test_ui_whatif as W

    whatif = W.open_whatif(qtbot, window)
    W.draft_perp(qtbot, whatif, monkeypatch, quantity="-2000000")
    assert whatif.result is not None and whatif.result.trades
    panel = _open(qtbot, window, "ftx-2022/peak")
    plain = {s["scope"]: s for s in panel.view.document["scopes"]}
    panel.draft_box.setChecked(True)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.draft and not panel.is_busy(), timeout=TIMEOUT)
    drafted = {s["scope"]: s for s in panel.view.document["scopes"]}
    # a short of 2 million USD of inverse BTC perpetual gains when BTC falls
    assert drafted["account:deribit-pm"]["pnl"] > plain["account:deribit-pm"]["pnl"]
    assert drafted["account:binance-usdm"]["equity"] == plain["account:binance-usdm"]["equity"]
    assert "with the what-if draft" in panel.status.text()
    _idle(qtbot, panel)
