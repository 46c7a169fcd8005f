"""The Stress tab: scenarios, results per account and pool, the cascade, and two charts
(equity and MM against shock size; BTC x ETH grid of equity - MM with the liquidation line).

The engine runs in a worker (`LatestJob`: the newest request wins); nothing here computes
margin. "Run on the what-if draft" evaluates the book with the What-if tab's drafted trades.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from workstation.core.model import Portfolio
from workstation.ui.charts import ThemedPlot, _color
from workstation.ui.formatting import NumberFormat
from workstation.ui.stress_compute import StressView, compute_stress, scope_rows, timeline_html
from workstation.ui.table_model import Column, RecordTableModel
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.views import fit_columns, make_table_view
from workstation.ui.worker import LatestJob

Index = QModelIndex | QPersistentModelIndex
COLUMNS = (
    Column("Account / pool", "scope"),
    Column("Equity", "equity", "money", "Equity under the scenario"),
    Column("MM", "maintenance_margin", "money", "Maintenance margin under the scenario"),
    Column("Equity − MM", "headroom", "money", "Negative: liquidated", "negative"),
    Column("Short of MM", "shortfall_mm", "money", "Collateral value needed to get back to MM"),
    Column("Short of IM", "shortfall_im", "money", "Collateral value needed to get back to IM"),
    Column("P&L", "pnl", "money", "Change of equity", "sign"),
    Column("Status", "status", tip="Liquidated, or the multiple of this move that would liquidate it"),
)


class StressModel(RecordTableModel):
    """Results per scope; a liquidated row is written in red."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COLUMNS, key_field="scope", parent=parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.row() < len(self._rows)
                and self._rows[index.row()].get("breach")):
            return self._theme.level("red")
        return super().data(index, role)


class ShockChart(ThemedPlot):
    """Equity and MM of one scope against the size of the shock (1 = the scenario)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.legend = self.plotItem.addLegend(offset=(6, 4), labelTextSize="8pt", colCount=2)
        self.equity = self.plot([], [], name="equity")
        self.margin = self.plot([], [], name="maintenance margin")
        self.one = pg.InfiniteLine(1.0, angle=90, movable=False, label="the scenario",
                                   labelOpts={"position": 0.92})
        self.addItem(self.one, ignoreBounds=True)
        self.plotItem.setLabel("bottom", "shock size (× the scenario)")
        self.plotItem.getAxis("left").setWidth(64)
        self.set_theme(LIGHT)

    def set_curve(self, curve: dict[str, list] | None, scope: str) -> None:
        if not curve:
            self.equity.setData([], [])
            self.margin.setData([], [])
            return
        x = np.asarray(curve["multiple"], dtype=float)
        self.equity.setData(x, np.asarray(curve["equity"], dtype=float))
        self.margin.setData(x, np.asarray(curve["maintenance_margin"], dtype=float))
        self.plotItem.setLabel("left", "", units=self.fmt.base_currency)

    def restyle(self) -> None:
        t = self.theme
        self.equity.setPen(pg.mkPen(t.equity, width=2))
        self.margin.setPen(pg.mkPen(t.margin, width=2, style=Qt.PenStyle.DashLine))
        self.one.setPen(pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DotLine))
        self.one.label.setColor(t.muted)
        self.legend.setLabelTextColor(t.text)
        self.legend.setBrush(pg.mkBrush(_color(t.base, 210)))
        for _sample, label in self.legend.items:
            label.setText(label.text, color=t.text)


class JointGridChart(ThemedPlot):
    """equity - MM over BTC move (x) x ETH move (y), red below zero; the liquidation line."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.image = pg.ImageItem()
        self.addItem(self.image)
        self.line = pg.ScatterPlotItem(size=6)
        self.addItem(self.line)
        self.setMouseEnabled(x=False, y=False)
        self.plotItem.showGrid(x=False, y=False)
        self.plotItem.setLabel("bottom", "BTC move (%)")
        self.plotItem.setLabel("left", "ETH move (%)")
        self._grid: dict[str, Any] | None = None
        self.set_theme(LIGHT)

    def set_grid(self, grid: dict[str, Any] | None, scope: str) -> None:
        self._grid = grid
        if not grid:
            self.image.clear()
            self.line.setData([], [])
            return
        xs = 100.0 * np.asarray(grid["x_moves"], dtype=float)
        ys = 100.0 * np.asarray(grid["y_moves"], dtype=float)
        h = np.asarray(grid["headroom"], dtype=float)
        m = float(np.nanmax(np.abs(h))) or 1.0
        self.image.setImage(h.T, autoLevels=False, levels=(-m, m))
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        self.image.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy))
        pts = grid["line"]
        self.line.setData([100 * p[0] for p in pts], [100 * p[1] for p in pts])

        self.restyle()
        self.plotItem.autoRange(padding=0)

    def restyle(self) -> None:
        t = self.theme
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [_color(t.red), _color(t.base), _color(t.calm)])
        self.image.setLookupTable(cmap.getLookupTable(nPts=256))
        self.line.setBrush(pg.mkBrush(t.text))
        self.line.setPen(pg.mkPen(t.base))


