"""Which import kind a file holds, from its content (the import dialog's first guess)."""

from __future__ import annotations

import json
from pathlib import Path

from workstation.store.from_csv import BALANCE_COLUMNS, MARKET_COLUMNS, POSITION_COLUMNS
from workstation.store.tabular import normal

_MAX_BYTES = 64 * 1024 * 1024  # a larger file is not read just to guess its kind
_BALANCE_KEYS = {"free", "used", "total"}


def _names(columns: dict[str, tuple[str, ...]], canon: str) -> set[str]:
    return {normal(n) for n in (canon, *columns[canon])}


def detect_kind(path: str | Path) -> tuple[str | None, str]:
    """(kind, why): the import kind the file's content suggests, or (None, why not)."""
    try:
        data = Path(path).read_bytes()[:_MAX_BYTES]
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read the file ({exc})"
    body = text.lstrip()
    if not body:
        return None, "the file is empty"
    if body[0] in "[{":
        return _json_kind(text)
    return _csv_kind(text)


def _json_kind(text: str) -> tuple[str | None, str]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None, "the file starts like JSON but is not valid JSON"
    if isinstance(doc, list):
        return "ccxt-positions", "a JSON list: ccxt fetch_positions()"
    if not isinstance(doc, dict):
        return None, "JSON that is neither a list nor an object"
    if "accounts" in doc or "portfolio" in str(doc.get("format", "")):
        return "portfolio", "a portfolio file (it has accounts)"
    if isinstance(doc.get("positions"), list):
        return "ccxt-positions", "a JSON object with positions: ccxt fetch_positions()"
    entries = [v for k, v in doc.items() if k not in ("info", "timestamp", "datetime")]
    if not doc or _BALANCE_KEYS & set(doc) or any(
        isinstance(v, dict) and _BALANCE_KEYS & set(v) for v in entries
    ):
        return "ccxt-balance", "a JSON object of balances: ccxt fetch_balance()"
    return None, "JSON that is not a portfolio, ccxt positions or ccxt balances"


def _csv_kind(text: str) -> tuple[str | None, str]:
    header = next((line for line in text.splitlines()
                   if line.strip() and not line.lstrip().startswith("#")), "")
    delimiter = max(",;\t", key=header.count)
    cells = {normal(c.strip().strip('"')) for c in header.split(delimiter)}
    has = lambda columns, canon: bool(cells & _names(columns, canon))  # noqa: E731
    if has(POSITION_COLUMNS, "quantity") and has(POSITION_COLUMNS, "entry_price"):
        return "positions-csv", "a CSV with quantity and entry price columns"
    if has(MARKET_COLUMNS, "asset") and has(MARKET_COLUMNS, "price"):
        return "market-csv", "a CSV with asset and price columns"
    if has(BALANCE_COLUMNS, "asset") and has(BALANCE_COLUMNS, "total"):
        return "balances-csv", "a CSV with asset and balance columns"
    return None, "a CSV whose header names no known import columns"
