"""The liquidation search reports the nearest liquidating move (issue 10, deliverable 2).

Property: over random small books (`liquidation_books.py`: straddles, options from 15 minutes
to 200 days from expiry, perpetuals and futures, market forwards, borrowed stablecoins and coins,
collateral that moves with another asset, haircut bands and tier tables with jumps inside the
searched range, profile variants that switch on each venue's charges) in cross, portfolio (every
portfolio method; sum, correlated and negatively correlated aggregation) and isolated mode,
f = equity - MM evaluated on a dense sample of moves chosen independently of the search's grid
(plain revaluation of every position, not the search's fast path) is positive at every move
nearer than the reported one, non-positive at the reported one, and positive everywhere in range
when none is reported.

Regressions: the two books of the issue, with the expected distance computed from an own
Black-76 (`test_spec_common.black`).
"""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from workstation.core.liquidation import DOWN_LIMIT, TOL, UP_LIMIT, Liquidation
from workstation.core.methods import PORTFOLIO_METHODS, method_for
from workstation.core.model import Account, Portfolio, Position, Quote
from workstation.core.report import build_report, make_scope

sys.path.insert(0, str(Path(__file__).resolve().parent))
import liquidation_books as LB
import test_spec_common as C

AS_OF = datetime(2026, 3, 2, 8, tzinfo=UTC)
PRICES = {"BTC": 60_000.0, "ETH": 3_000.0}
HOUR = 1.0 / (365 * 24)


def _straddle(pid: str, und: str, strike: float, q: float, hours: float) -> list[Position]:
    exp = AS_OF + timedelta(hours=hours)
    return [Position(id=f"{pid}-{r}", kind="option", underlying=und, quantity=q, entry_price=0.0,
                     expiry=exp, right=r, strike=strike) for r in ("call", "put")]


def _straddle_value(S: float, K: float, q: float, hours: float, vol: float = 0.5) -> float:
    T = hours * HOUR
    return q * (C.black(S, K, T, vol, 0.0, "call") + C.black(S, K, T, vol, 0.0, "put"))


def _first_root(g, lo: float, hi: float) -> float:
    """Bisection of g on [lo, hi], g(lo) > 0 >= g(hi)."""
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if g(mid) > 0 else (lo, mid)
    return hi


# ---------------------------------------------------------------- the two books
def test_all_assets_dip_in_a_narrow_band_near_minus_045_pct():
    # Long straddles on BTC (1) and ETH (20), both struck 0.45 % below spot, one hour from
    # expiry, financed with 530 borrowed USDT; cross mode, so f = equity = straddles - 530.
    # Each straddle is worth least when its underlying sits at the strike: either one alone
    # keeps equity positive, both together at -0.45 % do not. A grid of moves starting at
    # +/-4 % never sees it.
    debt = 530.0
    kb, ke = 60_000 * (1 - 0.0045), 3_000 * (1 - 0.0045)
    pos = _straddle("btc", "BTC", kb, 1.0, 1.0) + _straddle("eth", "ETH", ke, 20.0, 1.0)
    market = {"BTC": Quote(60_000.0, 0.5), "ETH": Quote(3_000.0, 0.5), "USDT": Quote(1.0)}
    p = Portfolio(as_of=AS_OF, market=market,
                  accounts=[Account(id="a", margin_mode="cross", collateral={"USDT": -debt}, positions=pos)])
    liq = build_report(p, "account:a")["liquidation"]

    def f_all(x: float) -> float:
        return (_straddle_value(60_000 * (1 + x), kb, 1.0, 1.0)
                + _straddle_value(3_000 * (1 + x), ke, 20.0, 1.0) - debt)

    assert f_all(0.0) > 0 and f_all(-0.0045) < 0 and f_all(-0.04) > 0 and f_all(0.04) > 0
    expected = _first_root(f_all, 0.0, -0.0045)
    assert -0.0045 < expected < -0.0025  # a narrow band around the strikes
    assert liq["all"]["down_pct"] == pytest.approx(100 * expected, abs=100 * 2 * TOL)
    assert liq["all"]["up_pct"] is None
    # alone, neither underlying liquidates the account
    for u, k, q in (("BTC", kb, 1.0), ("ETH", ke, 20.0)):
        other = _straddle_value(PRICES["ETH" if u == "BTC" else "BTC"],
                                ke if u == "BTC" else kb, 20.0 if u == "BTC" else 1.0, 1.0)
        assert _straddle_value(PRICES[u] * (1 - 0.0045), k, q, 1.0) + other - debt > 0
        assert liq[u]["down_pct"] is None and liq[u]["up_pct"] is None


