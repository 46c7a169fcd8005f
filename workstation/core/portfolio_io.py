"""Reader of `margin-workstation/portfolio@1` documents (the writer: `core.portfolio_write`).

Reading never half-succeeds: the first problem raises `PortfolioError` naming its JSON path
(e.g. `accounts[0].positions[3].strike`), its line when read from text, and what was expected.
Unknown fields are errors. The text is read by the strict JSON reader (`core.jsonread`: keys
given twice, deep nesting and numbers beyond float range are refused there); `NaN` and
`Infinity` literals are read, then refused by their path. Value checks and their ranges:
`core.portfolio_fields`, `core.limits`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from workstation.core import jsonread, limits
from workstation.core.errors import JsonError, PortfolioError
from workstation.core.jsonread import join_key
from workstation.core.model import (
    FORMAT,
    KINDS,
    MARGIN_MODES,
    RIGHTS,
    SETTLEMENTS,
    Account,
    Pool,
    Portfolio,
    Position,
    Quote,
)
from workstation.core.portfolio_checks import check_leverage, check_profiles
from workstation.core.portfolio_fields import array as _list
from workstation.core.portfolio_fields import choice as _choice
from workstation.core.portfolio_fields import code as _code
from workstation.core.portfolio_fields import fields as _fields
from workstation.core.portfolio_fields import format_time, parse_time
from workstation.core.portfolio_fields import name as _name
from workstation.core.portfolio_fields import number as _num
from workstation.core.portfolio_fields import obj as _obj

_TOP_FIELDS = {"format", "as_of", "base_currency", "rate", "market", "accounts", "pools", "profiles"}
_QUOTE_FIELDS = {"price", "vol", "funding_rate"}
FUNDING_LIMIT = 0.1  # per 8 hours; venues cap funding far below 10 %
_ACCOUNT_FIELDS = {"id", "name", "venue", "margin_mode", "profile", "collateral", "positions", "venue_figures"}
_POOL_FIELDS = {"id", "name", "accounts", "margin_mode", "profile"}
_POSITION_FIELDS = {
    "id", "kind", "underlying", "right", "strike", "expiry", "settlement", "quantity",
    "entry_price", "vol", "isolated_margin", "expired", "settlement_price", "leverage", "venue_figures",
}
_POSITION_REQUIRED = ("id", "kind", "underlying", "quantity", "entry_price")
_str = _code  # the name portfolio_extras imports
__all__ = ["format_time", "loads_portfolio", "parse_time", "portfolio_from_dict", "position_from_dict",
           "read_portfolio"]


# ---------------------------------------------------------------- sections
def _market(doc: Any, path: str = "market") -> dict[str, Quote]:
    from workstation.core import portfolio_extras as extras

    market: dict[str, Quote] = {}
    for asset, entry in _obj(doc, path).items():
        p = join_key(path, asset)
        _code(asset, p)
        entry = _obj(entry, p)
        _fields(entry, p, _QUOTE_FIELDS | extras.QUOTE_FIELDS, ("price",))
        price = _num(entry["price"], f"{p}.price", limits.price)
        vol = _num(entry["vol"], f"{p}.vol", limits.vol) if "vol" in entry else None
        market[asset] = Quote(price=price, vol=vol, funding_rate=_funding_rate(entry, p),
                              **extras.quote_extras(entry, p))
    extras.check_market(market, path)
    return market


def _funding_rate(entry: dict[str, Any], path: str) -> float | None:
    """`market.<asset>.funding_rate`: the perpetual funding rate per 8 hours as a fraction
    (0.0001 is 0.01 %), positive when longs pay shorts; optional."""
    if "funding_rate" not in entry:
        return None
    p = f"{path}.funding_rate"
    rate = _num(entry["funding_rate"], p)
    if abs(rate) > FUNDING_LIMIT:
        raise PortfolioError(p, f"a funding rate per 8 hours within +/-{FUNDING_LIMIT:g} "
                                "(a fraction: 0.0001 is 0.01 %)", entry["funding_rate"])
    return rate


@functools.cache
def _extras() -> Any:
    """core.portfolio_extras, imported late (it imports this module); once, not per position."""
    from workstation.core import portfolio_extras

    return portfolio_extras


@functools.cache
def _all_position_fields() -> frozenset[str]:
    """A position's fields with portfolio_extras'."""
    return frozenset(_POSITION_FIELDS | _extras().POSITION_FIELDS)


def position_from_dict(
    d: Any,
    path: str,
    market: Mapping[str, Quote],
    as_of: datetime,
    *,
    margin_mode: str | None = None,
    default_id: str | None = None,
) -> Position:
    """One position object. `margin_mode` of its account decides whether isolated_margin is
    required (isolated) or refused (others); None skips that rule (trade files)."""
    extras = _extras()
    d = _obj(d, path)
    required = _POSITION_REQUIRED if default_id is None else _POSITION_REQUIRED[1:]
    _fields(d, path, _all_position_fields(), required)
    pid = _code(d["id"], f"{path}.id") if "id" in d else str(default_id)
    kind = _choice(d["kind"], f"{path}.kind", KINDS)
    underlying = _code(d["underlying"], f"{path}.underlying")
    if underlying not in market:
        raise PortfolioError(f"{path}.underlying", "an asset with a price in market", underlying)
    if kind == "spot":
        settlement = _choice(d.get("settlement", "linear"), f"{path}.settlement", ("linear",))
    else:
        if "settlement" not in d:
            raise PortfolioError(f"{path}.settlement", "a value for this required field (linear or inverse)")
        settlement = _choice(d["settlement"], f"{path}.settlement", SETTLEMENTS)
    quantity = _num(d["quantity"], f"{path}.quantity")
    if kind in ("perpetual", "future"):
        entry = _num(d["entry_price"], f"{path}.entry_price", limits.price)
    else:
        entry = _num(d["entry_price"], f"{path}.entry_price", minimum=0.0)

    if kind != "option":
        for key in ("right", "strike", "vol", "expired", "settlement_price"):
            if key in d:
                raise PortfolioError(f"{path}.{key}", f"no {key} on a {kind} (options only)", d[key])
    if "expiry" in d and kind in ("spot", "perpetual"):
        raise PortfolioError(f"{path}.expiry", f"no expiry on a {kind}", d["expiry"])

    expiry = right = strike = vol = settle = None
    expired = False
    if kind in ("future", "option"):
        if "expiry" not in d:
            raise PortfolioError(f"{path}.expiry", f"an expiry time (required for a {kind})")
        expiry = parse_time(d["expiry"], f"{path}.expiry")
    if kind == "option":
        if "right" not in d:
            raise PortfolioError(f"{path}.right", "call or put (required for an option)")
        right = _choice(d["right"], f"{path}.right", RIGHTS)
        if "strike" not in d:
            raise PortfolioError(f"{path}.strike", "a positive strike (required for an option)")
        strike = _num(d["strike"], f"{path}.strike", limits.price)
        if "vol" in d:
            vol = _num(d["vol"], f"{path}.vol", limits.vol)
        if "expired" in d:
            if not isinstance(d["expired"], bool):
                raise PortfolioError(f"{path}.expired", "true or false", d["expired"])
            expired = d["expired"]
        if "settlement_price" in d:
            settle = _num(d["settlement_price"], f"{path}.settlement_price", limits.price)
        assert expiry is not None
        if expired:
            if settle is None:
                raise PortfolioError(f"{path}.settlement_price", "a settlement price for an expired option")
            if expiry > as_of:
                raise PortfolioError(f"{path}.expired", "true only for an option past its expiry", True)
        else:
            if settle is not None:
                raise PortfolioError(f"{path}.settlement_price", "only with \"expired\": true", settle)
            if expiry < as_of:  # expiring at as_of: live at tau = 0, worth its intrinsic value
                raise PortfolioError(
                    f"{path}.expiry",
                    "an expiry after as_of (or at it: live, worth its intrinsic value), "
                    "or \"expired\": true with a settlement_price",
                    d["expiry"],
                )
        if vol is None and not expired and market[underlying].vol is None:
            raise PortfolioError(f"{path}.vol", f"an implied vol (market.{underlying} has no vol)")
    elif kind == "future":
        assert expiry is not None
        if expiry <= as_of:
            raise PortfolioError(f"{path}.expiry", "an expiry after as_of (the future has expired)", d["expiry"])

    isolated = None
    if "isolated_margin" in d:
        if margin_mode is not None and margin_mode != "isolated":
            raise PortfolioError(f"{path}.isolated_margin", "no isolated_margin outside an isolated account")
        isolated = _num(d["isolated_margin"], f"{path}.isolated_margin", minimum=0.0)
    elif margin_mode == "isolated":
        raise PortfolioError(f"{path}.isolated_margin", "the collateral set aside for this position (isolated account)")

    return Position(
        id=pid, kind=kind, underlying=underlying, quantity=quantity, entry_price=entry,
        settlement=settlement, expiry=expiry, right=right, strike=strike, vol=vol,
        isolated_margin=isolated, expired=expired, settlement_price=settle,
        **extras.position_extras(d, path, kind, market),
        leverage=_leverage(d, path, kind),
        venue_figures=_venue_figures(d, path),
    )


def _venue_figures(d: dict[str, Any], path: str) -> Any:
    """`venue_figures` of a position (core.portfolio_venue), or None."""
    if "venue_figures" not in d:
        return None
    from workstation.core.portfolio_venue import venue_figures_from_dict

    return venue_figures_from_dict(d["venue_figures"], f"{path}.venue_figures")


def _leverage(d: dict[str, Any], path: str, kind: str) -> float | None:
    """`leverage` (venues.md "Leverage"): a number >= 1 on perpetuals and futures only."""
    if "leverage" not in d:
        return None
    if kind not in ("perpetual", "future"):
        raise PortfolioError(f"{path}.leverage", f"no leverage on a {kind} (perpetuals and futures only)",
                             d["leverage"])
    return _num(d["leverage"], f"{path}.leverage", minimum=1.0)


def _account(d: Any, path: str, market: Mapping[str, Quote], as_of: datetime) -> Account:
    d = _obj(d, path)
    _fields(d, path, _ACCOUNT_FIELDS, ("id", "margin_mode", "collateral", "positions"))
    aid = _code(d["id"], f"{path}.id")
    mode = _choice(d["margin_mode"], f"{path}.margin_mode", MARGIN_MODES)
    name = _name(d["name"], f"{path}.name") if "name" in d else None
    venue = _name(d["venue"], f"{path}.venue") if "venue" in d else None
    profile = _code(d["profile"], f"{path}.profile") if "profile" in d else "default"
    collateral: dict[str, float] = {}
    for asset, amount in _obj(d["collateral"], f"{path}.collateral").items():
        p = join_key(f"{path}.collateral", asset)
        if asset not in market:
            raise PortfolioError(p, "an asset with a price in market", asset)
        collateral[asset] = _num(amount, p)
    positions: list[Position] = []
    seen: set[str] = set()
    for j, pd in enumerate(_list(d["positions"], f"{path}.positions")):
        pp = f"{path}.positions[{j}]"
        pos = position_from_dict(pd, pp, market, as_of, margin_mode=mode)
        if pos.id in seen:
            raise PortfolioError(f"{pp}.id", "a position id unique within its account", pos.id)
        seen.add(pos.id)
        positions.append(pos)
    return Account(id=aid, margin_mode=mode, collateral=collateral, positions=positions,
                   name=name, venue=venue, profile=profile, venue_figures=_account_venue_figures(d, path))


def _account_venue_figures(d: dict[str, Any], path: str) -> tuple[Any, ...]:
    """`venue_figures` of an account (core.portfolio_venue): one object or one per currency."""
    from workstation.core.portfolio_venue import account_venue_figures

    return account_venue_figures(d["venue_figures"], f"{path}.venue_figures") if "venue_figures" in d else ()


def _pool(d: Any, path: str, account_ids: set[str]) -> Pool:
    d = _obj(d, path)
    _fields(d, path, _POOL_FIELDS, ("id", "accounts"))
    pid = _code(d["id"], f"{path}.id")
    members: list[str] = []
    for k, aid in enumerate(_list(d["accounts"], f"{path}.accounts")):
        p = f"{path}.accounts[{k}]"
        if not isinstance(aid, str) or aid not in account_ids:
            raise PortfolioError(p, "the id of an account in this file", aid)
        if aid in members:
            raise PortfolioError(p, "each account once per pool", aid)
        members.append(aid)
    mode = _choice(d.get("margin_mode", "portfolio"), f"{path}.margin_mode", MARGIN_MODES)
    if mode == "isolated":
        raise PortfolioError(f"{path}.margin_mode", "cross or portfolio (a pool shares its collateral)", mode)
    profile = _code(d["profile"], f"{path}.profile") if "profile" in d else "default"
    name = _name(d["name"], f"{path}.name") if "name" in d else None
    return Pool(id=pid, accounts=members, margin_mode=mode, profile=profile, name=name)


def _check_venue_currencies(accounts: list[Account], market: Mapping[str, Quote], base: str) -> None:
    from workstation.core.portfolio_venue import check_currencies

    check_currencies(accounts, market, base)


# ---------------------------------------------------------------- public API
def portfolio_from_dict(doc: Any) -> Portfolio:
    doc = _obj(doc, "$")
    _fields(doc, "", _TOP_FIELDS, ("format", "as_of", "market", "accounts"))
    if doc["format"] != FORMAT:
        raise PortfolioError("format", f'"{FORMAT}"', doc["format"])
    as_of = parse_time(doc["as_of"], "as_of")
    base = _code(doc["base_currency"], "base_currency") if "base_currency" in doc else "USD"
    rate = _num(doc["rate"], "rate", limits.rate) if "rate" in doc else 0.0
    market = _market(doc["market"])
    accounts: list[Account] = []
    ids: set[str] = set()
    for i, ad in enumerate(_list(doc["accounts"], "accounts")):
        acc = _account(ad, f"accounts[{i}]", market, as_of)
        if acc.id in ids:
            raise PortfolioError(f"accounts[{i}].id", "an account id unique in the file", acc.id)
        ids.add(acc.id)
        accounts.append(acc)
    pools: list[Pool] = []
    pool_ids: set[str] = set()
    for k, pd in enumerate(_list(doc.get("pools", []), "pools")):
        pool = _pool(pd, f"pools[{k}]", ids)
        if pool.id in pool_ids:  # scopes are namespaced: a pool may share an account's id
            raise PortfolioError(f"pools[{k}].id", "a pool id unique among pools", pool.id)
        pool_ids.add(pool.id)
        pools.append(pool)
    profiles = _obj(doc.get("profiles", {}), "profiles")
    for name, body in profiles.items():
        _code(name, join_key("profiles", name))
        _obj(body, join_key("profiles", name))
    check_profiles(profiles, accounts, pools, as_of)
    check_leverage(accounts, profiles, market, as_of)
    _check_venue_currencies(accounts, market, base)
    return Portfolio(as_of=as_of, market=market, accounts=accounts, pools=pools,
                     base_currency=base, rate=rate, profiles=profiles)


def loads_portfolio(text: str, source: str | None = None) -> Portfolio:
    """The portfolio in `text`; `source` (a file name) is named in errors with the line."""
    try:
        doc = jsonread.loads(text, source)
    except JsonError as err:
        raise err.as_portfolio_error() from None
    try:
        return portfolio_from_dict(doc)
    except PortfolioError as err:
        if source is None:
            raise
        raise err.with_source(source, line=jsonread.line_of(text, err.path)) from None


def read_portfolio(path: str | Path) -> Portfolio:
    try:
        text = jsonread.read_text(path)
    except JsonError as err:
        raise err.as_portfolio_error() from None
    return loads_portfolio(text, source=str(path))
