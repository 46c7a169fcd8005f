"""Margin profiles: every parameter of the margin method, as data (`resources/profiles/*.toml`).

(Longer than 400 lines: the validation of every key of a profile's tables lives here, one place
to add a key; the venue tables are in `profile_venues.py`, the dated versions in
`profile_versions.py`.)

A profile is read from TOML (shipped) or from the portfolio file's `profiles` object (JSON),
validated key by key, and frozen. Keys and meaning: `shared/spec/method.md`, "Profiles", and
`shared/spec/venues.md` (see `resources/profiles/README.md`).

Dated versions: a shipped profile with a folder of versions is selected by the book's `as_of`
(`load_profiles(..., as_of=)`, `shipped_profiles(as_of)`); `Profile.version` is the effective
date used (None: undated). See `profile_versions.py`.

Inheritance: a profile that leaves a key out takes it from its base. The shipped `default.toml`
is built on the method.md example; the other shipped files and any portfolio-file profile whose
name is not shipped are built on `default`; a portfolio-file profile that names a shipped one is
laid over the version in force. Merging is deep, except that table-valued keys (`stablecoins`,
`haircuts`, `tiers` (the whole bracket table), `portfolio.range`, `portfolio.tail`,
`portfolio.scenarios`, `portfolio.correlation`, `portfolio.moves`, `portfolio.tails`) replace the
inherited value whole, and a profile that sets `portfolio.range`, `price_steps`, `tail`, `moves` or
`tails` without `scenarios` drops inherited `scenarios`. The venue tables (`[deribit]`, `[okx]`,
`[bybit]`, `[span]`) merge key by key, nested tables too.
"""

from __future__ import annotations

import copy
import itertools
import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from workstation.core import limits
from workstation.core import profile_venues as venues
from workstation.core.errors import ProfileError, shown, unknown_profile
from workstation.core.jsonread import join_key
from workstation.core.profile_venues import BybitParams, DeribitParams, OkxParams, SpanParams
from workstation.core.stress_profile import StressParams, stress_params
from workstation.core.trading import TradingParams, trading_params

if TYPE_CHECKING:
    from workstation.core.profile_pmrm2 import Pmrm2Params

