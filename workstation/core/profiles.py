"""Margin profiles: every parameter of the margin method, as data (`resources/profiles/*.toml`).

A profile is read from TOML (shipped) or from the portfolio file's `profiles` object (JSON),
validated key by key, and frozen. Keys and meaning: `shared/spec/method.md`, "Profiles".

Inheritance: a profile that leaves a key out takes it from its base. The shipped `default.toml`
is built on the method.md example; the other shipped files and any portfolio-file profile whose
name is not shipped are built on `default`; a portfolio-file profile that names a shipped one is
laid over that one. Merging is deep, except that table-valued keys (`stablecoins`, `haircuts`,
`tiers` (the whole bracket table), `portfolio.range`, `portfolio.tail`, `portfolio.scenarios`,
`portfolio.correlation`) replace the inherited value whole, and a profile that sets
`portfolio.range`, `price_steps` or `tail` without `scenarios` drops inherited `scenarios`.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from workstation.core.errors import ProfileError, unknown_profile
from workstation.core.stress_profile import StressParams, stress_params

PROFILES_DIR = Path(__file__).resolve().parents[2] / "resources" / "profiles"
INF = math.inf
VOL_DIRECTIONS = ("up", "none", "down")
# portfolio margin methods a profile may name (`method`); workstation.core.methods implements them
METHODS = ("risk-array",)
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
    """A notional bracket: MM = N * maintenance_rate - maintenance_amount, IM = N * initial_rate."""

    max_notional: float
    initial_rate: float
    maintenance_rate: float
    maintenance_amount: float = 0.0


@dataclass(frozen=True)
class OptionParams:
    """Standard (Deribit style) option margin rates, per unit of the underlying."""

    short_im_base: float = 0.15
    short_im_floor: float = 0.10
    short_mm: float = 0.075


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

    def scenario_list(self, underlying: str) -> list[tuple[float, str, float]]:
        """(spot_shock, vol_dir, dampener) scenarios for `underlying`.

        The explicit `scenarios` if the profile lists them; else `price_steps` evenly spaced
        moves over [-range, +range] (0 included), each with vol up, none, down (dampener 1),
        followed by the `tail` moves with vol up and their dampeners.
        """
        if self.scenarios is not None:
            return list(self.scenarios)
        r = self.range_for(underlying)
        half = (self.price_steps - 1) // 2
        out = [(r * k / half, v, 1.0) for k in range(-half, half + 1) for v in VOL_DIRECTIONS]
        out.extend((move, "up", damp) for move, damp in self.tail)
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
    origin: str = field(default="", compare=False, repr=False)
    stress: StressParams = field(default_factory=StressParams)  # optional [stress] table

    def haircut_bands(self, asset: str) -> tuple[tuple[float, float], ...]:
        """(upper_value, haircut) bands of `asset`, else of `"*"`, else no haircut."""
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
             "stress")
_OPTIONAL_TOP = ("method", "stress")
_TIER_KEYS = ("max_notional", "initial_rate", "maintenance_rate", "maintenance_amount")
_OPTION_KEYS = ("short_im_base", "short_im_floor", "short_mm")
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
)
_GRID_KEYS = ("range", "price_steps", "tail")


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
        raise ProfileError(source, key, f"expected a number, got {value!r}")
    x = float(value)
    if math.isnan(x) or (math.isinf(x) and not (allow_inf and x > 0)):
        raise ProfileError(source, key, f"must be a finite number, got {value!r}")
    if lo is not None and (x <= lo if lo_open else x < lo):
        bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise ProfileError(source, key, f"must be {bound}, got {value!r}")
    if hi is not None and x > hi:
        raise ProfileError(source, key, f"must be <= {hi:g}, got {value!r}")
    return x


def _str(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(source, key, f"expected a non-empty string, got {value!r}")
    return value


def _list(value: Any, source: str, key: str, *, empty_ok: bool = False) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ProfileError(source, key, f"expected a list, got {type(value).__name__}")
    if not value and not empty_ok:
        raise ProfileError(source, key, "must not be empty")
    return list(value)


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
        return value.isoformat()
    text = _str(value, source, "as_of")
    try:
        date.fromisoformat(text)
    except ValueError:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise ProfileError(
                source, "as_of", f"expected an ISO date such as 2026-11-01, got {text!r}"
            ) from None
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
            raise ProfileError(source, k, f"expected [upper_value, haircut], got {band!r}")
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
    for i, raw in enumerate(_list(value, source, key)):
        k = f"{key}[{i}]"
        d = _table(raw, source, k)
        _known(d, _TIER_KEYS, source, f"{k}.")
        _require(d, _TIER_KEYS[:3], source, f"{k}.")
        cap = _num(
            d["max_notional"], source, f"{k}.max_notional", lo=0.0, lo_open=True, allow_inf=True
        )
        im = _num(d["initial_rate"], source, f"{k}.initial_rate", lo=0.0, lo_open=True, hi=1.0)
        mm = _num(d["maintenance_rate"], source, f"{k}.maintenance_rate", hi=1.0)
        amount = _num(d.get("maintenance_amount", 0.0), source, f"{k}.maintenance_amount")
        if mm > im:
            raise ProfileError(
                source, f"{k}.maintenance_rate", f"must not exceed initial_rate ({mm:g} > {im:g})"
            )
        if cap <= last:
            raise ProfileError(
                source, f"{k}.max_notional", f"tiers must increase, got {cap:g} after {last:g}"
            )
        out.append(Tier(cap, im, mm, amount))
        last = cap
    return tuple(out)


def _options(value: Any, source: str) -> OptionParams:
    d = _table(value, source, "options")
    _known(d, _OPTION_KEYS, source, "options.")
    _require(d, _OPTION_KEYS, source, "options.")
    return OptionParams(*(_num(d[k], source, f"options.{k}") for k in _OPTION_KEYS))


def _pair(name: Any, source: str, key: str) -> tuple[str, str]:
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 2 or not all(p.strip() == p and p for p in parts) or parts[0] == parts[1]:
        raise ProfileError(
            source, key, f'expected a pair of two underlyings such as "BTC/ETH", got {name!r}'
        )
    return parts[0], parts[1]


def _portfolio(value: Any, source: str) -> PortfolioParams:
    d = _table(value, source, "portfolio")
    p = "portfolio."
    _known(d, _PORTFOLIO_KEYS, source, p)
    _require(
        d,
        tuple(
            k
            for k in _PORTFOLIO_KEYS
            if k not in ("scenarios", "vol_floor", "collateral_in_scenarios")
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
        raise ProfileError(source, p + "price_steps", f"expected an integer, got {steps!r}")
    if steps < 3 or steps % 2 == 0:
        raise ProfileError(
            source, p + "price_steps", f"must be odd and >= 3 (0 is a grid point), got {steps}"
        )

    tail: list[tuple[float, float]] = []
    for i, t in enumerate(_list(d["tail"], source, p + "tail", empty_ok=True)):
        k = f"{p}tail[{i}]"
        pair = _list(t, source, k)
        if len(pair) != 2:
            raise ProfileError(source, k, f"expected [spot_move, dampener], got {t!r}")
        tail.append(
            (
                _num(pair[0], source, k + "[0]", lo=-1.0, lo_open=True),
                _num(pair[1], source, k + "[1]", hi=1.0),
            )
        )

    scenarios: tuple[tuple[float, str, float], ...] | None = None
    if d.get("scenarios") is not None:
        rows: list[tuple[float, str, float]] = []
        for i, s in enumerate(_list(d["scenarios"], source, p + "scenarios")):
            k = f"{p}scenarios[{i}]"
            row = _list(s, source, k)
            if len(row) != 3:
                raise ProfileError(
                    source, k, f'expected [spot_shock, "up"|"none"|"down", dampener], got {s!r}'
                )
            if row[1] not in VOL_DIRECTIONS:
                raise ProfileError(
                    source, k + "[1]", f"vol direction must be up, none or down, got {row[1]!r}"
                )
            rows.append(
                (
                    _num(row[0], source, k + "[0]", lo=-1.0, lo_open=True),
                    row[1],
                    _num(row[2], source, k + "[2]", hi=1.0),
                )
            )
        scenarios = tuple(rows)

    vol_floor = d.get("vol_floor")
    if vol_floor is not None:
        vol_floor = _num(vol_floor, source, p + "vol_floor")

    aggregation = d["aggregation"]
    if aggregation not in AGGREGATIONS:
        raise ProfileError(
            source, p + "aggregation", f"must be sum or correlated, got {aggregation!r}"
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
            source, p + "collateral_in_scenarios", f"expected true or false, got {in_scen!r}"
        )

    return PortfolioParams(
        range=FrozenMap(ranges),
        price_steps=steps,
        vol_shock_up=_num(d["vol_shock_up"], source, p + "vol_shock_up"),
        vol_shock_down=_num(d["vol_shock_down"], source, p + "vol_shock_down"),
        power_short=_num(d["power_short"], source, p + "power_short"),
        power_long=_num(d["power_long"], source, p + "power_long"),
        dte_floor=_num(d["dte_floor"], source, p + "dte_floor", lo_open=True),
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
    )


def _build(d: Mapping[str, Any], source: str) -> Profile:
    """Validate a complete (already merged) raw profile and freeze it."""
    _known(d, _TOP_KEYS, source, "")
    _require(d, tuple(k for k in _TOP_KEYS if k not in _OPTIONAL_TOP), source, "")
    method = d.get("method", "risk-array")
    if method not in METHODS:
        raise ProfileError(source, "method", f"unknown method {method!r}; methods: {', '.join(METHODS)}")
    stables = tuple(
        _str(s, source, f"stablecoins[{i}]")
        for i, s in enumerate(_list(d["stablecoins"], source, "stablecoins", empty_ok=True))
    )
    haircuts = {
        _str(a, source, "haircuts"): _bands(v, source, f"haircuts.{a}")
        for a, v in _table(d["haircuts"], source, "haircuts").items()
    }
    tiers = {
        _str(u, source, "tiers"): _tiers(v, source, f"tiers.{u}")
        for u, v in _table(d["tiers"], source, "tiers").items()
    }
    return Profile(
        name=_str(d["name"], source, "name"),
        source=_str(d["source"], source, "source"),
        as_of=_as_of(d["as_of"], source),
        stablecoins=stables,
        haircuts=FrozenMap(haircuts),
        tiers=FrozenMap(tiers),
        options=_options(d["options"], source),
        portfolio=_portfolio(d["portfolio"], source),
        method=method,
        origin=source,
        stress=stress_params(d.get("stress"), source),
    )


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


def load_profile_file(path: str | Path, base: Mapping[str, Any] | None = None) -> Profile:
    """Read and validate one profile TOML file; missing keys come from `base` (method.md)."""
    path = Path(path)
    return profile_from_dict(_read_toml(path), str(path), base)


@lru_cache(maxsize=1)
def _shipped() -> dict[str, tuple[dict[str, Any], Profile]]:
    """name -> (merged raw dict, Profile) of `resources/profiles/*.toml`; default.toml first."""
    out: dict[str, tuple[dict[str, Any], Profile]] = {}
    files = sorted(PROFILES_DIR.glob("*.toml"), key=lambda f: (f.stem != "default", f.name))
    base: dict[str, Any] = METHOD_DEFAULTS
    for path in files:
        raw = merge_profile_dicts(base, _read_toml(path), str(path))
        profile = _build(raw, str(path))
        if profile.name in out:
            raise ProfileError(str(path), "name", f"profile {profile.name!r} is shipped twice")
        out[profile.name] = (raw, profile)
        if profile.name == "default":
            base = raw
    return out


def shipped_profiles() -> dict[str, Profile]:
    """The profiles shipped in `resources/profiles` (read once, cached)."""
    return {name: prof for name, (_, prof) in _shipped().items()}


def load_profiles(
    extra: Mapping[str, Any] | None = None, source: str = "portfolio.profiles"
) -> dict[str, Profile]:
    """Shipped profiles plus the portfolio file's `profiles` object (name -> raw profile).

    A name that is shipped is laid over the shipped profile; a new name is built on `default`
    (the method defaults). Errors name `"{source}.{NAME}"` and the dotted key.
    """
    shipped = _shipped()
    profiles = {name: prof for name, (_, prof) in shipped.items()}
    default_raw = shipped["default"][0] if "default" in shipped else METHOD_DEFAULTS
    for name, raw in (extra or {}).items():
        origin = f"{source}.{name}"
        body = _table(raw, origin, "(profile)")
        if "name" in body and body["name"] != name:
            raise ProfileError(
                origin, "name", f"must match the profile's key {name!r}, got {body['name']!r}"
            )
        body["name"] = name
        base = shipped[name][0] if name in shipped else default_raw
        profiles[name] = profile_from_dict(body, origin, base)
    return profiles


def get_profile(name: str, profiles: Mapping[str, Profile]) -> Profile:
    """The profile called `name`; `unknown_profile` error listing the known ones otherwise."""
    try:
        return profiles[name]
    except KeyError:
        raise unknown_profile(name, list(profiles)) from None
