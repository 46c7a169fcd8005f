"""The What-if panel: drafts in memory, figures from `whatif()` / `suggest()`, Apply saves."""

from __future__ import annotations

import threading

import pytest
from conftest import wait_idle
from PySide6.QtCore import Qt

from workstation.core.whatif import suggest, whatif
from workstation.store import repository
from workstation.ui.whatif_compute import resolve_trades

# The offscreen platform warns whenever a shown window gets size constraints; not ours to fix.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

ACCOUNT = "deribit-pm"
KEYS = ("equity", "initial_margin", "maintenance_margin", "margin_usage", "offset")


def open_whatif(qtbot, win, scope: str = f"account:{ACCOUNT}"):
    assert win.tree.select_scope(scope)
    qtbot.waitUntil(lambda: win.workspace.view is not None and win.workspace.view.scope == scope,
                    timeout=20_000)
    wait_idle(qtbot, win.workspace)
    win.show_whatif()
    assert win.tabs.currentWidget() is win.whatif
    panel = win.whatif
    settle(qtbot, panel)
    return panel


def settle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.is_busy() and panel.is_current(), timeout=20_000)


def draft_perp(qtbot, panel, monkeypatch, quantity: str = "-100000", entry: str = "") -> None:
    def fill_and_ok(dialog) -> bool:
        assert not dialog.account.isEnabled() and dialog.account_id() == panel.account_id()
        dialog.kind.setCurrentText("perpetual")
        dialog.underlying.setCurrentText("BTC")
        dialog.settlement.setCurrentText("inverse")
        dialog.unit.setCurrentIndex(dialog.unit.findData("usd"))  # USD contracts, as the engine holds them
        dialog.quantity.setText(quantity)
        dialog.entry.setText(entry)
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(panel, "run_dialog", fill_and_ok)
    panel.add_button.click()
    settle(qtbot, panel)


def row(panel, key: str) -> dict:
    return next(r for r in panel.compare_model.records() if r["key"] == key)


def test_drafting_updates_after_figures_as_whatif_and_leaves_the_db(qtbot, window, monkeypatch) -> None:
    db = window.workspace.db
    saved = repository.load_portfolio(db)
    panel = open_whatif(qtbot, window)
    assert panel.account_id() == ACCOUNT and panel.result.trades == []
    before_im = row(panel, "initial_margin")["after"]
    draft_perp(qtbot, panel, monkeypatch)
    assert panel.drafts_model.rowCount() == 1
    trades = panel.result.trades
    assert len(trades) == 1 and trades[0].quantity == -100000 and trades[0].id == "trade-1"
    expected = whatif(repository.load_portfolio(db), ACCOUNT, trades, liquidity=panel.box.liquidity())
    for key in KEYS:
        assert panel.result.after[key] == pytest.approx(expected["after"][key], rel=1e-12), key
        assert row(panel, key)["after"] == pytest.approx(expected["after"][key], rel=1e-12), key
        assert row(panel, key)["before"] == pytest.approx(expected["before"][key], rel=1e-12), key
    free = expected["after"]["equity"] - expected["after"]["initial_margin"]
    assert row(panel, "free_margin")["after"] == pytest.approx(free, rel=1e-12)
    for und, greeks in expected["after"]["greeks"].items():
        assert row(panel, f"delta:{und}")["after"] == pytest.approx(greeks["delta"], rel=1e-12)
    for und, liq in expected["after"]["liquidation"].items():
        assert row(panel, f"liq_down:{und}")["after"] == liq["down_pct"]
    assert row(panel, "initial_margin")["after"] != pytest.approx(before_im)
    # the change column is written and coloured from the engine's figures
    im = row(panel, "initial_margin")
    assert im["change"] == pytest.approx(im["after"] - im["before"])
    assert im["level"] == ("calm" if im["change"] < 0 else "amber")  # usage stays low: not red
    # nothing was written: the book in the database is the same, and so are the tables
    assert repository.load_portfolio(db) == saved
    assert window.positions.model.rowCount() == len(window.workspace.view.report["positions"])
    # remove and clear
    panel.drafts_view.selectRow(0)
    panel.remove_button.click()
    settle(qtbot, panel)
    assert panel.drafts_model.rowCount() == 0 and panel.result.trades == []
    assert repository.load_portfolio(db) == saved


