"""Chart helpers for the What-if charts: a legend outside the plot, a crosshair read-out of every
curve's value under the mouse, and a reset-view button.

Small and self-contained on purpose: the main window's own chart helpers can replace these
(same three roles) without touching the charts that use them.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from workstation.ui.theme import LIGHT, Theme

_DASH = {Qt.PenStyle.SolidLine: "━━", Qt.PenStyle.DashLine: "╍╍", Qt.PenStyle.DotLine: "┅┅"}


@dataclass
class Series:
    """One curve the legend and the read-out know: its name, colour, style and item."""

    name: str
    colour: str
    item: pg.PlotDataItem
    style: Qt.PenStyle = Qt.PenStyle.SolidLine


class LegendBar(QWidget):
    """A legend as a row of labels above the plot (never on the curves)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartLegend")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(4, 0, 4, 0)
        self.row.setSpacing(14)
        self.labels: list[QLabel] = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_series(self, series: list[Series], theme: Theme = LIGHT) -> None:
        while self.row.count():
            item = self.row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.labels = []
        for s in series:
            if not s.item.isVisible():
                continue
            label = QLabel(f"<span style='color:{s.colour}'>{_DASH.get(s.style, '━━')}</span> "
                           f"<span style='color:{theme.text}'>{s.name}</span>")
            label.setObjectName("legendEntry")
            self.row.addWidget(label)
            self.labels.append(label)
        self.row.addStretch(1)

    def texts(self) -> list[str]:
        return [label.text() for label in self.labels]


class Crosshair:
    """A vertical line following the mouse and a read-out of every visible series at that x
    (interpolated), written by `describe(x, values)` into `label`."""

    def __init__(self, plot: pg.PlotWidget, label: QLabel, describe: Callable[[float, dict[str, float]], str]):
        self.plot = plot
        self.label = label
        self.describe = describe
        self.series: list[Series] = []
        self.line = pg.InfiniteLine(angle=90, movable=False)
        self.line.hide()
        plot.addItem(self.line, ignoreBounds=True)
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=60, slot=self._moved)

    def set_theme(self, theme: Theme) -> None:
        self.line.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))

    def values_at(self, x: float) -> dict[str, float]:
        out = {}
        for s in self.series:
            if not s.item.isVisible():
                continue
            xs, ys = s.item.getData()
            if xs is None or len(xs) < 2 or not (xs[0] <= x <= xs[-1]):
                continue
            out[s.name] = float(np.interp(x, xs, ys))
        return out

    def show_at(self, x: float) -> None:
        self.line.setValue(x)
        self.line.show()
        self.label.setText(self.describe(x, self.values_at(x)))

    def _moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        vb = self.plot.plotItem.vb
        if not self.plot.plotItem.sceneBoundingRect().contains(pos):
            self.line.hide()
            return
        self.show_at(vb.mapSceneToView(pos).x())


def reset_button(plot: pg.PlotWidget, reset: Callable[[], None] | None = None) -> QPushButton:
    """A small "Reset view" button: `reset()` (default: auto-range) after any zoom or pan."""
    button = QPushButton("Reset view")
    button.setObjectName("resetView")
    button.setToolTip("Back to the whole curve after zooming (wheel) or panning (drag)")
    button.clicked.connect(reset or (lambda: plot.plotItem.enableAutoRange()))
    return button
