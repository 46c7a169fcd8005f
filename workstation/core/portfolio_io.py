"""Reader and writer of `margin-workstation/portfolio@1` documents.

Reading never half-succeeds: the first problem raises `PortfolioError` naming its JSON path
(e.g. `accounts[0].positions[3].strike`) and what was expected. Unknown fields are errors.
`NaN` and `Infinity` literals are read by the JSON parser, then refused by their path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workstation.core.errors import PortfolioError, ProfileError
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

_TOP_FIELDS = {"format", "as_of", "base_currency", "rate", "market", "accounts", "pools", "profiles"}
_QUOTE_FIELDS = {"price", "vol", "funding_rate"}
FUNDING_LIMIT = 0.1  # per 8 hours; venues cap funding far below 10 %
_ACCOUNT_FIELDS = {"id", "name", "venue", "margin_mode", "profile", "collateral", "positions"}
_POOL_FIELDS = {"id", "name", "accounts", "margin_mode", "profile"}
_POSITION_FIELDS = {
    "id", "kind", "underlying", "right", "strike", "expiry", "settlement", "quantity",
    "entry_price", "vol", "isolated_margin", "expired", "settlement_price", "leverage",
}


# ---------------------------------------------------------------- primitive checks
def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PortfolioError(path, "an object", value)
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise PortfolioError(path, "an array", value)
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fields(d: dict[str, Any], path: str, allowed: set[str], required: tuple[str, ...]) -> None:
    for key in d:
        if key not in allowed:
            raise PortfolioError(_join(path, key), f"no such field (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in d:
            raise PortfolioError(_join(path, key), "a value for this required field")


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PortfolioError(path, "a non-empty string", value)
    return value


def _choice(value: Any, path: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise PortfolioError(path, "one of " + ", ".join(options), value)
    return str(value)


def _num(value: Any, path: str, *, minimum: float | None = None, positive: bool = False) -> float:
    """A finite JSON number (bools are refused), optionally >= minimum or > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PortfolioError(path, "a number", value)
    x = float(value)
    if not math.isfinite(x):
        raise PortfolioError(path, "a finite number", value)
    if positive and x <= 0:
        raise PortfolioError(path, "a positive number", value)
    if minimum is not None and x < minimum:
        raise PortfolioError(path, f"a number >= {minimum:g}", value)
    return x


def parse_time(value: Any, path: str) -> datetime:
    """ISO-8601 time; a time without zone is taken as UTC. Returns an aware UTC datetime."""
    if not isinstance(value, str):
        raise PortfolioError(path, "an ISO-8601 UTC time such as 2026-11-25T08:00:00Z", value)
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PortfolioError(path, "an ISO-8601 UTC time such as 2026-11-25T08:00:00Z", value) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


def format_time(t: datetime) -> str:
    t = t.astimezone(UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text + "Z"


# ---------------------------------------------------------------- sections
def _market(doc: Any, path: str = "market") -> dict[str, Quote]:
    from workstation.core import portfolio_extras as extras

    market: dict[str, Quote] = {}
    for asset, entry in _obj(doc, path).items():
        p = f"{path}.{asset}"
        _str(asset, p)
        entry = _obj(entry, p)
        _fields(entry, p, _QUOTE_FIELDS | extras.QUOTE_FIELDS, ("price",))
        price = _num(entry["price"], f"{p}.price", positive=True)
        vol = _num(entry["vol"], f"{p}.vol", minimum=0.0) if "vol" in entry else None
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
    from workstation.core import portfolio_extras as extras

    d = _obj(d, path)
    required: tuple[str, ...] = ("kind", "underlying", "quantity", "entry_price")
    if default_id is None:
        required = ("id", *required)
    _fields(d, path, _POSITION_FIELDS | extras.POSITION_FIELDS, required)
    pid = _str(d["id"], f"{path}.id") if "id" in d else str(default_id)
    kind = _choice(d["kind"], f"{path}.kind", KINDS)
    underlying = _str(d["underlying"], f"{path}.underlying")
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
        entry = _num(d["entry_price"], f"{path}.entry_price", positive=True)
    else:
        entry = _num(d["entry_price"], f"{path}.entry_price", minimum=0.0)

    for key in ("right", "strike", "vol", "expired", "settlement_price"):
        if key in d and kind != "option":
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
        strike = _num(d["strike"], f"{path}.strike", positive=True)
        if "vol" in d:
            vol = _num(d["vol"], f"{path}.vol", minimum=0.0)
        if "expired" in d:
            if not isinstance(d["expired"], bool):
                raise PortfolioError(f"{path}.expired", "true or false", d["expired"])
            expired = d["expired"]
        if "settlement_price" in d:
            settle = _num(d["settlement_price"], f"{path}.settlement_price", positive=True)
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
    )


