"""The What-if's compare tables are fitted once per result (`CompareTabs.fit`), not left to
ResizeToContents columns: a new number format must measure them again, and a pool's members,
whose distances are text written in a format, are written again."""

from __future__ import annotations

from dataclasses import replace

from test_ui_whatif import open_whatif, settle

from workstation.ui import whatif_compare


def cut_columns(view) -> list[tuple[int, int, int]]:
    """(column, width its contents need, width it has) of each fitted column too narrow."""
    header = view.horizontalHeader()
    out = []
    for column in range(1, header.count()):  # the first column stretches
        need = max(view.sizeHintForColumn(column), header.sectionSizeHint(column))
        if need > header.sectionSize(column):
            out.append((column, need, header.sectionSize(column)))
    return out


def test_more_decimals_widen_the_shown_and_the_hidden_tables(qtbot, window) -> None:
    panel = open_whatif(qtbot, window)
    assert panel.add_line("-3 BTC-PERPETUAL") is not None
    settle(qtbot, panel)
    tabs = panel.tabs
    assert tabs.currentIndex() == 0 and cut_columns(tabs.views["figures"]) == []
    width = tabs.views["figures"].columnWidth(1)
    window.apply_display(replace(window.display, decimals=4), save=False)
    qtbot.wait(20)
    # four decimals more on 810,000-odd USD: each figure column grows (it was cut "810,0…")
    assert tabs.views["figures"].columnWidth(1) > width
    assert cut_columns(tabs.views["figures"]) == []
    for i, name in enumerate(("greeks", "positions")):
        tabs.setCurrentIndex(i + 1)
        assert tabs.views[name].model().rowCount() > 0 and cut_columns(tabs.views[name]) == [], name
    tabs.setCurrentIndex(0)
    assert cut_columns(tabs.views["figures"]) == []


def test_a_pools_members_are_written_in_the_new_format(qtbot, window, monkeypatch) -> None:
    panel = open_whatif(qtbot, window, "pool:all")
    assert panel.add_line("-3 BTC-PERPETUAL") is not None
    settle(qtbot, panel)
    tabs = panel.tabs
    tabs.setCurrentIndex(3)
    assert tabs.members.rowCount() == len(panel.result.members) > 1
    # the demo's distances carry no price (where the format shows), so the test watches the
    # format the rows and the "first" line are written in
    used: list[tuple[str, str]] = []
    for name in ("member_rows", "first_text"):
        real = getattr(whatif_compare, name)
        monkeypatch.setattr(whatif_compare, name,
                            lambda *a, _n=name, _f=real: used.append((_n, a[-1].thousands)) or _f(*a))
    window.apply_display(replace(window.display, thousands="apostrophe"), save=False)
    assert used == [("member_rows", "apostrophe"), ("first_text", "apostrophe")]
    assert tabs.members.rowCount() == len(panel.result.members)
    assert cut_columns(tabs.views["members"]) == []
    # an account's What-if has no members: nothing written
    used.clear()
    open_whatif(qtbot, window)
    window.apply_display(replace(window.display, thousands="space"), save=False)
    assert used == [] and not tabs.isTabEnabled(3)
