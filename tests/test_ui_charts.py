"""The one set of chart helpers (`ui/chart_tools.py`): every chart sits in a `ChartFrame` whose
legend (outside the plot) reads the curves out on hover and whose Reset view returns home."""

from __future__ import annotations

import numpy as np
import pytest

from workstation.ui.formatting import NumberFormat

# The offscreen platform warns whenever a shown window gets size constraints; not ours to fix.


def test_chart_tools_is_the_only_frame_and_crosshair() -> None:
    from pathlib import Path

    ui = Path(__file__).resolve().parents[1] / "workstation" / "ui"
    assert not (ui / "stress_chart_frame.py").exists()
    for path in ui.glob("*.py"):
        if path.name == "chart_tools.py":
            continue
        text = path.read_text(encoding="utf-8")
        for name in ("class ChartFrame", "class HoverCrosshair", "class LegendBar", "class Crosshair",
                     "def reset_button", "pg.SignalProxy"):
            assert name not in text, f"{path.name} has its own {name}"


def test_every_chart_is_framed(qtbot) -> None:
    from workstation.ui.chart_tools import ChartFrame, HoverCrosshair, ThemedPlot
    from workstation.ui.charts import ComponentMarginChart, PnlCurveChart, ScenarioHeatmap
    from workstation.ui.history_chart import HistoryCharts
    from workstation.ui.risk_chart import RiskProfileChart
    from workstation.ui.stress_charts import JointGridChart, ShockChart
    from workstation.ui.whatif_hedge import SuggestionChart

    plots = [ShockChart(), JointGridChart(), SuggestionChart()]
    risk = RiskProfileChart()
    qtbot.addWidget(risk)
    plots.append(risk.plot)
    history = HistoryCharts()
    qtbot.addWidget(history)
    plots += [history.figures, history.usage]
    for cls in (ComponentMarginChart, PnlCurveChart, ScenarioHeatmap):
        chart = cls()
        chart.framed("x")
        plots.append(chart)
    for plot in plots:
        if plot.frame.parent() is None:
            qtbot.addWidget(plot.frame)
        assert isinstance(plot, ThemedPlot)
        assert isinstance(plot.frame, ChartFrame) and plot.frame.plot is plot
        assert isinstance(plot.crosshair, HoverCrosshair)
        assert plot.plotItem.legend is None  # nothing drawn over the curves


def test_suggestion_curve_reads_out_both_axes_and_keeps_its_ranges(qtbot) -> None:
    from workstation.ui.whatif_hedge import SuggestionChart

    chart = SuggestionChart()
    qtbot.addWidget(chart.frame)
    chart.frame.resize(600, 400)
    chart.frame.show()
    curve = {"sizes": [-2.0, 0.0, 2.0, 4.0], "initial_margin": [300.0, 100.0, 200.0, 400.0],
             "distance_pct": [10.0, 20.0, float("nan"), 40.0]}
    fmt = NumberFormat()
    chart.set_curve(curve, 0.0, fmt, "BTC")
    qtbot.wait(20)
    assert chart.frame.legend.texts() == ["initial margin (left)", "nearest liquidation distance, % (right)",
                                          "the suggested size"]
    # the home view holds every size and every margin (2 % and 5 % more on each side)
    (x0, x1), (y0, y1) = chart.home
    assert x0 == pytest.approx(-2.0 - 0.02 * 6.0, rel=1e-12) and x1 == pytest.approx(4.0 + 0.02 * 6.0, rel=1e-12)
    assert y0 == pytest.approx(100.0 - 0.05 * 300.0, rel=1e-12) and y1 == pytest.approx(400.0 + 0.05 * 300.0,
                                                                                        rel=1e-12)
    chart.crosshair.show_at(1.0)
    text = chart.frame.legend_text()
    assert text.startswith(f"size {fmt.quantity(1.0)} BTC")
    assert fmt.money(150.0) in text  # IM halfway between 100 and 200
    chart.crosshair.hide()
    assert chart.frame.legend_text() == ("initial margin (left) · nearest liquidation distance, % (right) · "
                                         "the suggested size")


def test_header_controls_sit_beside_the_title_and_the_reset_button(qtbot) -> None:
    from PySide6.QtWidgets import QPushButton

    from workstation.ui.chart_tools import ChartFrame, ThemedPlot

    plot = ThemedPlot()
    frame = ChartFrame(plot, "Title")
    qtbot.addWidget(frame)
    left, right = QPushButton("left"), QPushButton("right")
    frame.add_control(left, after_title=True)
    frame.add_control(right)
    frame.resize(700, 300)
    frame.show()
    qtbot.wait(20)
    title = frame.title.geometry()
    assert title.right() < left.geometry().left()
    assert left.geometry().right() < right.geometry().left() - 100  # the free space lies between
    assert right.geometry().right() < frame.reset_button.geometry().left()
    assert frame.legend.geometry().bottom() <= plot.geometry().top()