def test_suggest_delta_matches_the_engine_and_hedges(qtbot, window) -> None:
    panel = open_whatif(qtbot, window)
    form = panel.hedge
    form.kind.setCurrentText("perpetual")
    form.underlying.setCurrentText("BTC")
    form.settlement.setCurrentText("inverse")
    form.objective.setCurrentIndex(form.objective.findData("delta"))
    form.suggest_button.click()
    qtbot.waitUntil(lambda: not panel.is_busy() and panel.suggestion is not None, timeout=20_000)
    book = repository.load_portfolio(window.workspace.db)
    hedge = resolve_trades(book, ACCOUNT, [form.instrument()])[0]
    expected = suggest(book, ACCOUNT, hedge, "delta", liquidity=panel.box.liquidity())["suggestion"]
    got = panel.suggestion.suggestion
    assert got["quantity"] == pytest.approx(expected["quantity"], rel=1e-12)
    assert got["objective"] == "delta" and got["underlying"] == "BTC"
    assert form.add_button.isEnabled()
    form.add_button.click()
    settle(qtbot, panel)
    # the drafted size is the suggestion rounded to Deribit's 10 USD contracts
    (traded,) = [t.quantity for t in panel.result.trades]
    assert traded % 10 == 0 and abs(traded - expected["quantity"]) <= 5.0
    before = abs(row(panel, "delta:BTC")["before"])
    assert before > 1.0
    # what is left is at most half a contract's delta (5 USD of BTC at the mark)
    assert abs(row(panel, "delta:BTC")["after"]) <= 5.0 / 91_245.5 * 1.01
    assert row(panel, "delta:BTC")["level"] == "calm"


def test_models_pass_modeltester(qtbot, window, monkeypatch, qtmodeltester) -> None:
    panel = open_whatif(qtbot, window)
    draft_perp(qtbot, panel, monkeypatch)
    draft_perp(qtbot, panel, monkeypatch, quantity="50000", entry="90000")
    assert panel.drafts_model.rowCount() == 2
    qtmodeltester.check(panel.drafts_model, force_py=True)
    qtmodeltester.check(panel.compare_model, force_py=True)
    entries = [r["entry"] for r in panel.drafts_model.records()]
    assert entries == ["mark", "90,000 USD"]  # empty entry means the mark; prices say their currency
    col = panel.drafts_model.column_index("entry")
    assert panel.drafts_model.index(0, col).data() == "mark"
    for model in (panel.tabs.greeks, panel.tabs.positions, panel.tabs.members, panel.tabs.venues):
        qtmodeltester.check(model, force_py=True)
    headers = [panel.tabs.greeks.headerData(i, Qt.Orientation.Horizontal) for i in range(8)]
    assert "Δ after (USD)" in headers and "Γ after (coins/1 %)" in headers


def test_apply_saves_the_drafts_after_asking(qtbot, window, monkeypatch) -> None:
    db = window.workspace.db
    panel = open_whatif(qtbot, window)
    draft_perp(qtbot, panel, monkeypatch, quantity="-20000", entry="91000")
    asked = []
    monkeypatch.setattr(window.editor, "confirm", lambda text: asked.append(text) or False)
    panel.apply_button.click()
    assert asked and ACCOUNT in asked[0]
    assert "trade-1" not in [p.id for p in repository.load_portfolio(db).account(ACCOUNT).positions]
    monkeypatch.setattr(window.editor, "confirm", lambda text: True)
    assert panel.apply_button.isEnabled()
    panel.apply_button.click()
    wait_idle(qtbot, window.workspace)
    saved = {p.id: p for p in repository.load_portfolio(db).account(ACCOUNT).positions}
    assert saved["trade-1"].quantity == -20000 and saved["trade-1"].entry_price == 91000
    assert saved["trade-1"].kind == "perpetual" and saved["trade-1"].settlement == "inverse"
    settle(qtbot, panel)
    assert panel.drafts() == [] and panel.result.trades == []
    assert any(r["id"] == "trade-1" for r in window.positions.model.records())


