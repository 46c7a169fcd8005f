"""Reading the JSON that ccxt's `fetch_positions()` and `fetch_balance()` return.

Positions: a list of ccxt position structures. `symbol` gives the instrument (see
`workstation.store.symbols`), `contracts * contractSize` the size (USD notional for inverse
perpetuals and futures, coins otherwise), `side` its sign (`short` is negative), `entryPrice`
the entry. `marginMode: isolated` positions bring their `collateral` (else `initialMargin`),
used when the account is isolated. Entries with zero or no contracts are closed: skipped.

Balances: `{CODE: {free, used, total}, ...}`; the aggregate `free` / `used` / `total` maps and
`info`, `timestamp`, `datetime`, `debt` are skipped. `total` (else `free + used`) is the amount.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from workstation.core.model import Position
from workstation.store.errors import ImportFileError
from workstation.store.locate import json_lines
from workstation.store.staging import StagedBalance, StagedPosition
from workstation.store.symbols import parse_symbol
from workstation.store.tabular import read_text

SKIPPED_BALANCE_KEYS = {"info", "free", "used", "total", "timestamp", "datetime", "debt"}


def read_json(path: str | Path) -> tuple[Any, str]:
    text = read_text(path)
    try:
        return json.loads(text), text
    except json.JSONDecodeError as err:
        raise ImportFileError(path, err.lineno, "(json)", f"invalid JSON: {err.msg}") from None


def _number(value: Any) -> float | None:
    """A finite float from a JSON number or numeric string; None if absent; NaN if not one."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class _Entry:
    """One JSON object of the file, with errors that name its path and line."""

    def __init__(self, file: str, path: str, doc: dict[str, Any], lines: dict[str, int]):
        self.file, self.path, self.doc, self.lines = file, path, doc, lines

    def where(self, key: str) -> tuple[str, int | None]:
        full = f"{self.path}.{key}" if self.path else key
        return full, self.lines.get(full, self.lines.get(self.path))

    def error(self, key: str, message: str) -> ImportFileError:
        full, line = self.where(key)
        return ImportFileError(self.file, line, full, message)

    def number(self, key: str, *, required: bool = False) -> float | None:
        raw = self.doc.get(key)
        value = _number(raw)
        if value is None:
            if required:
                raise self.error(key, "a number is required")
            return None
        if not math.isfinite(value):
            raise self.error(key, f"expected a finite number (got {raw!r})")
        return value


def ccxt_positions(
    path: str | Path, account: str, venue: str | None = None
) -> list[StagedPosition]:
    """Staged positions of a `fetch_positions()` dump, bound for `account`."""
    file = str(path)
    doc, text = read_json(path)
    lines = json_lines(text)
    if isinstance(doc, dict) and isinstance(doc.get("positions"), list):
        doc, prefix = doc["positions"], "positions"
    else:
        prefix = ""
    if not isinstance(doc, list):
        raise ImportFileError(file, 1, "(json)", "expected a list of ccxt positions")
    staged: list[StagedPosition] = []
    ids: set[str] = set()
    for i, raw in enumerate(doc):
        path_i = f"{prefix}[{i}]"
        if not isinstance(raw, dict):
            raise ImportFileError(file, lines.get(path_i), path_i, "expected a position object")
        entry = _Entry(file, path_i, raw, lines)
        item = _position(entry, venue, ids)
        if item is not None:
            item.account = account
            staged.append(item)
    return staged


def _position(entry: _Entry, venue: str | None, ids: set[str]) -> StagedPosition | None:
    raw = entry.doc
    symbol = raw.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise entry.error("symbol", f"expected a symbol such as BTC/USDT:USDT (got {symbol!r})")
    contracts = entry.number("contracts")
    if not contracts:
        return None
    size = entry.number("contractSize")
    size = 1.0 if size is None else size
    if size <= 0:
        raise entry.error("contractSize", f"expected a positive number (got {size!r})")
    side = raw.get("side")
    if side not in (None, "long", "short", "buy", "sell"):
        raise entry.error("side", f"expected long or short (got {side!r})")
    sign = -1.0 if side in ("short", "sell") or (side is None and contracts < 0) else 1.0
    entry_price = entry.number("entryPrice", required=True)
    try:
        inst = parse_symbol(symbol, venue)
    except ValueError as err:
        raise entry.error("symbol", str(err)) from None
    pid = symbol.strip()
    if pid in ids:
        pid = f"{pid} {'short' if sign < 0 else 'long'}"
    if pid in ids:
        raise entry.error("symbol", f"a second {symbol} position on the same side")
    ids.add(pid)
    position = Position(
        id=pid, kind=inst.kind, underlying=inst.underlying,
        quantity=sign * abs(contracts) * size, entry_price=entry_price,  # type: ignore[arg-type]
        settlement=inst.settlement, expiry=inst.expiry, right=inst.right, strike=inst.strike,
    )
    margin = None
    if raw.get("marginMode") == "isolated" or raw.get("isolated") is True:
        margin_key = "collateral" if raw.get("collateral") is not None else "initialMargin"
        margin = entry.number(margin_key)
    else:
        margin_key = "collateral"
    keys = {
        "id": "symbol", "kind": "symbol", "underlying": "symbol", "settlement": "symbol",
        "expiry": "symbol", "right": "symbol", "strike": "symbol", "quantity": "contracts",
        "entry_price": "entryPrice", "isolated_margin": margin_key,
    }
    where = {attr: entry.where(key) for attr, key in keys.items()}
    return StagedPosition(
        file=entry.file,
        line=entry.where("symbol")[1],
        fields={attr: w[0] for attr, w in where.items()},
        lines={attr: w[1] for attr, w in where.items() if w[1] is not None},
        position=position,
        isolated_amount=margin,
        isolated_currency=inst.settle,
    )


def ccxt_balance(path: str | Path, account: str) -> list[StagedBalance]:
    """Staged balances (`total` per currency code) of a `fetch_balance()` dump."""
    file = str(path)
    doc, text = read_json(path)
    lines = json_lines(text)
    if not isinstance(doc, dict):
        raise ImportFileError(file, 1, "(json)", "expected a ccxt balance object {CODE: {...}}")
    staged: list[StagedBalance] = []
    for code, raw in doc.items():
        if code in SKIPPED_BALANCE_KEYS:
            continue
        if not isinstance(raw, dict):
            raise ImportFileError(file, lines.get(code), code, "expected {free, used, total}")
        entry = _Entry(file, code, raw, lines)
        total = entry.number("total")
        key = "total"
        if total is None:
            free, used = entry.number("free"), entry.number("used")
            if free is None or used is None:
                raise entry.error("total", "a total (or both free and used) is required")
            total, key = free + used, "free"
        full, line = entry.where(key)
        staged.append(
            StagedBalance(
                file=file, line=line, fields={"asset": code, "amount": full},
                lines={"asset": lines.get(code, line or 0)}, account=account, asset=code,
                amount=total,
            )
        )
    return staged