def test_short_dated_long_straddle_on_borrowed_usdt():
    # Long 1 BTC straddle struck 7 % above spot, one hour from expiry, 720 USDT borrowed, cross
    # mode (long options need no MM): equity = straddle - 720 is negative from about +5.8 % to
    # +8.2 % (the straddle is worth about |S - K| there) and positive again beyond, so the
    # distance up is the first root of the equity; down, the put only gains.
    K, debt = 60_000 * 1.07, 720.0
    p = Portfolio(as_of=AS_OF, market={"BTC": Quote(60_000.0, 0.5), "USDT": Quote(1.0)},
                  accounts=[Account(id="a", margin_mode="cross", collateral={"USDT": -debt},
                                    positions=_straddle("btc", "BTC", K, 1.0, 1.0))])
    rep = build_report(p, "account:a")
    liq = rep["liquidation"]["BTC"]

    def equity(x: float) -> float:
        return _straddle_value(60_000 * (1 + x), K, 1.0, 1.0) - debt

    assert equity(0.0) > 0 and equity(0.07) < 0 and equity(0.04) > 0 and equity(0.10) > 0
    root = _first_root(equity, 0.0, 0.07)
    assert 0.05 < root < 0.065
    assert liq["up_pct"] == pytest.approx(100 * root, abs=100 * 2 * TOL)
    assert liq["up_price"] == pytest.approx(60_000 * (1 + root), rel=2 * TOL)
    assert liq["down_pct"] is None
    assert rep["liquidation"]["all"]["up_pct"] == pytest.approx(liq["up_pct"], rel=1e-9)


# ---------------------------------------------------------------- the property
def _dense(limit: float, rng: np.random.Generator) -> np.ndarray:
    """Distances from 0 to `limit`: uniform, geometric near 0 and random (not the search's)."""
    return np.unique(np.concatenate([
        np.linspace(0.0, limit, 3001)[1:], np.geomspace(1e-6, 0.3, 1500), rng.uniform(0.0, limit, 500),
    ]))


def _assert_nearest(p: Portfolio, label: str) -> None:
    m = method_for(make_scope(p, "account:a"))
    liq = Liquidation(m)
    with np.errstate(all="ignore"):
        down, up = liq.search()
    assets = m.assets
    if not assets:
        return
    rng = np.random.default_rng(7)
    scale = abs(m.equity()) + abs(m.requirement()[1]) + 1.0
    for side, found, limit in ((-1.0, down, -DOWN_LIMIT), (1.0, up, UP_LIMIT)):
        d = _dense(limit, rng)
        X = np.zeros((d.size, m.n_assets))
        X[:, assets] = side * d[:, None]
        with np.errstate(all="ignore"):
            P = m.plain_parts(X, None)
            F = np.concatenate([m.f_single(P)[:, assets], m.f_all(P)[:, None]], axis=1)
        for j in range(len(assets) + 1):
            name = "all" if j == len(assets) else m.book.assets[assets[j]]
            r = found[j]
            if np.isnan(r):
                bad = d[F[:, j] <= 0]
                assert bad.size == 0, f"{label} {name}: none reported but {side * bad[0]:+.6f} liquidates"
                continue
            assert r * side >= 0
            nearer = d < abs(r) - TOL
            bad = d[nearer & (F[:, j] <= 0)]
            assert bad.size == 0, f"{label} {name}: reported {r:+.6f}, but {side * bad[0]:+.6f} liquidates"
            Xr = np.zeros((1, m.n_assets))
            Xr[0, assets] = r if j == len(assets) else 0.0
            if j < len(assets):
                Xr[0, assets[j]] = r
            with np.errstate(all="ignore"):
                Pr = m.plain_parts(Xr, None)
                fr = (m.f_all(Pr)[0] if j == len(assets) else m.f_single(Pr)[0, assets[j]])
            assert fr <= 1e-9 * scale, f"{label} {name}: the reported move {r:+.6f} does not liquidate ({fr})"