def test_pool_offers_its_member_accounts(qtbot, window, monkeypatch) -> None:
    book = repository.load_portfolio(window.workspace.db)
    pool = book.pools[0]
    panel = open_whatif(qtbot, window, f"pool:{pool.id}")
    assert panel.account_box.isVisibleTo(panel)
    assert [panel.account_box.itemData(i) for i in range(panel.account_box.count())] == pool.accounts
    assert "trades go into" in panel.target.text()
    panel.account_box.setCurrentIndex(pool.accounts.index(ACCOUNT))
    settle(qtbot, panel)
    draft_perp(qtbot, panel, monkeypatch)
    assert panel.result.account == ACCOUNT and len(panel.result.trades) == 1
    # drafts belong to that account: another member starts empty, coming back finds them
    other = next(i for i, a in enumerate(pool.accounts) if a != ACCOUNT)
    panel.account_box.setCurrentIndex(other)
    settle(qtbot, panel)
    assert panel.drafts() == [] and panel.result.account == pool.accounts[other]
    panel.account_box.setCurrentIndex(pool.accounts.index(ACCOUNT))
    settle(qtbot, panel)
    assert len(panel.drafts()) == 1


def test_engine_runs_off_the_gui_thread_and_newest_request_wins(qtbot) -> None:
    from workstation.ui.worker import LatestJob

    gate = threading.Event()
    seen: list = []
    threads: list = []

    def job(n: int) -> int:
        threads.append(threading.current_thread())
        gate.wait(5)
        return n

    runner = LatestJob(seen.append, lambda exc: seen.append(exc))
    for n in range(4):
        runner.submit(job, n)
    gate.set()
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=10_000)
    assert seen == [3]  # 0 ran but was superseded; 1 and 2 never started
    assert len(threads) == 2 and threading.main_thread() not in threads


def scenario_positions(db) -> list:
    return [(r["account_id"], r["id"], r["quantity"])
            for r in db.query("SELECT account_id, id, quantity FROM positions ORDER BY account_id, id")]


def test_save_load_and_delete_scenarios(qtbot, window, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    db = window.workspace.db
    saved_book = repository.load_portfolio(db)
    saved_rows = scenario_positions(db)
    panel = open_whatif(qtbot, window)
    assert not panel.save_button.isEnabled() and panel.load_button.isEnabled()  # nothing drafted yet
    draft_perp(qtbot, panel, monkeypatch, quantity="-20000", entry="91000")
    draft_perp(qtbot, panel, monkeypatch, quantity="5000")  # entry at the mark
    drafted = [(d.position.id, d.position.underlying, d.position.kind, d.position.quantity) for d in panel.drafts()]
    assert panel.save_button.isEnabled()

    # Save…: cancelled, then named; only the scenarios table is written
    asked: list = []
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: asked.append(a) or ("", False)))
    panel.save_button.click()
    assert asked and repository.list_scenarios(db, ACCOUNT) == []
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("  short BTC  ", True)))
    panel.save_button.click()
    listed = repository.list_scenarios(db, ACCOUNT)
    assert [(s["name"], s["trade_count"]) for s in listed] == [("short BTC", 2)]
    assert repository.load_portfolio(db) == saved_book and scenario_positions(db) == saved_rows
    assert "short BTC" in panel.status.text()
    stored = repository.load_scenario(db, listed[0]["id"])["trades"]
    assert stored[0].entry_price == 91000 and stored[1].entry_price > 0  # the mark, at saving

    # Load…: the dialog lists it; choosing it replaces the drafts and recomputes
    panel.clear_drafts()
    settle(qtbot, panel)
    draft_perp(qtbot, panel, monkeypatch, quantity="777")
    shown: list = []

    def choose(dialog) -> bool:
        shown.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        assert dialog.select_id(listed[0]["id"])
        return True

    monkeypatch.setattr(panel, "run_dialog", choose)
    panel.load_button.click()
    settle(qtbot, panel)
    assert len(shown[0]) == 1 and shown[0][0].startswith("short BTC") and "2 trades" in shown[0][0]
    got = [(d.position.id, d.position.underlying, d.position.kind, d.position.quantity) for d in panel.drafts()]
    assert got == drafted
    assert [t.quantity for t in panel.result.trades] == [-20000, 5000]
    assert panel.drafts_model.rowCount() == 2
    assert repository.load_portfolio(db) == saved_book

    # Delete… in the dialog: asks first, then removes the scenario (and its row)
    monkeypatch.setattr(panel, "confirm", lambda text: False)
    rows: list = []

    def delete(dialog) -> bool:
        dialog.select_id(listed[0]["id"])
        dialog.delete_button.click()
        rows.append(dialog.list.count())
        monkeypatch.setattr(panel, "confirm", lambda text: True)
        dialog.delete_button.click()
        rows.append(dialog.list.count())
        assert not dialog.load_button.isEnabled() and not dialog.empty.isHidden()
        return False

    monkeypatch.setattr(panel, "run_dialog", delete)
    panel.load_button.click()
    assert rows == [1, 0]
    assert repository.list_scenarios(db, ACCOUNT) == []
    assert len(panel.drafts()) == 2  # closing the dialog leaves the drafts alone
    assert repository.load_portfolio(db) == saved_book and scenario_positions(db) == saved_rows


