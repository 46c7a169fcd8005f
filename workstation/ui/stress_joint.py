"""The Stress tab's "Joint move" page: betas (the profile's, or fitted on an imported price
history over a window, with R^2 and the number of daily returns), each account's and pool's
liquidation distance when the driver moves and every asset follows by its beta, and the BTC x
ETH grid of the chosen scope with its liquidation line. A scenario between two dates of the
history can be saved. Engine work and CSV reading run in workers; the store is written here,
on the GUI thread, which owns the connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workstation.ui.formatting import NumberFormat
from workstation.ui.stress_charts import JointGridChart, move_text
from workstation.ui.stress_compute import JointView, compute_joint, fit, read_history, scope_label
from workstation.ui.table_model import Column, RecordTableModel
from workstation.ui.theme import LIGHT, Theme
from workstation.ui.views import fit_columns, make_table_view
from workstation.ui.worker import LatestJob

PROFILE = ""  # the betas combo's item for the profile's betas

BETA_COLUMNS = (Column("Asset", "asset"), Column("Beta", "beta", tip="Move per 1 % move of the driver"),
                Column("R²", "r2", tip="Share of the asset's daily variance the fit explains", blank="—"))
DISTANCE_COLUMNS = (
    Column("Account / pool", "label"),
    Column("Falling", "down", tip="The driver's fall, every asset following by its beta, that liquidates it",
           blank="safe to −99 %"),
    Column("Rising", "up", tip="The driver's rise, every asset following by its beta, that liquidates it",
           blank="safe to +1000 %"),
)


def distance_rows(view: JointView) -> list[dict[str, Any]]:
    driver = view.betas["driver"]
    out = []
    for scope, d in view.distances.items():
        out.append({"scope": scope, "label": scope_label(scope),
                    "down": None if d["down"] is None else f"{driver} {move_text(d['down'])}",
                    "up": None if d["up"] is None else f"{driver} {move_text(d['up'])}"})
    return out


def beta_rows(view: JointView) -> list[dict[str, Any]]:
    """The beta each moving asset takes (the driver 1; unlisted assets 1, or the profile's "*")."""
    r2 = view.betas["r2"]
    return [{"asset": a, "beta": f"{b:.3f}", "r2": None if a not in r2 else f"{r2[a]:.3f}"}
            for a, b in view.moves.items()]


def betas_caption(betas: dict[str, Any]) -> str:
    if betas["source"] == "fitted":
        w = betas["window"]
        return (f"fitted on daily log returns, {w[0]} to {w[1]}, {betas['observations']} returns; driver "
                f"{betas['driver']}")
    listed = ", ".join(f"{a} {b:g}" for a, b in betas["betas"].items())
    return (f"{betas['source']}: " + (listed or f"no betas set: every asset moves like {betas['driver']}")
            + f"; driver {betas['driver']}")


class JointPage(QWidget):
    scenario_saved = Signal(str)  # a scenario between two dates of the history was saved

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Any = None
        self.scope: str | None = None
        self.db: Any = None
        self.prices: Any = None  # the chosen price history (DataFrame)
        self.betas: Any = None  # fitted Betas, None: the profile's
        self.marker: tuple[float, float, str] | None = None
        self.view: JointView | None = None
        self.error: str | None = None
        self.choose_csv: Callable[[], str] = self._choose_csv
        self.job = LatestJob(self._on_view, self._on_error, parent=self)
        self.fit_job = LatestJob(self._on_fit, self._on_error, parent=self)
        self.read_job = LatestJob(self._on_read, self._on_error, parent=self)
        self.source = QComboBox()
        self.source.setObjectName("stressBetaSource")
        self.source.setToolTip("The profile's betas, or betas fitted on a price history you imported")
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(14)
        self.source.currentIndexChanged.connect(lambda _i: self._source_changed())
        self.import_button = QPushButton("Import CSV…")
        self.import_button.setToolTip("A price history: date,BTC,ETH,... or date,asset,price (daily)")
        self.import_button.clicked.connect(self.import_csv)
        self.start = QDateEdit()
        self.end = QDateEdit()
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(lambda _d: self.refit())
        self.save_button = QPushButton("Save the move between these dates as a scenario")
        self.save_button.clicked.connect(self.save_between)
        self.caption = QLabel("")
        self.caption.setObjectName("muted")
        self.caption.setWordWrap(True)
        self.caption.setMinimumWidth(10)
        self.beta_model = RecordTableModel(BETA_COLUMNS, key_field="asset", parent=self)
        self.beta_table = make_table_view(self.beta_model, "stressBetas")
        self.distance_model = RecordTableModel(DISTANCE_COLUMNS, key_field="scope", parent=self)
        self.distance_table = make_table_view(self.distance_model, "stressJointDistances")
        self.chart = JointGridChart()
        row = QHBoxLayout()
        row.addWidget(QLabel("Betas"))
        row.addWidget(self.source, 1)
        row.addWidget(self.import_button)
        window = QHBoxLayout()
        self.window_label, self.to_label = QLabel("Window"), QLabel("to")
        window.addWidget(self.window_label)
        window.addWidget(self.start, 1)
        window.addWidget(self.to_label)
        window.addWidget(self.end, 1)
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addLayout(window)
        lay.addWidget(self.caption)
        lay.addWidget(self.beta_table, 1)
        lay.addWidget(self.save_button)
        title = QLabel("Correlated move: where the driver's move liquidates each account and pool")
        title.setObjectName("sectionTitle")
        title.setWordWrap(True)
        lay.addWidget(title)
        lay.addWidget(self.distance_table, 1)
        left.setMinimumWidth(240)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.chart.frame)
        split.setSizes([380, 560])
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(split)
        self._fill_sources()

    # -- context ------------------------------------------------------------------------
    def set_context(self, session: Any, scope: str | None, db: Any) -> None:
        changed_db = db is not self.db
        self.session, self.scope, self.db = session, scope, db
        if changed_db:
            self._fill_sources()
        self.run()

    def set_marker(self, marker: tuple[float, float, str] | None) -> None:
        self.marker = marker
        if self.view is not None:
            self.chart.set_grid(self.view.grid, self.view.scope, marker)

    def _histories(self) -> list[dict[str, Any]]:
        if self.db is None:
            return []
        try:
            from workstation.store.stress_store import price_histories

            return price_histories(self.db)
        except Exception:  # an old or foreign database: the profile's betas still work
            return []

    def _fill_sources(self, select: str | None = None) -> None:
        current = select if select is not None else self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem("the profile's", PROFILE)
        for h in self._histories():
            self.source.addItem(f"fitted on {h['name']} ({h['start']} to {h['end']})", h["name"])
        idx = self.source.findData(current) if current is not None else 0
        self.source.setCurrentIndex(max(0, idx))
        self.source.blockSignals(False)
        writable = self.db is not None and not getattr(self.db, "read_only", False)
        self.import_button.setEnabled(writable)
        self._source_changed(run=False)

    def _source_changed(self, run: bool = True) -> None:
        name = self.source.currentData()
        fitted = bool(name)
        for w in (self.start, self.end, self.save_button, self.window_label, self.to_label):
            w.setVisible(fitted)
        self.prices, self.betas = None, None
        if fitted:
            from workstation.store.stress_store import load_price_history

            self.prices = load_price_history(self.db, name)
            first, last = self.prices.index[0], self.prices.index[-1]
            for edit, day in ((self.start, first), (self.end, last)):
                edit.blockSignals(True)
                edit.setDateRange(QDate(first.year, first.month, first.day), QDate(last.year, last.month, last.day))
                edit.setDate(QDate(day.year, day.month, day.day))
                edit.blockSignals(False)
            self.refit()
        elif run:
            self.run()

    # -- jobs -----------------------------------------------------------------------------
    def _driver(self) -> str:
        from workstation.ui.stress_compute import profile_betas

        return profile_betas(self.session, self.scope).driver if self.session and self.scope else "BTC"

    def refit(self) -> None:
        if self.prices is None or self.session is None:
            return
        start, end = self.start.date().toString("yyyy-MM-dd"), self.end.date().toString("yyyy-MM-dd")
        self.fit_job.submit(fit, self.prices, self._driver(), start, end)

    def run(self) -> None:
        if self.session is None or self.scope is None:
            return
        self.job.submit(compute_joint, self.session, self.scope, self.betas)

    def is_busy(self) -> bool:
        return self.job.is_busy() or self.fit_job.is_busy() or self.read_job.is_busy()

    def _on_fit(self, betas: Any) -> None:
        self.betas = betas
        self.run()

    def _on_view(self, view: JointView) -> None:
        self.view, self.error = view, None
        self.beta_model.set_records(beta_rows(view))
        fit_columns(self.beta_table)
        self.distance_model.set_records(distance_rows(view))
        fit_columns(self.distance_table)
        self.caption.setText(betas_caption(view.betas) + f" · computed in {view.elapsed_ms:.0f} ms")
        self.chart.set_grid(view.grid, view.scope, self.marker)

    def _on_error(self, exc: BaseException) -> None:
        self.error = str(exc)
        self.caption.setText(f"Could not compute: {exc}")

    # -- history --------------------------------------------------------------------------
    def _choose_csv(self) -> str:
        return QFileDialog.getOpenFileName(self, "Import a price history", "", "CSV files (*.csv);;All files (*)")[0]

    def import_csv(self) -> None:
        path = self.choose_csv()
        if path:
            self.caption.setText(f"reading {path}…")
            self.read_job.submit(lambda p=path: (p, read_history(p)))

    def _on_read(self, result: tuple[str, Any]) -> None:
        from pathlib import Path

        from workstation.store.stress_store import save_price_history

        path, prices = result
        try:
            name = save_price_history(self.db, Path(path).stem, prices, path)
        except Exception as exc:  # shown; nothing was written (one transaction)
            self._on_error(exc)
            return
        self._fill_sources(select=name)

    def save_between(self) -> None:
        from workstation.core.history import scenario_between
        from workstation.store.stress_store import save_stress_scenario

        if self.prices is None or self.db is None:
            return
        start, end = self.start.date().toString("yyyy-MM-dd"), self.end.date().toString("yyyy-MM-dd")
        try:
            scenario = scenario_between(self.prices, start, end, name=f"{self.source.currentData()} {start} to {end}")
            save_stress_scenario(self.db, scenario)
        except Exception as exc:  # shown; nothing was written
            self._on_error(exc)
            return
        self.scenario_saved.emit(scenario.name)

    # -- display ----------------------------------------------------------------------------
    def set_number_format(self, fmt: NumberFormat) -> None:
        self.beta_model.set_number_format(fmt)
        self.distance_model.set_number_format(fmt)
        self.chart.set_number_format(fmt)

    def set_theme(self, theme: Theme = LIGHT) -> None:
        self.beta_model.set_theme(theme)
        self.distance_model.set_theme(theme)
        self.chart.set_theme(theme)
