"""The charts row: component margin bars, P&L / margin curve and the scenario heatmap, each in a
`ChartFrame` (title, legend with values on hover, reset view)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from workstation.ui.chart_tools import ChartFrame, HoverCrosshair, ThemedPlot
from workstation.ui.charts import ComponentMarginChart, PnlCurveChart, ScenarioHeatmap
from workstation.ui.compute import ScopeView, component_arrays
from workstation.ui.formatting import NumberFormat
from workstation.ui.theme import Theme

PAINT_GAP_MS = 15  # between the paints of two charts (`paint_in_turns`)


class ChartsPanel(QWidget):
    """Three charts side by side, and the underlying the curve and heatmap are drawn for."""

    underlying_changed = Signal(str)

    def __init__(self, charts: tuple[ComponentMarginChart, PnlCurveChart, ScenarioHeatmap] | None = None,
                 parent: QWidget | None = None) -> None:
        """`charts`: the three plots when already built (`build_staged` builds them one per turn
        of the event loop, so no single step blocks the window long)."""
        super().__init__(parent)
        self._unpainted: list[QWidget] = []  # charts whose paint waits for its turn (`paint_in_turns`)
        self._painting = False  # a chain of turns is running
        self.components, self.curve, self.heatmap = charts or (
            ComponentMarginChart(), PnlCurveChart(), ScenarioHeatmap())
        self.frames: dict[str, ChartFrame] = {
            "components": self.components.framed("Margin by position", resettable=False, horizontal=False),
            "curve": self.curve.framed("Equity and margin vs price"),
            "heatmap": self.heatmap.framed("Scenario P&L", resettable=False, horizontal=False),
        }
        self.crosshairs: dict[str, HoverCrosshair] = {
            name: frame.plot.crosshair for name, frame in self.frames.items()}  # type: ignore[attr-defined]
        self.underlying = QComboBox()
        self.underlying.setMinimumWidth(90)
        self.underlying.activated.connect(
            lambda _i: self.underlying_changed.emit(self.underlying.currentText())
        )
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.title = QLabel("Charts")
        self.title.setObjectName("sectionTitle")
        # the controls: a row of their own, or the corner of a tab bar the panel sits in
        self.controls = QWidget()
        row = QHBoxLayout(self.controls)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.status)
        row.addSpacing(8)
        row.addWidget(QLabel("Underlying"))
        row.addWidget(self.underlying)
        bar = QHBoxLayout()
        bar.addWidget(self.title)
        bar.addStretch(1)
        bar.addWidget(self.controls)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("chartsSplitter")
        self.splitter.setChildrenCollapsible(False)
        for frame in self.frames.values():
            self.splitter.addWidget(frame)
        self.splitter.setSizes([430, 430, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self._bar = bar

    def controls_to(self, tabs: QTabWidget) -> None:
        """Put the underlying and status in `tabs`' corner (shown with this panel's tab) instead of
        a row of their own: the charts get that height."""
        self._bar.removeWidget(self.controls)
        self.title.hide()
        tabs.setCornerWidget(self.controls, Qt.Corner.TopRightCorner)
        self.controls.show()
        tabs.currentChanged.connect(lambda _i: self.controls.setVisible(tabs.currentWidget() is self))

    def paint_in_turns(self, gap_ms: int = PAINT_GAP_MS) -> None:
        """Let the charts be painted one after the other, `gap_ms` apart, rather than all in one
        paint of the window (when first shown and after new data): a chart's paint is 20-50 ms
        of the GUI thread (pyqtgraph lays out its axes' ticks and labels in Python), and their
        first paints at once held it for 100-160 ms on a 10,000-position book. The layout does
        not move: the later charts are only painted later. A call while the turns run starts
        them over in the same chain (one chain, however many calls)."""
        self._unpainted = list(self.frames.values())[1:]
        for frame in self._unpainted:
            frame.setUpdatesEnabled(False)
        if not self._painting:
            self._painting = True
            QTimer.singleShot(gap_ms, self, partial(self._paint_next, gap_ms))

    def painting(self) -> bool:
        """The charts' paints are still being let through one per turn (`paint_in_turns`)."""
        return self._painting

    def _paint_next(self, gap_ms: int) -> None:
        if self._unpainted and not self.updatesEnabled():
            # the window holds its paints (new figures being set up): Qt would ignore the enabling
            # and the chart would stay unpainted, so its turn comes again
            QTimer.singleShot(gap_ms, self, partial(self._paint_next, gap_ms))
        elif self._unpainted:
            self._unpainted.pop(0).setUpdatesEnabled(True)  # painted in the next paint of the window
            QTimer.singleShot(gap_ms, self, partial(self._paint_next, gap_ms))
        else:
            self._painting = False

    def charts(self) -> tuple[ThemedPlot, ...]:
        return self.components, self.curve, self.heatmap

    def set_theme(self, theme: Theme) -> None:
        for chart in self.charts():
            chart.set_theme(theme)  # its frame, legend and crosshair follow

    def set_number_format(self, fmt: NumberFormat) -> None:
        for chart in self.charts():
            chart.set_number_format(fmt)

    def set_pending(self, pending: bool) -> None:
        """Say that the curve and heatmap of the chosen underlying are being computed."""
        self.status.setText("computing the curve…" if pending else "")

    def show_view(self, view: ScopeView, spot: float | None, unit: str) -> None:
        """Update every chart from the engine's results for one scope (the curve and heatmap once
        they are computed: `view.curve` is None until then)."""
        self.underlying.blockSignals(True)
        self.underlying.clear()
        self.underlying.addItems(view.underlyings)
        if view.underlying:
            self.underlying.setCurrentText(view.underlying)
        self.underlying.blockSignals(False)
        self.components.set_components(view.components if view.components is not None
                                       else component_arrays(view.report, view.labels), unit)
        und = view.underlying or ""
        liquidation = (view.report.get("liquidation") or {}).get(und)
        self.curve.set_curve(view.curve, und, spot, liquidation, unit)
        self.frames["curve"].set_title(f"{und}: equity and margin vs price" if und else "Equity and margin vs price")
        note = (
            f"Scenario heatmap is for portfolio margin\n(this scope is {view.margin_mode})"
            if view.margin_mode != "portfolio" else "No underlying to shock"
        )
        if view.curve is None and und:
            note = "computing…"
        self.heatmap.set_heatmap(view.heatmap, und, note)
        self.frames["heatmap"].set_caption(self.heatmap.worst)
        for chart in self.charts():
            chart.refresh_legend()
        self.paint_in_turns()  # one chart per paint, as on their first paint

    def current(self) -> dict[str, Any]:
        return {"underlying": self.underlying.currentText()}


def build_staged(done: Callable[[ChartsPanel], None], context: QObject) -> None:
    """Build a ChartsPanel one chart per turn of the event loop, then call `done(panel)`. The
    steps belong to `context`: once it is deleted (its window closed), none runs."""
    built: list[Any] = []
    # the heatmap's colour bar is a plot of its own: built in a turn of its own, so that no turn
    # holds the GUI thread for both (45 ms together on this machine)
    steps: list[Callable[[], Any]] = [
        ComponentMarginChart, PnlCurveChart, partial(ScenarioHeatmap, colour_bar=False),
        lambda: built[-1].add_colour_bar(),
    ]

    def step() -> None:
        if steps:
            made = steps.pop(0)()
            if made is not None:
                built.append(made)
            QTimer.singleShot(0, context, step)
        else:
            done(ChartsPanel(tuple(built)))  # type: ignore[arg-type]

    QTimer.singleShot(0, context, step)