class StressPanel(QWidget):
    """Scenario list, results, cascade timeline and charts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stressPanel")
        self.portfolio: Portfolio | None = None
        self.scope: str | None = None
        self.draft_source: Callable[[], Portfolio | None] | None = None
        self.view: StressView | None = None
        self.error: str | None = None
        self._fmt = NumberFormat()
        self._theme: Theme = LIGHT
        self.job = LatestJob(self._on_result, self._on_error, parent=self)
        self.job.busy_changed.connect(lambda _b: self._update_status())

        self.list = QListWidget()
        self.list.setObjectName("stressScenarios")
        self.list.currentRowChanged.connect(lambda _r: self.run())
        self.draft_box = QCheckBox("Run on the what-if draft")
        self.draft_box.setToolTip("Evaluate the book with the trades drafted in the What-if tab")
        self.draft_box.toggled.connect(lambda _c: self.run())
        self.scope_box = QComboBox()
        self.scope_box.setToolTip("The account or pool the charts show")
        self.scope_box.currentIndexChanged.connect(lambda _i: self.run())
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.source = QTextBrowser()  # scrolls: a long source list never grows the window
        self.source.setObjectName("stressSource")
        self.source.setOpenExternalLinks(False)
        self.source.setMaximumHeight(220)
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Scenarios")
        title.setObjectName("sectionTitle")
        lay.addWidget(title)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.draft_box)
        lay.addWidget(self.source)

        self.model = StressModel(self)
        self.table = make_table_view(self.model, "stressTable")
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setMinimumWidth(10)
        self.timeline = QTextBrowser()
        self.timeline.setObjectName("stressTimeline")
        self.shock_chart = ShockChart()
        self.grid_chart = JointGridChart()
        head = QHBoxLayout()
        results_title = QLabel("Under the scenario")
        results_title.setObjectName("sectionTitle")
        head.addWidget(results_title)
        head.addStretch(1)
        head.addWidget(QLabel("Charts for"))
        head.addWidget(self.scope_box)
        head.addWidget(self.run_button)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(head)
        tl.addWidget(self.table, 1)
        tl.addWidget(self.status)
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(self.timeline)
        middle.addWidget(self.shock_chart)
        middle.addWidget(self.grid_chart)
        middle.setSizes([360, 380, 380])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(middle)
        right.setSizes([260, 380])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("stressSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([260, 1000])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.splitter)
        self.scenarios: list[Any] = []

    # -- context ------------------------------------------------------------------------
    def set_context(self, portfolio: Portfolio | None, scope: str | None, db: Any = None) -> None:
        if portfolio is self.portfolio and scope == self.scope:
            return
        self.portfolio, self.scope = portfolio, scope
        self._fill_scenarios(db)
        self.scope_box.blockSignals(True)
        self.scope_box.clear()
        if portfolio is not None:
            from workstation.core.report import scope_names

            for s in scope_names(portfolio):
                self.scope_box.addItem(s, s)
            idx = self.scope_box.findData(scope or "")
            self.scope_box.setCurrentIndex(max(0, idx))
        self.scope_box.blockSignals(False)
        if self.isVisible():
            self.run()

    def _fill_scenarios(self, db: Any) -> None:
        from workstation.core.scenario_library import historical_scenarios

        saved = []
        if db is not None:
            try:
                from workstation.store.stress_store import list_stress_scenarios

                saved = list_stress_scenarios(db)
            except Exception:  # an old or foreign database: shipped scenarios still work
                saved = []
        current = self.list.currentItem().text() if self.list.currentItem() else None
        self.scenarios = historical_scenarios() + saved
        self.list.blockSignals(True)
        self.list.clear()
        for s in self.scenarios:
            item = QListWidgetItem(s.name)
            item.setToolTip(s.title or s.kind)
            self.list.addItem(item)
        rows = [i for i in range(self.list.count()) if self.list.item(i).text() == current]
        self.list.setCurrentRow(rows[0] if rows else 0)
        self.list.blockSignals(False)

    def scenario(self) -> Any:
        row = self.list.currentRow()
        return self.scenarios[row] if 0 <= row < len(self.scenarios) else None

    def select_scenario(self, name: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).text() == name:
                self.list.setCurrentRow(i)
                return

    # -- engine -------------------------------------------------------------------------
    def run(self) -> None:
        scenario = self.scenario()
        book = self.portfolio
        draft = self.draft_box.isChecked() and self.draft_source is not None
        if draft:
            drafted = self.draft_source()
            book = drafted if drafted is not None else book
            draft = drafted is not None
        scope = self.scope_box.currentData() or self.scope
        if book is None or scenario is None or scope is None:
            return
        self.source.setHtml(self._describe(scenario))
        self.job.submit(compute_stress, book, scenario, scope, draft)
        self._update_status()

    def is_busy(self) -> bool:
        return self.job.is_busy()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.view is None and not self.job.is_busy():
            self.run()

    def _describe(self, s: Any) -> str:
        moves = ", ".join(f"{a} {100 * m:+.2f} %" for a, m in s.shocks.items())
        depeg = ", ".join(f"{c} at {p:g}" for c, p in s.depeg.items())
        dates = " to ".join(s.dates)
        text = f"<b>{s.title or s.name}</b><br>{dates}<br>{'; '.join(x for x in (moves, depeg) if x)}"
        if s.source:
            text += f"<br><small>{s.source.replace(';', '<br>')}</small>"
        return text

    def _on_result(self, view: StressView) -> None:
        self.view = view
        self.error = None
        self.model.set_records(scope_rows(view.document))
        fit_columns(self.table)
        base = self.portfolio.base_currency if self.portfolio else "USD"
        self.timeline.setHtml(timeline_html(view.document, base))
        self.shock_chart.set_curve(view.curve, view.scope)
        self.grid_chart.set_grid(view.grid, view.scope)
        self._update_status()

    def _on_error(self, exc: BaseException) -> None:
        self.error = str(exc)
        self.status.setText(f"Could not run the scenario: {exc}")

    def _update_status(self) -> None:
        if self.job.is_busy():
            self.status.setText("computing…")
        elif self.view is not None and self.error is None:
            what = "the book with the what-if draft" if self.view.draft else "the book"
            self.status.setText(f"{self.view.scenario} on {what} · computed in {self.view.elapsed_ms:.0f} ms · "
                                f"red rows are liquidated; hover a scope for its worst positions")

    # -- display ------------------------------------------------------------------------
    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        self.model.set_number_format(fmt)
        for chart in (self.shock_chart, self.grid_chart):
            chart.set_number_format(fmt)

    def set_theme(self, theme: Theme = LIGHT) -> None:
        self._theme = theme
        self.model.set_theme(theme)
        for chart in (self.shock_chart, self.grid_chart):
            chart.set_theme(theme)
        self.timeline.document().setDefaultStyleSheet(f"body {{ color: {QColor(theme.text).name()}; }}")
