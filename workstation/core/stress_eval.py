"""Fast, exact figures of stress scenarios: one margin-method object per scope and state, many
moved states at once through `parts` (docs/DESIGN.md, "Margin methods").

A scenario `times(t)` (its moves t times over the same horizon, `Scenario.times`) is for most
scenarios a family of pure price moves on one state: the book at the scenario's horizon (`days`
forward, nothing moved). Each t, with the cascade's price impacts composed on top, is then one
row X of relative moves per column, and one `parts(X)` call per scope evaluates every row: equity
is the columns' equity plus isolated margin, (IM, MM) = `combine(terms)`: the pieces
`report_for_scope` takes from `requirement()` and `equity()`, at the same prices (only the
summation order differs, in the last bits).

A family that is not pure price moves is evaluated point by point on its own shocked book
(`apply_scenario`, `make_scope`, `method_for`: the report's path without attribution): a
scenario that shifts vols, has an expiry inside its horizon (settled on the shocked price),
rescales quotes in a depeg or keeps a coin at par, or names an asset that moves with another.
`StressSession(portfolio, exact=True)` evaluates everything that way: the reference the fast
path is tested against.

A session caches profiles, horizon books with their scopes' method objects, and the figures of
every point it has evaluated (searches, the chart and the summary share them); it is locked, so
one evaluation runs at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from workstation.core.arrays import unique
from workstation.core.book import Book
from workstation.core.methods import MarginMethod, method_for
from workstation.core.model import Portfolio
from workstation.core.profiles import Profile, load_profiles
from workstation.core.report import make_scope, scope_names
from workstation.core.stress import (
    DEPEG_FLOOR,
    MIN_MOVE,
    Scenario,
    Settlement,
    apply_scenario_detailed,
    own_move,
    stable_assets,
)
from workstation.core.valuation import greeks, values

_MEMO_LIMIT = 200_000  # evaluated points kept per session


@dataclass(frozen=True)
class Line:
    """States of one scope along a scenario: `scenario.times(t)`, with price impacts (asset ->
    relative move) composed on the moves: `(1 + move) (1 + impact) - 1`."""

    scope: str
    scenario: Scenario
    impact: tuple[tuple[str, float], ...] = ()

    def key(self) -> tuple:
        return (self.scope, self.scenario.key(), self.impact)


@dataclass
class Figures:
    """Equity, IM and MM of a scope at K points (arrays) and its liquidation threshold."""

    equity: np.ndarray
    im: np.ndarray
    mm: np.ndarray
    threshold: float = 1.0

    @property
    def level(self) -> np.ndarray:
        """Where the venue liquidates: MM x the profile's liquidation threshold."""
        return self.threshold * self.mm

    @property
    def headroom(self) -> np.ndarray:
        return self.equity - self.level

    @property
    def breach(self) -> np.ndarray:
        level = self.level
        return (self.equity < level) | ((level > 0) & (self.equity <= level))


def depeg_at(price: float, t: float) -> float:
    """A depeg's price `t` times as far from par (as `Scenario.times`)."""
    return price if t == 1.0 else max(DEPEG_FLOOR, 1.0 + t * (price - 1.0))


def path_scenario(scenario: Scenario, t: float, impact: Iterable[tuple[str, float]],
                  portfolio: Portfolio, stable: set[str]) -> Scenario:
    """`scenario.times(t)` with the impacts composed on each asset's own move (the exact path)."""
    s = scenario.times(t)
    impact = dict(impact)
    if not impact:
        return s
    shocks = dict(s.shocks)
    for asset, imp in impact.items():
        move = own_move(asset, s, stable)
        shocks[asset] = (1.0 + (move or 0.0)) * (1.0 + imp) - 1.0
    return Scenario(s.name, shocks, s.vol_shift, s.vol_mode, s.days, s.depeg, kind=s.kind)


