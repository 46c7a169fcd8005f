"""The venue tables of a margin profile: `[deribit]`, `[okx]`, `[bybit]`, `[span]`.

Each portfolio method of a venue (`workstation.core.methods.*`) reads its own table; the keys
keep the venue's own names where the venue publishes them (Deribit's `pme/simulate`
`model_params`), so a trader can compare them one for one. Per-underlying values are tables
keyed by underlying with a `"*"` fallback (`ByKey`). Every table is validated here and frozen;
a problem raises `ProfileError(source, dotted_key, problem)`.

Merging (versions and portfolio-file overlays): these tables merge key by key, nested tables
too (a version that gives `deribit.pairs.ETH` keeps `deribit.pairs.BTC`); lists replace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

from workstation.core.errors import ProfileError, shown
from workstation.core.profile_fields import FrozenMap, increasing_pairs, known, num, seq, table, text

VENUE_TABLES = ("deribit", "okx", "bybit", "span")
_T = TypeVar("_T")


class ByKey(FrozenMap[str, _T], Generic[_T]):
    """A frozen per-underlying (or per-currency) table with a `"*"` fallback."""

    __slots__ = ("_key", "_origin")

    def __init__(self, items: Mapping[str, _T], origin: str = "", key: str = ""):
        super().__init__(items)
        self._origin, self._key = origin, key

    def __repr__(self) -> str:
        return f"ByKey({self._d!r})"

    def for_(self, name: str) -> _T:
        """The value of `name`, else of `"*"`; a located error when neither is given."""
        if name in self._d:
            return self._d[name]
        if "*" in self._d:
            return self._d["*"]
        raise ProfileError(self._origin or "profile", f"{self._key}.{name}",
                           f'no value for {name} and no "*" fallback')


# ------------------------------------------------------------------------------ validation
def by_key(value: Any, source: str, key: str, parse) -> ByKey:
    """A table name -> value, each value checked by `parse(v, key_of_v)`."""
    d = table(value, source, key)
    if not d:
        raise ProfileError(source, key, "must not be empty")
    return ByKey({str(k): parse(v, f"{key}.{k}") for k, v in d.items()}, source, key)


def scalars(value: Any, source: str, key: str, **bounds: Any) -> ByKey[float]:
    return by_key(value, source, key, lambda v, k: num(v, source, k, **bounds))


def steps(value: Any, source: str, key: str) -> tuple[tuple[float, float], ...]:
    """[[upper, value], ...] with increasing positive uppers (progressive scaling tiers)."""
    return increasing_pairs(value, source, key, "[upper, value]")


def _record(cls: type[_T], d: Mapping[str, Any], source: str, prefix: str,
            parse: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> _T:
    """Build the frozen dataclass `cls` from table `d`: every field parsed by `parse[name]`
    (default: a number >= 0), missing fields from `defaults`, else an error."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    known(d, names, source, prefix)
    values: dict[str, Any] = {}
    for name in names:
        if name in d:
            p = parse.get(name)
            values[name] = p(d[name], f"{prefix}{name}") if p else num(d[name], source, f"{prefix}{name}")
        elif defaults is not None and name in defaults:
            values[name] = defaults[name]
        else:
            raise ProfileError(source, f"{prefix}{name}", "missing")
    return cls(**values)


# ------------------------------------------------------------------------------ Deribit
@dataclass(frozen=True)
class DeribitPair:
    """`model_params.currency_pair.<u>_usd` of Deribit's `pme/simulate`."""

    price_range: float
    volatility_range_up: float
    volatility_range_down: float
    short_term_vega_power: float
    long_term_vega_power: float
    min_volatility_for_shock_up: float
    extended_table_factor: float
    max_delta_shock: float
    delta_total_liq_shock_threshold: float
    m_inc: float


@dataclass(frozen=True)
class DeribitCurrency:
    """`model_params.currency.<c>`: per settlement currency (the risk unit's numeraire)."""

    annualised_move_risk: float
    min_annualised_move: float
    extended_dampener: float
    pnl_offset: float = 0.0


@dataclass(frozen=True)
class DeribitParams:
    mm_factor: float
    buckets: int
    worst_decimals: int
    extended_moves: tuple[float, ...]
    dte_floor: float
    linear_currency: str
    pairs: ByKey[DeribitPair]
    currencies: ByKey[DeribitCurrency]