def test_data_range_and_curve_values() -> None:
    from workstation.ui.chart_tools import data_range

    assert data_range([np.array([1.0, np.nan, 3.0]), np.array([])], 0.5) == (0.0, 4.0)
    assert data_range([np.array([np.nan])]) is None
    assert data_range([np.array([2.0, 2.0])], 0.1) == (pytest.approx(1.8, rel=1e-12), pytest.approx(2.2, rel=1e-12))


def test_staged_build_adds_the_heatmaps_colour_bar_in_a_turn_of_its_own(qtbot) -> None:
    """The staged build makes the heatmap without its colour bar, then adds the bar in the next
    turn of the event loop; the panel it hands over has the bar, themed, and adding it again is
    a no-op."""
    from PySide6.QtCore import QObject

    from workstation.ui.charts import ScenarioHeatmap
    from workstation.ui.charts_panel import build_staged
    from workstation.ui.theme import DARK

    bare = ScenarioHeatmap(colour_bar=False)
    qtbot.addWidget(bare)
    assert bare.bar is None
    bare.set_theme(DARK)  # themed without a bar: nothing to style yet
    bare.add_colour_bar()
    bar = bare.bar
    assert bar is not None
    bare.add_colour_bar()
    assert bare.bar is bar
    # the bar takes the theme in force when it is added: DARK's red at the low end
    assert bar.colorMap().map(0.0, mode="qcolor").name() == DARK.red.lower()

    context = QObject()
    panels: list = []
    build_staged(panels.append, context)
    qtbot.waitUntil(lambda: bool(panels), timeout=10_000)
    qtbot.addWidget(panels[0])
    heatmap = panels[0].heatmap
    assert isinstance(heatmap, ScenarioHeatmap) and heatmap.bar is not None
    assert heatmap.bar.axis.tickStrings([-20.0, 0.0, 20.0], 1.0, 10.0) == ["-20", "0", "20"]


def test_charts_are_first_painted_one_after_the_other(qtbot) -> None:
    """`paint_in_turns`: the first chart paints at once, the others only once their turn comes
    (updates off until then), and all of them paint again in the end."""
    from workstation.ui.charts_panel import ChartsPanel

    panel = ChartsPanel()
    qtbot.addWidget(panel)
    frames = list(panel.frames.values())
    panel.paint_in_turns(gap_ms=300)  # wide enough for the checks between turns
    assert [f.updatesEnabled() for f in frames] == [True, False, False]
    qtbot.waitUntil(lambda: frames[1].updatesEnabled(), timeout=2_000)
    assert not frames[2].updatesEnabled()  # one turn per chart
    qtbot.waitUntil(lambda: all(f.updatesEnabled() for f in frames), timeout=2_000)


def test_painting_in_turns_again_keeps_one_chain(qtbot) -> None:
    """Calls while the turns run (new data on every scope switch) start the turns over in the
    same chain: the charts still come one per turn and all end painted."""
    from workstation.ui.charts_panel import ChartsPanel

    panel = ChartsPanel()
    qtbot.addWidget(panel)
    frames = list(panel.frames.values())
    panel.paint_in_turns(gap_ms=300)
    qtbot.waitUntil(lambda: frames[1].updatesEnabled(), timeout=2_000)
    panel.paint_in_turns(gap_ms=300)  # new data before the last turn
    assert [f.updatesEnabled() for f in frames] == [True, False, False]
    qtbot.waitUntil(lambda: frames[1].updatesEnabled(), timeout=2_000)
    assert not frames[2].updatesEnabled()  # still one chart per turn
    qtbot.waitUntil(lambda: all(f.updatesEnabled() for f in frames), timeout=2_000)
    qtbot.waitUntil(lambda: not panel._painting, timeout=2_000)  # the one chain has ended


def test_a_turn_that_comes_while_the_window_holds_its_paints_comes_again(qtbot) -> None:
    """The window holds its paints while new figures are set up (its updates off); Qt ignores a
    chart's enabling then, so the chart's turn comes again instead of leaving it unpainted."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from workstation.ui.charts_panel import ChartsPanel

    host = QWidget()
    qtbot.addWidget(host)
    panel = ChartsPanel()
    QVBoxLayout(host).addWidget(panel)
    frames = list(panel.frames.values())
    panel.paint_in_turns(gap_ms=20)
    host.setUpdatesEnabled(False)
    qtbot.wait(200)  # every turn comes while the window holds its paints
    assert panel.painting()
    host.setUpdatesEnabled(True)
    assert [f.updatesEnabled() for f in frames] == [True, False, False]  # not let through unseen
    qtbot.waitUntil(lambda: all(f.updatesEnabled() for f in frames), timeout=2_000)
    qtbot.waitUntil(lambda: not panel.painting(), timeout=2_000)