PROFILES_DIR = Path(__file__).resolve().parents[2] / "resources" / "profiles"
INF = math.inf
VOL_DIRECTIONS = ("up", "none", "down")
# portfolio margin methods a profile may name (`method`); workstation.core.methods implements them
METHODS = ("risk-array", "pmrm2", "deribit-pm", "okx-pm", "bybit-pm", "span")
AGGREGATIONS = ("sum", "correlated")

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenMap(Mapping[_K, _V]):
    """A read-only, hashable mapping (keeps frozen dataclasses hashable)."""

    __slots__ = ("_d", "_h")

    def __init__(self, items: Mapping[_K, _V] | None = None) -> None:
        self._d: dict[_K, _V] = dict(items or {})
        self._h: int | None = None

    def __getitem__(self, key: _K) -> _V:
        return self._d[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(frozenset(self._d.items()))
        return self._h

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"


# ------------------------------------------------------------------------------ data classes
@dataclass(frozen=True)
class Tier:
    """A bracket: MM = N * mmr - maintenance_amount, IM = N * imr (N: notional in base).

    Size-linear rates (Deribit standard margin): imr = initial_rate + initial_slope * size and
    mmr = maintenance_rate + maintenance_slope * size, size = |position| in coin. A table bounds
    its brackets either by notional (`max_notional`) or by size in coin (`max_quantity`: OKX
    tiers in contracts, Binance COIN-M); in a quantity table `maintenance_amount` is in coin.
    """

    max_notional: float
    initial_rate: float
    maintenance_rate: float
    maintenance_amount: float = 0.0
    initial_slope: float = 0.0
    maintenance_slope: float = 0.0
    max_quantity: float = INF


def by_quantity(tiers: tuple[Tier, ...]) -> bool:
    """Whether a bracket table is bounded by size in coin rather than by notional."""
    return any(t.max_quantity != INF for t in tiers)


@dataclass(frozen=True)
class OptionParams:
    """Standard option margin of short options, per unit (S index, m mark, e entry, base):

        MM = max(short_mm * S, short_mm * m) + m + fee * S
        IM = max(max(short_im_base * S - OTM, short_im_floor * S) + prem, MM)

    prem = m (`premium = "mark"`, Deribit) or max(e, m) (`"max_entry_mark"`, Bybit); Deribit
    has no fee term, Bybit's is its liquidation fee rate.
    """

    short_im_base: float = 0.15
    short_im_floor: float = 0.10
    short_mm: float = 0.075
    fee: float = 0.0
    premium: str = "mark"


@dataclass(frozen=True)
class PortfolioParams:
    """Risk-array parameters of the `portfolio` mode."""

    range: Mapping[str, float]
    price_steps: int
    vol_shock_up: float
    vol_shock_down: float
    power_short: float
    power_long: float
    dte_floor: float
    tail: tuple[tuple[float, float], ...]
    scenarios: tuple[tuple[float, str, float], ...] | None
    vol_floor: float | None
    short_option_contingency: float
    futures_contingency: float
    mm_factor: float
    im_factor: float
    aggregation: str
    correlation: Mapping[tuple[str, str], float]
    collateral_in_scenarios: bool = True
    origin: str = field(default="", compare=False, repr=False)
    # per-underlying scenario lists (venues.md 2.1); `"*"` is the fallback, `range`/`tail` next
    moves: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: FrozenMap())
    tails: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=lambda: FrozenMap())

    def range_for(self, underlying: str) -> float:
        """Spot range of `underlying` (falls back to `"*"`)."""
        if underlying in self.range:
            return self.range[underlying]
        if "*" in self.range:
            return self.range["*"]
        raise ProfileError(
            self.origin or "profile",
            f"portfolio.range.{underlying}",
            f'no range for {underlying} and no "*" fallback',
        )

    def corr(self, a: str, b: str) -> float:
        """Correlation of a and b; 1.0 if a == b or the profile does not list the pair."""
        if a == b:
            return 1.0
        if (a, b) in self.correlation:
            return self.correlation[(a, b)]
        return self.correlation.get((b, a), 1.0)

    def grid_moves(self, underlying: str) -> tuple[float, ...]:
        """The price moves of `underlying`'s grid: its `moves` list (or `"*"`'s), else
        `price_steps` evenly spaced moves over [-range, +range] (0 included)."""
        for key in (underlying, "*"):
            if key in self.moves:
                return self.moves[key]
        r = self.range_for(underlying)
        half = (self.price_steps - 1) // 2
        return tuple(r * k / half for k in range(-half, half + 1))

    def tail_for(self, underlying: str) -> tuple[tuple[float, float], ...]:
        """(move, weight) of `underlying`'s tail: its `tails` entry (or `"*"`'s), else `tail`."""
        for key in (underlying, "*"):
            if key in self.tails:
                return self.tails[key]
        return self.tail

    def scenario_list(self, underlying: str) -> list[tuple[float, str, float]]:
        """(spot_shock, vol_dir, dampener) scenarios for `underlying`.

        The explicit `scenarios` if the profile lists them; else the grid moves (`grid_moves`),
        each with vol up, none, down (dampener 1), followed by the tail moves (`tail_for`) with
        vol up and their dampeners.
        """
        if self.scenarios is not None:
            return list(self.scenarios)
        out = [(m, v, 1.0) for m in self.grid_moves(underlying) for v in VOL_DIRECTIONS]
        out.extend((move, "up", damp) for move, damp in self.tail_for(underlying))
        return out