def _int(value: Any, source: str, key: str, lo: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ProfileError(source, key, f"expected an integer >= {lo}, got {shown(value)}")
    return value


def _fallback_merged(d: dict[str, Any], source: str, key: str) -> dict[str, dict[str, Any]]:
    """Per-name tables laid over the `"*"` table (a name gives only what differs)."""
    star = table(d.get("*", {}), source, f"{key}.*")
    return {name: {**star, **table(v, source, f"{key}.{name}")} for name, v in d.items()}


def deribit(value: Any, source: str) -> DeribitParams:
    p = "deribit."
    d = table(value, source, "deribit")
    known(d, tuple(f.name for f in fields(DeribitParams)), source, p)
    pairs_raw = _fallback_merged(table(d.get("pairs", {}), source, p + "pairs"), source, p + "pairs")
    curr_raw = _fallback_merged(table(d.get("currencies", {}), source, p + "currencies"), source,
                                p + "currencies")
    pairs = ByKey({u: _record(DeribitPair, v, source, f"{p}pairs.{u}.", {
        "price_range": lambda x, k: num(x, source, k, lo_open=True, hi=0.99)}) for u, v in pairs_raw.items()},
        source, p + "pairs")
    currencies = ByKey({c: _record(DeribitCurrency, v, source, f"{p}currencies.{c}.", {},
                                   {"pnl_offset": 0.0}) for c, v in curr_raw.items()}, source, p + "currencies")
    if not pairs or not currencies:
        raise ProfileError(source, p + ("pairs" if not pairs else "currencies"), "must not be empty")
    parse = {
        "buckets": lambda x, k: _int(x, source, k, 1),
        "worst_decimals": lambda x, k: _int(x, source, k, 0),
        "extended_moves": lambda x, k: tuple(num(m, source, f"{k}[{i}]", lo=-1.0, lo_open=True)
                                             for i, m in enumerate(seq(x, source, k, empty_ok=True))),
        "dte_floor": lambda x, k: num(x, source, k, lo_open=True),
        "mm_factor": lambda x, k: num(x, source, k, lo_open=True),
        "linear_currency": lambda x, k: text(x, source, k),
        "pairs": lambda x, k: pairs, "currencies": lambda x, k: currencies,
    }
    defaults = {"pairs": pairs, "currencies": currencies}
    return _record(DeribitParams, d, source, p, parse, defaults)


# ------------------------------------------------------------------------------ OKX
@dataclass(frozen=True)
class OkxParams:
    """MR terms of OKX portfolio margin beyond the scenario grid (MR1) and extreme moves (MR6),
    which are `[portfolio]`'s `moves`/`range` and `tails`."""

    mr4_rate: ByKey[float]  # basis risk of perpetuals: rate x |USD delta|
    mr4_annual: ByKey[float]  # annualised move risk (futures: rate = max(mr4_rate, annual x T))
    mr7_rate: ByKey[float]  # minimum charge: rate x |USD delta| ...
    mr7_scaling: ByKey[tuple[tuple[float, float], ...]]  # ... scaled progressively on its amount
    borrow_mmr: float  # MR8: negative balances x rate
    borrow_imr: float


def okx(value: Any, source: str) -> OkxParams:
    p = "okx."
    d = table(value, source, "okx")
    parse = {
        "mr4_rate": lambda x, k: scalars(x, source, k, hi=1.0),
        "mr4_annual": lambda x, k: scalars(x, source, k, hi=10.0),
        "mr7_rate": lambda x, k: scalars(x, source, k, hi=1.0),
        "mr7_scaling": lambda x, k: by_key(x, source, k, lambda v, kk: steps(v, source, kk)),
        "borrow_mmr": lambda x, k: num(x, source, k, hi=1.0),
        "borrow_imr": lambda x, k: num(x, source, k, hi=1.0),
    }
    return _record(OkxParams, d, source, p, parse)


# ------------------------------------------------------------------------------ Bybit
@dataclass(frozen=True)
class BybitParams:
    """Contingencies of Bybit portfolio margin, added to the worst stress loss per risk unit."""

    perp_contingency: ByKey[float]  # sum |qty| x factor x index (perpetuals and futures)
    short_option_coefficient: ByKey[float]  # net short option nominal x coefficient x index
    vega_spread: ByKey[float]  # days apart x hedged vega x factor x index
    delta_spread: ByKey[float]  # years apart x hedged delta x factor x index
    im_factor: ByKey[float]  # IM = MM x factor (per asset)


def bybit(value: Any, source: str) -> BybitParams:
    d = table(value, source, "bybit")
    parse = {name: (lambda x, k: scalars(x, source, k)) for name in
             ("perp_contingency", "short_option_coefficient", "vega_spread", "delta_spread")}
    parse["im_factor"] = lambda x, k: scalars(x, source, k, lo=1.0)
    return _record(BybitParams, d, source, "bybit.", parse)


# ------------------------------------------------------------------------------ SPAN
@dataclass(frozen=True)
class SpanProduct:
    """A product's SPAN parameters: price scan range in price points (or as a fraction of the
    price when `price_scan` is 0), volatility scan range (absolute vol), extreme move multiple
    and the fraction of its loss covered."""

    price_scan: float = 0.0
    price_scan_pct: float = 0.0
    vol_scan: float = 0.0
    extreme_multiple: float = 2.0
    extreme_cover: float = 0.35


@dataclass(frozen=True)
class SpanParams:
    products: ByKey[SpanProduct]
    im_factor: float


def span(value: Any, source: str) -> SpanParams:
    p = "span."
    d = table(value, source, "span")
    known(d, ("products", "im_factor"), source, p)

    def product(v: Any, k: str) -> SpanProduct:
        rec = _record(SpanProduct, table(v, source, k), source, k + ".", {
            "price_scan_pct": lambda x, kk: num(x, source, kk, hi=0.99)},
            {f.name: f.default for f in fields(SpanProduct)})
        if (rec.price_scan > 0) == (rec.price_scan_pct > 0):
            raise ProfileError(source, k, "give exactly one of price_scan (points) and price_scan_pct")
        return rec

    if "products" not in d:
        raise ProfileError(source, p + "products", "missing")
    return SpanParams(products=by_key(d["products"], source, p + "products", product),
                      im_factor=num(d.get("im_factor", 1.0), source, p + "im_factor", lo=1.0))


PARSERS = {"deribit": deribit, "okx": okx, "bybit": bybit, "span": span}


def merge_tables(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive merge of raw tables: nested tables key by key, anything else replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge_tables(out[k], v)
        else:
            out[k] = v
    return out