def test_scenarios_need_the_database(qtbot, window, monkeypatch) -> None:
    panel = open_whatif(qtbot, window)
    draft_perp(qtbot, panel, monkeypatch)
    assert panel.save_button.isEnabled()
    ws = window.workspace
    panel.set_context(ws.portfolio, ws.scope, True, None)  # as for a read-only portfolio file
    assert not panel.save_button.isEnabled() and not panel.load_button.isEnabled()
    assert panel.save_scenario() is None
    assert "read-only" in panel.save_button.toolTip()
    panel.set_context(ws.portfolio, ws.scope, False, ws.db)
    settle(qtbot, panel)
    assert panel.save_button.isEnabled() and panel.load_button.isEnabled()


# ------------------------------------------------------------------------------ issue 11
def settle_profile(qtbot, panel) -> None:
    settle(qtbot, panel)
    qtbot.waitUntil(lambda: not panel.profile_job.is_busy() and panel.profile_result is not None, timeout=20_000)


def test_minus_three_btc_perpetual_on_deribit_is_three_btc_of_usd_contracts(qtbot, window) -> None:
    panel = open_whatif(qtbot, window)
    assert panel.box.unit() == "coin"
    draft = panel.add_line("-3 BTC-PERPETUAL")
    settle(qtbot, panel)
    assert draft is not None and draft.position.settlement == "inverse"
    (trade,) = panel.result.trades
    # 3 BTC at 91,245.5 = 273,736.5 USD -> 27,374 contracts of 10 USD
    assert trade.kind == "perpetual" and trade.quantity == -273_740.0
    (rec,) = panel.drafts_model.records()
    assert rec["unit"] == "USD" and rec["coins"] == pytest.approx(-273_740 / 91_245.5, rel=1e-12)
    assert rec["entered"] == "-3 BTC"
    assert "27,374 contracts" in panel.box.size_label.text()
    # funding at +0.01 % per 8 h: the account pays 26 a day (long BTC, short ETH perpetuals), the
    # short 273,740 USD receives 0.0001 x 3 x 273,740 = 82.12 a day; over a horizon the user sets
    funding = row(panel, "funding")
    assert funding["before"] == pytest.approx(-25.5, rel=1e-12)
    assert funding["after"] == pytest.approx(-25.5 + 82.122, rel=1e-12)
    panel.box.horizon.setValue(7.0)
    funding = row(panel, "funding")
    assert "over 7 days" in funding["label"] and funding["after"] == pytest.approx(7 * 56.622, rel=1e-12)
    # refused lines say why and add nothing
    assert panel.add_line("-3 BTC-20NOV26") is None and "expired" in panel.box.error.text()
    assert panel.add_line("sell -3 BTC-PERPETUAL") is None and "positive size" in panel.box.error.text()
    assert panel.add_line("+2 DOGE/USDT:USDT") is None and "no market price for DOGE" in panel.box.error.text()
    assert len(panel.drafts()) == 1


