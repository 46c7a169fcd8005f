"""The window's P&L curve (`details.pnl_curve`) revalues only the chosen underlying; its figures are
the report's at the moved price, and the same as a revaluation of every underlying."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from workstation.core.details import pnl_curve
from workstation.core.liquidation import Liquidation
from workstation.core.methods import method_for
from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report, make_scope

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_margin import synthetic_book  # noqa: E402

DEMO = ROOT / "resources" / "demo" / "demo-portfolio.json"
MOVES = np.array([-0.45, -0.2, -0.05, 0.0, 0.1, 0.35])


def _moved(portfolio, asset: str, move: float):
    market = dict(portfolio.market)
    market[asset] = replace(market[asset], price=market[asset].price * (1.0 + move))
    return replace(portfolio, market=market)


def _books():
    demo = read_portfolio(DEMO)
    yield demo, "pool:all", "BTC"
    yield demo, "account:deribit-pm", "ETH"
    yield demo, "account:binance-usdm", "ETH"  # cross margin, tiered perpetuals
    yield synthetic_book(200, "portfolio", seed=11), "account:book", "SOL"
    yield synthetic_book(200, "cross", seed=12), "account:book", "BTC"


@pytest.mark.parametrize(("portfolio", "scope", "asset"), list(_books()))
def test_curve_is_the_report_at_the_moved_price(portfolio, scope, asset) -> None:
    # independent check: move the market price in the portfolio and build the whole report
    curve = pnl_curve(portfolio, scope, asset, MOVES)
    base = build_report(portfolio, scope, with_liquidation=False)
    for i, move in enumerate(MOVES):
        report = build_report(_moved(portfolio, asset, move), scope, with_liquidation=False)
        assert curve["equity"][i] == pytest.approx(report["equity"], rel=1e-9)
        assert curve["maintenance_margin"][i] == pytest.approx(report["maintenance_margin"], rel=1e-9)
        assert curve["pnl"][i] == pytest.approx(report["equity"] - base["equity"],
                                                abs=1e-9 * abs(base["equity"]))
    np.testing.assert_allclose(curve["prices"], portfolio.market[asset].price * (1.0 + MOVES), rtol=1e-15)
    assert curve["pnl"][list(MOVES).index(0.0)] == pytest.approx(0.0, abs=1e-9 * abs(base["equity"]))


@pytest.mark.parametrize(("portfolio", "scope", "asset"), list(_books()))
def test_curve_equals_the_revaluation_of_every_underlying(portfolio, scope, asset) -> None:
    # every underlying revalued at every point (parts without `only`): the same figures
    m = method_for(make_scope(portfolio, scope))
    a = list(m.book.assets).index(asset)
    X = np.zeros((MOVES.size, m.n_assets))
    X[:, a] = MOVES
    eq, mm = m.eq_mm_single(m.parts(X))
    curve = pnl_curve(portfolio, scope, asset, MOVES)
    np.testing.assert_allclose(curve["equity"], eq[:, a], rtol=1e-12)
    np.testing.assert_allclose(curve["maintenance_margin"], mm[:, a], rtol=1e-12)
    eq0 = m.eq_mm_single(m.parts(np.zeros((1, m.n_assets))))[0][0, a]
    np.testing.assert_allclose(curve["pnl"], eq[:, a] - eq0, rtol=0, atol=32 * np.spacing(abs(eq0)))


def test_all_underlyings_together_is_unchanged() -> None:
    demo = read_portfolio(DEMO)
    liq = Liquidation(method_for(make_scope(demo, "pool:all")))
    eq, mm = liq.curve(None, MOVES)
    curve = pnl_curve(demo, "pool:all", None, MOVES)
    np.testing.assert_allclose(curve["equity"], eq, rtol=1e-12)
    np.testing.assert_allclose(curve["maintenance_margin"], mm, rtol=1e-12)
    np.testing.assert_allclose(curve["prices"], 1.0 + MOVES, rtol=1e-15)
