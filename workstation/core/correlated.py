"""Correlated moves: the driver moves by x, every other asset by beta_i * x.

Betas come from a profile's `[stress]` table (missing ones are 1: every asset moves like the
driver) or are fitted from an imported price history: ordinary least squares of each asset's
daily log return on the driver's over a window, `beta = cov(r_i, r_d) / var(r_d)`, with the
fit's R^2 (`corr^2`) and the window shown beside each beta. A move that would take a price to
-100 % or below is held at -99 %.

An asset that moves with another (`moves_with`) follows that one, whatever its beta.

`joint_liquidation` finds the nearest driver moves (down to -99 %, up to +1000 %) at which a
scope's equity falls to its liquidation level under the joint move (a grid of step 0.05 down
and 0.1 up, then rounds of 15 points to 1e-6). `joint_grid` evaluates equity - the liquidation
level over a grid of two assets' moves (others follow their betas to the first asset, or stay)
and traces the liquidation line (where it crosses zero). Both evaluate every moved state of a
scope in one `parts` call (`stress_eval.StressSession`), the same figures as the report of the
moved book.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workstation.core.errors import WorkstationError
from workstation.core.model import Portfolio
from workstation.core.profiles import Profile
from workstation.core.report import build_report
from workstation.core.stress import MIN_MOVE, Scenario, apply_scenario, stable_assets
from workstation.core.stress_eval import Line, StressSession
from workstation.core.stress_search import first_breach


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


def joint_shocks(portfolio: Portfolio, betas: Betas, stable: set[str]) -> dict[str, float]:
    """Each moving asset's move per unit move of the driver (its beta); stable assets and assets
    that move with another are left out (the latter follow theirs)."""
    return {a: betas.beta(a) for a, q in portfolio.market.items() if a not in stable and q.moves_with is None}


def joint_scenario(portfolio: Portfolio, betas: Betas, move: float,
                   profiles: Mapping[str, Profile] | None = None,
                   override: Mapping[str, float] | None = None) -> Scenario:
    """The driver at `move`, every other non-stable asset at beta * move (`override` fixes some);
    an asset that `moves_with` another and has no beta of its own follows that one."""
    stable = stable_assets(portfolio, profiles)
    shocks = {a: max(MIN_MOVE, move * b) for a, b in joint_shocks(portfolio, betas, stable).items()}
    shocks.update(override or {})
    name = f"{betas.driver} {100.0 * move:+.1f} % (betas: {betas.source})"
    return Scenario(name=name, shocks=shocks, kind="joint")


def _headroom(portfolio: Portfolio, scope: str, scenario: Scenario, profiles: Mapping[str, Profile]) -> float:
    """Equity - MM of the shocked book through `build_report` (the reference the tests use)."""
    report = build_report(apply_scenario(portfolio, scenario, profiles), scope, with_liquidation=False)
    return float(report["equity"] - report["maintenance_margin"])


JOINT_DOWN, JOINT_UP = 0.99, 10.0


def joint_liquidations(session: StressSession, scopes: Sequence[str], betas: Betas,
                       tol: float = 1e-6) -> dict[str, dict[str, float | None]]:
    """Per scope, the nearest driver moves (fractions, down < 0 < up) at which it is liquidated
    under the joint move: 0 for both when it already is; None where none up to -99 % / +1000 %."""
    unit = joint_shocks(session.portfolio, betas, session.stable)
    up = Scenario(f"{betas.driver} up (betas: {betas.source})", shocks=unit, kind="joint")
    down = Scenario(f"{betas.driver} down (betas: {betas.source})", shocks={a: -b for a, b in unit.items()},
                    kind="joint")
    with session.lock:
        h_down, _ = first_breach(session, [Line(s, down) for s in scopes], 0.0, JOINT_DOWN, 20, tol)
        h_up, _ = first_breach(session, [Line(s, up) for s in scopes], 0.0, JOINT_UP, 100, tol)
    out = {}
    for s, d, u in zip(scopes, h_down, h_up, strict=True):
        out[s] = {"down": None if np.isnan(d) else -float(d), "up": None if np.isnan(u) else float(u)}
    return out


def joint_liquidation(portfolio: Portfolio, scope: str, betas: Betas, tol: float = 1e-6,
                      session: StressSession | None = None) -> dict[str, float | None]:
    """Nearest driver moves (fractions) down and up at which equity <= MM under the joint move."""
    session = session if session is not None else StressSession(portfolio)
    return joint_liquidations(session, [scope], betas, tol)[scope]


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
               x_moves: Sequence[float], y_moves: Sequence[float], betas: Betas | None = None,
               session: StressSession | None = None) -> JointGrid:
    """Equity - the liquidation level over the grid (rows: `y_moves`, columns: `x_moves`);
    assets other than the two follow `betas` of `x_asset`'s move (held still without betas)."""
    session = session if session is not None else StressSession(portfolio)
    for a in (x_asset, y_asset):
        if a not in portfolio.market:
            raise WorkstationError(f"no market price for {a}")
    xs, ys = np.asarray(x_moves, dtype=float), np.asarray(y_moves, dtype=float)
    unit = joint_shocks(portfolio, betas, session.stable) if betas else {}
    market = portfolio.market
    if session.exact or market[x_asset].moves_with is not None or market[y_asset].moves_with is not None:
        requests = []  # the exact path: one shocked book per grid point
        for x in xs:
            base = {a: max(MIN_MOVE, float(x) * b) for a, b in unit.items()}
            for y in ys:
                shocks = {**base, x_asset: float(x), y_asset: float(y)}
                requests.append((Line(scope, Scenario("grid", shocks=shocks, kind="joint")), np.array([1.0])))
        out = np.array([f.headroom[0] for f in session.figures(requests)]).reshape(xs.size, ys.size).T
    else:  # every grid point a row of relative moves on the book as it is, in one parts call
        cols = list(market)
        X = np.zeros((xs.size, ys.size, len(cols)))
        for a, b in unit.items():
            X[:, :, cols.index(a)] = np.maximum(MIN_MOVE, xs * b)[:, None]
        X[:, :, cols.index(x_asset)] = np.maximum(MIN_MOVE, xs)[:, None]
        X[:, :, cols.index(y_asset)] = np.maximum(MIN_MOVE, ys)[None, :]
        out = session.price_figures(scope, X.reshape(-1, len(cols))).headroom.reshape(xs.size, ys.size).T
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
