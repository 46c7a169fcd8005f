"""Correlated moves: the driver moves by x, every other asset by beta_i * x.

Betas come from a profile's `[stress]` table (missing ones are 1: every asset moves like the
driver) or are fitted from an imported price history: ordinary least squares of each asset's
daily log return on the driver's over a window, `beta = cov(r_i, r_d) / var(r_d)`, with the
fit's R^2 (`corr^2`) and the window shown beside each beta. A move that would take a price to
-100 % or below is held at -99 %.

`joint_liquidation` finds the nearest driver moves (down and up) at which a scope's equity
falls to its maintenance margin under the joint move, revaluing the shocked book through
`build_report` at every trial (grid from -99 % to +500 %, then bisection to 1e-6).
`joint_grid` evaluates equity - MM over a grid of two assets' moves (others still follow
their betas to the first asset) and traces the liquidation line (where it crosses zero).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workstation.core.errors import WorkstationError
from workstation.core.model import Portfolio
from workstation.core.profiles import Profile, load_profiles
from workstation.core.report import build_report
from workstation.core.stress import MIN_MOVE, Scenario, apply_scenario, stable_assets

GRID = np.array([-0.99, -0.9, -0.75, -0.6, -0.45, -0.33, -0.24, -0.16, -0.1, -0.05, -0.02,
                 0.02, 0.05, 0.1, 0.16, 0.24, 0.33, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0])


@dataclass(frozen=True)
class Betas:
    """Betas of assets to `driver`; `r2`, `window` and `observations` when fitted."""

    driver: str
    betas: Mapping[str, float] = field(default_factory=dict)
    source: str = "profile"
    r2: Mapping[str, float] = field(default_factory=dict)
    window: tuple[str, str] | None = None
    observations: int = 0

    def beta(self, asset: str) -> float:
        if asset == self.driver:
            return 1.0
        return float(self.betas.get(asset, self.betas.get("*", 1.0)))

    def to_dict(self) -> dict[str, Any]:
        return {"driver": self.driver, "betas": dict(self.betas), "source": self.source, "r2": dict(self.r2),
                "window": list(self.window) if self.window else None, "observations": self.observations}


def betas_from_profile(profile: Profile) -> Betas:
    params = profile.stress
    return Betas(params.driver, dict(params.betas), source=f"profile {profile.name}")


def fit_betas(prices: Any, driver: str, start: Any = None, end: Any = None) -> Betas:
    """OLS betas of daily log returns on the driver's, over [start, end] of a price history
    (a pandas DataFrame: one column per asset, a date index)."""
    import pandas as pd

    frame = prices.loc[start:end] if (start is not None or end is not None) else prices
    if driver not in frame.columns:
        raise WorkstationError(f"the price history has no {driver} column (has {', '.join(map(str, frame.columns))})")
    returns = np.log(frame.astype(float)).diff().iloc[1:]
    rd = returns[driver]
    betas, r2 = {}, {}
    n = 0
    for asset in frame.columns:
        if asset == driver:
            continue
        pair = pd.concat([returns[asset], rd], axis=1).dropna()
        if len(pair) < 3 or float(pair.iloc[:, 1].var()) == 0.0:
            continue
        cov = float(pair.cov().iloc[0, 1])
        var_d = float(pair.iloc[:, 1].var())
        var_a = float(pair.iloc[:, 0].var())
        betas[str(asset)] = cov / var_d
        r2[str(asset)] = cov * cov / (var_d * var_a) if var_a > 0 else 0.0
        n = max(n, len(pair))
    if not betas:
        raise WorkstationError("the price history has too few days to fit betas (3 returns at least)")
    window = (str(frame.index[0])[:10], str(frame.index[-1])[:10])
    return Betas(driver, betas, source="fitted", r2=r2, window=window, observations=n)


def joint_scenario(portfolio: Portfolio, betas: Betas, move: float,
                   profiles: Mapping[str, Profile] | None = None,
                   override: Mapping[str, float] | None = None) -> Scenario:
    """The driver at `move`, every other non-stable asset at beta * move (`override` fixes some)."""
    stable = stable_assets(portfolio, profiles)
    shocks = {}
    for asset in portfolio.market:
        if asset in stable:
            continue
        shocks[asset] = max(MIN_MOVE, betas.beta(asset) * move)
    shocks.update(override or {})
    name = f"{betas.driver} {100.0 * move:+.1f} % (betas: {betas.source})"
    return Scenario(name=name, shocks=shocks, kind="joint")


def _headroom(portfolio: Portfolio, scope: str, scenario: Scenario, profiles: Mapping[str, Profile]) -> float:
    report = build_report(apply_scenario(portfolio, scenario, profiles), scope, with_liquidation=False)
    return float(report["equity"] - report["maintenance_margin"])


def joint_liquidation(portfolio: Portfolio, scope: str, betas: Betas, tol: float = 1e-6) -> dict[str, float | None]:
    """Nearest driver moves (fractions) down and up at which equity <= MM under the joint move."""
    profiles = load_profiles(portfolio.profiles or None)

    def f(x: float) -> float:
        return _headroom(portfolio, scope, joint_scenario(portfolio, betas, x, profiles), profiles)

    f0 = f(0.0)
    out: dict[str, float | None] = {"down": None, "up": None}
    if f0 <= 0:
        return {"down": 0.0, "up": 0.0}
    for side, grid in (("down", GRID[GRID < 0][::-1]), ("up", GRID[GRID > 0])):
        lo, _flo = 0.0, f0
        for x in grid:
            fx = f(float(x))
            if fx <= 0:
                hi = float(x)
                for _ in range(60):
                    if abs(hi - lo) <= tol:
                        break
                    mid = 0.5 * (lo + hi)
                    if f(mid) <= 0:
                        hi = mid
                    else:
                        lo = mid
                out[side] = hi
                break
            lo, _flo = float(x), fx
    return out


@dataclass
class JointGrid:
    """equity - MM (rows: moves of `y_asset`, columns: moves of `x_asset`) and the liquidation line."""

    x_asset: str
    y_asset: str
    x_moves: np.ndarray
    y_moves: np.ndarray
    headroom: np.ndarray
    line: list[tuple[float, float]]  # (x move, y move) where headroom crosses zero

    def to_dict(self) -> dict[str, Any]:
        return {"x_asset": self.x_asset, "y_asset": self.y_asset, "x_moves": self.x_moves.tolist(),
                "y_moves": self.y_moves.tolist(), "headroom": self.headroom.tolist(), "line": self.line}


def joint_grid(portfolio: Portfolio, scope: str, x_asset: str, y_asset: str,
               x_moves: Sequence[float], y_moves: Sequence[float], betas: Betas | None = None) -> JointGrid:
    """equity - MM over the grid; assets other than the two follow `betas` of `x_asset`'s move
    (held still without betas)."""
    profiles = load_profiles(portfolio.profiles or None)
    for a in (x_asset, y_asset):
        if a not in portfolio.market:
            raise WorkstationError(f"no market price for {a}")
    xs, ys = np.asarray(x_moves, dtype=float), np.asarray(y_moves, dtype=float)
    out = np.empty((ys.size, xs.size))
    for j, x in enumerate(xs):
        base = joint_scenario(portfolio, betas, float(x), profiles).shocks if betas else {}
        for i, y in enumerate(ys):
            shocks = {**base, x_asset: float(x), y_asset: float(y)}
            out[i, j] = _headroom(portfolio, scope, Scenario("grid", shocks=shocks), profiles)
    return JointGrid(x_asset, y_asset, xs, ys, out, liquidation_line(xs, ys, out))


def liquidation_line(xs: np.ndarray, ys: np.ndarray, h: np.ndarray) -> list[tuple[float, float]]:
    """Per column, the y moves where h changes sign (linear interpolation between grid rows)."""
    line = []
    for j, x in enumerate(xs):
        col = h[:, j]
        for i in range(col.size - 1):
            a, b = col[i], col[i + 1]
            if (a > 0) != (b > 0):
                y = ys[i] + (ys[i + 1] - ys[i]) * a / (a - b) if a != b else ys[i]
                line.append((float(x), float(y)))
    return line
