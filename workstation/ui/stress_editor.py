"""The dialog that creates or edits a user stress scenario: a price move per asset (or every
other asset), a stablecoin's depegged price, vol shifts in vol points or relative, days forward.

Percentages are typed as percentages (-20 is -20 %; a vol shift of 10 points is +0.10 vol); the
scenario is checked by the engine's reader (`scenario_from_dict`) before it is saved.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QScrollArea, QWidget

from workstation.core.stress import Scenario, scenario_from_dict
from workstation.ui.fields import FormDialog, NumberField

EVERY = "*"


class ScenarioDialog(FormDialog):
    """New, edit or copy a scenario; `result_value()` is the `Scenario` (kind "user")."""

    def __init__(self, assets: Iterable[str], stable: Iterable[str], scenario: Scenario | None = None,
                 taken: Iterable[str] = (), copy: bool = False, parent: QWidget | None = None) -> None:
        editing = scenario is not None and not copy
        super().__init__("Edit scenario" if editing else "New scenario", parent)
        self.setObjectName("scenarioDialog")
        s = scenario or Scenario("")
        self.taken = set(taken) - ({s.name} if editing else set())
        stable = set(stable)
        self.name = QLineEdit(f"{s.name} (copy)" if copy else s.name)
        self.name.setPlaceholderText("e.g. btc-30-eth-40")
        self.title = QLineEdit(s.title)
        self.title.setPlaceholderText("optional description")
        self.mode = QComboBox()
        self.mode.addItem("vol points (10 = +0.10 vol)", "points")
        self.mode.addItem("relative % (50 = vols x 1.5)", "relative")
        self.mode.setCurrentIndex(max(0, self.mode.findData(s.vol_mode)))
        self.days = NumberField(s.days or None, optional=True, placeholder="0")
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        for col, text in enumerate(("Asset", "Price move (%)", "Vol shift", "Depegged price")):
            head = QLabel(text)
            head.setObjectName("muted")
            grid.addWidget(head, 0, col)
        self.moves: dict[str, NumberField] = {}
        self.vols: dict[str, NumberField] = {}
        self.prices: dict[str, NumberField] = {}
        rows = [a for a in assets if a not in stable] + [EVERY] + [a for a in assets if a in stable]
        for r, asset in enumerate(rows, start=1):
            grid.addWidget(QLabel("every other asset" if asset == EVERY else asset), r, 0)
            if asset in stable:
                self.prices[asset] = NumberField(s.depeg.get(asset), optional=True, placeholder="at its price")
                grid.addWidget(self.prices[asset], r, 3)
                continue
            move = s.shocks.get(asset)
            self.moves[asset] = NumberField(None if move is None else 100.0 * move, optional=True,
                                            placeholder="not moved" if asset != EVERY else "none")
            vol = s.vol_shift.get(asset)
            self.vols[asset] = NumberField(None if vol is None else 100.0 * vol, optional=True, placeholder="none")
            grid.addWidget(self.moves[asset], r, 1)
            grid.addWidget(self.vols[asset], r, 2)
        table = QWidget()
        table.setLayout(grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(table)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumHeight(min(360, 34 * (len(rows) + 1)))
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form.addRow("Name", self.name)
        self.form.addRow("Title", self.title)
        self.form.addRow(scroll)
        self.form.addRow("Vol shifts in", self.mode)
        self.form.addRow("Days forward", self.days)
        note = QLabel("All moves apply at once, at the horizon; options expiring on the way settle on the moved "
                      "price. Empty fields move nothing.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        self.form.addRow(note)
        self.setMinimumWidth(520)

    def result_value(self) -> Scenario:
        name = self.name.text().strip()
        if not name:
            raise ValueError("Name: give the scenario a name")
        if name in self.taken:
            raise ValueError(f"Name: {name!r} is taken (a shipped or saved scenario)")
        shocks, vols, depeg = {}, {}, {}
        for asset, field in self.moves.items():
            label = "every other asset" if asset == EVERY else asset
            value = field.value(f"{label} price move")
            if value is not None:
                if value <= -100.0:
                    raise ValueError(f"{label} price move: must be above -100 %, got {value:g} %")
                shocks[asset] = value / 100.0
            vol = self.vols[asset].value(f"{label} vol shift")
            if vol is not None:
                vols[asset] = vol / 100.0
        for asset, field in self.prices.items():
            price = field.value(f"{asset} depegged price")
            if price is not None:
                if price <= 0:
                    raise ValueError(f"{asset} depegged price: must be positive, got {price:g}")
                depeg[asset] = price
        days = self.days.value("Days forward") or 0.0
        if days < 0:
            raise ValueError(f"Days forward: must be 0 or more, got {days:g}")
        doc = {"name": name, "title": self.title.text().strip(), "kind": "user", "shocks": shocks,
               "vol_shift": vols, "vol_mode": self.mode.currentData(), "days": days, "depeg": depeg}
        return scenario_from_dict(doc, f"scenario {name!r}")
