"""Liquidation panel: how far each underlying (and everything together) can move."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from workstation.ui.formatting import LIQ_AMBER_PCT, LIQ_RED_PCT, NumberFormat
from workstation.ui.table_model import Column, RecordTableModel
from workstation.ui.views import fit_columns, make_table_view
from workstation.ui.wording_label import WordingLabel

LIQUIDATION_COLUMNS: tuple[Column, ...] = (
    Column("Underlying", "label", tip="Underlying moved alone (others held), or all together"),
    Column("Down", "down_pct", "pct", "Fall that brings equity to maintenance margin", "distance",
           blank="none"),
    Column("Down price", "down_price", "price", "Price at liquidation", "distance", "down_pct",
           blank=""),
    Column("Up", "up_pct", "pct", "Rise that brings equity to maintenance margin", "distance",
           blank="none"),
    Column("Up price", "up_price", "price", "Price at liquidation", "distance", "up_pct",
           blank=""),
)
ALL_LABEL = "All together"


def liquidation_rows(liquidation: dict[str, Any], fmt: NumberFormat | None = None) -> list[dict[str, Any]]:
    """One row per underlying, then the `all` move (percent only); each row's tooltip says both
    sides in words, with the price."""
    fmt = fmt or NumberFormat()
    rows = []
    for und, figures in liquidation.items():
        if und == "all":
            continue
        rows.append({"key": und, "label": und, **figures, "_tip": _side_tip(und, figures, fmt)})
    if "all" in liquidation:
        figures = liquidation["all"]
        rows.append({
            "key": "all", "label": ALL_LABEL, "down_pct": figures.get("down_pct"),
            "up_pct": figures.get("up_pct"), "down_price": None, "up_price": None,
            "_tip": "Every non-stable asset moves by the same percentage",
        })
    return rows


def _side_tip(und: str, figures: dict[str, Any], fmt: NumberFormat) -> str:
    lines = [f"{und} moved alone, every other price held:"]
    for side, word in (("down", "falling"), ("up", "rising")):
        pct, price = figures.get(f"{side}_pct"), figures.get(f"{side}_price")
        if pct is None:
            lines.append(f"{word}: no liquidation within the searched range")
        else:
            at = f" at {fmt.price(price)}" if price is not None else ""
            lines.append(f"{word}: equity meets maintenance margin after {fmt.percent(pct, signed=True)}{at}")
    return "\n".join(lines)


class LiquidationPanel(QWidget):
    """Per underlying: down / up distance in percent and price; amber < 30 %, red < 15 %."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RecordTableModel(LIQUIDATION_COLUMNS, key_field="key", parent=self)
        self.view = make_table_view(self.model, "liquidationTable")
        self.view.setSortingEnabled(False)
        title = QLabel("Liquidation distance")
        title.setObjectName("sectionTitle")
        bands = f"amber under {LIQ_AMBER_PCT:.0f} %, red under {LIQ_RED_PCT:.0f} %"
        self.note = WordingLabel(f"none: no liquidation from −99 % to +500 %  ·  {bands}",
                             f"none: beyond −99 % / +500 % · {bands}", bands)  # never cut at 1280 px
        self.note.setObjectName("muted")
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)

    def set_liquidation(self, liquidation: dict[str, Any] | None) -> None:
        self.model.set_records(liquidation_rows(liquidation or {}, self.model.number_format))
        fit_columns(self.view)