@dataclass
class _Plan:
    """A scenario as pure price moves on the horizon state `days`: the move of each column at
    t = 1 (`v`) and the depegged columns (column, price at 1, current price)."""

    days: float
    v: np.ndarray
    depeg: list[tuple[int, float, float]]

    def rows(self, ts: np.ndarray, impact: Sequence[tuple[int, float]]) -> np.ndarray:
        """X (K, A): the rows of relative moves, in the order `shocked_prices` takes them."""
        X = ts[:, None] * self.v[None, :]
        for col, imp in impact:
            X[:, col] = (1.0 + X[:, col]) * (1.0 + imp) - 1.0
        X = np.maximum(MIN_MOVE, X)
        for col, price, p0 in self.depeg:
            X[:, col] = np.array([depeg_at(price, float(t)) for t in ts]) / p0 - 1.0
        return X


class _State:
    """The book at a horizon (`days` forward, nothing moved): scopes and their method objects."""

    def __init__(self, portfolio: Portfolio):
        self.portfolio = portfolio
        self.assets = list(portfolio.market)
        self.index = {a: i for i, a in enumerate(self.assets)}
        self.prices = np.array([portfolio.market[a].price for a in self.assets], dtype=float)
        self.driver = np.array([self.index[q.moves_with] if q.moves_with is not None else i
                                for i, q in enumerate(portfolio.market.values())], dtype=np.int64)
        self.profiles = load_profiles(portfolio.profiles or None, as_of=portfolio.as_of)
        self._methods: dict[str, MarginMethod] = {}
        self._isolated: dict[str, float] = {}
        self._whole: Book | None = None

    def method(self, scope: str) -> MarginMethod:
        if scope not in self._methods:
            self._methods[scope] = method_for(make_scope(self.portfolio, scope, self.profiles))
        return self._methods[scope]

    def isolated(self, scope: str) -> float:
        """Isolated margin of the scope's positions (it does not move with prices)."""
        if scope not in self._isolated:
            self._isolated[scope] = self.method(scope).isolated_total()
        return self._isolated[scope]

    def whole_book(self) -> Book:
        """Every position of the book, for per-position values."""
        if self._whole is None:
            rows = [(a.id, p) for a in self.portfolio.accounts for p in a.positions]
            self._whole = Book.from_positions(rows, self.portfolio)
        return self._whole

    def moved_prices(self, X: np.ndarray) -> np.ndarray:
        """Asset prices at rows X, as `parts` moves them (each asset by its driver's move)."""
        return self.prices * (1.0 + X[..., self.driver])


def figures_of(method: MarginMethod) -> tuple[float, float, float]:
    """(equity, IM, MM) of a method object at its own prices: what its report says."""
    im, mm = method.requirement()
    return method.equity(), im, mm


