"""The main window on the demo database: tree, dashboard, tables, charts, editing."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import open_window, wait_idle
from PySide6.QtCore import Qt

from workstation.core.report import build_report
from workstation.store import repository
from workstation.ui.scope_tree import SCOPE_ROLE
from workstation.ui.table_model import RECORD_ROLE, SORT_ROLE

# The offscreen platform warns whenever a shown window gets size constraints; not ours to fix.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def tree_scopes(win) -> dict[str, str]:
    """scope -> name shown, for every node of the accounts and pools tree."""
    model = win.tree.tree_model
    return {n.scope: n.name for n in model.nodes()}


def settle(qtbot, win) -> None:
    """Wait for the figures and for the curve and heatmap (a second job)."""
    wait_idle(qtbot, win.workspace)
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=20_000)


def select(qtbot, win, scope: str) -> None:
    assert win.tree.select_scope(scope)
    qtbot.waitUntil(lambda: win.workspace.view is not None and win.workspace.view.scope == scope,
                    timeout=20_000)
    settle(qtbot, win)


def engine_report(win, scope: str) -> dict:
    return build_report(repository.load_portfolio(win.workspace.db), scope)


def test_window_opens_on_demo_db_and_lists_accounts(window, demo_db_path: Path) -> None:
    assert window.windowTitle() == "Margin Workstation"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "View", "Help"]
    file_actions = [a.text().replace("&", "") for a in window.menuBar().actions()[0].menu().actions()]
    for wanted in ("Open portfolio…", "Import…", "Export…", "Quit"):
        assert wanted in file_actions
    book = repository.load_portfolio(window.workspace.db)
    shown = tree_scopes(window)
    assert len(book.accounts) >= 2
    for acc in book.accounts:
        assert shown[f"account:{acc.id}"] == (acc.name or acc.id)
    for pool in book.pools:
        assert f"pool:{pool.id}" in shown
    assert str(demo_db_path) in window.source_label.text()
    assert book.as_of.strftime("%Y-%m-%d") in window.as_of_label.text()
    assert window.timing_label.text().startswith("recomputed in")


def test_tree_shows_equity_and_usage_from_the_engine(window) -> None:
    model = window.tree.tree_model
    for node in model.nodes():
        report = engine_report(window, node.scope)
        assert node.equity == pytest.approx(report["equity"], rel=1e-9)
        assert node.usage == pytest.approx(report["margin_usage"], rel=1e-9)
        idx = model.index_of(node.scope)
        assert idx.data(SCOPE_ROLE) == node.scope
        usage_text = model.index(idx.row(), 2, idx.parent()).data()
        assert usage_text.endswith("%")


@pytest.mark.parametrize("kind", ["account", "pool"])
def test_selecting_a_node_updates_the_dashboard(qtbot, window, kind: str) -> None:
    book = repository.load_portfolio(window.workspace.db)
    scopes = [f"account:{a.id}" for a in book.accounts] if kind == "account" else [
        f"pool:{p.id}" for p in book.pools]
    scope = scopes[-1]
    select(qtbot, window, scope)
    report = engine_report(window, scope)
    shown = window.dashboard.report()
    assert shown["scope"] == scope
    for key in ("equity", "initial_margin", "maintenance_margin", "margin_usage", "offset",
                "standalone_initial_margin", "collateral_value"):
        assert shown[key] == pytest.approx(report[key], rel=1e-9, abs=1e-9), key
    fmt = window.number_format()
    assert window.dashboard.equity.value.text() == fmt.money(report["equity"], unit=True)
    assert window.dashboard.initial.value.text() == fmt.money(report["initial_margin"], unit=True)
    free = report["equity"] - report["initial_margin"]
    assert window.dashboard.free.value.text() == fmt.money(free, unit=True)
    assert window.dashboard.gauge.usage() == pytest.approx(report["margin_usage"])
    if kind == "pool":
        assert "accounts apart" in window.dashboard.offset.note.text()
    # positions table: one row per position, figures as the engine gives them
    model = window.positions.model
    assert model.rowCount() == len(report["positions"])
    by_id = {(p["account"], p["id"]): p for p in report["positions"]}
    for row in range(model.rowCount()):
        record = model.index(row, 0).data(RECORD_ROLE)
        figures = by_id[(record["account"], record["id"])]
        for key in ("component_margin", "standalone_margin", "delta", "market_value"):
            assert record[key] == pytest.approx(figures[key], rel=1e-9, abs=1e-12)
        col = model.column_index("component_margin")
        assert model.index(row, col).data() == fmt.money(figures["component_margin"])
    # liquidation panel: one row per underlying plus "all"
    liq_rows = window.liquidation.model.records()
    assert [r["key"] for r in liq_rows] == [*[k for k in report["liquidation"] if k != "all"], "all"]
    # charts show the same components
    bars = window.charts.components.values()
    assert sorted(bars.tolist(), reverse=True) == bars.tolist()
    assert sum(p["component_margin"] for p in report["positions"]) + sum(
        report["collateral_components"].values()) == pytest.approx(bars.sum(), rel=1e-9, abs=1e-6)


def test_collateral_table_matches_the_engine(qtbot, window) -> None:
    from workstation.core.details import collateral_lines

    scope = window.workspace.scope
    lines = collateral_lines(repository.load_portfolio(window.workspace.db), scope)
    records = window.collateral.model.records()
    assert [r["asset"] for r in records] == [line["asset"] for line in lines]
    for record, line in zip(records, lines, strict=True):
        assert record["value"] == pytest.approx(line["value"])


def _first_account_with(book, kind: str):
    for acc in book.accounts:
        for pos in acc.positions:
            if pos.kind == kind:
                return acc, pos
    raise AssertionError(f"no {kind} in the demo book")


def test_editing_a_position_changes_the_numbers(qtbot, window, monkeypatch) -> None:
    book = repository.load_portfolio(window.workspace.db)
    acc, pos = _first_account_with(book, "perpetual")
    select(qtbot, window, f"account:{acc.id}")
    before = window.dashboard.report()["initial_margin"]

    def fill_and_ok(dialog) -> bool:
        dialog.quantity.setText(str(pos.quantity * 3))
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", fill_and_ok)
    record = next(r for r in window.positions.model.records() if r["id"] == pos.id)
    window.editor.edit_position(record)
    wait_idle(qtbot, window.workspace)
    saved = repository.load_portfolio(window.workspace.db).account(acc.id)
    assert next(p for p in saved.positions if p.id == pos.id).quantity == pytest.approx(pos.quantity * 3)
    after = window.dashboard.report()
    assert after["initial_margin"] != pytest.approx(before)
    assert after["initial_margin"] == pytest.approx(engine_report(window, f"account:{acc.id}")["initial_margin"])
    assert repository.history(window.workspace.db, f"account:{acc.id}")  # figures recorded
    row = window.positions.model.row_of(f"{acc.id}/{pos.id}")
    qty_col = window.positions.model.column_index("quantity")
    assert window.positions.model.index(row, qty_col).data(SORT_ROLE) == pytest.approx(pos.quantity * 3)


def test_add_and_delete_a_position(qtbot, window, monkeypatch) -> None:
    book = repository.load_portfolio(window.workspace.db)
    acc, perp = _first_account_with(book, "perpetual")
    select(qtbot, window, f"account:{acc.id}")
    count = window.positions.model.rowCount()

    def fill_and_ok(dialog) -> bool:
        dialog.ident.setText("ui-test-perp")
        dialog.kind.setCurrentText("perpetual")
        dialog.underlying.setCurrentText(perp.underlying)
        dialog.settlement.setCurrentText(perp.settlement)
        dialog.quantity.setText("1")
        dialog.entry.setText(str(perp.entry_price))
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", fill_and_ok)
    window.editor.add_position()
    wait_idle(qtbot, window.workspace)
    assert window.positions.model.rowCount() == count + 1
    record = next(r for r in window.positions.model.records() if r["id"] == "ui-test-perp")
    monkeypatch.setattr(window.editor, "confirm", lambda _text: True)
    window.editor.delete_position(record)
    wait_idle(qtbot, window.workspace)
    assert window.positions.model.rowCount() == count
    ids = [p.id for p in repository.load_portfolio(window.workspace.db).account(acc.id).positions]
    assert "ui-test-perp" not in ids


def test_bad_input_keeps_the_dialog_open(qtbot, window, monkeypatch) -> None:
    seen = {}

    def type_garbage(dialog) -> bool:
        dialog.quantity.setText("lots")
        dialog._on_ok()
        seen["error"] = dialog.error.text()
        return False

    monkeypatch.setattr(window.editor, "run_dialog", type_garbage)
    record = window.positions.model.records()[0]
    window.editor.edit_position(record)
    assert "Quantity" in seen["error"]


def test_collateral_quote_and_mode_edits_are_saved(qtbot, window, monkeypatch) -> None:
    book = repository.load_portfolio(window.workspace.db)
    acc = book.accounts[0]
    select(qtbot, window, f"account:{acc.id}")
    asset, amount = next(iter(acc.collateral.items()))
    equity = window.dashboard.report()["equity"]

    def more_collateral(dialog) -> bool:
        dialog.amount.setText(str(amount * 2))
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", more_collateral)
    record = next(r for r in window.collateral.model.records() if r["asset"] == asset)
    window.editor.edit_collateral(record)
    wait_idle(qtbot, window.workspace)
    assert repository.load_portfolio(window.workspace.db).account(acc.id).collateral[asset] == amount * 2
    assert window.dashboard.report()["equity"] > equity

    underlying = window.workspace.underlying
    price = book.market[underlying].price

    def new_price(dialog) -> bool:
        dialog.asset.setCurrentText(underlying)
        dialog.price.setText(str(price * 1.1))
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", new_price)
    window.editor.edit_quote()
    wait_idle(qtbot, window.workspace)
    assert repository.load_portfolio(window.workspace.db).market[underlying].price == pytest.approx(price * 1.1)

    target = next(m for m in ("cross", "portfolio") if m != acc.margin_mode)

    def new_mode(dialog) -> bool:
        dialog.mode.setCurrentText(target)
        dialog._on_ok()
        assert dialog.error.isHidden(), dialog.error.text()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", new_mode)
    window.editor.edit_account_mode()
    wait_idle(qtbot, window.workspace)
    assert repository.load_portfolio(window.workspace.db).account(acc.id).margin_mode == target
    assert target in window.dashboard.subtitle.text()


def test_filters_by_underlying_and_kind(qtbot, window) -> None:
    panel = window.positions
    model = panel.model  # filters and sorts itself: no proxy model
    records = model.records()
    underlying = records[0]["underlying"]
    panel.underlying_box.setCurrentIndex(panel.underlying_box.findData(underlying))
    shown = [model.index(r, 0).data(RECORD_ROLE) for r in range(model.rowCount())]
    assert shown and all(r["underlying"] == underlying for r in shown)
    assert len(shown) == sum(r["underlying"] == underlying for r in records)
    assert panel.count_label.text() == f"{len(shown)} of {len(records)}"
    panel.kind_box.setCurrentIndex(panel.kind_box.findData("spot"))
    assert model.rowCount() == sum(
        r["underlying"] == underlying and r["kind"] == "spot" for r in records)
    panel.underlying_box.setCurrentIndex(0)
    panel.kind_box.setCurrentIndex(0)
    assert model.rowCount() == len(records)


def test_sorting_uses_raw_numbers(window) -> None:
    view, model = window.positions.view, window.positions.model
    col = model.column_index("component_margin")
    view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    values = [model.index(r, col).data(SORT_ROLE) for r in range(model.rowCount())]
    assert values == sorted(values, reverse=True)
    view.sortByColumn(model.column_index("instrument"), Qt.SortOrder.AscendingOrder)
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert names == sorted(names)


def test_layout_and_columns_persist(qtbot, window, ui_settings, demo_db_path) -> None:
    from workstation.ui.main_window import MainWindow
    from workstation.ui.workspace import Workspace

    col = window.positions.model.column_index("gamma")
    window.positions.view.setColumnHidden(col, True)
    window.save_layout()
    again = MainWindow(Workspace.from_file(Path(__file__).parents[1] / "resources/demo/demo-portfolio.json"),
                       ui_settings, lazy_charts=False)
    qtbot.addWidget(again)
    assert again.positions.view.isColumnHidden(col)
    assert not again.positions.view.isColumnHidden(window.positions.model.column_index("delta"))


def test_theme_switch_restyles(qtbot, window) -> None:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from workstation.ui.theme import DARK, LIGHT

    window.set_theme("dark")
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).name() == DARK.window
    assert "#1e2126" in QApplication.instance().styleSheet()
    assert window.charts.components.theme is DARK
    window.set_theme("light")
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).name() == LIGHT.window
    assert window.display.theme == "light"


def test_settings_change_number_format(qtbot, window, monkeypatch) -> None:
    def two_decimals(dialog) -> bool:
        dialog.decimals.setValue(2)
        dialog.thousands.setCurrentIndex(dialog.thousands.findData("space"))
        dialog.currency.setCurrentIndex(dialog.currency.findData("symbol"))
        dialog._on_ok()
        return True

    monkeypatch.setattr(window.editor, "run_dialog", two_decimals)
    window.editor.open_settings()
    report = window.dashboard.report()
    text = window.dashboard.equity.value.text()
    assert text.startswith("$") and "\u2009" in text and text[-3] == "."
    whole = f"{abs(report['equity']):,.2f}".replace(",", "\u2009")
    assert text.endswith(whole)
    assert window.settings.value("display/decimals") in (2, "2")


def test_charts_show_curve_and_heatmap(qtbot, window) -> None:
    book = repository.load_portfolio(window.workspace.db)
    pm = [p for p in book.pools if p.margin_mode == "portfolio"]
    scope = f"pool:{pm[0].id}" if pm else window.workspace.scope
    select(qtbot, window, scope)
    settle(qtbot, window)
    view = window.workspace.view
    curve = window.charts.curve
    xs, ys = curve.equity.getData()
    assert len(xs) == len(view.curve["prices"]) and math.isfinite(float(ys[0]))
    assert curve.spot.isVisible()
    assert curve.spot.value() == pytest.approx(book.market[view.underlying].price)
    if pm:
        assert window.charts.heatmap.pnl().shape == view.heatmap["pnl"].shape


def test_read_only_file_disables_editing(qtbot, ui_settings) -> None:
    from workstation.ui.workspace import Workspace

    demo = Path(__file__).parents[1] / "resources" / "demo" / "demo-portfolio.json"
    ws = Workspace.from_file(demo)
    win = open_window(qtbot, ws, ui_settings)
    assert ws.read_only and "read-only" in win.source_label.text()
    assert not win.positions.add_button.isEnabled()
    assert not any(a.isEnabled() for a in win.edit_actions)
    assert len(tree_scopes(win)) == len(ws.portfolio.accounts) + len(ws.portfolio.pools)


def test_screenshots_are_saved(qtbot, window, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from workstation.ui.screenshots import save_views

    assert window.grab().save(str(tmp_path / "window.png"))
    files = save_views(window, QApplication.instance(), tmp_path / "shots")
    assert {f.name for f in files} >= {"main.png", "main-dark.png", "charts.png"}
    image = QImage(str(tmp_path / "shots" / "main.png"))
    assert (image.width(), image.height()) == (window.width(), window.height())
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)}
    assert len(colours) > 20  # not a blank grab


def test_liquidation_prices_are_marked_on_the_curve(qtbot, window) -> None:
    from workstation.core.report import build_reports

    reports = build_reports(repository.load_portfolio(window.workspace.db))
    found = [(r["scope"], und, liq) for r in reports for und, liq in r["liquidation"].items()
             if und != "all" and (liq["down_price"] is not None or liq["up_price"] is not None)]
    if not found:
        pytest.skip("the demo book has no liquidation price within the searched range")
    scope, underlying, liq = found[0]
    select(qtbot, window, scope)
    combo = window.charts.underlying
    combo.setCurrentText(underlying)
    combo.activated.emit(combo.currentIndex())  # as when the user picks it
    qtbot.waitUntil(lambda: window.workspace.view.underlying == underlying, timeout=20_000)
    settle(qtbot, window)
    curve = window.charts.curve
    marked = curve.markers()  # labelled on the top axis, outside the plot area
    for line, key, pct in ((curve.liq_down, "down_price", "down_pct"), (curve.liq_up, "up_price", "up_pct")):
        if liq[key] is None:
            assert not line.isVisible()
        else:
            assert line.isVisible() and line.value() == pytest.approx(liq[key])
            label = next(k for k, x in marked.items() if k.startswith("liq") and x == pytest.approx(liq[key]))
            assert window.number_format().percent(liq[pct], 0, signed=True) in label
    prices = curve.equity.getData()[0]
    marked = [liq[k] for k in ("down_price", "up_price") if liq[k] is not None]
    assert all(prices.min() <= p <= prices.max() for p in marked)  # the curve reaches them


def test_opening_the_window_records_every_report_in_history(window):
    # every report the app computes is appended to the margin history, one row per scope
    db = window.workspace.db
    scopes = {r["scope"] for r in window.workspace.reports}
    assert scopes == {"account:deribit-pm", "account:binance-usdm", "account:bybit-uta", "pool:all"}
    rows = repository.history(db)
    assert {row["scope"] for row in rows} == scopes
    pool = [row for row in rows if row["scope"] == "pool:all"][-1]
    expected = next(r for r in window.workspace.reports if r["scope"] == "pool:all")
    assert pool["initial_margin"] == pytest.approx(expected["initial_margin"], rel=1e-12)
    assert pool["snapshot_as_of"] == window.workspace.portfolio.as_of  # the book the figures came from


def test_heatmap_colour_bar_returns_after_a_cross_scope(qtbot, window) -> None:
    heat = window.charts.heatmap
    select(qtbot, window, "account:binance-usdm")  # cross margin: no scenario grid
    assert heat.pnl() is None and heat.bar.opacity() == 0.0
    select(qtbot, window, "account:bybit-uta")  # portfolio margin again
    assert heat.pnl() is not None and heat.bar.opacity() == 1.0
    qtbot.wait(50)
    bar_rect = heat.bar.sceneBoundingRect()  # laid out inside the chart, not pushed off its edge
    assert bar_rect.width() > 0 and bar_rect.right() <= heat.sceneRect().right() + 1
    # the worst loss is about 29k USD: the bar is scaled in thousands and says so
    assert heat.bar.axis.tickStrings([-20.0, 0.0, 20.0], 1.0, 10.0) == ["-20k", "0", "20k"]
