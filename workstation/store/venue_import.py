"""The figures a venue reports, read from ccxt dumps (venues.md "Venue figures").

Positions (`fetch_positions()`): each entry's IM, MM and liquidation price go to
`positions[].venue_figures`, in the margin currency the venue reports them in, with the record's
time and a `source` naming the fields used; ccxt's `leverage` goes to `positions[].leverage`
(cross and isolated accounts; `import_rows` drops it in portfolio accounts). The venue is told
by the entry's `info` (else `--venue` / the account's venue). Per venue:

- Binance: IM `info.positionInitialMargin`, MM `info.maintMargin` (never ccxt's
  `maintenanceMargin`), liquidation `info.liquidationPrice`; an isolated position's margin is
  `info.isolatedWallet`.
- OKX: IM `info.imr`, MM `info.mmr`, liquidation `info.liqPx`; `margin_usage` = 1 /
  `info.mgnRatio` (isolated positions).
- Bybit: `info.positionIM`, `info.positionMM`, `info.liqPrice`.
- Deribit: `info.initial_margin`, `info.maintenance_margin` (coin, with `info.index_price`),
  `info.estimated_liquidation_price`; `info.size` is the size when ccxt gives no `contracts`.
- Any other venue: ccxt `initialMargin`, `maintenanceMargin`, `liquidationPrice`.

A figure the venue's `info` lacks is taken from ccxt's unified field (ccxt copies the venue's
there, or computes IM as notional / leverage for Binance and isolated OKX), but for Binance's MM.

Unit traps: ccxt Binance `maintenanceMargin` is MMR x notional without the bracket's cum
amount (not the venue's figure above the first bracket) and is left out; ccxt Binance
`collateral` of a cross position is back-solved from the liquidation price (never a wallet
balance) and is never read, and of an isolated one it is `isolatedMargin` (wallet + unrealized
P&L), so `info.isolatedWallet` is the margin set aside; ccxt Deribit `*MarginPercentage` are
percent (other venues: fractions), used only when the absolute figure is missing; Deribit's and
inverse OKX / Bybit margins are in coin, converted in reports at the record's index; OKX
`mgnRatio` is equity / requirement, the inverse of `margin_usage`. Deribit's `leverage` is
derived from its margin (not chosen) and is not read. A venue's 0 or empty liquidation price
means none.

Balances (`fetch_balance()`): the account figures of `info` go to `accounts[].venue_figures`:
Binance `totalPositionInitialMargin` (else `totalInitialMargin`) and `totalMaintMargin`; OKX
`data[0].imr`, `.mmr` and 1 / `.mgnRatio` (USD); Bybit `result.list[0].totalInitialMargin`,
`.totalMaintenanceMargin`, `.accountMMRate` (USD); Deribit `initial_margin`,
`maintenance_margin` per currency summary (coin).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workstation.core import limits
from workstation.core.model import Position, Quote, VenueFigures
from workstation.store.errors import ImportFileError
from workstation.store.from_ccxt import _Entry, read_json
from workstation.store.locate import json_lines
from workstation.store.staging import StagedPosition

VENUES = ("binance", "okx", "bybit", "deribit")
_KEYS = {  # info keys that tell the venue of a ccxt position
    "deribit": ("instrument_name", "size_currency", "estimated_liquidation_price"),
    "okx": ("instId", "mgnMode", "liqPx"),
    "bybit": ("positionIM", "positionIdx", "liqPrice"),
    "binance": ("positionAmt", "maintMargin", "isolatedWallet"),
}


def venue_of(raw: dict[str, Any], hint: str | None) -> str | None:
    """binance, okx, bybit, deribit (from the entry's `info`, else the hint), or None."""
    info = raw.get("info")
    if isinstance(info, dict):
        for venue, keys in _KEYS.items():
            if any(k in info for k in keys):
                return venue
    text = (hint or "").lower()
    for venue in VENUES:
        if venue in text or (venue == "okx" and "okex" in text):
            return venue
    return None


def _info(entry: _Entry) -> _Entry:
    info = entry.doc.get("info")
    path = f"{entry.path}.info" if entry.path else "info"
    return _Entry(entry.file, path, info if isinstance(info, dict) else {}, entry.lines)


def _time(entry: _Entry, *keys: str) -> datetime | None:
    """The first of `keys` holding a time in milliseconds (0 or absent: none)."""
    for key in keys:
        ms = entry.number(key)
        if ms:
            try:
                return datetime.fromtimestamp(ms / 1000.0, tz=UTC)
            except (OverflowError, OSError, ValueError):
                raise entry.error(key, f"expected a time in milliseconds (got {ms!r})") from None
    return None


def _positive(x: float | None) -> float | None:
    """A venue's liquidation price: 0 (or nothing) means none."""
    return x if x is not None and x > 0 else None


def _margin(entry: _Entry, key: str) -> float | None:
    value = entry.number(key)
    if value is not None and value < 0:
        raise entry.error(key, f"expected a margin >= 0 (got {value!r})")
    return value


# ---------------------------------------------------------------- positions
def contracts(entry: _Entry, venue: str | None) -> tuple[float | None, float | None, str]:
    """(contracts, contract size or None to read `contractSize`, key of the quantity).

    ccxt gives Deribit positions no `contracts`: `info.size` is then the size, already in the
    portfolio's units (USD for inverse perpetuals and futures, coin for options and linear)."""
    value = entry.number("contracts")
    if value is None and venue_of(entry.doc, venue) == "deribit":
        info = _info(entry)
        size = info.number("size")
        if size is not None:
            return abs(size), 1.0, "info.size"
    return value, None, "contracts"


def attach(item: StagedPosition, entry: _Entry, venue: str | None, settle: str | None) -> None:
    """Put the entry's venue figures and leverage on the staged position (see the module's
    docstring); an isolated Binance position takes `info.isolatedWallet` as its margin."""
    pos = item.position
    if pos is None:
        return
    name = venue_of(entry.doc, venue)
    info = _info(entry)
    read = {"binance": _binance, "okx": _okx, "bybit": _bybit, "deribit": _deribit}.get(name or "", _ccxt)
    fields, leverage, notes = read(entry, info)
    currency = fields.pop("currency", None) or settle
    if read is not _ccxt:
        _unified(entry, name, fields, notes)
    if fields.get("initial_margin") is None:
        fields["initial_margin"] = _from_percentage(entry, name, notes)
    if fields.get("index_price") is not None and currency != pos.underlying:
        fields["index_price"] = None  # the index prices the underlying: only coin margins use it
    as_of = fields.pop("as_of", None) or _time(entry, "timestamp")  # the venue's own time first
    figures = {k: v for k, v in fields.items() if v is not None}
    updates: dict[str, Any] = {}
    if any(k in figures for k in ("initial_margin", "maintenance_margin", "liquidation_price", "margin_usage")):
        updates["venue_figures"] = VenueFigures(currency=currency, as_of=as_of,
                                                source=f"{name or 'ccxt'} via ccxt: " + "; ".join(notes),
                                                **figures)
        item.fields["venue_figures"] = info.path
    if leverage is not None and pos.kind in ("perpetual", "future"):
        updates["leverage"] = leverage
        key = _LEVERAGE_KEY.get(name or "")
        where = info if key and info.number(key) is not None else entry
        item.fields["leverage"], line = where.where(key if where is info else "leverage")  # type: ignore[arg-type]
        if line is not None:
            item.lines["leverage"] = line
    if name == "binance" and item.isolated_amount is not None:
        wallet = info.number("isolatedWallet")
        if wallet is not None:
            item.isolated_amount = wallet
            item.fields["isolated_margin"] = info.where("isolatedWallet")[0]
    if updates:
        item.position = replace(pos, **updates)


_LEVERAGE_KEY = {"binance": "leverage", "okx": "lever", "bybit": "leverage"}


def _leverage(entry: _Entry, info: _Entry, key: str) -> float | None:
    value = info.number(key)
    value = entry.number("leverage") if value is None else value
    if value is not None and value < 1:
        return None  # 0 or empty: no leverage of its own (portfolio margin)
    return value


def _unified(entry: _Entry, venue: str | None, fields: dict[str, Any], notes: list[str]) -> None:
    """Figures the venue's `info` lacks, from ccxt's unified fields (the venue's own there),
    but never Binance's `maintenanceMargin` (MMR x notional without the cum amount)."""
    for key, ccxt_key in (("initial_margin", "initialMargin"), ("maintenance_margin", "maintenanceMargin"),
                          ("liquidation_price", "liquidationPrice")):
        if fields.get(key) is not None:
            continue
        if venue == "binance" and key == "maintenance_margin":
            if entry.number(ccxt_key) is not None:
                notes.append("ccxt maintenanceMargin left out (MMR x notional without cum)")
            continue
        value = _positive(entry.number(ccxt_key)) if key == "liquidation_price" else _margin(entry, ccxt_key)
        if value is not None:
            fields[key] = value
            why = " (notional / leverage)" if key == "initial_margin" and venue in ("binance", "okx") else ""
            notes.append(f"{_SHORT[key]} ccxt {ccxt_key}{why}")


_SHORT = {"initial_margin": "IM", "maintenance_margin": "MM", "liquidation_price": "liquidation"}


def _own(src: _Entry, where: str, im_key: str, mm_key: str, liq_key: str) -> tuple[dict[str, Any], list[str]]:
    """IM, MM and liquidation price under the venue's own keys of `src`, and a note naming each
    field found (`where`: "info." for the venue's raw record, "" for ccxt's unified fields)."""
    fields = {"initial_margin": _margin(src, im_key), "maintenance_margin": _margin(src, mm_key),
              "liquidation_price": _positive(src.number(liq_key))}
    notes = [f"{_SHORT[field]} {where}{key}" for field, key in zip(fields, (im_key, mm_key, liq_key), strict=True)
             if fields[field] is not None]
    return fields, notes


def _binance(entry: _Entry, info: _Entry) -> tuple[dict[str, Any], float | None, list[str]]:
    fields, notes = _own(info, "info.", "positionInitialMargin", "maintMargin", "liquidationPrice")
    asset = info.doc.get("marginAsset")
    fields["currency"] = asset if isinstance(asset, str) and asset else None
    fields["as_of"] = _time(info, "updateTime")
    return fields, _leverage(entry, info, "leverage"), notes


def _okx(entry: _Entry, info: _Entry) -> tuple[dict[str, Any], float | None, list[str]]:
    fields, notes = _own(info, "info.", "imr", "mmr", "liqPx")
    usage = None
    ratio = info.number("mgnRatio")
    if ratio is not None and ratio > 0 and info.doc.get("mgnMode") == "isolated":
        usage = 1.0 / ratio
        notes.append("usage 1 / info.mgnRatio")
    ccy = info.doc.get("ccy")
    fields["margin_usage"] = usage
    fields["currency"] = ccy if isinstance(ccy, str) and ccy else None
    fields["as_of"] = _time(info, "uTime")
    return fields, _leverage(entry, info, "lever"), notes


def _bybit(entry: _Entry, info: _Entry) -> tuple[dict[str, Any], float | None, list[str]]:
    fields, notes = _own(info, "info.", "positionIM", "positionMM", "liqPrice")
    fields["as_of"] = _time(info, "updatedTime")
    return fields, _leverage(entry, info, "leverage"), notes


def _deribit(entry: _Entry, info: _Entry) -> tuple[dict[str, Any], float | None, list[str]]:
    fields, notes = _own(info, "info.", "initial_margin", "maintenance_margin", "estimated_liquidation_price")
    fields["index_price"] = _positive(info.number("index_price"))
    return fields, None, notes  # Deribit's leverage follows from its margin: not the user's


def _ccxt(entry: _Entry, info: _Entry) -> tuple[dict[str, Any], float | None, list[str]]:
    fields, notes = _own(entry, "", "initialMargin", "maintenanceMargin", "liquidationPrice")
    return fields, _leverage(entry, info, "leverage"), notes


def _from_percentage(entry: _Entry, venue: str | None, notes: list[str]) -> float | None:
    """IM from ccxt's `initialMarginPercentage` x |notional| when the absolute figure is
    missing: Deribit's percentage is in percent, the other venues' a fraction."""
    pct, notional = entry.number("initialMarginPercentage"), entry.number("notional")
    if pct is None or notional is None:
        return None
    if pct < 0:
        raise entry.error("initialMarginPercentage", f"expected a number >= 0 (got {pct!r})")
    scale = 100.0 if venue == "deribit" else 1.0
    notes.append("IM initialMarginPercentage" + (" / 100" if scale != 1 else "") + " x |notional|")
    return pct / scale * abs(notional)


def fit_to_book(item: StagedPosition, pos: Position, quotes: dict[str, Quote], base: str) -> Position:
    """The staged position's venue figures as the book can hold them: a Deribit index (in USD)
    is kept only when the base currency is USD; a currency the snapshot does not price is an
    error naming the file's field."""
    vf = pos.venue_figures
    if vf is None:
        return pos
    if vf.index_price is not None and (base != "USD" or vf.currency == base):
        vf = replace(vf, index_price=None)
    if vf.currency == base:
        vf = replace(vf, currency=None)
    if vf.currency is not None and vf.currency not in quotes:
        raise item.error("venue_figures", f"the venue reports in {vf.currency}, which the market "
                                          f"snapshot does not price: import a market CSV with it first")
    return replace(pos, venue_figures=vf)


# ---------------------------------------------------------------- balances
def balance_figures(path: str | Path) -> tuple[VenueFigures, ...]:
    """The account figures in the `info` of a `fetch_balance()` dump (empty when none)."""
    file = str(path)
    doc, text = read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("info"), dict):
        return ()
    lines = json_lines(text)
    top = _Entry(file, "", doc, lines)
    info = _Entry(file, "info", doc["info"], lines)
    when = _time(top, "timestamp")
    if "totalMaintMargin" in info.doc:
        return _binance_account(info, when)
    okx = _first(info, "data")
    if okx is not None and any(k in okx.doc for k in ("mgnRatio", "adjEq", "imr")):
        return _okx_account(okx, when)
    bybit = _first(_child(info, "result"), "list")
    if bybit is not None and "totalMaintenanceMargin" in bybit.doc:
        return _bybit_account(bybit, when, _time(info, "time"))
    return _deribit_account(info, when)