_SETTINGS = settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(p=LB.books("cross"))
def test_nearest_liquidation_cross(p):
    _assert_nearest(p, "cross")


@_SETTINGS
@given(p=LB.books("isolated"))
def test_nearest_liquidation_isolated(p):
    _assert_nearest(p, "isolated")


@pytest.mark.parametrize("method", sorted(PORTFOLIO_METHODS))
def test_nearest_liquidation_portfolio(method):
    @_SETTINGS
    @given(p=LB.books("portfolio", method))
    def check(p):
        _assert_nearest(p, f"portfolio/{method}")

    check()


def test_every_kink_is_in_range_and_finite():
    # the methods' kinks are moves inside the searched range, one sorted array per column
    p = Portfolio(as_of=AS_OF, market={"BTC": Quote(60_000.0, 0.6), "USDT": Quote(1.0)},
                  accounts=[Account(id="a", margin_mode="cross", collateral={"BTC": 1.0, "USDT": 1_000.0},
                                    positions=[Position(id="f", kind="perpetual", underlying="BTC",
                                                        quantity=1.0, entry_price=60_000.0)],
                                    profile="t")],
                  profiles={"t": {**LB.PROFILES["bands"], **LB.PROFILES["jumps"]}})
    kinks = method_for(make_scope(p, "account:a")).kinks()
    # BTC collateral: band edges 40,000 and 90,000 at 60,000 / BTC -> -1/3 and +1/2;
    # the perpetual's notional 60,000 (1 + x) crosses the 30,000 bound of a table that jumps
    # (0.01 -> 0.08 with no maintenance amount) at x = -1/2
    assert list(kinks) == [0]
    np.testing.assert_allclose(kinks[0], [-0.5, -1.0 / 3.0, 0.5], rtol=1e-12)
    assert math.isclose(kinks[0][1], 40_000 / 60_000 - 1, rel_tol=1e-12)



def test_all_search_samples_the_kinks_of_columns_that_move_with_a_searched_one():
    # perpetuals on BTC and on wBTC (moves with BTC) under a tier table that jumps at 30,000
    # notional: moving every asset moves wBTC by BTC's relative move, so `all` samples both
    # sides of 30,000 / 59,900 - 1 and of 30,000 / 60,000 - 1
    pos = [Position(id=u, kind="perpetual", underlying=u, quantity=1.0, entry_price=60_000.0) for u in ("BTC", "wBTC")]
    p = Portfolio(as_of=AS_OF, market={"BTC": Quote(60_000.0, 0.6), "wBTC": Quote(59_900.0, moves_with="BTC"),
                                       "USDT": Quote(1.0)},
                  accounts=[Account(id="a", margin_mode="cross", collateral={"USDT": 50_000.0}, positions=pos,
                                    profile="t")],
                  profiles={"t": LB.PROFILES["jumps"]})
    liq = Liquidation(method_for(make_scope(p, "account:a")))
    sid, d = liq._kink_points()
    all_down = d[sid == 2 * len(liq.assets)]
    for price in (59_900.0, 60_000.0):
        assert np.isclose(all_down, 1.0 - 30_000 / price, rtol=0, atol=1e-9).sum() == 2  # kink -/+ offset
