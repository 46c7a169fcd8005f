"""The window shows the venue's figures beside ours: positions table columns (shown only when a
position has venue figures) and the dashboard's account line."""

from __future__ import annotations

import json

import pytest
from shared_paths import EXAMPLES

from workstation.core.portfolio_io import loads_portfolio
from workstation.core.report import build_report
from workstation.ui.dashboard import Dashboard
from workstation.ui.formatting import NumberFormat
from workstation.ui.position_table import position_table
from workstation.ui.positions import PositionsPanel
from workstation.ui.venue_columns import VENUE_KEYS, venue_cells, venue_line

FAQ = EXAMPLES / "venues" / "binance-usdm-faq-cross.portfolio.json"
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def _book(with_figures: bool = True):
    doc = json.loads(FAQ.read_text())
    acc = doc["accounts"][0]
    if with_figures:
        acc["venue_figures"] = {"maintenance_margin": 427_000.0, "initial_margin": 1_000_000.0,
                                "currency": "USDT", "as_of": "2021-03-19T00:00:00Z"}
        acc["positions"][0]["venue_figures"] = {"maintenance_margin": 71_000.0, "liquidation_price": 26_000.0,
                                                "initial_margin": 175_000.0, "currency": "USDT"}
    return loads_portfolio(json.dumps(doc))


def _cell(panel: PositionsPanel, row: int, key: str) -> str:
    model = panel.model
    return model.data(model.index(row, model.column_index(key)))


def test_venue_columns_show_venue_ours_and_the_differences(qtbot) -> None:
    book = _book()
    report = build_report(book, "account:bn")
    panel = PositionsPanel()
    qtbot.addWidget(panel)
    panel.resize(1600, 400)
    panel.show()
    panel.set_table(position_table(report, book, {}))
    header = panel.view.horizontalHeader()
    assert all(not header.isSectionHidden(panel.model.column_index(k)) for k in VENUE_KEYS)
    row = panel.model.row_of("bn/btcusdt")
    btc = next(p for p in report["positions"] if p["id"] == "btcusdt")
    ours_mm = btc["venue_diff"]["computed"]["maintenance_margin"]  # 71,200.81 (the FAQ's)
    assert _cell(panel, row, "venue_mm") == "71,000"
    assert _cell(panel, row, "ours_mm") == f"{ours_mm:,.0f}"
    assert _cell(panel, row, "venue_mm_diff") == f"{ours_mm - 71_000:,.0f}"
    assert _cell(panel, row, "venue_mm_pct") == f"+{100 * (ours_mm / 71_000 - 1):.1f} %"
    assert _cell(panel, row, "venue_liq") == "26,000.00"
    assert _cell(panel, row, "ours_liq") == f"{btc['venue_diff']['computed']['liquidation_price']:,.2f}"
    eth = panel.model.row_of("bn/ethusdt")  # no venue figures: blanks
    assert _cell(panel, eth, "venue_mm") == "\u2014" and _cell(panel, eth, "venue_mm_diff") == "\u2014"


def test_venue_columns_hide_without_venue_figures(qtbot) -> None:
    book = _book(with_figures=False)
    panel = PositionsPanel()
    qtbot.addWidget(panel)
    panel.set_table(position_table(build_report(book, "account:bn"), book, {}))
    header = panel.view.horizontalHeader()
    assert all(header.isSectionHidden(panel.model.column_index(k)) for k in VENUE_KEYS)
    with_figures = _book()
    panel.set_table(position_table(build_report(with_figures, "account:bn"), with_figures, {}))
    assert not header.isSectionHidden(panel.model.column_index("venue_im"))


def test_dashboard_line(qtbot) -> None:
    book = _book()
    report = build_report(book, "account:bn")
    board = Dashboard()
    qtbot.addWidget(board)
    board.show()
    board.set_report(report)
    text = board.venue.text()
    assert board.venue.isVisible()
    assert text.startswith("Venue's figures (as of 2021-03-19 00:00, reported in USDT): IM 1,000,000 USD")
    d = report["venue_diff"]
    assert f"ours − venue +{d['initial_margin']:,.0f} (+{d['initial_margin_pct']:.1f} %)" in text
    assert f"MM 427,000 USD, ours − venue +{d['maintenance_margin']:,.0f}" in text
    board.set_report(build_report(_book(with_figures=False), "account:bn"))
    assert not board.venue.isVisible() and board.venue.text() == ""


def test_venue_helpers_without_figures() -> None:
    assert venue_line(None, NumberFormat()) == ""
    assert set(venue_cells({"id": "x"}).values()) == {None}


def test_window_on_an_imported_venue_dump(qtbot, tmp_path, ui_settings) -> None:
    """Import Binance's FAQ positions and balance (ccxt), open the window: the account shows the
    venue line and the venue columns, with our MM equal to the venue's."""
    from pathlib import Path

    from conftest import open_window, wait_idle

    from workstation.store import repository
    from workstation.store.db import open_db
    from workstation.store.imports import import_file
    from workstation.ui.workspace import Workspace

    dumps = Path(__file__).parent / "data" / "venue_dumps"
    doc = json.loads(FAQ.read_text())
    doc["accounts"][0]["positions"] = []
    db = open_db(tmp_path / "w.db")
    try:
        repository.save_portfolio(db, loads_portfolio(json.dumps(doc)))
        import_file(db, "ccxt-positions", dumps / "binance-faq-cross-positions.json", account="bn", replace=True)
        import_file(db, "ccxt-balance", dumps / "binance-faq-balance.json", account="bn", replace=True)
    finally:
        db.close()
    workspace = Workspace.from_database(tmp_path / "w.db")
    win = open_window(qtbot, workspace, ui_settings, (1280, 760))
    win.tree.select_scope("account:bn")
    qtbot.waitUntil(lambda: workspace.view is not None and workspace.view.scope == "account:bn", timeout=20_000)
    wait_idle(qtbot, workspace)
    assert win.dashboard.venue.isVisible() and "MM 427,713 USD" in win.dashboard.venue.text()
    panel = win.positions
    assert not panel.view.horizontalHeader().isSectionHidden(panel.model.column_index("venue_mm"))
    row = panel.model.row_of("bn/BTC/USDT:USDT")
    assert _cell(panel, row, "venue_mm") == _cell(panel, row, "ours_mm") == "71,201"
    assert _cell(panel, row, "venue_liq") == "26,316.89"
    win.save_layout()
    workspace.db.close()