def _leverage(d: dict[str, Any], path: str, kind: str) -> float | None:
    """`leverage` (venues.md "Leverage"): a number >= 1 on perpetuals and futures only."""
    if "leverage" not in d:
        return None
    if kind not in ("perpetual", "future"):
        raise PortfolioError(f"{path}.leverage", f"no leverage on a {kind} (perpetuals and futures only)",
                             d["leverage"])
    return _num(d["leverage"], f"{path}.leverage", minimum=1.0)


def _check_leverage(accounts: list[Account], doc_profiles: dict[str, Any], market: Mapping[str, Quote],
                    as_of: datetime) -> None:
    """Refuse a leverage above its bracket's maximum at the current notional (cross and
    isolated accounts; portfolio mode ignores leverage)."""
    from workstation.core.methods.per_position import max_leverage
    from workstation.core.profiles import load_profiles

    profiles = None
    for i, acc in enumerate(accounts):
        if acc.margin_mode == "portfolio":
            continue
        for j, pos in enumerate(acc.positions):
            if pos.leverage is None:
                continue
            profiles = profiles or load_profiles(doc_profiles, source="profiles", as_of=as_of)
            most = max_leverage(profiles[acc.profile], pos, market[pos.underlying].price)
            if pos.leverage > most * (1 + 1e-12):
                raise PortfolioError(f"accounts[{i}].positions[{j}].leverage",
                                     f"at most {most:g} (the maximum leverage of its bracket at the "
                                     "current notional)", pos.leverage)


def _account(d: Any, path: str, market: Mapping[str, Quote], as_of: datetime) -> Account:
    d = _obj(d, path)
    _fields(d, path, _ACCOUNT_FIELDS, ("id", "margin_mode", "collateral", "positions"))
    aid = _str(d["id"], f"{path}.id")
    mode = _choice(d["margin_mode"], f"{path}.margin_mode", MARGIN_MODES)
    name = _str(d["name"], f"{path}.name") if "name" in d else None
    venue = _str(d["venue"], f"{path}.venue") if "venue" in d else None
    profile = _str(d["profile"], f"{path}.profile") if "profile" in d else "default"
    collateral: dict[str, float] = {}
    for asset, amount in _obj(d["collateral"], f"{path}.collateral").items():
        p = f"{path}.collateral.{asset}"
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
                   name=name, venue=venue, profile=profile)


def _pool(d: Any, path: str, account_ids: set[str]) -> Pool:
    d = _obj(d, path)
    _fields(d, path, _POOL_FIELDS, ("id", "accounts"))
    pid = _str(d["id"], f"{path}.id")
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
    profile = _str(d["profile"], f"{path}.profile") if "profile" in d else "default"
    name = _str(d["name"], f"{path}.name") if "name" in d else None
    return Pool(id=pid, accounts=members, margin_mode=mode, profile=profile, name=name)


def _check_profiles(doc_profiles: dict[str, Any], accounts: list[Account], pools: list[Pool],
                    as_of: datetime | None = None) -> None:
    """Validate the file's profiles and that every account and pool names a known one, in a
    version in force on the book's date."""
    from workstation.core.profiles import load_profiles

    _check_profile_dates(accounts, pools, as_of)
    try:
        known = load_profiles(doc_profiles, source="profiles", as_of=as_of)
    except ProfileError as err:
        path = err.key if err.source in ("", "profiles") else f"{err.source}.{err.key}"
        if not path.startswith("profiles"):
            path = f"profiles.{path}"
        problem = err.problem.removeprefix("expected ")
        raise PortfolioError(path, problem) from None
    for i, acc in enumerate(accounts):
        if acc.profile not in known:
            raise PortfolioError(f"accounts[{i}].profile", _known_list(known), acc.profile)
    for k, pool in enumerate(pools):
        if pool.profile not in known:
            raise PortfolioError(f"pools[{k}].profile", _known_list(known), pool.profile)


def _check_profile_dates(accounts: list[Account], pools: list[Pool], as_of: datetime | None) -> None:
    """A book older than a shipped profile's first version is refused where it names it."""
    from workstation.core.profile_versions import first_version

    if as_of is None:
        return
    named = [(f"accounts[{i}].profile", a.profile) for i, a in enumerate(accounts)]
    named += [(f"pools[{k}].profile", p.profile) for k, p in enumerate(pools)]
    for path, name in named:
        first = first_version(name)
        if first is not None and as_of.date().isoformat() < first:
            raise PortfolioError(path, f"a profile in force on the book's date "
                                       f"{as_of.date().isoformat()}: {name} starts on {first}", name)


