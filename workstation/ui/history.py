"""The History tab: the selected scope's stored margin history (usage and equity over time).

The rows are read and turned into series on a worker (its own read-only connection, pandas);
the charts are built the first time there is something to draw (pyqtgraph is imported lazily).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

from workstation.ui.formatting import NumberFormat
from workstation.ui.history_data import READ_LIMIT, HistorySeries, history_series, read_history
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.worker import LatestJob


class HistoryPanel(QWidget):
    """Title, a one-line summary and the history charts of one scope."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme: Theme = LIGHT
        self._fmt = NumberFormat()
        self._db: Any = None
        self._db_path: Path | None = None
        self._scope: str | None = None
        self._stale = True
        self.series: HistorySeries | None = None
        self.charts: Any = None  # HistoryCharts, built on first data
        self._job = LatestJob(self._on_series, self._on_error, parent=self)
        self.title = QLabel("Margin history")
        self.title.setObjectName("sectionTitle")
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self.summary.setWordWrap(True)
        self.message = QLabel("Select an account or a pool")
        self.message.setObjectName("muted")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addLayout(self.stack, 1)
        # only now: a stacked layout shows its current page, a top-level window while parentless
        self.stack.addWidget(self.message)

    # -- inputs ---------------------------------------------------------------------------
    def set_source(self, db: Any, db_path: Path | None) -> None:
        """The database the history is read from (None: a read-only file, which keeps none)."""
        self._db, self._db_path = db, db_path
        self._stale = True

    def set_scope(self, scope: str | None, title: str = "") -> None:
        if scope != self._scope:
            self._scope = scope
            self._stale = True
        self.title.setText(f"Margin history · {title}" if title else "Margin history")

    def mark_stale(self) -> None:
        """New figures were recorded: read again when next shown."""
        self._stale = True

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        if self.charts is not None:
            self.charts.set_theme(theme)

    def set_number_format(self, fmt: NumberFormat) -> None:
        self._fmt = fmt
        if self.charts is not None:
            self.charts.set_number_format(fmt)
            if self.series is not None:
                self.charts.set_series(self.series)

    def is_busy(self) -> bool:
        return self._job.is_busy()

    # -- reading --------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Read the history again if anything changed (or `force`)."""
        if not (self._stale or force):
            return
        self._stale = False
        if self._db is None:
            self._show_message("Margin history is kept in the database: this book is a portfolio file "
                               "opened read-only (File ▸ Open database… keeps one).")
            return
        if self._scope is None:
            self._show_message("Select an account or a pool")
            return
        self.summary.setText("reading…")
        if self._db_path is not None:
            self._job.submit(read_history, self._db_path, self._scope)
        else:  # an in-memory database only has the GUI thread's connection
            from workstation.store.records import history

            self._job.submit(history_series, self._scope, history(self._db, self._scope, READ_LIMIT))

    def _on_series(self, series: HistorySeries) -> None:
        if series.scope != self._scope:
            return
        self.series = series
        if not len(series):
            self._show_message("No margin history recorded for this selection yet: every recompute "
                               "(View ▸ Recompute, or an edit) adds a record.")
            return
        if self.charts is None:
            from workstation.ui.history_chart import HistoryCharts

            self.charts = HistoryCharts()
            self.charts.set_theme(self._theme)
            self.charts.set_number_format(self._fmt)
            self.stack.addWidget(self.charts)
        self.charts.set_series(series)
        self.stack.setCurrentWidget(self.charts)
        shown = "" if len(series) == series.rows else f" ({len(series):,} points where the figures changed)"
        past = self.charts.usage.past_count()
        warn = f" · {past:,} past liquidation" if past else ""
        self.summary.setText(f"{series.rows:,} records from {series.first} to {series.last} UTC{shown}{warn}")

    def _on_error(self, exc: BaseException) -> None:
        self._show_message(f"Cannot read the margin history: {exc}")

    def _show_message(self, text: str) -> None:
        self.summary.setText("")
        self.message.setText(text)
        self.message.setWordWrap(True)
        self.stack.setCurrentWidget(self.message)
