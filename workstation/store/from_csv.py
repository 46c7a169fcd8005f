"""Positions, balances and market snapshot CSVs: columns, their synonyms, row parsing.

Column names are matched after lower-casing and dropping non-alphanumerics (`tabular.normal`),
so each synonym below also stands for its camelCase / spaced / snake_case spellings.
docs/store.md documents the same table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from workstation.core import limits
from workstation.core.errors import shown
from workstation.core.model import Position
from workstation.store.staging import StagedBalance, StagedPosition, StagedQuote
from workstation.store.symbols import EXPIRY_HOUR_UTC, Instrument, parse_symbol
from workstation.store.tabular import Row, check_account, read_rows

POSITION_COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("account_id", "acct", "subaccount", "sub_account", "portfolio"),
    "id": ("position_id", "pos_id", "label"),
    "symbol": ("instrument", "instrument_name", "instrument_id", "inst_id", "contract", "ticker",
               "market"),
    "kind": ("instrument_kind", "product_type", "instrument_type"),
    "underlying": ("base", "base_asset", "base_currency", "underlying_asset"),
    "settlement": ("settlement_type", "settle_type"),
    "expiry": ("expiration", "expiry_date", "expiration_date", "expiry_time", "maturity"),
    "right": ("option_type", "call_put", "put_call", "cp"),
    "strike": ("strike_price",),
    "quantity": ("qty", "size", "contracts", "amount", "position", "position_amt", "pos",
                 "net_quantity"),
    "side": ("direction", "position_side", "posSide", "holdSide"),
    "contract_size": ("contractSize", "multiplier", "contract_multiplier", "ct_val", "lot_size"),
    "entry_price": ("entry", "entryPrice", "avg_price", "avgPrice", "average_price",
                    "avg_entry_price", "average_entry_price", "avgPx", "open_price", "cost_price"),
    "vol": ("iv", "implied_vol", "implied_volatility", "volatility", "mark_iv"),
    # Binance positionRisk also has isolatedWallet (the margin without the unrealised PnL):
    # not a synonym, so that the two columns do not both claim isolated_margin
    "isolated_margin": ("isolatedMargin", "position_margin"),
    "expired": ("is_expired",),
    "settlement_price": ("settle_price", "delivery_price", "settlementPrice"),
}
BALANCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "account": POSITION_COLUMNS["account"],
    "asset": ("currency", "coin", "code", "ccy", "token", "asset_code"),
    "total": ("balance", "amount", "wallet_balance", "total_balance", "quantity", "qty",
              "holdings"),
}
MARKET_COLUMNS: dict[str, tuple[str, ...]] = {
    "asset": BALANCE_COLUMNS["asset"] + ("symbol", "underlying"),
    "price": ("mark", "mark_price", "index_price", "last", "last_price", "close", "spot", "px",
              "usd_price"),
    "vol": POSITION_COLUMNS["vol"] + ("atm_vol", "atm_iv"),
}

KIND_WORDS = {
    "spot": "spot", "perpetual": "perpetual", "perp": "perpetual", "swap": "perpetual",
    "future": "future", "futures": "future", "delivery": "future", "option": "option",
    "options": "option",
}
RIGHT_WORDS = {"call": "call", "c": "call", "put": "put", "p": "put"}
LONG_WORDS = {"long", "buy", "b", "+", "bid"}
SHORT_WORDS = {"short", "sell", "s", "-", "ask"}
NET_WORDS = {"both", "net", ""}
# A vol above this is a percentage (Deribit's mark_iv 52.3), not a fraction (0.523).
MAX_VOL = 5.0
# Kinds a symbol's kind may be reported as (Deribit says `future` for BTC-PERPETUAL).
COMPATIBLE_KINDS = {
    "spot": {"spot"}, "perpetual": {"perpetual", "future"}, "future": {"future", "perpetual"},
    "option": {"option"},
}
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0", ""}
BOOL_WORDS = TRUE_WORDS | FALSE_WORDS
_DERIBIT_DATE = re.compile(r"\d{1,2}[A-Za-z]{3}\d{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_time(text: str) -> datetime:
    """ISO date-time (UTC if no zone), ISO date or Deribit `27MAR26` (dates: 08:00 UTC).

    ValueError for anything else, and for a time outside 1970 to 2200 (core.limits)."""
    return _parse_time(text.strip())


@lru_cache(maxsize=4096)  # a file repeats a few expiries over thousands of rows
def _parse_time(value: str) -> datetime:
    if _DERIBIT_DATE.fullmatch(value):
        inst = parse_symbol(f"X-{value.upper()}")
        assert inst.expiry is not None
        return inst.expiry
    dt = datetime.fromisoformat(value)
    if limits.year_window(dt.year):  # before the zone is applied: no overflow
        raise ValueError(limits.year_window(dt.year))
    if _ISO_DATE.fullmatch(value):
        dt = dt.replace(hour=EXPIRY_HOUR_UTC)
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    if limits.time_window(dt):
        raise ValueError(limits.time_window(dt))
    return dt


def _vol(row: Row) -> float | None:
    """The `vol` cell as a fraction; a value above MAX_VOL is refused as a percentage."""
    value = row.number("vol")
    if value is not None and value > MAX_VOL:
        raise row.error("vol", f"{value:g} looks like a percentage: give {value / 100:g} for "
                               f"{value:g} %")
    return value


def _word(row: Row, column: str, words: dict[str, str]) -> str | None:
    value = row.values.get(column)
    if value is None:
        return None
    word = words.get(value.lower())
    if word is None:
        raise row.error(column, f"expected one of {', '.join(sorted(set(words.values())))} "
                                f"(got {shown(value)})")
    return word


def positions_csv(
    path: str | Path, account: str | None, venue_of: Callable[[str], str | None]
) -> list[StagedPosition]:
    """Staged positions of a positions CSV; `account` fills rows without an account column."""
    check_account(path, account)
    staged: list[StagedPosition] = []
    ids: set[tuple[str, str]] = set()
    rows = list(read_rows(path, POSITION_COLUMNS, ("quantity", "entry_price")))
    hedged = _hedged(rows, account)
    for row in rows:
        acc = row.code("account") or account
        if not acc:
            raise row.error("account", "no account column or value, and no --account given")
        suffix = _side_suffix(row, acc, hedged)
        closed = _closed(row, acc, suffix)
        if closed is not None:
            staged.append(closed)
            continue
        item = _position(row, acc, venue_of(acc), suffix=suffix)
        assert item.position is not None
        if (acc, item.position.id) in ids:
            raise row.error("id" if row.get("id") else "symbol",
                            f"a second position {shown(item.position.id)} in account {shown(acc)}")
        ids.add((acc, item.position.id))
        staged.append(item)
    return staged


def _side_word(row: Row) -> str | None:
    side = (row.text("side") or "").lower()
    return "long" if side in LONG_WORDS else "short" if side in SHORT_WORDS else None


def _hedged(rows: list[Row], account: str | None) -> set[tuple[str, str]]:
    """(account, symbol) pairs listed with both a long and a short row and no id column:
    a hedge-mode export (Binance positionSide, OKX posSide), whose two legs are two positions."""
    sides: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        acc, symbol, word = row.code("account") or account, row.code("symbol"), _side_word(row)
        if acc and symbol and word and not row.code("id"):
            sides.setdefault((acc, symbol), set()).add(word)
    return {key for key, found in sides.items() if len(found) == 2}


def _side_suffix(row: Row, account: str, hedged: set[tuple[str, str]]) -> str:
    """" long" / " short" for a leg of a hedged symbol (the same ids as the ccxt import)."""
    symbol = row.code("symbol")
    if symbol and not row.code("id") and (account, symbol) in hedged:
        return f" {_side_word(row)}"
    return ""


def _closed(row: Row, account: str, suffix: str = "") -> StagedPosition | None:
    """A row of quantity 0 (a closed position, as venue exports list them): the id it closes.

    Its other cells are not read (a venue lists every contract it has); with `--merge` the
    matching position is deleted, a replacing import just leaves it out.
    """
    if row.number("quantity", required=True) != 0:
        return None
    pid = row.code("id") or (row.code("symbol") or "") + suffix or None
    if pid is None:
        item = _position(row, account, None, closed=True)
        assert item.position is not None
        pid = item.position.id
    return StagedPosition(file=row.file, line=row.line,
                          fields={"id": row.name("id") if row.get("id") else row.name("symbol")},
                          account=account, closed_id=pid)


def _position(
    row: Row, account: str, venue: str | None, *, closed: bool = False, suffix: str = ""
) -> StagedPosition:
    symbol = row.code("symbol")
    inst = Instrument("spot", "", "linear")
    if symbol is not None:
        try:
            inst = parse_symbol(symbol, venue)
        except ValueError as err:
            raise row.error("symbol", str(err)) from None
    kind = _word(row, "kind", KIND_WORDS)
    if symbol is not None:
        # the symbol names the instrument; a kind column only has to agree with it
        if kind is not None and kind not in COMPATIBLE_KINDS[inst.kind]:
            raise row.error("kind", f"{kind} contradicts the symbol {shown(symbol)}, "
                                    f"which is a {inst.kind}")
        kind = inst.kind
    underlying = row.code("underlying") or inst.underlying
    if kind is None:
        raise row.error("symbol", "a symbol, or kind and underlying columns, are required")
    if not underlying:
        raise row.error("underlying", "a value is required (or a symbol)")
    cells = row.values  # the row's stripped non-empty cells (row.text without `required`)
    settlement = cells.get("settlement") or (inst.settlement if symbol else "linear")
    expiry = inst.expiry
    expiry_text = cells.get("expiry")
    if expiry_text is not None:
        try:
            expiry = parse_time(expiry_text)
        except ValueError:
            raise row.error("expiry", f"expected an ISO date-time or date from {limits.FIRST_YEAR} "
                                      f"to {limits.LAST_YEAR} (got {shown(expiry_text)})") from None
    right = _word(row, "right", RIGHT_WORDS) or inst.right
    strike = row.number("strike")
    strike = inst.strike if strike is None else strike
    quantity = row.number("quantity", required=True)
    size = row.number("contract_size")
    assert quantity is not None
    if size is not None:
        if size <= 0:
            raise row.error("contract_size", f"expected a positive number (got {shown(size)})")
        quantity *= size
    side = (cells.get("side") or "").lower()
    if side in LONG_WORDS:
        quantity = abs(quantity)
    elif side in SHORT_WORDS:
        quantity = -abs(quantity)
    elif side not in NET_WORDS:
        raise row.error("side", f"expected long/buy or short/sell (got {shown(cells.get('side'))})")
    expired_text = (cells.get("expired") or "").lower()
    if expired_text not in BOOL_WORDS:
        raise row.error("expired", f"expected true or false (got {shown(cells.get('expired'))})")
    pid = row.code("id") or (symbol + suffix if symbol else None) or _made_id(kind, underlying, expiry, strike,
                                                                              right)
    position = Position(
        id=pid, kind=kind, underlying=underlying, quantity=quantity,
        entry_price=row.number("entry_price", required=True),  # type: ignore[arg-type]
        settlement=settlement, expiry=expiry, right=right, strike=strike,
        vol=None if closed else _vol(row), isolated_margin=row.number("isolated_margin"),
        expired=expired_text in TRUE_WORDS, settlement_price=row.number("settlement_price"),
    )
    from_symbol = ("kind", "underlying", "settlement", "expiry", "right", "strike")
    fields = dict(row.names)  # the file's name of each column it has (all POSITION_COLUMNS)
    for attr in from_symbol:
        if attr not in cells:  # the column is absent or this row leaves it empty
            fields[attr] = row.name("symbol") if symbol else attr
    if symbol:
        fields["kind"] = row.name("symbol")  # the symbol's kind wins over a kind column
    fields["id"] = row.name("id") if "id" in cells else fields["kind"]
    return StagedPosition(file=row.file, line=row.line, fields=fields, account=account,
                          position=position)


def _made_id(
    kind: str, underlying: str, expiry: datetime | None, strike: float | None, right: str | None
) -> str:
    parts = [underlying, kind]
    if expiry is not None:
        parts.append(f"{expiry.year:04d}{expiry.month:02d}{expiry.day:02d}")
    if strike is not None:
        parts.append(f"{strike:g}")
    if right:
        parts.append(right[0].upper())
    return "-".join(parts)


def balances_csv(path: str | Path, account: str | None) -> list[StagedBalance]:
    check_account(path, account)
    staged: list[StagedBalance] = []
    seen: set[tuple[str, str]] = set()
    for row in read_rows(path, BALANCE_COLUMNS, ("asset", "total")):
        acc = row.code("account") or account
        if not acc:
            raise row.error("account", "no account column or value, and no --account given")
        asset = row.code("asset", required=True)
        amount = row.number("total", required=True)
        assert asset is not None and amount is not None
        if (acc, asset) in seen:
            raise row.error("asset", f"{asset} listed twice for account {shown(acc)}")
        seen.add((acc, asset))
        staged.append(StagedBalance(
            file=row.file, line=row.line,
            fields={"asset": row.name("asset"), "amount": row.name("total")},
            account=acc, asset=asset, amount=amount,
        ))
    return staged


def _asset_code(row: Row, asset: str) -> None:
    """Refuse a venue symbol (`BTC/USDT:USDT`, `BTC-PERPETUAL`) where an asset code belongs.

    The quote of a symbol is not its underlying's price (an option's premium, a future's
    basis, a price in another coin), so it is not mapped: the file must name the asset.
    """
    looks_like_symbol = any(c in asset for c in "/:")
    hint = ""
    if any(c in asset for c in "/:-_"):
        try:
            inst = parse_symbol(asset)
        except ValueError:
            pass
        else:
            looks_like_symbol = True
            hint = f" ({inst.underlying})"
    if looks_like_symbol:
        raise row.error("asset", f"{shown(asset)} is a venue symbol, not an asset code: "
                                 f"give the asset{hint} and its price")


def market_csv(path: str | Path) -> list[StagedQuote]:
    staged: list[StagedQuote] = []
    seen: set[str] = set()
    for row in read_rows(path, MARKET_COLUMNS, ("asset", "price")):
        asset = row.code("asset", required=True)
        price = row.number("price", required=True)
        assert asset is not None and price is not None
        _asset_code(row, asset)
        if asset in seen:
            raise row.error("asset", f"{asset} listed twice")
        seen.add(asset)
        staged.append(StagedQuote(
            file=row.file, line=row.line,
            fields={"asset": row.name("asset"), "price": row.name("price"),
                    "vol": row.name("vol")},
            asset=asset, price=price, vol=_vol(row),
        ))
    return staged