def test_a_bought_option_pays_its_premium(qtbot, window) -> None:
    panel = open_whatif(qtbot, window)
    panel.box.fee.setCurrentIndex(panel.box.fee.findData(None))
    panel.add_line("+5 BTC-25DEC26-85000-P")  # at the mark
    settle(qtbot, panel)
    eq = row(panel, "equity")
    assert eq["after"] == pytest.approx(eq["before"], rel=1e-12)  # the premium left the collateral
    premium = row(panel, "premium")
    assert premium["after"] < 0 and row(panel, "fees")["after"] == 0.0
    (leg,) = panel.result.legs
    assert leg.asset == "BTC" and premium["after"] == pytest.approx(-leg.premium_base, rel=1e-12)
    # with the taker fee, equity falls by the fee: 0.03 % of the underlying per contract
    panel.box.fee.setCurrentIndex(panel.box.fee.findData("taker"))
    settle(qtbot, panel)
    fee = 5 * 0.0003 * 91_245.5
    assert row(panel, "equity")["after"] - row(panel, "equity")["before"] == pytest.approx(-fee, rel=1e-9)


def test_apply_to_book_pays_the_cash_legs(qtbot, window, monkeypatch) -> None:
    db = window.workspace.db
    btc = repository.load_portfolio(db).account(ACCOUNT).collateral["BTC"]
    panel = open_whatif(qtbot, window)
    panel.add_line("+1 BTC-25DEC26-85000-P @ 0.02")
    settle(qtbot, panel)
    monkeypatch.setattr(window.editor, "confirm", lambda text: "Collateral paid" in text)
    panel.apply_button.click()
    wait_idle(qtbot, window.workspace)
    acc = repository.load_portfolio(db).account(ACCOUNT)
    fee = min(0.0003, 0.125 * 0.02)  # taker: 0.03 % of 1 BTC, capped at 12.5 % of the price
    assert acc.collateral["BTC"] == pytest.approx(btc - 0.02 - fee, rel=1e-12)
    assert acc.positions[-1].entry_price == 0.02 and acc.positions[-1].quantity == 1.0


def test_pool_whatif_changes_the_pools_figures(qtbot, window) -> None:
    from workstation.core.report import build_report
    from workstation.core.whatif import with_trades

    book = repository.load_portfolio(window.workspace.db)
    panel = open_whatif(qtbot, window, "pool:all")
    panel.account_box.setCurrentIndex(book.pool("all").accounts.index(ACCOUNT))
    settle(qtbot, panel)
    panel.add_line("-3 BTC-PERPETUAL")
    settle(qtbot, panel)
    r = panel.result
    assert r.scope == "pool:all" and r.account == ACCOUNT
    full = build_report(with_trades(book, ACCOUNT, r.trades, r.legs), "pool:all")
    for key in KEYS:
        assert row(panel, key)["after"] == pytest.approx(full[key], rel=1e-12), key
    assert row(panel, "initial_margin")["after"] != pytest.approx(row(panel, "initial_margin")["before"], rel=1e-9)
    members = {m["account"]: m for m in panel.tabs.members.records()}
    assert set(members) == set(book.pool("all").accounts)
    own = build_report(with_trades(book, ACCOUNT, r.trades, r.legs), f"account:{ACCOUNT}")
    assert members[ACCOUNT]["im_a"] == pytest.approx(own["initial_margin"], rel=1e-12)
    assert "Compared here only" in panel.tabs.margining.text()
    assert "liquidates first" in panel.tabs.first.text()


def test_after_curve_moves_with_the_date_slider(qtbot, window) -> None:
    import numpy as np

    panel = open_whatif(qtbot, window)
    panel.add_line("-3 BTC-PERPETUAL")
    settle_profile(qtbot, panel)
    chart = panel.chart
    assert chart.underlying.currentText() == "BTC"
    today = panel.profile_result
    assert today.horizon.today and today.after is not None
    pnl_today = np.array(chart.curves["pnl_a"].getData()[1])
    weekly = next(d for d, label in chart.stops if "weekly" in label)
    chart.set_days(weekly)
    qtbot.waitUntil(lambda: panel.profile_result is not None and panel.profile_result.horizon.days == weekly
                    and not panel.profile_job.is_busy(), timeout=20_000)
    assert "weekly" in chart.date_label.text()
    pnl_later = np.array(chart.curves["pnl_a"].getData()[1])
    assert pnl_later.shape == pnl_today.shape and not np.allclose(pnl_later, pnl_today, rtol=1e-9)
    # the before curve ages as well, and at the spot the options' theta shows in the P&L
    assert panel.profile_result.before["pnl"][80] != pytest.approx(today.before["pnl"][80], rel=1e-9)
    chart.vol.setValue(10)
    qtbot.waitUntil(lambda: panel.profile_result.horizon.vol_shift == pytest.approx(0.10)
                    and not panel.profile_job.is_busy(), timeout=20_000)
    assert "vol +10 pts" in chart.vol_label.text()


