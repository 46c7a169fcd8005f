"""The optional `[stress]` table of a margin profile: betas and stablecoin depeg rules.

    [stress]
    driver = "BTC"                     # the asset a correlated move is expressed in
    betas = { ETH = 1.2, SOL = 1.5 }   # move of each asset per 1 % move of the driver
    quote = "USDT"                     # the coin linear instruments of this venue are quoted in
    depeg = { USDC = "market", USDT = "par" }   # how the venue values a coin off its peg

Depeg rules: `market` (the default) values the coin at its (depegged) market price, as
Binance, Bybit and Deribit mark collateral at the index; `par` keeps crediting it at 1 (a venue
that holds the coin at par while it trades off). Shipped profiles set no betas: without them
every non-stable asset moves like the driver (beta 1, the engine's `all` convention) until the
trader sets them or fits them from a price history (`workstation.core.correlated`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from workstation.core.errors import ProfileError
from workstation.core.profile_fields import known, table

DEPEG_RULES = ("market", "par")
_KEYS = ("driver", "betas", "quote", "depeg")


@dataclass(frozen=True)
class StressParams:
    driver: str = "BTC"
    betas: tuple[tuple[str, float], ...] = ()
    quote: str | None = None
    depeg: tuple[tuple[str, str], ...] = ()

    def beta(self, asset: str) -> float:
        """Beta of `asset` to the driver: listed, else `"*"`, else 1."""
        table = dict(self.betas)
        if asset == self.driver:
            return 1.0
        return float(table.get(asset, table.get("*", 1.0)))

    def depeg_rule(self, coin: str) -> str:
        table = dict(self.depeg)
        return table.get(coin, table.get("*", "market"))


def stress_params(value: Any, source: str) -> StressParams:
    """Validate the raw `stress` table; errors name `stress.KEY`."""
    if value is None:
        return StressParams()
    value = table(value, source, "stress")
    known(value, _KEYS, source, "stress.")
    driver = value.get("driver", "BTC")
    if not isinstance(driver, str) or not driver.strip():
        raise ProfileError(source, "stress.driver", f"expected an asset code, got {driver!r}")
    betas = []
    for asset, beta in table(value.get("betas", {}), source, "stress.betas").items():
        if isinstance(beta, bool) or not isinstance(beta, int | float) or not math.isfinite(beta):
            raise ProfileError(source, f"stress.betas.{asset}", f"expected a finite number, got {beta!r}")
        betas.append((str(asset), float(beta)))
    quote = value.get("quote")
    if quote is not None and (not isinstance(quote, str) or not quote.strip()):
        raise ProfileError(source, "stress.quote", f"expected an asset code, got {quote!r}")
    depeg = []
    for coin, rule in table(value.get("depeg", {}), source, "stress.depeg").items():
        if rule not in DEPEG_RULES:
            raise ProfileError(source, f"stress.depeg.{coin}", f"must be market or par, got {rule!r}")
        depeg.append((str(coin), rule))
    return StressParams(driver=driver, betas=tuple(betas), quote=quote, depeg=tuple(depeg))
