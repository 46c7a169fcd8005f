"""A dragged size slider: the figures follow it (results a newer step superseded are shown while
the slider is down, never as final), hidden tables are neither filled nor measured at each step,
and a label's new text does not repaint the whole tab widget (`benchmarks/bench_drag.py`
measures the speed)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget
from test_ui_whatif import ACCOUNT, open_whatif, settle

from workstation.ui import table_model
from workstation.ui.steady_tabs import steady
from workstation.ui.whatif_compare import CompareTabs
from workstation.ui.whatif_compute import run_whatif
from workstation.ui.worker import LatestJob


def gated_jobs(n: int) -> tuple[list[threading.Event], list[threading.Event]]:
    """`n` gates a test opens one by one, and the events the jobs set when they start."""
    return [threading.Event() for _ in range(n)], [threading.Event() for _ in range(n)]


def test_latest_job_hands_superseded_results_to_on_superseded(qtbot) -> None:
    gates, started = gated_jobs(1)

    def job(x: int) -> int:
        if x == 1:
            started[0].set()
            assert gates[0].wait(10)
        return x

    got: list[int] = []
    old: list[int] = []
    plain: list[int] = []
    errors: list[BaseException] = []
    job_new = LatestJob(got.append, errors.append, on_superseded=old.append)
    job_old = LatestJob(plain.append, errors.append)  # without: superseded results are dropped, as ever
    for latest in (job_new, job_old):
        gates[0].clear()
        started[0].clear()
        latest.submit(job, 1)  # runs, held
        assert started[0].wait(10)
        latest.submit(job, 2)  # waits
        latest.submit(job, 3)  # replaces 2, which never starts
        gates[0].set()
        qtbot.waitUntil(lambda j=latest: not j.is_busy(), timeout=10_000)
    assert (got, old, plain, errors) == ([3], [1], [3], [])
    # a result older than one already delivered is never handed over
    job_new._deliver(2, got.append, 2, old.append)
    assert (got, old) == ([3], [1])


def _row(panel, key: str) -> dict:
    return next(r for r in panel.compare_model.records() if r["key"] == key)


def test_a_dragged_slider_shows_superseded_figures_and_ends_on_the_final_size(qtbot, window, monkeypatch) -> None:
    panel = open_whatif(qtbot, window)
    assert panel.add_line("-3 BTC-PERPETUAL") is not None
    settle(qtbot, panel)
    slider = panel.box.size
    assert slider.isEnabled() and slider.value() == 100
    gates, started = gated_jobs(2)
    calls = [0]
    run = panel._run

    def gated(*args):
        i = calls[0]
        calls[0] += 1
        if i < 2:
            started[i].set()
            assert gates[i].wait(10)
        return run(*args)

    monkeypatch.setattr(panel, "_run", gated)
    book, scope, fee = panel.portfolio, panel.scope, panel.box.liquidity()

    def expected(drafts) -> float:
        return run_whatif(book, ACCOUNT, drafts, scope=scope, liquidity=fee).after["initial_margin"]

    slider.setSliderDown(True)
    slider.setSliderPosition(150)  # job A starts (held)
    at_150 = panel.drafts()
    assert started[0].wait(10)
    slider.setSliderPosition(60)  # job B waits behind it: A is superseded
    at_60 = panel.drafts()
    assert at_150[0].position.quantity != at_60[0].position.quantity
    im_150, im_60 = expected(at_150), expected(at_60)
    assert im_150 != pytest.approx(im_60, rel=1e-6)
    gates[0].set()
    # A's figures are shown while the slider is down (the tables follow the drag), but A is not
    # current: the panel says so and Apply stays off
    qtbot.waitUntil(lambda: _row(panel, "initial_margin")["after"] == pytest.approx(im_150, rel=1e-12),
                    timeout=10_000)
    assert started[1].wait(10)
    assert not panel.is_current() and not panel.apply_button.isEnabled()
    assert panel.status.text() == "computing…"
    gates[1].set()
    settle(qtbot, panel)  # B, the newest, is current
    assert _row(panel, "initial_margin")["after"] == pytest.approx(im_60, rel=1e-12)
    slider.setSliderDown(False)  # the release asks once more, for the final size
    settle(qtbot, panel)
    assert panel.result.trades[0].quantity == at_60[0].position.quantity == panel.drafts()[0].position.quantity
    assert _row(panel, "initial_margin")["after"] == pytest.approx(im_60, rel=1e-12)
    assert panel.apply_button.isEnabled()
    # every table was filled from the final result: the Greeks tab shown now holds its rows
    fresh = CompareTabs()
    qtbot.addWidget(fresh)
    fresh.show_result(panel.result, book, False, panel.box.horizon.value(), panel._fmt)
    panel.tabs.setCurrentIndex(1)
    assert panel.tabs.greeks.records() == fresh.greeks.records()
    assert panel.tabs.positions.records() == fresh.positions.records()


def test_a_superseded_result_is_not_shown_when_no_slider_is_dragged(qtbot, window, monkeypatch) -> None:
    panel = open_whatif(qtbot, window)
    before = _row(panel, "initial_margin")["after"]
    gates, started = gated_jobs(1)
    run, calls = panel._run, [0]

    def gated(*args):
        calls[0] += 1
        if calls[0] == 1:
            started[0].set()
            assert gates[0].wait(10)
        return run(*args)

    monkeypatch.setattr(panel, "_run", gated)
    shown: list[float] = []
    show = panel.tabs.show_result
    monkeypatch.setattr(panel.tabs, "show_result", lambda r, *a, **k: (shown.append(r.after["initial_margin"]),
                                                                       show(r, *a, **k)))
    panel.add_line("-3 BTC-PERPETUAL")  # held
    assert started[0].wait(10)
    panel.add_line("+2 BTC-PERPETUAL")  # supersedes it
    gates[0].set()
    settle(qtbot, panel)
    assert len(panel.result.trades) == 2 and len(shown) == 1  # only the newest reached the tables
    assert shown[0] == pytest.approx(_row(panel, "initial_margin")["after"], rel=1e-12) != before


class PaintedArea(QObject):
    """The area (pixels) each watched widget was asked to paint."""

    def __init__(self, *widgets: QWidget) -> None:
        super().__init__()
        self.area = dict.fromkeys(widgets, 0)
        for w in widgets:
            w.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # Qt's name
        if event.type() == QEvent.Type.Paint and obj in self.area:
            self.area[obj] += sum(r.width() * r.height() for r in event.region())
        return False


def test_hidden_tables_are_neither_filled_nor_measured_at_each_step(qtbot, window, monkeypatch) -> None:
    panel = open_whatif(qtbot, window)
    panel.add_line("-3 BTC-PERPETUAL")
    settle(qtbot, panel)
    tabs = panel.tabs
    assert tabs.currentIndex() == 0  # Before / after shown, Greeks and Positions hidden
    greeks_before = tabs.greeks.records()
    read: dict[str, int] = {}  # cells' texts read, by table: a hidden table's only when it is measured
    format_value = table_model.format_value

    def counting(column, value, fmt):
        for name in ("greeks", "positions"):
            if any(column is c for c in getattr(tabs, name).columns):
                read[name] = read.get(name, 0) + 1
        return format_value(column, value, fmt)

    monkeypatch.setattr(table_model, "format_value", counting)  # looked up at each call, unlike a Qt virtual
    # the data of a hidden table changes: Qt 6 re-measures a ResizeToContents column (every row)
    tabs.positions.set_records([dict(r) for r in tabs.positions.records()])
    qtbot.wait(50)
    assert read.get("positions", 0) == 0
    # a step of a drag: the figures only; the hidden tables are left for when they are shown
    slider = panel.box.size
    slider.setSliderDown(True)
    at_150 = run_whatif(panel.portfolio, ACCOUNT, panel.drafts(), scope=panel.scope,
                        liquidity=panel.box.liquidity())
    at_150.after["initial_margin"] *= 1.5  # a figure the table can only have from this result
    panel._show_tables(at_150, quick=True)
    qtbot.wait(50)
    assert _row(panel, "initial_margin")["after"] == at_150.after["initial_margin"]
    assert tabs.greeks.records() == greeks_before
    assert read.get("greeks", 0) == read.get("positions", 0) == 0
    slider.blockSignals(True)  # no release: the tables keep the step's result
    slider.setSliderDown(False)
    slider.blockSignals(False)
    # shown, a table is filled from the last result and its columns fitted to its contents
    tabs.setCurrentIndex(2)
    qtbot.wait(50)
    fresh = CompareTabs()
    qtbot.addWidget(fresh)
    fresh.show_result(at_150, panel.portfolio, False, panel.box.horizon.value(), panel._fmt)
    assert tabs.positions.records() == fresh.positions.records()
    assert read.get("positions", 0) >= tabs.positions.rowCount()
    view = tabs.views["positions"]
    widths = [view.columnWidth(c) for c in range(1, tabs.positions.columnCount())]
    for c in range(1, tabs.positions.columnCount()):
        view.resizeColumnToContents(c)
    assert widths == [view.columnWidth(c) for c in range(1, tabs.positions.columnCount())]


def _tabs(steady_tabs: bool) -> tuple[QWidget, QTabWidget, QWidget, QLabel]:
    host = QWidget()
    tabs = QTabWidget()
    if steady_tabs:
        steady(tabs)
    page = QWidget()
    label = QLabel("short")
    layout = QVBoxLayout(page)
    layout.addWidget(label)
    layout.addWidget(QWidget(), 1)
    tabs.addTab(page, "One")
    QVBoxLayout(host).addWidget(tabs)
    host.resize(600, 400)
    return host, tabs, page, label


def test_a_label_text_repaints_the_label_not_the_tab_widget(qtbot) -> None:
    plain, steady_ = _tabs(False), _tabs(True)
    for host, *_ in (plain, steady_):
        qtbot.addWidget(host)
        host.show()
        qtbot.waitExposed(host)
    for *_, label in (plain, steady_):
        label.setText("first")  # the first request after showing is Qt's: the filter learns the placement
    qtbot.wait(50)
    paints = PaintedArea(plain[1], plain[3], steady_[1], steady_[3])
    plain[3].setText("a much longer text than before")
    steady_[3].setText("a much longer text than before")
    qtbot.wait(100)
    label_area = steady_[3].width() * steady_[3].height()
    assert paints.area[plain[3]] >= label_area and paints.area[steady_[3]] >= label_area
    # Qt's tab widget repaints all of itself (what the filter avoids); the steady one, what lies
    # under the (transparent) label only
    assert paints.area[plain[1]] >= plain[1].width() * plain[1].height() // 2
    assert paints.area[steady_[1]] <= label_area
    # the tab widget is laid out as Qt's: after a resize, a new tab, a wider page
    for host, tabs, _page, label in (plain, steady_):
        host.resize(700, 500)
        tabs.addTab(QWidget(), "A second tab with a long title")
        label.setMinimumWidth(900)
    qtbot.wait(100)
    assert steady_[1].tabBar().geometry() == plain[1].tabBar().geometry()
    assert steady_[2].geometry() == plain[2].geometry()
    assert steady_[0].minimumSizeHint() == plain[0].minimumSizeHint()
    assert steady_[0].minimumSizeHint().width() > 900  # the page's new minimum reached the host


def test_the_chart_follows_a_drag_at_most_ten_times_a_second_and_gets_the_latest(qtbot, window, monkeypatch) -> None:
    """While the size slider is down, figures arriving in a burst ask for the chart once, and once
    more when its interval has passed (a drag that pauses still gets the chart of its latest
    figures); every request is a fast one. Released, the chart is asked at once, in full."""
    from workstation.ui import whatif_actions

    panel = open_whatif(qtbot, window)
    panel.add_line("-3 BTC-PERPETUAL")
    settle(qtbot, panel)
    asked: list[bool] = []
    monkeypatch.setattr(panel, "request_profile", lambda fast=False: asked.append(fast))
    slider = panel.box.size
    slider.blockSignals(True)
    slider.setSliderDown(True)
    panel._chart_asked = 0.0
    for _ in range(5):  # a burst of figures within the interval
        panel._drag_chart()
    assert asked == [True]
    qtbot.wait(round(1000 * whatif_actions.DRAG_CHART_S) + 60)
    assert asked == [True, True]  # the trailing request, for the latest figures
    qtbot.wait(round(1000 * whatif_actions.DRAG_CHART_S) + 60)
    assert asked == [True, True]  # nothing new arrived: no more requests
    slider.setSliderDown(False)
    slider.blockSignals(False)
    panel._on_result(panel.result)  # the release's result
    assert asked == [True, True, False]