def _child(entry: _Entry | None, key: str) -> _Entry | None:
    if entry is None or not isinstance(entry.doc.get(key), dict):
        return None
    return _Entry(entry.file, f"{entry.path}.{key}", entry.doc[key], entry.lines)


def _items(entry: _Entry | None, key: str) -> list[_Entry]:
    if entry is None or not isinstance(entry.doc.get(key), list):
        return []
    return [_Entry(entry.file, f"{entry.path}.{key}[{i}]", x, entry.lines)
            for i, x in enumerate(entry.doc[key]) if isinstance(x, dict)]


def _first(entry: _Entry | None, key: str) -> _Entry | None:
    items = _items(entry, key)
    return items[0] if items else None


def _figures(source: str, **fields: Any) -> tuple[VenueFigures, ...]:
    kept = {k: v for k, v in fields.items() if v is not None}
    if not any(k in kept for k in ("initial_margin", "maintenance_margin", "margin_usage")):
        return ()
    return (VenueFigures(source=source, **kept),)


def _binance_account(info: _Entry, when: datetime | None) -> tuple[VenueFigures, ...]:
    im_key = "totalPositionInitialMargin" if info.doc.get("totalPositionInitialMargin") not in (None, "") \
        else "totalInitialMargin"
    usd = info.doc.get("multiAssetsMargin") in (True, "true")
    return _figures(f"binance fetch_balance: info.{im_key}, info.totalMaintMargin",
                    initial_margin=_margin(info, im_key), maintenance_margin=_margin(info, "totalMaintMargin"),
                    currency="USD" if usd else "USDT", as_of=_time(info, "updateTime") or when)


