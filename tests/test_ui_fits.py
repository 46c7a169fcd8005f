"""What a trader sees at 1280 x 760: names, dates and notes in full (never clipped), tooltips that
give the figures, true minus signs, axis titles, a shortcut per tab."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import open_window, wait_idle

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def small(qtbot, demo_db_path: Path, ui_settings):
    """The window on the demo book at 1280 x 760 with the tree dock the window gives it there."""
    from PySide6.QtCore import Qt

    from workstation.ui.scope_tree import dock_width
    from workstation.ui.workspace import Workspace

    win = open_window(qtbot, Workspace.from_database(demo_db_path), ui_settings, (1280, 760))
    win.resizeDocks([win.tree_dock], [dock_width(1280)], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: not win.is_busy(), timeout=20_000)
    yield win
    wait_idle(qtbot, win.workspace)
    if win.workspace.db is not None:
        win.workspace.db.close()


def _unclipped_labels(tree) -> list[tuple[str, int, int]]:
    """(label, room, needed) of every tree row whose label does not fit column 0."""
    from PySide6.QtWidgets import QStyle

    model = tree.tree_model
    fm = tree.fontMetrics()
    margin = tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
    icon = tree.iconSize().width() if tree.iconSize().width() > 0 else 16
    bad = []
    for node in model.nodes():
        idx = model.index_of(node.scope)
        label = idx.data()
        room = tree.visualRect(idx).width()
        needed = fm.horizontalAdvance(label) + icon + 4 * margin
        if needed > room:
            bad.append((label, room, needed))
    return bad


def test_tree_shows_each_account_whole_at_1280(qtbot, small) -> None:
    from PySide6.QtCore import Qt

    from workstation.store import repository

    book = repository.load_portfolio(small.workspace.db)
    model = small.tree.tree_model
    for acc in book.accounts:
        idx = model.index_of(f"account:{acc.id}")
        assert idx.data() == acc.id  # short: the id every table uses
        assert idx.data(Qt.ItemDataRole.ToolTipRole).startswith(acc.name)  # the full name, first
    assert _unclipped_labels(small.tree) == []
    # the widest tab (What-if) does not squeeze the dock back to clipping
    small.show_whatif()
    qtbot.waitUntil(lambda: not small.whatif.is_busy(), timeout=20_000)
    qtbot.wait(50)
    assert _unclipped_labels(small.tree) == []
    assert small.centralWidget().minimumSizeHint().width() <= 1280 - small.tree_dock.width()


def test_date_label_never_clipped_at_1280(qtbot, small) -> None:
    panel = small.whatif
    small.show_whatif()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    chart = panel.chart
    weekly = next(d for d, label in chart.stops if "weekly" in label)
    chart.set_days(weekly)
    qtbot.wait(50)
    label = chart.date_label
    texts = label.texts()
    assert texts[0].startswith(f"+{weekly:.0f} d · ") and "weekly expiry" in texts[0]
    assert label.text() in texts and label.text().startswith(f"+{weekly:.0f} d")
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
    assert label.toolTip() == texts[0]  # the whole wording, whatever is shown


def test_wording_label_picks_the_longest_that_fits(qtbot) -> None:
    from workstation.ui.wording_label import WordingLabel

    label = WordingLabel("+2 d · Fri 27 Nov (weekly expiry)", "+2 d · Fri 27 Nov", "+2 d")
    qtbot.addWidget(label)
    label.show()
    fm = label.fontMetrics()
    for text in label.texts():
        label.resize(fm.horizontalAdvance(text) + 4, 20)
        assert label.text() == text
    label.resize(5, 20)
    assert label.text() == "+2 d"  # the shortest, when nothing fits
    assert label.minimumSizeHint().width() >= fm.horizontalAdvance("+2 d")


def test_liquidation_note_fits_and_rows_explain_with_price(qtbot, small) -> None:
    note = small.liquidation.note
    assert note.fontMetrics().horizontalAdvance(note.text()) <= note.contentsRect().width()
    assert "amber under 30 %, red under 15 %" in note.text()
    from workstation.ui.formatting import NumberFormat
    from workstation.ui.liquidation import liquidation_rows

    rows = liquidation_rows({"BTC": {"down_pct": -12.5, "down_price": 79_840.0, "up_pct": None, "up_price": None},
                             "all": {"down_pct": -10.0, "up_pct": None}}, NumberFormat())
    tip = rows[0]["_tip"]
    assert "falling: equity meets maintenance margin after −12.5 % at 79,840.00" in tip
    assert "rising: no liquidation" in tip


def test_card_tooltips_give_the_engine_figures(small) -> None:
    r = small.dashboard.report()
    f = small.dashboard._fmt
    assert f.money(r["maintenance_margin"], unit=True) in small.dashboard.usage.toolTip()
    assert f.money(r["equity"], unit=True) in small.dashboard.usage.toolTip()
    assert f.money(r["standalone_initial_margin"], unit=True) in small.dashboard.initial.toolTip()
    room = f.money(r["equity"] - r["maintenance_margin"], unit=True)
    assert f"Equity is {room} above it" in small.dashboard.maintenance.toolTip()


def test_text_cells_carry_their_full_text_as_tooltip(small) -> None:
    from PySide6.QtCore import Qt

    model = small.overview.model
    names = [model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole) for row in range(model.rowCount())]
    assert "Deribit options book (coin-margined PM)" in " ".join(n or "" for n in names)


def test_size_label_uses_the_true_minus(qtbot, small) -> None:
    from workstation.ui.formatting import MINUS, significant

    assert significant(-273_740.0) == f"{MINUS}273,740" and significant(-3.000038) == f"{MINUS}3.000038"
    panel = small.whatif
    small.show_whatif()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    panel.add_line("-3 BTC-PERPETUAL")
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    panel.box.view.selectRow(0)
    assert "-" not in panel.box.size_label.text() and MINUS in panel.box.size_label.text()


def test_history_time_axis_says_month_and_zone() -> None:
    import numpy as np

    from workstation.ui.history_chart import time_span

    # 2026-11-18 08:00 UTC and 2026-11-30 07:00 UTC
    times = np.array([1_794_988_800.0, 1_796_022_000.0])
    assert time_span(times) == "time, UTC (18 Nov – 30 Nov 2026)"
    assert time_span(np.zeros(0)) == "time, UTC"


def test_every_tab_has_a_shortcut(small) -> None:
    view = next(a for a in small.menuBar().actions() if a.text().replace("&", "") == "View").menu()
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString() for a in view.actions()}
    assert shortcuts["Stress tests"] == "Ctrl+Shift+S"
    assert len({shortcuts[k] for k in ("Book", "What-if / hedge", "Accounts overview", "Margin history",
                                       "Stress tests")}) == 5
    next(a for a in view.actions() if a.text().replace("&", "") == "Stress tests").trigger()
    assert small.tabs.currentIndex() == small.stress_tab.index()
