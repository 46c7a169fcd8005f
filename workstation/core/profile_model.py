"""The data classes of a margin profile (`Profile` and its tables), frozen and hashable.

Built by `profile_tables.build_profile` from a validated raw profile; read by every margin
method. Keys and meaning: `shared/spec/method.md`, "Profiles", and `shared/spec/venues.md`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workstation.core.errors import ProfileError
from workstation.core.profile_fields import FrozenMap
from workstation.core.profile_venues import BybitParams, DeribitParams, OkxParams, SpanParams
from workstation.core.stress_profile import StressParams
from workstation.core.trading import TradingParams

if TYPE_CHECKING:
    from workstation.core.profile_pmrm2 import Pmrm2Params

INF = math.inf
VOL_DIRECTIONS = ("up", "none", "down")
# portfolio margin methods a profile may name (`method`); workstation.core.methods implements them
METHODS = ("risk-array", "pmrm2", "deribit-pm", "okx-pm", "bybit-pm", "span")
AGGREGATIONS = ("sum", "correlated")
PREMIUMS = ("mark", "max_entry_mark")


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