def _okx_account(data: _Entry, when: datetime | None) -> tuple[VenueFigures, ...]:
    ratio = data.number("mgnRatio")
    usage = 1.0 / ratio if ratio is not None and ratio > 0 else None
    return _figures("okx fetch_balance: info.data[0].imr, .mmr, usage 1 / .mgnRatio",
                    initial_margin=_margin(data, "imr"), maintenance_margin=_margin(data, "mmr"),
                    margin_usage=usage, currency="USD", as_of=_time(data, "uTime") or when)


def _bybit_account(item: _Entry, when: datetime | None, time: datetime | None) -> tuple[VenueFigures, ...]:
    rate = item.number("accountMMRate")
    return _figures("bybit fetch_balance: info.result.list[0].totalInitialMargin, "
                    ".totalMaintenanceMargin, .accountMMRate",
                    initial_margin=_margin(item, "totalInitialMargin"),
                    maintenance_margin=_margin(item, "totalMaintenanceMargin"),
                    margin_usage=rate if rate is not None and rate >= 0 else None,
                    currency="USD", as_of=time or when)


def _deribit_account(info: _Entry, when: datetime | None) -> tuple[VenueFigures, ...]:
    """Deribit `get_account_summary` (`result`, or the summary itself) or
    `get_account_summaries` (`result.summaries`): one record per currency with margins."""
    result = _child(info, "result") or info
    summaries = _items(result, "summaries") or [result]
    micro = info.number("usOut", rule=limits.epoch_micros)
    stamp = datetime.fromtimestamp(micro / 1e6, tz=UTC) if micro else when
    out: list[VenueFigures] = []
    for s in summaries:
        currency = s.doc.get("currency")
        if not isinstance(currency, str) or not currency:
            continue
        im, mm = _margin(s, "initial_margin"), _margin(s, "maintenance_margin")
        if not im and not mm:
            continue  # a currency with nothing to margin
        out.extend(_figures(f"deribit fetch_balance: {s.path}.initial_margin, .maintenance_margin",
                            initial_margin=im, maintenance_margin=mm, currency=currency.upper(), as_of=stamp))
    return tuple(out)


def check_account_figures(file: str, figures: tuple[VenueFigures, ...], quotes: dict[str, Quote],
                          base: str) -> tuple[VenueFigures, ...]:
    """The balance dump's account figures as the book holds them (the base currency as None);
    a currency the snapshot does not price is an error."""
    out = []
    for vf in figures:
        if vf.currency == base:
            vf = replace(vf, currency=None)
        elif vf.currency is not None and vf.currency not in quotes:
            raise ImportFileError(file, None, "info", f"the venue reports the account's margins in "
                                                      f"{vf.currency}, which the market snapshot does not "
                                                      f"price: import a market CSV with it first")
        out.append(vf)
    return tuple(out)
