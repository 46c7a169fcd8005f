"""Editors of the market snapshot's optional fields (shared/spec/derive-pmrm2.md): an asset's
forwards per expiry (the venue's futures price and rate for each date), and its oracle
confidence, the asset it moves with and a stable's own (peg) price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from workstation.core.model import Forward, Portfolio
from workstation.core.portfolio_io import format_time, parse_time
from workstation.ui.fields import FormDialog, NumberField

_NO_DRIVER = "(itself)"


def _asset_combo(portfolio: Portfolio, current: str | None) -> QComboBox:
    box = QComboBox()
    assets = sorted(portfolio.market)
    box.addItems(assets)
    if current in assets:
        box.setCurrentText(current)
    return box


def _number(text: str, name: str, *, optional: bool) -> float | None:
    field = NumberField(optional=optional)
    field.setText(text)
    return field.value(name)


class QuoteDetailsDialog(FormDialog):
    """An asset's oracle confidence, the asset it moves with, and its peg price."""

    def __init__(self, portfolio: Portfolio, asset: str | None = None, parent: QWidget | None = None):
        super().__init__("Confidence, moves with, peg price", parent)
        self.portfolio = portfolio
        self.asset = _asset_combo(portfolio, asset)
        self.confidence = NumberField(optional=True, placeholder="0..1; empty: 1")
        self.moves_with = QComboBox()
        self.peg = NumberField(optional=True, placeholder="a stable's own price; empty: 1")
        self.form.addRow("Asset", self.asset)
        self.form.addRow("Oracle confidence", self.confidence)
        self.form.addRow("Moves with", self.moves_with)
        self.form.addRow("Peg price", self.peg)
        self.asset.currentTextChanged.connect(self._fill)
        self._fill(self.asset.currentText())
        self.setMinimumWidth(360)

    def _fill(self, asset: str) -> None:
        quote = self.portfolio.market.get(asset)
        self.confidence.set_value(quote.confidence if quote else None)
        self.peg.set_value(quote.peg_price if quote else None)
        self.moves_with.clear()
        self.moves_with.addItems([_NO_DRIVER] + [a for a in sorted(self.portfolio.market) if a != asset])
        self.moves_with.setCurrentText(quote.moves_with if quote and quote.moves_with else _NO_DRIVER)

    def result_value(self) -> tuple[str, dict[str, object]]:
        conf = self.confidence.value("Oracle confidence")
        if conf is not None and not 0.0 <= conf <= 1.0:
            raise ValueError("Oracle confidence: must be within 0 and 1")
        peg = self.peg.value("Peg price")
        if peg is not None and peg <= 0:
            raise ValueError("Peg price: must be positive")
        driver = self.moves_with.currentText()
        return self.asset.currentText(), {"confidence": conf, "peg_price": peg,
                                          "moves_with": None if driver == _NO_DRIVER else driver}


class ForwardsDialog(FormDialog):
    """An asset's forwards, one row per expiry: forward price, rate and confidence (both
    optional). Options and futures of that expiry price on them."""

    COLUMNS = ("Expiry (UTC)", "Forward", "Rate", "Confidence")

    def __init__(self, portfolio: Portfolio, asset: str | None = None, parent: QWidget | None = None):
        super().__init__("Forwards per expiry", parent)
        self.portfolio = portfolio
        self.asset = _asset_combo(portfolio, asset)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(220)
        add = QPushButton("Add expiry")
        add.clicked.connect(self.add_row)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_rows)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        self.form.addRow("Asset", self.asset)
        self.form.addRow(self.table)
        self.form.addRow(buttons)
        self.asset.currentTextChanged.connect(self._fill)
        self._fill(self.asset.currentText())
        self.setMinimumWidth(640)

    def _book_expiries(self, asset: str) -> list[datetime]:
        """Expiries of the book's live options and futures on `asset`, soonest first."""
        found = {p.expiry for a in self.portfolio.accounts for p in a.positions
                 if p.underlying == asset and p.expiry is not None and not p.expired}
        return sorted(found)

    def _set_row(self, row: int, cells: tuple[str, str, str, str]) -> None:
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter
                                  | (Qt.AlignmentFlag.AlignLeft if col == 0 else Qt.AlignmentFlag.AlignRight))
            self.table.setItem(row, col, item)

    def _fill(self, asset: str) -> None:
        quote = self.portfolio.market.get(asset)
        forwards = quote.forwards if quote else ()
        self.table.setRowCount(len(forwards))
        for row, f in enumerate(forwards):
            self._set_row(row, (format_time(f.expiry), f"{f.forward:.10g}",
                                "" if f.rate is None else f"{f.rate:.10g}",
                                "" if f.confidence is None else f"{f.confidence:.10g}"))

    def add_row(self) -> None:
        """A new row at the first expiry of the book without a forward (else as_of + 30 d)."""
        asset = self.asset.currentText()
        have = {self.table.item(r, 0).text() for r in range(self.table.rowCount()) if self.table.item(r, 0)}
        missing = [e for e in self._book_expiries(asset) if format_time(e) not in have]
        quote = self.portfolio.market.get(asset)
        expiry = missing[0] if missing else self.portfolio.as_of + timedelta(days=30)
        row = self.table.rowCount()
        self.table.insertRow(row)
        self._set_row(row, (format_time(expiry),
                            f"{quote.price:.10g}" if quote else "", "", ""))
        self.table.setCurrentCell(row, 1)

    def remove_rows(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)

    def forwards(self) -> list[Forward]:
        out: list[Forward] = []
        for row in range(self.table.rowCount()):
            cells = [(self.table.item(row, c).text().strip() if self.table.item(row, c) else "")
                     for c in range(len(self.COLUMNS))]
            name = f"Row {row + 1}"
            if not cells[0]:
                raise ValueError(f"{name}: an expiry such as 2026-12-25T08:00:00Z is required")
            try:
                expiry = parse_time(cells[0], "expiry")
            except Exception:
                raise ValueError(f"{name}: {cells[0]!r} is not a time such as 2026-12-25T08:00:00Z") from None
            forward = _number(cells[1], f"{name} forward", optional=False)
            if forward is None or forward <= 0:
                raise ValueError(f"{name} forward: must be positive")
            conf = _number(cells[3], f"{name} confidence", optional=True)
            if conf is not None and not 0.0 <= conf <= 1.0:
                raise ValueError(f"{name} confidence: must be within 0 and 1")
            out.append(Forward(expiry.astimezone(UTC), forward, _number(cells[2], f"{name} rate", optional=True), conf))
        return out

    def result_value(self) -> tuple[str, list[Forward]]:
        return self.asset.currentText(), self.forwards()
