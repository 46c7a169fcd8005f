"""Main window fixes of issues 11 and 14: past liquidation in red, the pool headline, units,
the accounts overview, the margin history, the charts' legend / read-out / reset, 1280 x 760."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import open_window, wait_idle
from PySide6.QtCore import Qt

from workstation.core.model import Account, Position
from workstation.core.report import build_report
from workstation.store import repository
from workstation.ui.formatting import PAST_LIQUIDATION
from workstation.ui.table_model import RECORD_ROLE

ROOT = Path(__file__).parents[1]
UNDERWATER = "stressed"


def settle(qtbot, win) -> None:
    wait_idle(qtbot, win.workspace)
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=20_000)


def select(qtbot, win, scope: str) -> None:
    assert win.tree.select_scope(scope)
    qtbot.waitUntil(lambda: win.workspace.view is not None and win.workspace.view.scope == scope, timeout=20_000)
    settle(qtbot, win)


def engine(win, scope: str) -> dict:
    return build_report(repository.load_portfolio(win.workspace.db), scope)


@pytest.fixture
def underwater(qtbot, window):
    """The demo window plus an account past liquidation: 50,000 USDT against a long BTC perpetual
    bought 55,000 above the market: equity = 50,000 + (S - (S + 55,000)) = -5,000 USD."""
    ws = window.workspace
    price = ws.portfolio.market["BTC"].price
    repository.add_account(ws.db, Account(
        id=UNDERWATER, name="Stressed", venue="binance", margin_mode="cross", profile="binance-usdm",
        collateral={"USDT": 50_000.0},
        positions=[Position(id="BTCUSDT", kind="perpetual", underlying="BTC", quantity=1.0,
                            entry_price=price + 55_000.0, settlement="linear")]))
    ws.load()
    settle(qtbot, window)
    select(qtbot, window, f"account:{UNDERWATER}")
    return window


# -- past liquidation -------------------------------------------------------------------------
def test_an_account_past_liquidation_is_red_in_the_tree(underwater) -> None:
    win = underwater
    report = engine(win, f"account:{UNDERWATER}")
    assert report["equity"] == pytest.approx(-5_000.0, rel=1e-9)  # by hand, see the fixture
    assert report["margin_usage"] is None  # the engine gives no usage past zero equity
    model = win.tree.tree_model
    idx = model.index_of(f"account:{UNDERWATER}")
    red = win.tree.tree_model._theme.red
    for col in range(3):
        cell = model.index(idx.row(), col, idx.parent())
        assert cell.data(Qt.ItemDataRole.ForegroundRole).color().name() == red
    usage = model.index(idx.row(), 2, idx.parent())
    assert usage.data() == "past liq."
    assert PAST_LIQUIDATION.upper() in idx.data(Qt.ItemDataRole.ToolTipRole)
    dot = idx.data(Qt.ItemDataRole.DecorationRole).pixmap(14, 14).toImage()
    assert dot.pixelColor(7, 2).name() == red  # the disc is red (not the grey of "no usage")


def test_the_dashboard_and_gauge_say_past_liquidation(underwater) -> None:
    d = underwater.dashboard
    red = d._theme.red
    assert d.state() == "past"
    assert d.usage.value.text() == PAST_LIQUIDATION
    assert d.usage.colour() == red
    assert d.equity.colour() == red and d.equity.value.text().startswith("\u2212")
    assert d.gauge.past()
    image = d.gauge.grab().toImage()
    assert image.pixelColor(image.width() // 4, 7).name() == red  # full red bar, not empty


def test_overview_row_of_an_account_past_liquidation_is_red(underwater) -> None:
    model = underwater.overview.model
    row = next(r for r in range(model.rowCount()) if model.record(r)["scope"] == f"account:{UNDERWATER}")
    usage_col = next(i for i, c in enumerate(model.columns) if c.key == "margin_usage")
    assert model.index(row, usage_col).data() == PAST_LIQUIDATION
    assert model.index(row, 0).data(Qt.ItemDataRole.ForegroundRole).name() == underwater.tree.tree_model._theme.red


# -- pool headline ----------------------------------------------------------------------------
def test_pool_headline_leads_with_what_pooling_saves(qtbot, window) -> None:
    book = repository.load_portfolio(window.workspace.db)
    scope = f"pool:{book.pools[0].id}"
    select(qtbot, window, scope)
    report = engine(window, scope)
    saving = report["segregated_initial_margin"] - report["initial_margin"]
    card = window.dashboard.offset
    fmt = window.number_format()
    assert card.title.text() == ("POOLING SAVES" if saving >= 0 else "POOLING COSTS")
    assert card.value.text().startswith(fmt.money(abs(saving), unit=True))
    assert card.colour() == (window.dashboard._theme.calm if saving > 0 else window.dashboard._theme.red)
    assert fmt.money(report["offset"], unit=True) in card.note.text()  # the offset comes second


def test_pooling_that_costs_is_red_and_says_so(qtbot) -> None:
    from workstation.ui.dashboard import Dashboard
    from workstation.ui.theme import LIGHT

    d = Dashboard()
    qtbot.addWidget(d)
    d.set_report({"scope": "pool:p", "equity": 1000.0, "initial_margin": 300.0, "maintenance_margin": 200.0,
                  "margin_usage": 0.2, "standalone_initial_margin": 400.0, "offset": 100.0,
                  "segregated_initial_margin": 250.0, "collateral_value": 1000.0})
    assert d.offset.title.text() == "POOLING COSTS"
    assert d.offset.value.text().startswith("50 USD")  # 300 pooled - 250 apart
    assert d.offset.colour() == LIGHT.red


# -- units ------------------------------------------------------------------------------------
def test_positions_say_their_units(qtbot, window) -> None:
    select(qtbot, window, "account:deribit-pm")
    model = window.positions.model
    book = repository.load_portfolio(window.workspace.db)
    acc = book.account("deribit-pm")
    report = engine(window, "account:deribit-pm")
    by_id = {p["id"]: p for p in report["positions"]}
    size_col, coin_col = model.column_index("quantity"), model.column_index("coin_size")
    for pos in acc.positions:
        row = model.row_of(f"deribit-pm/{pos.id}")
        record = model.record(row)
        spot = book.market[pos.underlying].price
        text = model.index(row, size_col).data()
        if pos.kind in ("perpetual", "future") and pos.settlement == "inverse":
            assert text.endswith(" USD")  # USD notional of contracts
            # coin equivalent: USD notional / mark (the future's mark is its forward)
            assert record["coin_size"] == pytest.approx(pos.quantity / by_id[pos.id]["mark_price"], rel=1e-12)
            assert "USD notional" in model.index(row, size_col).data(Qt.ItemDataRole.ToolTipRole)
        else:
            assert text.endswith(f" {pos.underlying}")
            assert record["coin_size"] == pytest.approx(pos.quantity, rel=1e-15)
        assert model.index(row, coin_col).data() != ""
        assert record["delta_base"] == pytest.approx(by_id[pos.id]["delta"] * spot, rel=1e-12)
        assert record["gamma_pct"] == pytest.approx(by_id[pos.id]["gamma"] * spot / 100, rel=1e-12)
        mark = model.index(row, model.column_index("mark_price")).data()
        unit = pos.underlying if pos.kind == "option" and pos.settlement == "inverse" else "USD"
        assert mark.endswith(f" {unit}")
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    for wanted in ("Delta\n(coin)", "Delta\n(USD)", "Gamma 1 %\n(coin)", "Vega\n(USD/vol pt)",
                   "Theta\n(USD/day)", "Value\n(USD)", "P&L\n(USD)"):
        assert wanted in headers


def test_no_figure_is_cut_in_the_positions_table(qtbot, window) -> None:
    from PySide6.QtGui import QFontMetrics

    panel = window.positions
    header, metrics = panel.view.horizontalHeader(), QFontMetrics(panel.view.font())
    for row in range(panel.model.rowCount()):
        for col in range(panel.model.columnCount()):
            if header.isSectionHidden(col):  # e.g. the venue columns of a book without venue figures
                continue
            text = panel.model.index(row, col).data()
            assert metrics.horizontalAdvance(text) + 6 <= header.sectionSize(col), (text, col)


# -- sorting on 10,000 rows -------------------------------------------------------------------
def big_table(n: int = 10_000, seed: int = 3):
    from workstation.ui.position_table import PositionTable

    rng = np.random.default_rng(seed)
    unds = np.array(["BTC", "ETH", "SOL"], dtype=object)[rng.integers(0, 3, n)]
    kinds = np.array(["option", "future", "perpetual"], dtype=object)[rng.integers(0, 3, n)]
    text = {"key": np.array([f"a/p{i}" for i in range(n)], dtype=object), "id": np.array([f"p{i}" for i in range(n)],
            dtype=object), "account": np.full(n, "a", dtype=object), "instrument": np.array([f"X{i:05d}" for i in
            rng.permutation(n)], dtype=object), "kind": kinds, "underlying": unds,
            "settlement": np.full(n, "linear", dtype=object), "size_unit": unds, "mark_unit": np.full(n, "USD",
            dtype=object)}
    num = {k: rng.normal(0, 1e4, n) for k in ("quantity", "coin_size", "mark_price", "market_value",
                                              "unrealized_pnl", "delta", "delta_base", "coin_delta", "gamma",
                                              "gamma_pct", "vega", "theta", "standalone_margin",
                                              "marginal_margin", "component_margin", "share")}
    num["component_margin"][::97] = np.nan  # blanks sort last either way
    from workstation.ui.venue_cells import VENUE_KEYS

    num.update({k: np.full(n, np.nan) for k in VENUE_KEYS})  # no venue figures
    return PositionTable(text=text, num=num)


def test_sorting_ten_thousand_rows_happens_in_the_model(qtbot, monkeypatch) -> None:
    from workstation.ui import positions_model, table_model
    from workstation.ui.positions import PositionsPanel

    panel = PositionsPanel()
    qtbot.addWidget(panel)
    assert panel.view.model() is panel.model  # no proxy model between view and data
    calls = []
    real = table_model.format_value
    monkeypatch.setattr(positions_model, "format_value", lambda *a: calls.append(1) or real(*a))
    table = big_table()
    panel.set_table(table)
    columns = len(panel.model.columns)
    assert len(calls) <= columns * (positions_model.SAMPLE + 5)  # widths from a bounded sample
    col = panel.model.column_index("component_margin")
    panel.view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    values = table.num["component_margin"][panel.model._rows]
    n_finite = int(np.count_nonzero(~np.isnan(table.num["component_margin"])))
    assert np.all(np.diff(values[:n_finite]) <= 0) and np.isnan(values[n_finite:]).all()
    panel.view.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    values = table.num["component_margin"][panel.model._rows]
    assert np.all(np.diff(values[:n_finite]) >= 0) and np.isnan(values[n_finite:]).all()
    panel.view.selectRow(5)
    key = panel.current_key()
    panel.view.sortByColumn(panel.model.column_index("instrument"), Qt.SortOrder.AscendingOrder)
    names = [panel.model.index(r, 0).data() for r in range(0, 10_000, 500)]
    assert names == sorted(names)
    assert panel.current_key() == key  # the selection follows its position
    panel.underlying_box.setCurrentIndex(panel.underlying_box.findData("ETH"))
    assert panel.model.rowCount() == int((table.text["underlying"] == "ETH").sum())


# -- accounts overview ------------------------------------------------------------------------
def test_overview_has_one_row_per_account_and_pool_with_engine_figures(qtbot, window) -> None:
    from workstation.ui.accounts_overview import nearest_liquidation

    book = repository.load_portfolio(window.workspace.db)
    model = window.overview.model
    scopes = [f"pool:{p.id}" for p in book.pools] + [f"account:{a.id}" for a in book.accounts]
    assert [model.record(r)["scope"] for r in range(model.rowCount())] == scopes
    for r, scope in enumerate(scopes):
        report, record = engine(window, scope), model.record(r)
        for key in ("equity", "initial_margin", "maintenance_margin", "margin_usage"):
            assert record[key] == pytest.approx(report[key], rel=1e-9), key
        assert record["free_margin"] == pytest.approx(report["equity"] - report["initial_margin"], rel=1e-9)
        und, price, pct = nearest_liquidation(report["liquidation"])
        assert (record["nearest_underlying"], record["nearest_price"], record["nearest_pct"]) == (und, price, pct)
    window.tabs.setCurrentWidget(window.overview)
    window.overview.view.doubleClicked.emit(model.index(len(scopes) - 1, 0))
    qtbot.waitUntil(lambda: window.workspace.scope == scopes[-1], timeout=20_000)
    assert window.tabs.currentWidget() is window.main_split


def test_nearest_liquidation_is_the_smallest_move() -> None:
    from workstation.ui.accounts_overview import nearest_liquidation

    liq = {"BTC": {"down_pct": -40.0, "down_price": 60.0, "up_pct": None, "up_price": None},
           "ETH": {"down_pct": -55.0, "down_price": 1.0, "up_pct": 22.5, "up_price": 3.0},
           "all": {"down_pct": -5.0, "up_pct": None}}  # "all" is not one underlying's price
    assert nearest_liquidation(liq) == ("ETH", 3.0, 22.5)
    assert nearest_liquidation({"all": {"down_pct": None, "up_pct": None}}) == (None, None, None)


# -- margin history ---------------------------------------------------------------------------
def test_history_series_collapse_repeats_and_keep_the_latest() -> None:
    from datetime import UTC, datetime, timedelta

    from workstation.ui.history_data import history_series

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{"recorded_at": t0 + timedelta(hours=h), "base_currency": "USD", "equity": e,
             "initial_margin": 10.0, "maintenance_margin": 5.0, "margin_usage": u}
            for h, e, u in ((2, 100.0, 0.05), (0, 100.0, 0.05), (1, 100.0, 0.05), (3, 50.0, 0.1), (4, 50.0, 0.1))]
    s = history_series("account:a", rows)
    assert s.rows == 5
    np.testing.assert_array_equal(s.figures["equity"], [100.0, 50.0, 50.0])  # changes, and the newest
    assert s.times.tolist() == [(t0 + timedelta(hours=h)).timestamp() for h in (0, 3, 4)]
    many = [{**rows[0], "recorded_at": t0 + timedelta(minutes=m), "equity": float(m)} for m in range(5000)]
    thin = history_series("account:a", many, max_points=500)
    assert len(thin) <= 501 and thin.figures["equity"][-1] == 4999.0


def test_history_tab_shows_the_recorded_figures(qtbot, window) -> None:
    from workstation.store.db import transaction
    from workstation.store.repository import record_history
    from workstation.ui.screenshots import made_up_history

    ws = window.workspace
    scope = "account:deribit-pm"
    with transaction(ws.db):
        for when, report in made_up_history(ws.portfolio, steps=6):
            record_history(ws.db, report, recorded_at=when, as_of=when)
    select(qtbot, window, scope)
    window.tabs.setCurrentWidget(window.history)
    qtbot.waitUntil(lambda: window.history.charts is not None and not window.history.is_busy(), timeout=20_000)
    rows = repository.history(ws.db, scope)
    series = window.history.series
    assert series.scope == scope and series.rows == len(rows)
    xs, ys = window.history.charts.figures.lines["equity"].getData()
    assert ys[-1] == pytest.approx(rows[-1]["equity"], rel=1e-12)
    assert xs[-1] == pytest.approx(rows[-1]["recorded_at"].timestamp())
    assert f"{len(rows):,} records" in window.history.summary.text()


def test_history_of_a_read_only_file_says_why_it_is_empty(qtbot, ui_settings) -> None:
    from workstation.ui.workspace import Workspace

    ws = Workspace.from_file(ROOT / "resources" / "demo" / "demo-portfolio.json")
    win = open_window(qtbot, ws, ui_settings)
    settle(qtbot, win)
    win.tabs.setCurrentWidget(win.history)
    assert "read-only" in win.history.message.text()


# -- charts -----------------------------------------------------------------------------------
def test_chart_legends_sit_outside_the_plot_area(qtbot, window) -> None:
    for chart in window.charts.charts():
        assert chart.plotItem.legend is None  # no legend item drawn inside the plot
    frame = window.charts.frames["curve"]
    assert frame.legend.geometry().bottom() <= frame.plot.geometry().top()
    assert "maintenance margin" in frame.legend_text()


def test_hovering_the_curve_reads_out_the_engine_values(qtbot, window) -> None:
    select(qtbot, window, "account:deribit-pm")
    view = window.workspace.view
    curve, frame = window.charts.curve, window.charts.frames["curve"]
    i = len(view.curve["prices"]) // 3
    x = float(view.curve["prices"][i])
    qtbot.wait(50)
    window.charts.crosshairs["curve"].move_to(x, float(view.curve["equity"][i]))
    fmt = window.number_format()
    text = frame.legend_text()
    assert fmt.price(x).split(".")[0] in text
    assert fmt.money(float(view.curve["equity"][i])) in text
    assert fmt.money(float(view.curve["maintenance_margin"][i])) in text
    assert curve.readout(x, 0.0)[1]["P&L"] == fmt.money(float(view.curve["pnl"][i]))
    window.charts.crosshairs["curve"].hide()
    assert frame.legend_text() == "equity · maintenance margin · P&L"


def test_a_zoomed_chart_can_be_reset(qtbot, window) -> None:
    curve, frame = window.charts.curve, window.charts.frames["curve"]
    assert curve.is_home()
    curve.plotItem.vb.scaleBy((0.3, 0.3))
    assert not curve.is_home()
    frame.reset_button.click()
    assert curve.is_home()
    curve.plotItem.vb.scaleBy((2.0, 0.5))
    window.reset_chart_views()  # View > Reset chart views
    assert curve.is_home()


def test_component_bars_keep_their_labels_readable(qtbot, window) -> None:
    chart = window.charts.components
    total = float(chart.values().sum())
    for height in (1000, 700, 1000):  # a smaller window shows fewer bars, a larger one more again
        window.resize(1600, height)
        qtbot.wait(100)
        shown = chart.shown()
        assert len(shown) <= chart.capacity()
        assert len(shown) == min(len(chart.values()), chart.capacity())
        assert sum(v for _l, v, _c in shown) == pytest.approx(total, rel=1e-12, abs=1e-9)  # "others" sums the rest


# -- size -------------------------------------------------------------------------------------
def test_window_fits_1280_by_760_without_cut_figures(qtbot, window) -> None:
    window.resize(1280, 760)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.height() == 760, timeout=5_000)
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1280
    for card in window.dashboard.cards:
        font = card.value.fitted_font()
        from PySide6.QtGui import QFontMetrics

        assert QFontMetrics(font).horizontalAdvance(card.value.text()) <= card.value.contentsRect().width()
        assert font.pointSizeF() >= card.value.min_point


# -- structure --------------------------------------------------------------------------------
def test_editing_does_not_import_the_main_window() -> None:
    tree = ast.parse((ROOT / "workstation" / "ui" / "editing.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "workstation.ui.main_window" not in imported


def test_ui_modules_are_small_or_say_why() -> None:
    for path in sorted((ROOT / "workstation" / "ui").glob("*.py")):
        text = path.read_text()
        lines = text.count("\n")
        doc = ast.get_docstring(ast.parse(text)) or ""
        assert lines <= 400 or "lines" in doc.lower(), f"{path.name}: {lines} lines, no reason at its top"


def test_chart_job_recomputes_only_the_chosen_underlying(qtbot, window, monkeypatch) -> None:
    from workstation.core import details

    select(qtbot, window, "account:deribit-pm")
    seen = []
    real = details.pnl_curve
    def counted(portfolio, scope, underlying, *args, **kwargs):
        seen.append(underlying)
        return real(portfolio, scope, underlying, *args, **kwargs)

    monkeypatch.setattr(details, "pnl_curve", counted)  # any signature: a TypeError here hung the test
    combo = window.charts.underlying
    other = next(u for u in window.workspace.view.underlyings if u != window.workspace.view.underlying)
    combo.setCurrentText(other)
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.workspace.view.curve is not None and not window.is_busy(), timeout=20_000)
    assert seen == [other]
    assert math.isclose(window.charts.curve.equity.getData()[0][0], window.workspace.view.curve["prices"][0])
    assert window.positions.model.rowCount() > 0 and window.positions.model.index(0, 0).data(RECORD_ROLE)


# -- dialogs: vols in percent, sanity questions, the venue's settlement -----------------------
@pytest.fixture(scope="module")
def demo_book():
    from workstation.core.portfolio_io import read_portfolio

    return read_portfolio(ROOT / "resources" / "demo" / "demo-portfolio.json")


def test_vol_typed_as_55_is_stored_as_055(qtbot, demo_book) -> None:
    from workstation.ui.dialogs import PositionDialog, QuoteDialog

    quote = QuoteDialog(demo_book, "BTC")
    qtbot.addWidget(quote)
    assert quote.vol.text() == f"{demo_book.market['BTC'].vol * 100:.8g}"  # shown in percent
    got = []
    quote.on_submit = got.append
    for typed in ("55", "55 %", "55%"):
        quote.vol.setText(typed)
        quote._on_ok()
        assert got[-1][2] == pytest.approx(0.55, rel=1e-15)
    acc = demo_book.account("deribit-pm")
    option = next(p for p in acc.positions if p.kind == "option")
    dialog = PositionDialog(demo_book, acc.id, option)
    qtbot.addWidget(dialog)
    dialog.vol.setText("55")
    assert dialog.result_value().vol == pytest.approx(0.55, rel=1e-15)
    dialog.vol.setText("0")
    quote.vol.setText("0")
    quote._on_ok()
    assert "percent" in quote.error.text()


def test_a_vol_above_300_percent_is_asked_about(qtbot, demo_book) -> None:
    from workstation.ui.dialogs import QuoteDialog

    dialog = QuoteDialog(demo_book, "BTC")
    qtbot.addWidget(dialog)
    asked, saved = [], []
    dialog.on_submit = saved.append
    dialog.ask = lambda text: asked.append(text) or False  # the user says no
    dialog.vol.setText("350")
    dialog._on_ok()
    assert len(asked) == 1 and "350 %" in asked[0] and not saved  # not saved, dialog stays open
    assert "not accepted" in dialog.error.text()
    dialog.ask = lambda text: asked.append(text) or True  # now yes
    dialog._on_ok()
    assert saved and saved[-1][2] == pytest.approx(3.5, rel=1e-15)
    asked.clear()
    dialog.vol.setText("300")
    dialog._on_ok()
    assert not asked  # 300 % itself is not asked about


def test_a_price_more_than_half_away_is_asked_about(qtbot, demo_book) -> None:
    from workstation.ui.dialogs import PositionDialog, QuoteDialog

    last = demo_book.market["BTC"].price
    dialog = QuoteDialog(demo_book, "BTC")
    qtbot.addWidget(dialog)
    asked = []
    dialog.on_submit = lambda _v: None
    dialog.ask = lambda text: asked.append(text) or False
    dialog.price.setText(str(last * 1.49))
    dialog._on_ok()
    assert not asked
    dialog.price.setText(str(last * 1.51))
    dialog._on_ok()
    assert len(asked) == 1 and "+51 %" in asked[0]
    add = PositionDialog(demo_book, "binance-usdm")
    qtbot.addWidget(add)
    add.ident.setText("t")
    add.kind.setCurrentText("perpetual")
    add.underlying.setCurrentText("BTC")
    add.quantity.setText("1")
    add.entry.setText(str(last * 0.4))
    add.ask = lambda text: asked.append(text) or False
    add._on_ok()
    assert "Entry price" in asked[-1] and "-60 %" in asked[-1]


@pytest.mark.parametrize(("account", "underlying", "kind", "expected"), [
    ("deribit-pm", "BTC", "perpetual", "inverse"), ("deribit-pm", "ETH", "future", "inverse"),
    ("deribit-pm", "BTC", "option", "inverse"), ("binance-usdm", "BTC", "perpetual", "linear"),
    ("bybit-uta", "ETH", "option", "linear"), ("binance-usdm", "BTC", "option", "linear"),
])
def test_add_position_defaults_to_the_venue_settlement(qtbot, demo_book, account, underlying, kind, expected):
    from workstation.ui.dialogs import PositionDialog

    dialog = PositionDialog(demo_book, account)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentText(kind)
    dialog.underlying.setCurrentText(underlying)
    assert dialog.settlement.currentText() == expected
    dialog.settlement.setCurrentText("linear" if expected == "inverse" else "inverse")
    dialog.settlement.activated.emit(dialog.settlement.currentIndex())  # the user's own choice stays
    dialog.kind.setCurrentText("future")
    assert dialog.settlement.currentText() != expected


def test_add_dialog_gives_the_coin_equivalent_of_usd_contracts(qtbot, demo_book) -> None:
    from workstation.ui.dialogs import PositionDialog

    dialog = PositionDialog(demo_book, "deribit-pm")
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentText("perpetual")
    dialog.underlying.setCurrentText("BTC")
    dialog.quantity.setText("-30000")
    assert dialog.form.labelForField(dialog.quantity).text() == "Quantity (USD of contracts)"
    coins = -30000 / demo_book.market["BTC"].price
    assert f"{coins:,.6g} BTC" in dialog.quantity_hint.text()


def test_a_large_book_is_kept_out_of_the_cyclic_collector(demo_book) -> None:
    import gc
    import sys

    from workstation.ui.startup import FREEZE_FROM, freeze_if_large

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_margin import synthetic_book

    gc.unfreeze()
    try:
        freeze_if_large(demo_book)
        assert gc.get_freeze_count() == 0  # a small book: nothing changes
        freeze_if_large(synthetic_book(FREEZE_FROM, "cross"))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_new_figures_are_painted_in_a_turn_of_their_own(qtbot, window) -> None:
    """Setting up new figures paints nothing (the window's updates are off); the paint comes in a
    later turn of the event loop, so input is handled between the two; the charts' job after it."""
    settle(qtbot, window)
    view = window.workspace.view
    view.curve = view.heatmap = None  # as a new scope's view: its curve and heatmap still to compute
    window._on_computed(view)
    assert not window.updatesEnabled()
    # the curve and heatmap are asked for after the paint (their first job imports scipy.special,
    # 200 ms holding the GIL the paint needs); the window counts as busy meanwhile
    assert window.charts_busy() and not window.book._job.is_busy()
    qtbot.waitUntil(window.updatesEnabled, timeout=2_000)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20_000)
    assert view.curve is not None and view.heatmap is not None


def test_the_what_if_code_is_imported_once_the_window_is_idle(qtbot, window, monkeypatch) -> None:
    """The What-if and Stress code is imported on a worker only once the window is idle: imported
    while the charts were computed and painted, it held the GUI thread 55-85 ms."""
    import workstation.ui.window_start as window_start

    settle(qtbot, window)
    started: list[tuple] = []
    monkeypatch.setattr(window_start, "start_worker", lambda _fn, *args, **_kw: started.append(args))
    busy = [True]
    monkeypatch.setattr(window, "is_busy", lambda: busy[0])
    window._preload_later()
    qtbot.wait(4 * window_start.LATER_IMPORT_WAIT_MS)
    assert started == []
    busy[0] = False
    qtbot.waitUntil(lambda: bool(started), timeout=2_000)
    assert started == [(window_start.LATER_MODULES,)]
