"""The optional `[trading]` table of a margin profile: how the venue trades, for the what-if.

    [trading]
    margin_mode = "portfolio"     # the mode the venue applies under this profile (venue comparison)
    settle = "USDC"               # the coin linear trades settle in (premiums, fees)
    maker_fee = 0.0               # perpetuals and futures: fraction of the notional
    taker_fee = 0.0005
    spot_maker_fee = 0.0          # spot: fraction of the notional
    spot_taker_fee = 0.0
    option_maker_fee = 0.0003     # options: fraction of the underlying's notional ...
    option_taker_fee = 0.0003
    option_fee_cap = 0.125        # ... never more than this fraction of the option's price
    [trading.contracts.BTC]       # per underlying ("*": any other), per kind: [size, lot]
    perpetual = [10, 1]           # one contract = 10 USD (inverse) ; trades in whole contracts
    option = [1, 0.1]             # one contract = 1 BTC ; trades in steps of 0.1 contract

A contract's `size` is in the unit of the position's quantity (`portfolio-format.md`): USD for
inverse perpetuals and futures, coins for everything else; `lot` is the trading step in
contracts. A kind may be narrowed by settlement (`"perpetual-linear"`), which wins over the
plain kind. A profile without the table trades without fees, in units of 1 and no lot step.
A portfolio-file profile that sets `trading` replaces the inherited table whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workstation.core.errors import ProfileError
from workstation.core.profile_fields import known, table

_KEYS = ("margin_mode", "settle", "maker_fee", "taker_fee", "spot_maker_fee", "spot_taker_fee",
         "option_maker_fee", "option_taker_fee", "option_fee_cap", "contracts")
_FEES = _KEYS[2:9]
_KINDS = ("spot", "perpetual", "future", "option")
_SETTLEMENTS = ("linear", "inverse")
LIQUIDITY = ("maker", "taker")


@dataclass(frozen=True)
class ContractSpec:
    """One venue contract: `size` position-quantity units per contract, traded in steps of
    `lot` contracts (None: any size)."""

    size: float = 1.0
    lot: float | None = None
    listed: bool = False  # False: the profile does not list this instrument (defaults above)

    @property
    def step(self) -> float | None:
        """The trading step in position-quantity units."""
        return None if self.lot is None else self.size * self.lot


@dataclass(frozen=True)
class TradingParams:
    margin_mode: str | None = None
    settle: str | None = None
    maker_fee: float = 0.0
    taker_fee: float = 0.0
    spot_maker_fee: float = 0.0
    spot_taker_fee: float = 0.0
    option_maker_fee: float = 0.0
    option_taker_fee: float = 0.0
    option_fee_cap: float | None = None
    contracts: tuple[tuple[str, str, ContractSpec], ...] = ()  # (underlying, kind key, spec)

    def contract(self, underlying: str, kind: str, settlement: str) -> ContractSpec:
        """The contract of `kind` on `underlying` (settlement-specific key first, "*" last)."""
        table = {(u, k): spec for u, k, spec in self.contracts}
        for u in (underlying, "*"):
            for k in (f"{kind}-{settlement}", kind):
                if (u, k) in table:
                    return table[(u, k)]
        return ContractSpec()

    def fee_rate(self, kind: str, liquidity: str) -> float:
        """Fee rate of a `maker` or `taker` trade of `kind`."""
        if liquidity not in LIQUIDITY:
            raise ValueError(f"liquidity must be maker or taker, not {liquidity!r}")
        prefix = {"spot": "spot_", "option": "option_"}.get(kind, "")
        return float(getattr(self, f"{prefix}{liquidity}_fee"))


def _num(value: Any, source: str, key: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProfileError(source, key, f"expected a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise ProfileError(source, key, f"must be within [{lo:g}, {hi:g}], got {value!r}")
    return float(value)


def _spec(value: Any, source: str, key: str) -> ContractSpec:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ProfileError(source, key, f"expected [contract size, lot in contracts], got {value!r}")
    size = _num(value[0], source, f"{key}[0]", 0.0, 1e12)
    lot = _num(value[1], source, f"{key}[1]", 0.0, 1e12)
    if size <= 0 or lot <= 0:
        raise ProfileError(source, key, f"contract size and lot must be positive, got {value!r}")
    return ContractSpec(size, lot, listed=True)


def _contracts(value: Any, source: str) -> tuple[tuple[str, str, ContractSpec], ...]:
    if not isinstance(value, Mapping):
        raise ProfileError(source, "trading.contracts", f"expected a table, got {type(value).__name__}")
    out = []
    for und, kinds in value.items():
        base = f"trading.contracts.{und}"
        if not isinstance(kinds, Mapping):
            raise ProfileError(source, base, f"expected a table of kinds, got {type(kinds).__name__}")
        for kind, spec in kinds.items():
            name, _, settlement = str(kind).partition("-")
            if name not in _KINDS or (settlement and settlement not in _SETTLEMENTS):
                raise ProfileError(source, f"{base}.{kind}",
                                   "expected a kind (spot, perpetual, future, option), optionally "
                                   "with -linear or -inverse")
            out.append((str(und), str(kind), _spec(spec, source, f"{base}.{kind}")))
    return tuple(out)


def trading_params(value: Any, source: str) -> TradingParams:
    """Validate the raw `trading` table; errors name `trading.KEY`."""
    if value is None:
        return TradingParams()
    value = table(value, source, "trading")
    known(value, _KEYS, source, "trading.")
    mode = value.get("margin_mode")
    if mode is not None and mode not in ("cross", "portfolio"):
        raise ProfileError(source, "trading.margin_mode", f"must be cross or portfolio, got {mode!r}")
    settle = value.get("settle")
    if settle is not None and (not isinstance(settle, str) or not settle.strip()):
        raise ProfileError(source, "trading.settle", f"expected an asset code, got {settle!r}")
    fees = {k: _num(value[k], source, f"trading.{k}", -0.01, 0.05) for k in _FEES[:-1] if k in value}
    cap = value.get("option_fee_cap")
    return TradingParams(
        margin_mode=mode, settle=settle, **fees,
        option_fee_cap=None if cap is None else _num(cap, source, "trading.option_fee_cap", 0.0, 1.0),
        contracts=_contracts(value.get("contracts", {}), source),
    )
