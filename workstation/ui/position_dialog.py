"""The position dialog: fields follow the kind, sizes say their unit, settlement defaults to the
account's venue convention, and unusual vols or prices are confirmed before they are accepted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QTimeZone
from PySide6.QtWidgets import QDateTimeEdit, QLabel, QLineEdit, QWidget

from workstation.core.model import KINDS, RIGHTS, SETTLEMENTS, Portfolio, Position
from workstation.ui.fields import FormDialog, NumberField, PercentField, combo, qdatetime, unusual_price, unusual_vol

COIN_MARGINED = {"deribit": ("BTC", "ETH")}  # venues whose derivatives on these coins are inverse


def venue_settlement(venue: str | None, underlying: str, kind: str) -> str:
    """The venue's usual settlement: Deribit's BTC and ETH perpetuals, futures and options are
    inverse (coin-settled); its other coins and Binance, OKX, Bybit (USDT) are linear."""
    if kind == "spot":
        return "linear"
    coins = COIN_MARGINED.get((venue or "").strip().lower(), ())
    return "inverse" if underlying.strip().upper() in coins else "linear"


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
        self.account = combo([a.id for a in portfolio.accounts], account_id)
        self.account.setEnabled(not self.editing)
        self.ident = QLineEdit(p.id if p else "")
        self.ident.setPlaceholderText("e.g. btc-27mar26-fut")
        self.ident.setReadOnly(self.editing)
        self.kind = combo(KINDS, p.kind if p else "perpetual")
        assets = sorted(portfolio.market)
        self.underlying = combo(assets, p.underlying if p else (assets[0] if assets else ""), True)
        self.settlement = combo(SETTLEMENTS, p.settlement if p else self._venue_default())
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
        self.expiry.setDateTime(qdatetime(p.expiry if p and p.expiry else default_expiry))
        self.right = combo(RIGHTS, p.right if p and p.right else "call")
        self.strike = NumberField(p.strike if p else None)
        self.vol = PercentField(p.vol if p else None, optional=True, placeholder="in %; market vol if empty")
        self.isolated = NumberField(p.isolated_margin if p else None, optional=True)
        self.mark = NumberField(p.mark_price if p else None, optional=True, placeholder="spot if empty")
        self.mark_conf = NumberField(p.mark_confidence if p else None, optional=True, placeholder="0..1; empty: 1")
        rows = (
            ("Account", self.account), ("Id", self.ident), ("Kind", self.kind),
            ("Underlying", self.underlying), ("Settlement", self.settlement),
            ("Quantity", self.quantity), ("", self.quantity_hint), ("Entry price", self.entry),
            ("Expiry", self.expiry), ("Right", self.right), ("Strike", self.strike), ("Implied vol (%)", self.vol),
            ("Isolated margin", self.isolated), ("Mark price", self.mark), ("Mark confidence", self.mark_conf),
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
        base = self.portfolio.base_currency
        coin = und or "coins"
        option_unit = coin if self.settlement.currentText() == "inverse" else base
        labels = {
            self.quantity: f"Quantity ({base} of contracts)" if inverse_d1
            else f"Quantity ({coin}; 1 contract = 1 {coin})" if kind == "option" else f"Quantity ({coin})",
            self.entry: f"Entry premium ({option_unit} per contract)" if kind == "option" else f"Entry price ({base})",
            self.strike: f"Strike ({base})",
        }
        for field, text in labels.items():
            label = self.form.labelForField(field)
            if isinstance(label, QLabel):
                label.setText(text)
        self.entry.setPlaceholderText("premium per contract" if kind == "option" else f"price in {base}")
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
            self.mark: kind == "perpetual",
            self.mark_conf: kind == "perpetual",
        }
        for widget, visible in shown.items():
            self.form.setRowVisible(widget, visible)

    def account_id(self) -> str:
        return self.account.currentText()

    def result_value(self) -> Position:
        """The position typed in. A vol above 300 %, or an entry price more than 50 % from the
        instrument's mark, is asked about first (an edit that keeps its entry price asks nothing)."""
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
        shown = dict(
            id=ident,
            kind=kind,
            underlying=underlying,
            quantity=self.quantity.value("Quantity"),
            entry_price=self.entry.value("Entry price"),
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
        if self.original is None:
            pos = Position(**shown)  # type: ignore[arg-type]
        else:
            # an edit: the fields this dialog has no row for (venue figures, leverage, an expired
            # option's settlement) keep their stored values, unless the new kind cannot carry them
            cannot = {}
            if kind not in ("perpetual", "future"):
                cannot["leverage"] = None
            if not option:
                cannot.update(expired=False, settlement_price=None)
            pos = replace(self.original, **shown, **cannot)  # type: ignore[arg-type]
        self.check(unusual_vol(pos.vol), unusual_price(pos.entry_price, self.last_price(pos), "Entry price"))
        return pos

    def last_price(self, pos: Position) -> float | None:
        """The instrument's mark in the entry price's unit, from the engine (None when it cannot be
        priced, or when an edit keeps its entry price)."""
        if pos.entry_price is None or pos.underlying not in self.portfolio.market:
            return None
        if self.original is not None and pos.entry_price == self.original.entry_price:
            return None
        from workstation.core.cash import mark_price

        try:
            return mark_price(self.portfolio, replace(pos, entry_price=1.0))
        except Exception:  # an incomplete option (no vol anywhere): nothing to compare with
            return None
