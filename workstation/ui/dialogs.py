"""Editing dialogs: collateral, market quotes, account mode and profile (the position dialog is
`position_dialog.py`, the import dialog `import_dialog.py`)."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QWidget

from workstation.core.model import MARGIN_MODES, Portfolio
from workstation.ui.fields import FormDialog, NumberField, PercentField, combo, qdatetime, unusual_price, unusual_vol
from workstation.ui.position_dialog import PositionDialog, venue_settlement

# The position dialog lives in its own module; its names stay importable from here.
_combo, _qdatetime = combo, qdatetime
__all__ = ["AccountModeDialog", "CollateralDialog", "PositionDialog", "QuoteDialog", "venue_settlement"]


class CollateralDialog(FormDialog):
    """Set the amount of one collateral asset in one account."""

    def __init__(
        self,
        portfolio: Portfolio,
        account_id: str,
        asset: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Edit collateral" if asset else "Add collateral", parent)
        self.portfolio = portfolio
        self.account = combo([a.id for a in portfolio.accounts], account_id)
        self.account.setEnabled(asset is None)
        self.asset = combo(sorted(portfolio.market), asset, editable=True)
        self.asset.setEnabled(asset is None)
        amount = portfolio.account(account_id).collateral.get(asset) if asset else None
        self.amount = NumberField(amount, placeholder="negative when borrowed")
        self.form.addRow("Account", self.account)
        self.form.addRow("Asset", self.asset)
        self.form.addRow("Amount", self.amount)
        self.setMinimumWidth(320)

    def result_value(self) -> tuple[str, str, float]:
        asset = self.asset.currentText().strip().upper()
        if not asset:
            raise ValueError("Asset: required")
        return self.account.currentText(), asset, self.amount.value("Amount")  # type: ignore[return-value]


class QuoteDialog(FormDialog):
    """Edit an asset's market price and implied vol."""

    def __init__(self, portfolio: Portfolio, asset: str | None = None, parent: QWidget | None = None):
        super().__init__("Market price and vol", parent)
        self.portfolio = portfolio
        assets = sorted(portfolio.market)
        self.asset = combo(assets, asset or (assets[0] if assets else None), editable=True)
        self.price = NumberField()
        self.vol = PercentField(optional=True, placeholder="in %, e.g. 55 for 55 %")
        self.form.addRow("Asset", self.asset)
        self.form.addRow(f"Price ({portfolio.base_currency})", self.price)
        self.form.addRow("Implied vol (%)", self.vol)
        self.asset.currentTextChanged.connect(self._fill)
        self._fill(self.asset.currentText())
        self.setMinimumWidth(320)

    def _fill(self, asset: str) -> None:
        quote = self.portfolio.market.get(asset.strip().upper())
        self.price.set_value(quote.price if quote else None)
        self.vol.set_value(quote.vol if quote else None)

    def result_value(self) -> tuple[str, float, float | None]:
        asset = self.asset.currentText().strip().upper()
        if not asset:
            raise ValueError("Asset: required")
        price = self.price.value("Price")
        vol = self.vol.value("Implied vol")
        if price is None or price < 0:
            raise ValueError("Price: must be zero or more")
        if vol is not None and vol <= 0:
            raise ValueError("Implied vol: must be positive, in percent (55 means 55 %)")
        quote = self.portfolio.market.get(asset)
        self.check(unusual_vol(vol), unusual_price(price, quote.price if quote else None))
        return asset, price, vol


class AccountModeDialog(FormDialog):
    """Change an account's margin mode and profile.

    Switching to `isolated` needs collateral set aside per position: one field each,
    pre-filled with the position's standalone initial margin from the last report.
    """

    def __init__(
        self,
        portfolio: Portfolio,
        account_id: str,
        profiles: list[str],
        standalone: dict[str, float] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Account margin mode", parent)
        account = portfolio.account(account_id)
        self.account_id = account_id
        self.was_isolated = account.margin_mode == "isolated"
        names = sorted(set(profiles) | set(portfolio.profiles) | {account.profile})
        self.mode = combo(MARGIN_MODES, account.margin_mode)
        self.profile = combo(names, account.profile)
        self.form.addRow("Account", QLineEdit(account.name or account.id, readOnly=True))
        self.form.addRow("Margin mode", self.mode)
        self.form.addRow("Profile", self.profile)
        self.isolated: dict[str, NumberField] = {}
        for pos in account.positions:
            value = pos.isolated_margin
            if value is None and standalone:
                value = round(standalone.get(pos.id, 0.0), 2)
            field = NumberField(value)
            self.isolated[pos.id] = field
            self.form.addRow(f"Isolated margin {pos.id}", field)
        self.mode.currentTextChanged.connect(self._follow_mode)
        self._follow_mode()
        self.setMinimumWidth(380)

    def _follow_mode(self) -> None:
        show = self.mode.currentText() == "isolated"
        for field in self.isolated.values():
            self.form.setRowVisible(field, show)
        self.adjustSize()

    def result_value(self) -> tuple[str, str, str, dict[str, float] | None]:
        mode = self.mode.currentText()
        margins = None
        if mode == "isolated":
            margins = {pid: f.value(f"Isolated margin {pid}") for pid, f in self.isolated.items()}
        return self.account_id, mode, self.profile.currentText(), margins  # type: ignore[return-value]
