"""Trade sizes in the units traders think in, and the venue's contracts and lots.

A position's quantity (`portfolio-format.md`) is USD notional for inverse perpetuals and
futures (venues quote them so) and coins for everything else (options: one unit = one coin).
A trader enters a size in one of three units and the engine's quantity follows:

- `coin`: coins of the underlying (inverse perpetuals and futures: times the instrument's mark,
  the spot for a perpetual, the forward for a future);
- `usd`: notional in the base currency (linear instruments and options: divided by the mark);
- `contracts`: the venue's contracts (`ContractSpec.size` position units each).

The quantity is then rounded to the venue's lot (half away from zero); the coin equivalent and
the notional of the rounded quantity are what the window shows beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workstation.core.trading import ContractSpec

UNITS = ("coin", "usd", "contracts")


def inverse_delta_one(kind: str, settlement: str) -> bool:
    return kind in ("perpetual", "future") and settlement == "inverse"


def quantity_unit(kind: str, settlement: str, underlying: str, base: str = "USD") -> str:
    """What one unit of a position's quantity is: the base currency (inverse perpetuals and
    futures) or a coin of the underlying."""
    return base if inverse_delta_one(kind, settlement) else underlying


@dataclass(frozen=True)
class Sizing:
    """A size as entered and as the engine takes it."""

    quantity: float  # the position's quantity, rounded to the lot
    requested: float  # the quantity before rounding
    contracts: float  # quantity / contract size
    coins: float  # coin equivalent at the mark
    notional: float  # base-currency notional at the mark
    spec: ContractSpec
    mark: float

    @property
    def rounded(self) -> bool:
        return not math.isclose(self.quantity, self.requested, rel_tol=1e-12, abs_tol=0.0)


def _clean(x: float) -> float:
    """Drop binary noise from a product of decimal steps (0.1 * 59 -> 5.9)."""
    return float(f"{x:.12g}")


def round_to_lot(quantity: float, spec: ContractSpec) -> float:
    """`quantity` (position units) rounded to a whole number of lots, half away from zero."""
    step = spec.step
    if step is None or quantity == 0:
        return float(quantity)
    n = math.floor(abs(quantity) / step + 0.5 + 1e-9)
    return math.copysign(_clean(n * step), quantity) if n else 0.0


def size_trade(amount: float, unit: str, kind: str, settlement: str, mark: float,
               spec: ContractSpec, *, round_lots: bool = True) -> Sizing:
    """The engine quantity for `amount` in `unit` of an instrument marked at `mark` (base
    currency per coin: spot for perpetuals and options, forward for futures)."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if not math.isfinite(amount):
        raise ValueError(f"size must be a finite number, not {amount!r}")
    if not mark > 0:
        raise ValueError(f"no positive price to convert the size at ({mark!r})")
    inverse = inverse_delta_one(kind, settlement)
    if unit == "contracts":
        q = amount * spec.size
    elif unit == "coin":
        q = amount * mark if inverse else amount
    else:  # usd
        q = amount if inverse else amount / mark
    rounded = round_to_lot(q, spec) if round_lots else q
    coins = rounded / mark if inverse else rounded
    return Sizing(quantity=rounded, requested=q, contracts=rounded / spec.size, coins=coins,
                  notional=coins * mark, spec=spec, mark=mark)