def _known_list(known: Mapping[str, Any]) -> str:
    return "a known margin profile: " + ", ".join(sorted(known))


# ---------------------------------------------------------------- public API
def portfolio_from_dict(doc: Any) -> Portfolio:
    doc = _obj(doc, "$")
    _fields(doc, "", _TOP_FIELDS, ("format", "as_of", "market", "accounts"))
    if doc["format"] != FORMAT:
        raise PortfolioError("format", f'"{FORMAT}"', doc["format"])
    as_of = parse_time(doc["as_of"], "as_of")
    base = _str(doc["base_currency"], "base_currency") if "base_currency" in doc else "USD"
    rate = _num(doc["rate"], "rate") if "rate" in doc else 0.0
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
        _obj(body, f"profiles.{name}")
    _check_profiles(profiles, accounts, pools, as_of)
    _check_leverage(accounts, profiles, market, as_of)
    return Portfolio(as_of=as_of, market=market, accounts=accounts, pools=pools,
                     base_currency=base, rate=rate, profiles=profiles)


def loads_portfolio(text: str, source: str | None = None) -> Portfolio:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise PortfolioError(f"line {err.lineno} column {err.colno}", f"valid JSON ({err.msg})",
                             source=source) from None
    try:
        return portfolio_from_dict(doc)
    except PortfolioError as err:
        raise err.with_source(source) if source else err from None


def read_portfolio(path: str | Path) -> Portfolio:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PortfolioError("$", f"a readable UTF-8 JSON file ({err})", source=str(path)) from None
    return loads_portfolio(text, source=str(path))


def position_to_dict(pos: Position) -> dict[str, Any]:
    from workstation.core.portfolio_extras import position_extras_to_dict

    d: dict[str, Any] = {"id": pos.id, "kind": pos.kind, "underlying": pos.underlying}
    if pos.kind == "option":
        d["right"] = pos.right
        d["strike"] = pos.strike
    if pos.expiry is not None:
        d["expiry"] = format_time(pos.expiry)
    if pos.kind != "spot" or pos.settlement != "linear":
        d["settlement"] = pos.settlement
    d["quantity"] = pos.quantity
    d["entry_price"] = pos.entry_price
    if pos.vol is not None:
        d["vol"] = pos.vol
    if pos.isolated_margin is not None:
        d["isolated_margin"] = pos.isolated_margin
    if pos.expired:
        d["expired"] = True
        d["settlement_price"] = pos.settlement_price
    _leverage_to_dict(pos, d)
    return d | position_extras_to_dict(pos)


def _leverage_to_dict(pos: Position, d: dict[str, Any]) -> None:
    if pos.leverage is not None:
        d["leverage"] = pos.leverage


def portfolio_to_dict(p: Portfolio) -> dict[str, Any]:
    from workstation.core.portfolio_extras import quote_extras_to_dict

    market: dict[str, Any] = {}
    for asset, q in p.market.items():
        market[asset] = ({"price": q.price} | ({"vol": q.vol} if q.vol is not None else {})
                         | ({"funding_rate": q.funding_rate} if q.funding_rate is not None else {})
                         | quote_extras_to_dict(q))
    accounts = []
    for acc in p.accounts:
        a: dict[str, Any] = {"id": acc.id}
        if acc.name is not None:
            a["name"] = acc.name
        if acc.venue is not None:
            a["venue"] = acc.venue
        a |= {"margin_mode": acc.margin_mode, "profile": acc.profile,
              "collateral": dict(acc.collateral),
              "positions": [position_to_dict(pos) for pos in acc.positions]}
        accounts.append(a)
    pools = []
    for pool in p.pools:
        d: dict[str, Any] = {"id": pool.id}
        if pool.name is not None:
            d["name"] = pool.name
        d |= {"accounts": list(pool.accounts), "margin_mode": pool.margin_mode, "profile": pool.profile}
        pools.append(d)
    doc: dict[str, Any] = {
        "format": FORMAT, "as_of": format_time(p.as_of), "base_currency": p.base_currency,
        "rate": p.rate, "market": market, "accounts": accounts, "pools": pools,
    }
    if p.profiles:
        doc["profiles"] = p.profiles
    return doc


def dumps_portfolio(p: Portfolio) -> str:
    return json.dumps(portfolio_to_dict(p), indent=2, allow_nan=False) + "\n"


def write_portfolio(p: Portfolio, path: str | Path) -> None:
    Path(path).write_text(dumps_portfolio(p), encoding="utf-8")
