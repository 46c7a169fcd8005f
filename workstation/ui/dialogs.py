"""Editing dialogs: positions, collateral, market quotes, account mode and profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QLineEdit, QWidget

from workstation.core.model import KINDS, MARGIN_MODES, RIGHTS, SETTLEMENTS, Portfolio, Position
from workstation.ui.fields import FormDialog, NumberField, PercentField, unusual_price, unusual_vol


def _combo(items: list[str] | tuple[str, ...], current: str | None = None, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.setEditable(editable)
    box.addItems(list(items))
    if current is not None:
        idx = box.findText(current)
        if idx >= 0:
            box.setCurrentIndex(idx)
        elif editable:
            box.setEditText(current)
    return box


def _qdatetime(value: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(value.timestamp()), QTimeZone.utc())


class PositionDialog(FormDialog):
    """Add or edit one position; the fields shown follow the kind."""

    def __init__(
        self,
        portfolio: Portfolio,
        account_id: str,
        position: Position | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Edit position" if position else "Add position", parent)
        self.portfolio = portfolio
        p = position
        self.original = position
        self.editing = position is not None
        self.account = _combo([a.id for a in portfolio.accounts], account_id)
        self.account.setEnabled(not self.editing)
        self.ident = QLineEdit(p.id if p else "")
        self.ident.setPlaceholderText("e.g. btc-27mar26-fut")
        self.ident.setReadOnly(self.editing)
        self.kind = _combo(KINDS, p.kind if p else "perpetual")
        assets = sorted(portfolio.market)
        self.underlying = _combo(assets, p.underlying if p else (assets[0] if assets else ""), True)
        self.settlement = _combo(SETTLEMENTS, p.settlement if p else "linear")
        self.quantity = NumberField(p.quantity if p else None, placeholder="signed; positive is long")
        self.entry = NumberField(p.entry_price if p else None, placeholder="premium per unit for options")
        self.expiry = QDateTimeEdit()
        self.expiry.setTimeZone(QTimeZone.utc())
        self.expiry.setDisplayFormat("yyyy-MM-dd HH:mm 'UTC'")
        self.expiry.setCalendarPopup(True)
        default_expiry = portfolio.as_of + timedelta(days=30)
        self.expiry.setDateTime(_qdatetime(p.expiry if p and p.expiry else default_expiry))
        self.right = _combo(RIGHTS, p.right if p and p.right else "call")
        self.strike = NumberField(p.strike if p else None)
        self.vol = PercentField(p.vol if p else None, optional=True, placeholder="in %; market vol if empty")
        self.isolated = NumberField(p.isolated_margin if p else None, optional=True)
        self.mark = NumberField(p.mark_price if p else None, optional=True, placeholder="spot if empty")
        self.mark_conf = NumberField(p.mark_confidence if p else None, optional=True, placeholder="0..1; empty: 1")
        rows = (
            ("Account", self.account), ("Id", self.ident), ("Kind", self.kind),
            ("Underlying", self.underlying), ("Settlement", self.settlement),
            ("Quantity", self.quantity), ("Entry price", self.entry), ("Expiry", self.expiry),
            ("Right", self.right), ("Strike", self.strike), ("Implied vol (%)", self.vol),
            ("Isolated margin", self.isolated), ("Mark price", self.mark), ("Mark confidence", self.mark_conf),
        )
        for label, widget in rows:
            self.form.addRow(label, widget)
        self.kind.currentTextChanged.connect(self._follow_kind)
        self.account.currentTextChanged.connect(self._follow_kind)
        self._follow_kind()
        self.setMinimumWidth(380)

    def _follow_kind(self) -> None:
        kind = self.kind.currentText()
        account = self.portfolio.account(self.account.currentText()) if self.portfolio.accounts else None
        shown = {
            self.settlement: kind != "spot",
            self.expiry: kind in ("future", "option"),
            self.right: kind == "option",
            self.strike: kind == "option",
            self.vol: kind == "option",
            self.isolated: account is not None and account.margin_mode == "isolated",
            self.mark: kind == "perpetual",
            self.mark_conf: kind == "perpetual",
        }
        for widget, visible in shown.items():
            self.form.setRowVisible(widget, visible)

    def account_id(self) -> str:
        return self.account.currentText()

    def result_value(self) -> Position:
        kind = self.kind.currentText()
        ident = self.ident.text().strip()
        if not ident:
            raise ValueError("Id: required")
        underlying = self.underlying.currentText().strip().upper()
        if not underlying:
            raise ValueError("Underlying: required")
        option = kind == "option"
        expiry = None
        if kind in ("future", "option"):
            secs = self.expiry.dateTime().toSecsSinceEpoch()
            expiry = datetime.fromtimestamp(secs, UTC)
        pos = Position(
            id=ident,
            kind=kind,
            underlying=underlying,
            quantity=self.quantity.value("Quantity"),  # type: ignore[arg-type]
            entry_price=self.entry.value("Entry price"),  # type: ignore[arg-type]
            settlement="linear" if kind == "spot" else self.settlement.currentText(),
            expiry=expiry,
            right=self.right.currentText() if option else None,
            strike=self.strike.value("Strike") if option else None,
            vol=self.vol.value("Implied vol") if option else None,
            isolated_margin=self.isolated.value("Isolated margin")
            if self.form.isRowVisible(self.isolated) else None,
            mark_price=self.mark.value("Mark price") if kind == "perpetual" else None,
            mark_confidence=self.mark_conf.value("Mark confidence") if kind == "perpetual" else None,
        )
        self.check(unusual_vol(pos.vol), unusual_price(pos.entry_price, self.last_price(pos), "Entry price"))
        return pos

    def last_price(self, pos: Position) -> float | None:
        """The instrument's mark in the entry price's unit (None when it cannot be priced)."""
        if pos.entry_price is None or pos.underlying not in self.portfolio.market:
            return None
        if self.original is not None and pos.entry_price == self.original.entry_price:
            return None  # an edit that keeps the entry asks nothing
        from dataclasses import replace

        from workstation.core.cash import mark_price

        try:
            return mark_price(self.portfolio, replace(pos, entry_price=1.0))
        except Exception:  # an incomplete option (no vol anywhere): nothing to compare with
            return None


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
        self.account = _combo([a.id for a in portfolio.accounts], account_id)
        self.account.setEnabled(asset is None)
        self.asset = _combo(sorted(portfolio.market), asset, editable=True)
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
        self.asset = _combo(assets, asset or (assets[0] if assets else None), editable=True)
        self.price = NumberField()
        self.vol = PercentField(optional=True, placeholder="in %, e.g. 55 for 55 %")
        self.form.addRow("Asset", self.asset)
        self.form.addRow("Price", self.price)
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
            raise ValueError("Implied vol: must be positive (55 means 55 %)")
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
        self.mode = _combo(MARGIN_MODES, account.margin_mode)
        self.profile = _combo(names, account.profile)
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
