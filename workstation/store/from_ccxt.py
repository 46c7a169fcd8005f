"""Reading the JSON that ccxt's `fetch_positions()` and `fetch_balance()` return.

Positions: a list of ccxt position structures. `symbol` gives the instrument (see
`workstation.store.symbols`), `contracts * contractSize` the size (USD notional for inverse
perpetuals and futures, coins otherwise), `side` its sign (`short` is negative), `entryPrice`
the entry. `marginMode: isolated` positions bring their `collateral` (else `initialMargin`),
used when the account is isolated. Entries with zero or no contracts are closed: left out
(with `--merge` they delete the matching position).

Position ids: the symbol; every entry of a symbol listed with both sides, and every entry of a
hedge-mode file (an entry with `hedged: true`), gets a side suffix (`SYMBOL long` /
`SYMBOL short`), so the ids do not depend on the order of the entries.

Balances: `{CODE: {free, used, total}, ...}`; the aggregate `free` / `used` / `total` maps and
`info`, `timestamp`, `datetime`, `debt` are skipped. `total` (else `free + used`) is the amount.

The file is read by the strict JSON reader (`core.jsonread`: keys given twice, deep nesting and
numbers beyond float range are refused at their line), numbers are held to `core.limits`, and
symbols and currency codes must be printable; every error names file, line and JSON path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workstation.core import jsonread, limits
from workstation.core.errors import JsonError, shown
from workstation.core.jsonread import join_index, join_key, json_lines
from workstation.core.model import Position
from workstation.store.errors import ImportFileError
from workstation.store.staging import StagedBalance, StagedPosition
from workstation.store.symbols import parse_symbol
from workstation.store.tabular import check_account, read_text

SKIPPED_BALANCE_KEYS = {"info", "free", "used", "total", "timestamp", "datetime", "debt"}


def read_json(path: str | Path) -> tuple[Any, str]:
    """The file's strict JSON value and its text."""
    text = read_text(path)
    try:
        return jsonread.loads(text, str(path)), text
    except JsonError as err:
        raise ImportFileError(path, err.line, err.path or "(json)", f"expected {err.problem}") from None


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
        full = join_key(self.path, key)
        return full, self.lines.get(full, self.lines.get(self.path))

    def error(self, key: str, message: str) -> ImportFileError:
        full, line = self.where(key)
        return ImportFileError(self.file, line, full, message)

    def number(self, key: str, *, required: bool = False,
               rule: Callable[[float], str | None] = limits.magnitude) -> float | None:
        raw = self.doc.get(key)
        value = _number(raw)
        if value is None:
            if required:
                raise self.error(key, "a number is required")
            return None
        problem = rule(value)
        if problem:
            raise self.error(key, f"expected {problem} (got {shown(raw)})")
        return value


def ccxt_positions(
    path: str | Path, account: str, venue: str | None = None
) -> list[StagedPosition]:
    """Staged positions of a `fetch_positions()` dump, bound for `account`."""
    file = str(path)
    check_account(path, account)
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
    hedged = _hedged_symbols(doc)
    for i, raw in enumerate(doc):
        path_i = join_index(prefix, i)
        if not isinstance(raw, dict):
            raise ImportFileError(file, lines.get(path_i), path_i, "expected a position object")
        entry = _Entry(file, path_i, raw, lines)
        item = _position(entry, venue, ids, hedged)
        if item is not None:
            item.account = account
            _venue_figures(item, entry, venue)
            staged.append(item)
    return staged


def _side_of(raw: dict[str, Any]) -> str | None:
    """`long` / `short` from `side` (else the sign of `contracts`); None if it says neither."""
    side = raw.get("side")
    if side in ("long", "buy"):
        return "long"
    if side in ("short", "sell"):
        return "short"
    if side is None:
        contracts = _number(raw.get("contracts"))
        if contracts is not None and math.isfinite(contracts) and contracts != 0:
            return "short" if contracts < 0 else "long"
    return None


def _hedged_symbols(doc: list[Any]) -> set[str] | None:
    """Symbols whose ids get a side suffix; None means all of them (a hedge-mode file).

    A symbol listed with both sides (open or closed entries alike) is hedged, and so is every
    symbol of a file where an entry says `hedged: true`. Counting first keeps the ids
    independent of the entries' order.
    """
    sides: dict[str, set[str]] = {}
    for raw in doc:
        if not isinstance(raw, dict):
            continue
        if raw.get("hedged") is True:
            return None
        symbol, side = raw.get("symbol"), _side_of(raw)
        if isinstance(symbol, str) and symbol.strip() and side is not None:
            sides.setdefault(symbol.strip(), set()).add(side)
    return {symbol for symbol, both in sides.items() if len(both) > 1}