@dataclass(frozen=True)
class Profile:
    """A margin profile: haircuts, notional tiers, option rates and portfolio-margin parameters."""

    name: str
    source: str
    as_of: str
    stablecoins: tuple[str, ...]
    haircuts: Mapping[str, tuple[tuple[float, float], ...]]
    tiers: Mapping[str, tuple[Tier, ...]]
    options: OptionParams
    portfolio: PortfolioParams
    method: str = "risk-array"  # the portfolio-mode method (workstation.core.methods)
    pmrm2: Pmrm2Params | None = None  # method "pmrm2": its keys (profile_pmrm2), else None
    origin: str = field(default="", compare=False, repr=False)
    # dated versions (venues.md "Common behaviour"): the effective date used, None if undated
    version: str | None = None
    estimates: tuple[str, ...] = ()
    # liquidated when equity <= liquidation_threshold x MM (Binance PM: uniMMR 1.05)
    liquidation_threshold: float = 1.0
    # haircut bands by quantity held (Bybit collateral tiers in coin): (upper_qty, haircut)
    quantity_haircuts: Mapping[str, tuple[tuple[float, float], ...]] = field(
        default_factory=lambda: FrozenMap())
    # the venue tables read by the venue's portfolio method (workstation.core.profile_venues)
    deribit: DeribitParams | None = None
    okx: OkxParams | None = None
    bybit: BybitParams | None = None
    span: SpanParams | None = None
    stress: StressParams = field(default_factory=StressParams)  # optional [stress] table
    trading: TradingParams = field(default_factory=TradingParams)  # optional [trading] (what-if)

    def haircut_bands(self, asset: str, amount: float | None = None) -> tuple[tuple[float, float], ...]:
        """(upper_value, haircut) bands of `asset`, else of `"*"`, else no haircut.

        Bands by quantity (`quantity_haircuts`) need the amount held: the part of the amount in
        each quantity band takes that band's haircut, which is one flat haircut at any price.
        """
        q = self.quantity_haircuts.get(asset) if asset in self.quantity_haircuts else (
            None if asset in self.haircuts else self.quantity_haircuts.get("*"))
        if q is not None and amount is not None and amount > 0:
            kept, lower = 0.0, 0.0
            for i, (upper, cut) in enumerate(q):
                width = INF if i == len(q) - 1 else upper - lower
                kept += min(max(amount - lower, 0.0), width) * (1.0 - cut)
                lower = upper
            return ((INF, min(1.0, max(0.0, 1.0 - kept / amount))),)
        if q is not None:
            return ((INF, q[0][1]),)
        if asset in self.haircuts:
            return self.haircuts[asset]
        if "*" in self.haircuts:
            return self.haircuts["*"]
        return ((INF, 0.0),)

    def tier_for(self, underlying: str) -> tuple[Tier, ...]:
        """Notional brackets of `underlying` (falls back to `"*"`), sorted by max_notional."""
        if underlying in self.tiers:
            return self.tiers[underlying]
        if "*" in self.tiers:
            return self.tiers["*"]
        raise ProfileError(
            self.origin or self.name,
            f"tiers.{underlying}",
            f'no tiers for {underlying} and no "*" fallback',
        )

    def is_stable(self, asset: str) -> bool:
        return asset in self.stablecoins


# ------------------------------------------------------------------------------ defaults
# The example of method.md ("Profiles"), the base beneath every profile. default.toml repeats
# these numbers (and adds ETH, "*" and the further BTC brackets).
METHOD_DEFAULTS: dict[str, Any] = {
    "name": "default",
    "source": "method.md example",
    "as_of": "2026-11-01",
    "stablecoins": ["USDT", "USDC"],
    "haircuts": {"BTC": [[100_000_000, 0.0], [200_000_000, 0.025], [1e30, 0.05]], "USDT": 0.0},
    "tiers": {
        "BTC": [
            {
                "max_notional": 50_000,
                "initial_rate": 0.008,
                "maintenance_rate": 0.004,
                "maintenance_amount": 0.0,
            }
        ]
    },
    "options": {"short_im_base": 0.15, "short_im_floor": 0.10, "short_mm": 0.075},
    "portfolio": {
        "range": {"BTC": 0.16, "ETH": 0.16, "*": 0.25},
        "price_steps": 9,
        "vol_shock_up": 0.5,
        "vol_shock_down": 0.275,
        "power_short": 0.30,
        "power_long": 0.13,
        "dte_floor": 1,
        "tail": [[-0.66, 0.0545], [-0.33, 0.109], [0.5, 0.072], [1.0, 0.036]],
        "short_option_contingency": 0.01,
        "futures_contingency": 0.01,
        "mm_factor": 1.0,
        "im_factor": 1.3,
        "aggregation": "sum",
        "correlation": {"BTC/ETH": 0.85},
        "collateral_in_scenarios": True,
    },
}

_TOP_KEYS = ("name", "source", "as_of", "stablecoins", "haircuts", "tiers", "options", "portfolio", "method",
             "im_haircuts", "stress", "trading")
# venues.md additions: what is an estimate, the liquidation threshold, the venue tables
_VENUE_TOP = ("estimates", "liquidation_threshold", *venues.VENUE_TABLES)
_OPTIONAL_TOP = ("method", "im_haircuts", "stress", "trading", *_VENUE_TOP)
_TIER_KEYS = ("max_notional", "initial_rate", "maintenance_rate", "maintenance_amount",
              "initial_slope", "maintenance_slope", "max_quantity")
_OPTION_KEYS = ("short_im_base", "short_im_floor", "short_mm")
_OPTION_EXTRA = ("fee", "premium")
PREMIUMS = ("mark", "max_entry_mark")
_PORTFOLIO_KEYS = (
    "range",
    "price_steps",
    "vol_shock_up",
    "vol_shock_down",
    "power_short",
    "power_long",
    "dte_floor",
    "tail",
    "scenarios",
    "vol_floor",
    "short_option_contingency",
    "futures_contingency",
    "mm_factor",
    "im_factor",
    "aggregation",
    "correlation",
    "collateral_in_scenarios",
    "moves",
    "tails",
)
_GRID_KEYS = ("range", "price_steps", "tail", "moves", "tails")