class StressSession:
    """Figures of one book under scenarios (see the module docstring)."""

    def __init__(self, portfolio: Portfolio, *, exact: bool = False,
                 profiles: Mapping[str, Profile] | None = None):
        self.portfolio = portfolio
        self.exact = exact
        self.names = scope_names(portfolio)
        self.profiles = profiles if profiles is not None else load_profiles(portfolio.profiles or None)
        self.stable = stable_assets(portfolio, self.profiles)
        self.lock = threading.RLock()
        self._states: dict[float, _State] = {}
        self._plans: dict[tuple, _Plan | None] = {}
        self._memo: dict[tuple, tuple[float, float, float]] = {}
        self._shocked: dict[tuple, tuple[Portfolio, list[Settlement]]] = {}

    # -------------------------------------------------------------- states and plans
    def state(self, days: float) -> _State:
        if days not in self._states:
            book = self.portfolio if not days else \
                apply_scenario_detailed(self.portfolio, Scenario("horizon", days=days), self.profiles)[0]
            self._states[days] = _State(book)
        return self._states[days]

    def shocked(self, scenario: Scenario, t: float = 1.0,
                impact: tuple[tuple[str, float], ...] = ()) -> tuple[Portfolio, list[Settlement]]:
        """The shocked book at `t` (and impacts) and its settlements, cached."""
        key = (scenario.key(), t, impact)
        if key not in self._shocked:
            if len(self._shocked) > 256:
                self._shocked.clear()
            s = path_scenario(scenario, t, impact, self.portfolio, self.stable)
            self._shocked[key] = apply_scenario_detailed(self.portfolio, s, self.profiles)
        return self._shocked[key]

    def plan(self, scenario: Scenario) -> _Plan | None:
        """The scenario as pure price moves on its horizon state, or None (see the docstring)."""
        key = scenario.key()
        if key not in self._plans:
            self._plans[key] = None if self.exact else self._make_plan(scenario)
        return self._plans[key]

    def _make_plan(self, s: Scenario) -> _Plan | None:
        p = self.portfolio
        if any(v != 0 for v in s.vol_shift.values()):
            return None
        for asset, quote in p.market.items():
            if quote.moves_with is not None and (asset in s.shocks or asset in s.depeg
                                                 or p.market[quote.moves_with].moves_with is not None):
                return None
        if s.days:
            end = p.as_of + timedelta(days=s.days)
            for acc in p.accounts:
                if any(q.expiry is not None and not q.expired and p.as_of < q.expiry <= end for q in acc.positions):
                    return None
        for acc in p.accounts:
            params = self.profiles[acc.profile].stress if acc.profile in self.profiles else None
            if params is None:
                continue
            if params.quote in s.depeg and any(q.settlement == "linear" and q.kind != "spot" for q in acc.positions):
                return None
            if any(c in acc.collateral and params.depeg_rule(c) == "par" for c in s.depeg):
                return None
        state = self.state(s.days)
        v = np.zeros(len(state.assets))
        depeg = []
        for asset, i in state.index.items():
            if asset in s.depeg:
                depeg.append((i, float(s.depeg[asset]), float(state.prices[i])))
            elif state.driver[i] == i:
                v[i] = own_move(asset, s, self.stable) or 0.0
        return _Plan(s.days, v, depeg)

    def threshold(self, scope: str, days: float = 0.0) -> float:
        return float(self.state(days).method(scope).profile.liquidation_threshold)

    # -------------------------------------------------------------- figures
    def plain(self, scope: str) -> Figures:
        """The book as it is (no scenario): the report's figures."""
        eq, im, mm = figures_of(self.state(0.0).method(scope))
        return Figures(np.array([eq]), np.array([im]), np.array([mm]), self.threshold(scope))

    def figures(self, requests: Sequence[tuple[Line, np.ndarray]]) -> list[Figures]:
        """Figures of each line at its points `ts`: pure price families in one `parts` call per
        scope and state, the others point by point; every point is remembered."""
        with self.lock:
            missing: dict[tuple[float, str], list[tuple[tuple, np.ndarray]]] = {}
            for line, ts in requests:
                key = line.key()
                todo = [float(t) for t in np.atleast_1d(ts) if (key, float(t)) not in self._memo]
                if not todo:
                    continue
                plan = self.plan(line.scenario)
                if plan is None:
                    for t in todo:
                        self._memo[(key, t)] = self._exact_point(line, t)
                    continue
                state = self.state(plan.days)
                impact = [(state.index[a], imp) for a, imp in line.impact]
                X = plan.rows(np.array(todo), impact)
                missing.setdefault((plan.days, line.scope), []).append((key, np.array(todo), X))
            for (days, scope), parts in missing.items():
                f = self.price_figures(scope, np.concatenate([x for _, _, x in parts]), days)
                eq, im, mm = f.equity, f.im, f.mm
                k = 0
                for key, ts, _ in parts:
                    for t in ts:
                        self._memo[(key, float(t))] = (float(eq[k]), float(im[k]), float(mm[k]))
                        k += 1
            out = []
            for line, ts in requests:
                key = line.key()
                rows = np.array([self._memo[(key, float(t))] for t in np.atleast_1d(ts)]).reshape(-1, 3)
                days = line.scenario.days
                out.append(Figures(rows[:, 0], rows[:, 1], rows[:, 2], self.threshold(line.scope, days)))
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            return out

    def price_figures(self, scope: str, X: np.ndarray, days: float = 0.0) -> Figures:
        """Figures of `scope` at rows X of relative moves (columns: the market's assets, each
        following its `moves_with` asset's move) on the horizon state `days`."""
        with self.lock:
            state = self.state(days)
            method = state.method(scope)
            with np.errstate(all="ignore"):
                P = method.parts(np.asarray(X, dtype=float))
                im, mm = method.combine(P.terms)
                eq = P.equity.sum(-1) + state.isolated(scope)
            return Figures(eq, im, mm, self.threshold(scope, days))

    def at(self, line: Line, ts: Sequence[float] | np.ndarray) -> Figures:
        return self.figures([(line, np.asarray(ts, dtype=float))])[0]

    def _exact_point(self, line: Line, t: float) -> tuple[float, float, float]:
        book = self.shocked(line.scenario, t, line.impact)[0]
        profiles = load_profiles(book.profiles or None, as_of=book.as_of)
        with np.errstate(all="ignore"):
            return figures_of(method_for(make_scope(book, line.scope, profiles)))

    # -------------------------------------------------------------- per position
    def position_values(self, scenario: Scenario | None, t: float = 1.0) -> dict[tuple[str, str], float]:
        """Market value of every position (account, id) on the plain book (`scenario` None) or
        under `scenario.times(t)`; a future settled on the way counts its cash credit."""
        with self.lock:
            if scenario is None:
                book = self.state(0.0).whole_book()
                vals = values(book)
                return dict(zip(zip(book.account.tolist(), book.ids.tolist(), strict=True), vals.tolist(),
                                strict=True))
            plan = self.plan(scenario)
            if plan is not None:
                state = self.state(plan.days)
                book = state.whole_book()
                prices = state.moved_prices(plan.rows(np.array([t]), [])[0])
                vals = values(book.with_prices(prices))
                return dict(zip(zip(book.account.tolist(), book.ids.tolist(), strict=True), vals.tolist(),
                                strict=True))
            shocked, settled = self.shocked(scenario, t)
            rows = [(a.id, p) for a in shocked.accounts for p in a.positions]
            book = Book.from_positions(rows, shocked)
            out = dict(zip(zip(book.account.tolist(), book.ids.tolist(), strict=True), values(book).tolist(),
                           strict=True))
            for s in settled:
                if s.kind == "future":
                    out[(s.account, s.position)] = s.credit_amount * shocked.market[s.credit_asset or ""].price
            return out

    def position_deltas(self, line: Line, t: float) -> dict[str, tuple[float, float]]:
        """Net delta of the scope's positions per asset (an asset that moves with another counts
        in that one's), and the asset's price, at the line's point `t`."""
        with self.lock:
            plan = self.plan(line.scenario)
            if plan is not None:
                state = self.state(plan.days)
                book = state.method(line.scope).book
                X = plan.rows(np.array([t]), [(state.index[a], imp) for a, imp in line.impact])[0]
                book = book.with_prices(state.moved_prices(X))
            else:
                shocked = self.shocked(line.scenario, t, line.impact)[0]
                profiles = load_profiles(shocked.profiles or None, as_of=shocked.as_of)
                book = make_scope(shocked, line.scope, profiles).book
            delta = greeks(book).delta
            col = book.driver[book.und]
            out: dict[str, tuple[float, float]] = {}
            for c in unique(col):
                asset = book.assets[int(c)]
                if asset in self.stable:
                    continue
                out[asset] = (float(delta[col == c].sum()), float(book.prices[int(c)]))
            return out