def test_vol_fields_are_in_percent_and_ask_when_unusual(qtbot, window) -> None:
    from workstation.ui.dialogs import PositionDialog, QuoteDialog

    book = repository.load_portfolio(window.workspace.db)
    dialog = QuoteDialog(book, "BTC")
    qtbot.addWidget(dialog)
    assert dialog.vol.text() == "52"  # 0.52 shown as 52 (%)
    dialog.vol.setText("55")
    assert dialog.result_value()[2] == pytest.approx(0.55, rel=1e-15)
    asked: list[str] = []
    dialog.ask = lambda q: asked.append(q) or False
    dialog.vol.setText("550")
    with pytest.raises(ValueError, match="not accepted"):
        dialog.result_value()
    assert "above 300 %" in asked[0]
    dialog.ask = lambda q: True
    assert dialog.result_value()[2] == pytest.approx(5.5)
    dialog.vol.setText("55")
    dialog.price.setText("200000")  # +119 % from 91,245.5
    dialog.ask = lambda q: asked.append(q) or False
    with pytest.raises(ValueError):
        dialog.result_value()
    assert "+119 %" in asked[-1]
    pos = PositionDialog(book, ACCOUNT, book.account(ACCOUNT).positions[0])
    qtbot.addWidget(pos)
    assert pos.vol.text() == "50"  # the position's 0.5
    assert pos.result_value().vol == pytest.approx(0.5, rel=1e-15)  # an edit keeping the entry asks nothing


def test_book_tab_has_the_risk_profile_with_readout_legend_and_reset(qtbot, window) -> None:
    import numpy as np

    window.chart_tabs.setCurrentIndex(1)
    panel = window.risk_profile
    qtbot.waitUntil(lambda: panel.result is not None and not panel.is_busy(), timeout=20_000)
    chart = panel.chart
    result = panel.result
    assert result.after is None  # the book as booked: no drafts
    assert result.before["pnl"].size == 161
    # the legend sits outside the plot, naming the visible curves
    assert any("P&amp;L before" in t or "P&L before" in t for t in chart.legend.texts())
    # values on hover: the read-out interpolates every visible curve at the cursor
    x = result.spot * 1.05
    chart.crosshair.show_at(x)
    text = chart.frame.legend_text()  # the read-out: the legend line while hovering
    want = np.interp(x, result.before["prices"], result.before["pnl"])
    assert "P&L before" in text and window.number_format().money(want) in text
    # a zoomed chart comes back with Reset view
    chart.plot.plotItem.setXRange(result.spot, result.spot * 1.01, padding=0)
    chart.reset.click()
    lo, hi = chart.plot.plotItem.vb.viewRange()[0]
    assert lo <= result.before["prices"][0] * 1.001 and hi >= result.before["prices"][-1] * 0.999


def test_largest_size_of_a_draft_that_fits_free_margin(qtbot, window) -> None:
    from workstation.core.suggest import HedgeProblem
    from workstation.core.whatif_session import WhatIfSession

    panel = open_whatif(qtbot, window)
    panel.add_line("+1 BTC-25DEC26-100000-C")
    settle(qtbot, panel)
    panel.box.fit_button.click()
    qtbot.waitUntil(lambda: not panel.fit_job.is_busy() and "largest" in panel.box.fit_label.text(), timeout=60_000)
    text = panel.box.fit_label.text()
    q = float(text.split(": ")[1].split(" ")[0].replace(",", ""))
    assert q > 1 and abs(q * 10 - round(q * 10)) < 1e-6  # whole 0.1 BTC lots
    book = repository.load_portfolio(window.workspace.db)
    problem = HedgeProblem(WhatIfSession(book, f"account:{ACCOUNT}"), ACCOUNT, panel.result.trades[0],
                           liquidity=panel.box.liquidity())
    assert problem.free_margin(q) >= 0 > problem.free_margin(q + 0.1)