# ------------------------------------------------------------------------------ merging
def _table(value: Any, source: str, key: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ProfileError(source, key, f"expected a table, got {type(value).__name__}")
    return dict(value)


def merge_profile_dicts(
    base: Mapping[str, Any], over: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """Lay the raw profile `over` on `base` (see the module docstring for the rules)."""
    over = _table(over, source, "(profile)")
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if key == "tiers":  # the brackets given are the whole table: no inherited underlyings
            out["tiers"] = copy.deepcopy(_table(value, source, "tiers"))
        elif key == "options":
            opts = _table(out.get("options", {}), source, "options")
            opts.update(_table(value, source, "options"))
            out["options"] = copy.deepcopy(opts)
        elif key == "portfolio":
            new = _table(value, source, "portfolio")
            port = _table(out.get("portfolio", {}), source, "portfolio")
            if "scenarios" not in new and any(k in new for k in _GRID_KEYS):
                port.pop("scenarios", None)
            port.update(new)
            out["portfolio"] = copy.deepcopy(port)
        elif key in venues.VENUE_TABLES:  # venue tables merge key by key, nested tables too
            out[key] = copy.deepcopy(venues.merge_tables(_table(out.get(key, {}), source, key),
                                                         _table(value, source, key)))
        else:
            out[key] = copy.deepcopy(value)
    return out


# ------------------------------------------------------------------------------ validation
def _num(
    value: Any,
    source: str,
    key: str,
    *,
    lo: float | None = 0.0,
    lo_open: bool = False,
    hi: float | None = None,
    allow_inf: bool = False,
) -> float:
    """A real number (not bool), finite unless `allow_inf`, within [lo, hi] (or (lo, hi])."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(source, key, f"expected a number, got {shown(value)}")
    try:
        x = float(value)
    except OverflowError:  # an integer beyond float range
        x = math.inf if value > 0 else -math.inf
        allow_inf = False
    if math.isnan(x) or (math.isinf(x) and not (allow_inf and x > 0)):
        raise ProfileError(source, key, f"must be a finite number, got {shown(value)}")
    if lo is not None and (x <= lo if lo_open else x < lo):
        bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise ProfileError(source, key, f"must be {bound}, got {shown(value)}")
    if hi is not None and x > hi:
        raise ProfileError(source, key, f"must be <= {hi:g}, got {shown(value)}")
    return x


def _str(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(source, key, f"expected a non-empty string, got {shown(value)}")
    return value


def _list(value: Any, source: str, key: str, *, empty_ok: bool = False) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ProfileError(source, key, f"expected a list, got {type(value).__name__}")
    if not value and not empty_ok:
        raise ProfileError(source, key, "must not be empty")
    return list(value)


def _at_most(value: Any, count: int, source: str, key: str) -> None:
    """Refuse a list longer than `count` (each entry is a scenario: the risk arrays grow with it)."""
    if isinstance(value, list | tuple) and len(value) > count:
        raise ProfileError(source, key, f"at most {count} entries, got {len(value):,}")


def _known(d: Mapping[str, Any], allowed: tuple[str, ...], source: str, prefix: str) -> None:
    for key in d:
        if key not in allowed:
            raise ProfileError(
                source, f"{prefix}{key}", f"unknown key; allowed: {', '.join(allowed)}"
            )


def _require(d: Mapping[str, Any], keys: tuple[str, ...], source: str, prefix: str) -> None:
    for key in keys:
        if key not in d:
            raise ProfileError(source, f"{prefix}{key}", "missing")


def _as_of(value: Any, source: str) -> str:
    if isinstance(value, datetime | date):  # TOML reads an unquoted date as a date
        when: date = value
        text = value.isoformat()
    else:
        text = _str(value, source, "as_of")
        try:
            when = date.fromisoformat(text)
        except ValueError:
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise ProfileError(
                    source, "as_of", f"expected an ISO date such as 2026-11-01, got {shown(text)}"
                ) from None
    if not limits.FIRST_YEAR <= when.year <= limits.LAST_YEAR:
        raise ProfileError(source, "as_of", f"expected a date from {limits.FIRST_YEAR} to "
                                            f"{limits.LAST_YEAR}, got {shown(text)}")
    return text


def _bands(value: Any, source: str, key: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list | tuple):
        return ((INF, _num(value, source, key, hi=1.0)),)
    bands: list[tuple[float, float]] = []
    last = 0.0
    for i, band in enumerate(_list(value, source, key)):
        k = f"{key}[{i}]"
        pair = _list(band, source, k)
        if len(pair) != 2:
            raise ProfileError(source, k, f"expected [upper_value, haircut], got {shown(band)}")
        upper = _num(pair[0], source, f"{k}[0]", lo=0.0, lo_open=True, allow_inf=True)
        cut = _num(pair[1], source, f"{k}[1]", hi=1.0)
        if upper <= last:
            raise ProfileError(
                source, f"{k}[0]", f"upper values must increase, got {upper:g} after {last:g}"
            )
        bands.append((upper, cut))
        last = upper
    return tuple(bands)


def _tiers(value: Any, source: str, key: str) -> tuple[Tier, ...]:
    out: list[Tier] = []
    last = 0.0
    rows = _list(value, source, key)
    bound = "max_quantity" if any(isinstance(r, Mapping) and "max_quantity" in r for r in rows) \
        else "max_notional"
    for i, raw in enumerate(rows):
        k = f"{key}[{i}]"
        d = _table(raw, source, k)
        _known(d, _TIER_KEYS, source, f"{k}.")
        _require(d, (bound, "initial_rate", "maintenance_rate"), source, f"{k}.")
        other = "max_notional" if bound == "max_quantity" else "max_quantity"
        if other in d:
            raise ProfileError(source, f"{k}.{other}",
                               f"a table bounds its brackets by {bound} only (not both)")
        cap = _num(d[bound], source, f"{k}.{bound}", lo=0.0, lo_open=True, allow_inf=True)
        im = _num(d["initial_rate"], source, f"{k}.initial_rate", lo=0.0, lo_open=True, hi=1.0)
        mm = _num(d["maintenance_rate"], source, f"{k}.maintenance_rate", hi=1.0)
        amount = _num(d.get("maintenance_amount", 0.0), source, f"{k}.maintenance_amount")
        islope = _num(d.get("initial_slope", 0.0), source, f"{k}.initial_slope")
        mslope = _num(d.get("maintenance_slope", 0.0), source, f"{k}.maintenance_slope")
        if mm > im:
            raise ProfileError(
                source, f"{k}.maintenance_rate", f"must not exceed initial_rate ({mm:g} > {im:g})"
            )
        if mslope > islope:
            raise ProfileError(source, f"{k}.maintenance_slope",
                               f"must not exceed initial_slope ({mslope:g} > {islope:g})")
        if cap <= last:
            raise ProfileError(
                source, f"{k}.{bound}", f"tiers must increase, got {cap:g} after {last:g}"
            )
        if bound == "max_quantity":
            out.append(Tier(INF, im, mm, amount, islope, mslope, cap))
        else:
            out.append(Tier(cap, im, mm, amount, islope, mslope))
        last = cap
    return tuple(out)


def _options(value: Any, source: str) -> OptionParams:
    d = _table(value, source, "options")
    _known(d, _OPTION_KEYS + _OPTION_EXTRA, source, "options.")
    _require(d, _OPTION_KEYS, source, "options.")
    premium = d.get("premium", "mark")
    if premium not in PREMIUMS:
        raise ProfileError(source, "options.premium", f"must be one of {', '.join(PREMIUMS)}, got {shown(premium)}")
    return OptionParams(*(_num(d[k], source, f"options.{k}") for k in _OPTION_KEYS),
                        fee=_num(d.get("fee", 0.0), source, "options.fee", hi=1.0), premium=premium)


def _pair(name: Any, source: str, key: str) -> tuple[str, str]:
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 2 or not all(p.strip() == p and p for p in parts) or parts[0] == parts[1]:
        raise ProfileError(
            source, key, f'expected a pair of two underlyings such as "BTC/ETH", got {shown(name)}'
        )
    return parts[0], parts[1]


def _portfolio(value: Any, source: str, method: str = "risk-array") -> PortfolioParams:
    """The `[portfolio]` table. PMRM_2 (`method = "pmrm2"`) also allows skew rows, scenario
    dampening above 1 and `dte_floor = 0`; its own keys are validated in `profile_pmrm2`."""
    from workstation.core import profile_pmrm2

    pmrm2 = method == profile_pmrm2.METHOD

    d = _table(value, source, "portfolio")
    p = "portfolio."
    _known(d, _PORTFOLIO_KEYS + profile_pmrm2.PORTFOLIO_KEYS, source, p)
    vol_dirs = VOL_DIRECTIONS + profile_pmrm2.SKEW_DIRECTIONS
    _require(
        d,
        tuple(
            k
            for k in _PORTFOLIO_KEYS
            if k not in ("scenarios", "vol_floor", "collateral_in_scenarios", "moves", "tails")
        ),
        source,
        p,
    )

    rng = _table(d["range"], source, p + "range")
    if not rng:
        raise ProfileError(source, p + "range", "must not be empty")
    ranges = {
        _str(u, source, p + "range"): _num(r, source, f"{p}range.{u}", lo_open=True, hi=0.99)
        for u, r in rng.items()
    }

    steps = d["price_steps"]
    if isinstance(steps, float) and steps.is_integer():
        steps = int(steps)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise ProfileError(source, p + "price_steps", f"expected an integer, got {shown(steps)}")
    if steps < 3 or steps % 2 == 0 or steps > limits.MAX_PRICE_STEPS:
        raise ProfileError(
            source, p + "price_steps",
            f"must be odd, >= 3 (0 is a grid point) and <= {limits.MAX_PRICE_STEPS}, got {shown(steps)}",
        )

    tail: list[tuple[float, float]] = []
    _at_most(d["tail"], limits.MAX_TAIL, source, p + "tail")
    for i, t in enumerate(_list(d["tail"], source, p + "tail", empty_ok=True)):
        k = f"{p}tail[{i}]"
        pair = _list(t, source, k)
        if len(pair) != 2:
            raise ProfileError(source, k, f"expected [spot_move, dampener], got {shown(t)}")
        tail.append(
            (
                _num(pair[0], source, k + "[0]", lo=-1.0, lo_open=True),
                _num(pair[1], source, k + "[1]", hi=1.0),
            )
        )

    scenarios: tuple[tuple[float, str, float], ...] | None = None
    if d.get("scenarios") is not None:
        rows: list[tuple[float, str, float]] = []
        _at_most(d["scenarios"], limits.MAX_SCENARIOS, source, p + "scenarios")
        for i, s in enumerate(_list(d["scenarios"], source, p + "scenarios")):
            k = f"{p}scenarios[{i}]"
            row = _list(s, source, k)
            if len(row) != 3:
                raise ProfileError(
                    source, k, f'expected [spot_shock, "up"|"none"|"down", dampener], got {shown(s)}'
                )
            if row[1] not in vol_dirs:
                raise ProfileError(
                    source, k + "[1]",
                    f"vol direction must be up, none or down (pmrm2: or skew_linear, skew_abs), got {shown(row[1])}",
                )
            rows.append(
                (
                    _num(row[0], source, k + "[0]", lo=-1.0, lo_open=True),
                    row[1],
                    _num(row[2], source, k + "[2]", hi=None if pmrm2 else 1.0),
                )
            )
        scenarios = tuple(rows)

    vol_floor = d.get("vol_floor")
    if vol_floor is not None:
        vol_floor = _num(vol_floor, source, p + "vol_floor")

    aggregation = d["aggregation"]
    if aggregation not in AGGREGATIONS:
        raise ProfileError(
            source, p + "aggregation", f"must be sum or correlated, got {shown(aggregation)}"
        )

    correlation: dict[tuple[str, str], float] = {}
    for name, rho in _table(d["correlation"], source, p + "correlation").items():
        k = f"{p}correlation.{name}"
        a, b = _pair(name, source, k)
        if (a, b) in correlation or (b, a) in correlation:
            raise ProfileError(source, k, f"pair {a}/{b} given twice")
        correlation[(a, b)] = _num(rho, source, k, lo=-1.0, hi=1.0)

    in_scen = d.get("collateral_in_scenarios", True)
    if not isinstance(in_scen, bool):
        raise ProfileError(
            source, p + "collateral_in_scenarios", f"expected true or false, got {shown(in_scen)}"
        )

    return PortfolioParams(
        range=FrozenMap(ranges),
        price_steps=steps,
        vol_shock_up=_num(d["vol_shock_up"], source, p + "vol_shock_up"),
        vol_shock_down=_num(d["vol_shock_down"], source, p + "vol_shock_down"),
        power_short=_num(d["power_short"], source, p + "power_short"),
        power_long=_num(d["power_long"], source, p + "power_long"),
        dte_floor=_num(d["dte_floor"], source, p + "dte_floor", lo_open=not pmrm2),
        tail=tuple(tail),
        scenarios=scenarios,
        vol_floor=vol_floor,
        short_option_contingency=_num(
            d["short_option_contingency"], source, p + "short_option_contingency"
        ),
        futures_contingency=_num(d["futures_contingency"], source, p + "futures_contingency"),
        mm_factor=_num(d["mm_factor"], source, p + "mm_factor", lo_open=True),
        im_factor=_num(d["im_factor"], source, p + "im_factor", lo_open=True),
        aggregation=aggregation,
        correlation=FrozenMap(correlation),
        collateral_in_scenarios=in_scen,
        origin=source,
        moves=_moves(d.get("moves", {}), source, p + "moves"),
        tails=_tails(d.get("tails", {}), source, p + "tails"),
    )


def _tail_list(value: Any, source: str, key: str) -> tuple[tuple[float, float], ...]:
    tail: list[tuple[float, float]] = []
    for i, t in enumerate(_list(value, source, key, empty_ok=True)):
        k = f"{key}[{i}]"
        pair = _list(t, source, k)
        if len(pair) != 2:
            raise ProfileError(source, k, f"expected [spot_move, dampener], got {shown(t)}")
        tail.append((_num(pair[0], source, k + "[0]", lo=-1.0, lo_open=True),
                     _num(pair[1], source, k + "[1]", hi=1.0)))
    return tuple(tail)


def _moves(value: Any, source: str, key: str) -> FrozenMap[str, tuple[float, ...]]:
    """Per-underlying grid moves: an uneven list each, increasing, 0 included."""
    out: dict[str, tuple[float, ...]] = {}
    for u, lst in _table(value, source, key).items():
        k = f"{key}.{u}"
        moves = tuple(_num(m, source, f"{k}[{i}]", lo=-1.0, lo_open=True)
                      for i, m in enumerate(_list(lst, source, k)))
        if 0.0 not in moves or any(b <= a for a, b in itertools.pairwise(moves)):
            raise ProfileError(source, k, f"moves must increase and include 0, got {shown(list(moves))}")
        out[str(u)] = moves
    return FrozenMap(out)


def _tails(value: Any, source: str, key: str) -> FrozenMap[str, tuple[tuple[float, float], ...]]:
    return FrozenMap({str(u): _tail_list(t, source, f"{key}.{u}")
                      for u, t in _table(value, source, key).items()})


def _build(d: Mapping[str, Any], source: str, version: str | None = None) -> Profile:
    """Validate a complete (already merged) raw profile and freeze it."""
    _known(d, _TOP_KEYS + _VENUE_TOP, source, "")
    _require(d, tuple(k for k in _TOP_KEYS if k not in _OPTIONAL_TOP), source, "")
    method = d.get("method", "risk-array")
    if method not in METHODS:
        raise ProfileError(source, "method", f"unknown method {shown(method)}; methods: {', '.join(METHODS)}")
    from workstation.core.profile_pmrm2 import pmrm2_params

    pmrm2 = pmrm2_params(d, method, source)
    stables = tuple(
        _str(s, source, f"stablecoins[{i}]")
        for i, s in enumerate(_list(d["stablecoins"], source, "stablecoins", empty_ok=True))
    )
    haircuts: dict[str, tuple[tuple[float, float], ...]] = {}
    qty_haircuts: dict[str, tuple[tuple[float, float], ...]] = {}
    for a, v in _table(d["haircuts"], source, "haircuts").items():
        _str(a, source, "haircuts")
        if isinstance(v, Mapping):  # {quantity = [[upper_qty, haircut], ...]}
            _known(v, ("quantity",), source, f"haircuts.{a}.")
            _require(v, ("quantity",), source, f"haircuts.{a}.")
            qty_haircuts[a] = _bands(v["quantity"], source, f"haircuts.{a}.quantity")
        else:
            haircuts[a] = _bands(v, source, f"haircuts.{a}")
    tiers = {
        _str(u, source, "tiers"): _tiers(v, source, f"tiers.{u}")
        for u, v in _table(d["tiers"], source, "tiers").items()
    }
    extra = _venue_keys(d, source)
    return Profile(
        name=_str(d["name"], source, "name"),
        source=_str(d["source"], source, "source"),
        as_of=_as_of(d["as_of"], source),
        stablecoins=stables,
        haircuts=FrozenMap(haircuts),
        tiers=FrozenMap(tiers),
        options=_options(d["options"], source),
        portfolio=_portfolio(d["portfolio"], source, method),
        method=method,
        pmrm2=pmrm2,
        origin=source,
        version=version,
        quantity_haircuts=FrozenMap(qty_haircuts),
        **extra,
        stress=stress_params(d.get("stress"), source),
        trading=trading_params(d.get("trading"), source),
    )


def _venue_keys(d: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The venues.md keys: estimates, liquidation threshold and the venue tables."""
    out: dict[str, Any] = {}
    if "estimates" in d:
        out["estimates"] = tuple(_str(e, source, f"estimates[{i}]")
                                 for i, e in enumerate(_list(d["estimates"], source, "estimates", empty_ok=True)))
    if "liquidation_threshold" in d:
        out["liquidation_threshold"] = _num(d["liquidation_threshold"], source, "liquidation_threshold",
                                            lo=1.0, hi=10.0)
    for name in venues.VENUE_TABLES:
        if name in d:
            out[name] = venues.PARSERS[name](d[name], source)
    method_table = {"deribit-pm": "deribit", "okx-pm": "okx", "bybit-pm": "bybit", "span": "span"}
    need = method_table.get(d.get("method", "risk-array"))
    if need is not None and need not in out:
        raise ProfileError(source, need, f"missing: method {shown(d['method'])} reads the [{need}] table")
    return out


# ------------------------------------------------------------------------------ public API
def profile_from_dict(
    d: Mapping[str, Any], source: str, base: Mapping[str, Any] | None = None
) -> Profile:
    """Validate the raw profile `d` laid over `base` (default: the method.md example).

    Every problem raises `ProfileError(source, dotted_key, problem)`.
    """
    return _build(merge_profile_dicts(METHOD_DEFAULTS if base is None else base, d, source), source)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise ProfileError(str(path), "(file)", f"cannot read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(str(path), "(file)", f"not valid TOML: {err}") from None
    except RecursionError:
        raise ProfileError(str(path), "(file)", "not valid TOML: nested too deep") from None
    except ValueError as err:  # an integer of more than 4,300 digits
        raise ProfileError(str(path), "(file)", f"not valid TOML: {shown(str(err))}") from None


def load_profile_file(path: str | Path, base: Mapping[str, Any] | None = None) -> Profile:
    """Read and validate one profile TOML file; missing keys come from `base` (method.md)."""
    path = Path(path)
    return profile_from_dict(_read_toml(path), str(path), base)


def _shipped() -> dict[str, tuple[dict[str, Any], Profile]]:
    """name -> (merged raw dict, Profile) of the latest version of each shipped profile."""
    from workstation.core import profile_versions

    return {name: (vs[-1].raw, vs[-1].profile) for name, vs in profile_versions.shipped().items()}


def shipped_profiles(as_of: date | datetime | None = None) -> dict[str, Profile]:
    """The profiles shipped in `resources/profiles` (read once, cached): each in its version in
    force on `as_of` (None: the latest); a profile whose first version is later is left out."""
    from workstation.core import profile_versions

    out: dict[str, Profile] = {}
    for name in profile_versions.names_in_force(as_of):
        v = profile_versions.select(name, as_of)
        if v is not None:
            out[name] = v.profile
    return out


def load_profiles(
    extra: Mapping[str, Any] | None = None, source: str = "portfolio.profiles",
    as_of: date | datetime | None = None,
) -> Mapping[str, Profile]:
    """Shipped profiles (in their version in force on `as_of`, None: the latest) plus the
    portfolio file's `profiles` object (name -> raw profile).

    A name that is shipped is laid over the selected version (and keeps its version date); a
    new name is built on `default` and is undated. A shipped name with no version in force on
    `as_of` is left out, also when the file overlays it (the overlay is still validated). Errors
    name `"{source}.{NAME}"` and the dotted key. The file's profiles are built here; a shipped
    one when first looked up (`profile_versions.InForce`).
    """
    from workstation.core import profile_versions

    shipped = profile_versions.names_in_force(None)
    profiles: dict[str, Profile] = {}
    default_raw = profile_versions.select("default", None).raw if "default" in shipped else METHOD_DEFAULTS
    for name, raw in (extra or {}).items():
        origin = join_key(source, name)
        body = _table(raw, origin, "(profile)")
        if "name" in body and body["name"] != name:
            raise ProfileError(
                origin, "name", f"must match the profile's key {shown(name)}, got {shown(body['name'])}"
            )
        body["name"] = name
        if name in shipped:
            chosen = profile_versions.select(name, as_of)
            # not yet in force: still validated (over the first version), left out of the result
            base_version = chosen or profile_versions.versions(name)[0]
            built = _build(merge_profile_dicts(base_version.raw, body, origin), origin,
                           base_version.profile.version)
            if chosen is not None:
                profiles[name] = built
        else:
            profiles[name] = profile_from_dict(body, origin, default_raw)
    return profile_versions.InForce(as_of, profiles)


def get_profile(name: str, profiles: Mapping[str, Profile]) -> Profile:
    """The profile called `name`; `unknown_profile` error listing the known ones otherwise
    (or, for a shipped profile left out for the book's date, naming its first version)."""
    try:
        return profiles[name]
    except KeyError:
        from workstation.core.profile_versions import first_version

        first = first_version(name)
        if first is not None:
            raise ProfileError("profiles", name, f"no version in force on the book's date; "
                               f"the first version is effective {first}") from None
        raise unknown_profile(name, list(profiles)) from None
