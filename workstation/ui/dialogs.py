"""Editing dialogs: positions, collateral, market quotes, account mode and profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QLabel, QLineEdit, QWidget

from workstation.core.model import KINDS, MARGIN_MODES, RIGHTS, SETTLEMENTS, Portfolio, Position
from workstation.ui.fields import FormDialog, NumberField, PercentField

VOL_QUESTION = 3.0  # a vol above 300 % is asked about before it is accepted
PRICE_QUESTION = 0.5  # so is a price more than 50 % away from the last one
COIN_MARGINED = {"deribit": ("BTC", "ETH")}  # venues whose derivatives on these coins are inverse


def venue_settlement(venue: str | None, underlying: str, kind: str) -> str:
    """The venue's usual settlement: Deribit's BTC and ETH perpetuals, futures and options are
    inverse (coin-settled); its other coins and Binance, OKX, Bybit (USDT) are linear."""
    if kind == "spot":
        return "linear"
    coins = COIN_MARGINED.get((venue or "").strip().lower(), ())
    return "inverse" if underlying.strip().upper() in coins else "linear"


def vol_question(vol: float | None) -> list[str]:
    if vol is not None and vol > VOL_QUESTION:
        return [f"An implied vol of {vol * 100:,.4g} % is above {VOL_QUESTION:.0%}. Vols are typed in "
                f"percent: 55 means 55 %.\n\nKeep {vol * 100:,.4g} %?"]
    return []


def price_question(name: str, price: float | None, last: float | None) -> list[str]:
    if price is None or not last or last <= 0:
        return []
    move = price / last - 1.0
    if abs(move) > PRICE_QUESTION:
        return [f"{name} {price:,.10g} is {move:+.0%} away from the last price {last:,.10g}.\n\n"
                f"Keep {price:,.10g}?"]
    return []


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
        self.editing = position is not None
        self.account = _combo([a.id for a in portfolio.accounts], account_id)
        self.account.setEnabled(not self.editing)
        self.ident = QLineEdit(p.id if p else "")
        self.ident.setPlaceholderText("e.g. btc-27mar26-fut")
        self.ident.setReadOnly(self.editing)
        self.kind = _combo(KINDS, p.kind if p else "perpetual")
        assets = sorted(portfolio.market)
        self.underlying = _combo(assets, p.underlying if p else (assets[0] if assets else ""), True)
        self.settlement = _combo(SETTLEMENTS, p.settlement if p else self._venue_default())
        self._settlement_chosen = self.editing  # a choice of the user's is kept
        self.settlement.activated.connect(lambda _i: setattr(self, "_settlement_chosen", True))
        self.quantity = NumberField(p.quantity if p else None, placeholder="signed; positive is long")
        self.quantity_hint = QLabel("")
        self.quantity_hint.setObjectName("muted")
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
        rows = (
            ("Account", self.account), ("Id", self.ident), ("Kind", self.kind),
            ("Underlying", self.underlying), ("Settlement", self.settlement),
            ("Quantity", self.quantity), ("", self.quantity_hint), ("Entry price", self.entry),
            ("Expiry", self.expiry), ("Right", self.right), ("Strike", self.strike), ("Implied vol (%)", self.vol),
            ("Isolated margin", self.isolated),
        )
        for label, widget in rows:
            self.form.addRow(label, widget)
        self.kind.currentTextChanged.connect(self._follow_kind)
        self.account.currentTextChanged.connect(self._follow_kind)
        self.underlying.currentTextChanged.connect(self._follow_kind)
        self.settlement.currentTextChanged.connect(self._follow_units)
        self.quantity.textChanged.connect(self._follow_units)
        self._follow_kind()
        self.setMinimumWidth(400)

    def _account(self):
        ids = {a.id for a in self.portfolio.accounts}
        return self.portfolio.account(self.account.currentText()) if self.account.currentText() in ids else None

    def _venue_default(self) -> str:
        account = self._account()
        return venue_settlement(account.venue if account else None, self.underlying.currentText(),
                                self.kind.currentText())

    def _follow_units(self) -> None:
        """Say what unit the quantity is in, and its coin equivalent for USD-notional sizes."""
        kind, und = self.kind.currentText(), self.underlying.currentText().strip().upper()
        inverse_d1 = kind in ("perpetual", "future") and self.settlement.currentText() == "inverse"
        label = self.form.labelForField(self.quantity)
        if isinstance(label, QLabel):
            label.setText(f"Quantity ({self.portfolio.base_currency} of contracts)" if inverse_d1
                          else f"Quantity ({und or 'coins'}{', contracts of 1' if kind == 'option' else ''})")
        hint = ""
        quote = self.portfolio.market.get(und)
        try:
            qty = self.quantity.value("Quantity")
        except ValueError:
            qty = None
        if inverse_d1 and qty is not None and quote is not None and quote.price > 0:
            hint = f"≈ {qty / quote.price:,.6g} {und} at {quote.price:,.2f}"
        self.quantity_hint.setText(hint)
        self.form.setRowVisible(self.quantity_hint, bool(hint))

    def _follow_kind(self) -> None:
        kind = self.kind.currentText()
        account = self._account()
        if not self._settlement_chosen:
            self.settlement.blockSignals(True)
            self.settlement.setCurrentText(self._venue_default())
            self.settlement.blockSignals(False)
        self._follow_units()
        shown = {
            self.settlement: kind != "spot",
            self.expiry: kind in ("future", "option"),
            self.right: kind == "option",
            self.strike: kind == "option",
            self.vol: kind == "option",
            self.isolated: account is not None and account.margin_mode == "isolated",
        }
        for widget, visible in shown.items():
            self.form.setRowVisible(widget, visible)

    def account_id(self) -> str:
        return self.account.currentText()

    def questions(self, value: Position) -> list[str]:
        """A vol above 300 %, or a perpetual's, future's or spot entry price more than 50 % from
        the market price, is confirmed first."""
        out = vol_question(value.vol)
        quote = self.portfolio.market.get(value.underlying)
        if value.kind != "option" and quote is not None:
            out += price_question("Entry price", value.entry_price, quote.price)
        return out

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
        return Position(
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
        )


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
        return asset, price, vol

    def questions(self, value: tuple[str, float, float | None]) -> list[str]:
        asset, price, vol = value
        quote = self.portfolio.market.get(asset)
        return price_question("Price", price, quote.price if quote else None) + vol_question(vol)


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


IMPORT_KINDS = {
    "portfolio": "Portfolio file (replaces the whole book)",
    "ccxt-positions": "Positions, ccxt JSON",
    "ccxt-balance": "Balances, ccxt JSON",
    "positions-csv": "Positions, CSV",
    "balances-csv": "Balances, CSV",
    "market-csv": "Market prices and vols, CSV",
}
NEEDS_ACCOUNT = ("ccxt-positions", "ccxt-balance", "positions-csv", "balances-csv")


class ImportDialog(FormDialog):
    """Pick what to import: the kind of file, the file, the account and replace / merge."""

    def __init__(self, portfolio: Portfolio | None, account_id: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Import", parent)
        from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton

        self.kind = QComboBox()
        for key, label in IMPORT_KINDS.items():
            self.kind.addItem(label, key)
        self.path = QLineEdit()
        self.path.setPlaceholderText("file to import")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        accounts = [a.id for a in portfolio.accounts] if portfolio else []
        self.account = _combo(accounts, account_id, editable=True)
        self.merge = QCheckBox("Merge into the account (default: replace its positions / balances)")
        self.form.addRow("Kind", self.kind)
        self.form.addRow("File", row)
        self.form.addRow("Account", self.account)
        self.form.addRow("", self.merge)
        self.kind.currentIndexChanged.connect(self._follow_kind)
        self._follow_kind()
        self.setMinimumWidth(520)

    def _browse(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        csv = self.kind.currentData().endswith("csv")
        pattern = "CSV files (*.csv)" if csv else "JSON files (*.json)"
        path, _ = QFileDialog.getOpenFileName(self, "Import", "", f"{pattern};;All files (*)")
        if path:
            self.path.setText(path)

    def _follow_kind(self) -> None:
        needs = self.kind.currentData() in NEEDS_ACCOUNT
        self.form.setRowVisible(self.account, needs)
        self.form.setRowVisible(self.merge, needs)

    def result_value(self) -> dict[str, object]:
        path = self.path.text().strip()
        if not path:
            raise ValueError("File: choose a file to import")
        kind = self.kind.currentData()
        options: dict[str, object] = {"kind": kind, "path": path}
        if kind in NEEDS_ACCOUNT:
            options["account"] = self.account.currentText().strip() or None
            options["merge"] = self.merge.isChecked()
        return options
