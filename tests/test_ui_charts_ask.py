"""The curve and heatmap are asked for after the figures are painted (`BookTab.ask_charts`): an
underlying chosen meanwhile is computed once, not once for the choice and again for the ask."""

from __future__ import annotations

from conftest import wait_idle

from workstation.ui import book_tab


def test_an_underlying_chosen_before_the_ask_is_computed_once(qtbot, window, monkeypatch) -> None:
    wait_idle(qtbot, window.workspace)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20_000)
    view = window.workspace.view
    other = next(u for u in view.underlyings if u != view.underlying)
    calls: list[str | None] = []
    real = book_tab.view_charts

    def counted(portfolio, v):
        calls.append(v.underlying)
        return real(portfolio, v)

    monkeypatch.setattr(book_tab, "view_charts", counted)
    view.curve = view.heatmap = None  # as a new scope's view: its curve and heatmap still to compute
    window._on_computed(view)
    assert window.book.charts_busy() and calls == []  # asked for after the paint
    window.book.choose_underlying(other)  # the user picks another underlying before the paint's turn
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20_000)
    assert view.underlying == other and view.curve is not None and view.heatmap is not None
    assert calls == [other]  # one job: the ask pending for the same view is covered by the choice


def test_the_ask_skips_a_view_whose_charts_arrived_meanwhile(qtbot, window, monkeypatch) -> None:
    wait_idle(qtbot, window.workspace)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20_000)
    book = window.book
    view = window.workspace.view
    curve, heat = view.curve, view.heatmap
    assert curve is not None
    calls: list[object] = []
    monkeypatch.setattr(book_tab, "view_charts", lambda p, v: calls.append(v) or (v, curve, heat))
    view.curve = view.heatmap = None
    book.show_view(view, window.workspace.portfolio, "", "")
    assert book.charts_busy()
    view.curve, view.heatmap = curve, heat  # delivered by an earlier job before the ask's turn
    book.ask_charts()
    assert calls == [] and not book.charts_busy()