def _position(
    entry: _Entry, venue: str | None, ids: set[str], hedged: set[str] | None
) -> StagedPosition | None:
    raw = entry.doc
    symbol = raw.get("symbol")
    if not isinstance(symbol, str) or limits.code(symbol):
        problem = limits.code(symbol) if isinstance(symbol, str) else None
        detail = f": {problem}" if problem and symbol.strip() else ""
        raise entry.error("symbol", f"expected a symbol such as BTC/USDT:USDT{detail} (got {shown(symbol)})")
    side_word = _side_of(raw)
    pid = symbol.strip()
    if hedged is None or pid in hedged:
        pid = f"{pid} {side_word}" if side_word else pid
    contracts, unit, qty_key = _contracts(entry, venue)
    if not contracts:
        # closed: nothing to hold; a merge deletes the position it closes (when the id is
        # known: a hedged symbol's closed entry without a side names no position)
        if (hedged is None or symbol.strip() in hedged) and side_word is None:
            return None
        return StagedPosition(file=entry.file, line=entry.where("symbol")[1],
                              fields={"id": entry.where("symbol")[0]}, closed_id=pid)
    side = raw.get("side")
    if side not in (None, "long", "short", "buy", "sell"):
        raise entry.error("side", f"expected long or short (got {shown(side)})")
    size = entry.number("contractSize") if unit is None else unit
    size = 1.0 if size is None else size
    if size <= 0:
        raise entry.error("contractSize", f"expected a positive number (got {shown(size)})")
    sign = -1.0 if side_word == "short" else 1.0
    entry_price = entry.number("entryPrice", required=True)
    try:
        inst = parse_symbol(symbol, venue)
    except ValueError as err:
        raise entry.error("symbol", str(err)) from None
    if pid in ids:
        raise entry.error("symbol", f"a second {shown(symbol)} position on the same side")
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
        "expiry": "symbol", "right": "symbol", "strike": "symbol", "quantity": qty_key,
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


def _contracts(entry: _Entry, venue: str | None) -> tuple[float | None, float | None, str]:
    """(contracts, contract size or None to read `contractSize`, the quantity's key): Deribit's
    `info.size` where ccxt gives no `contracts` (store.venue_import)."""
    from workstation.store.venue_import import contracts

    return contracts(entry, venue)


def _venue_figures(item: StagedPosition, entry: _Entry, venue: str | None) -> None:
    """The venue's own IM, MM, liquidation price and leverage of the entry (store.venue_import)."""
    from workstation.store.venue_import import attach

    if item.position is not None:
        attach(item, entry, venue, parse_symbol(entry.doc["symbol"], venue).settle)


def ccxt_balance(path: str | Path, account: str) -> list[StagedBalance]:
    """Staged balances (`total` per currency code) of a `fetch_balance()` dump."""
    file = str(path)
    check_account(path, account)
    doc, text = read_json(path)
    lines = json_lines(text)
    if not isinstance(doc, dict):
        raise ImportFileError(file, 1, "(json)", "expected a ccxt balance object {CODE: {...}}")
    staged: list[StagedBalance] = []
    for code, raw in doc.items():
        if code in SKIPPED_BALANCE_KEYS:
            continue
        where = join_key("", code)
        problem = limits.code(code)
        if problem:
            raise ImportFileError(file, lines.get(where), where, f"expected a currency code: {problem}")
        if not isinstance(raw, dict):
            raise ImportFileError(file, lines.get(where), where, "expected {free, used, total}")
        entry = _Entry(file, where, raw, lines)
        total = entry.number("total")
        key = "total"
        if total is None:
            free, used = entry.number("free"), entry.number("used")
            if free is None or used is None:
                raise entry.error("total", "a total (or both free and used) is required")
            total, key = free + used, "free"
            if limits.magnitude(total):
                raise entry.error("free", f"expected free + used {limits.magnitude(total)} (got {total:g})")
        full, line = entry.where(key)
        staged.append(
            StagedBalance(
                file=file, line=line, fields={"asset": where, "amount": full},
                lines={"asset": lines.get(where, line or 0)}, account=account, asset=code,
                amount=total,
            )
        )
    return staged
