"""The fast stress path (method objects, many states per `parts` call) gives the figures of the
`build_report` path: on random books over every margin method, at random multiples, with price
impacts, days forward, depegs and `moves_with` assets; and whole documents, the summary, the
shock curve, the joint grid and the joint liquidation against the exact session (one shocked
book per point, `StressSession(exact=True)`)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workstation.core.correlated import Betas, joint_grid, joint_liquidations, joint_scenario
from workstation.core.model import Account, Pool, Portfolio, Position, Quote
from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report
from workstation.core.scenario_library import historical_scenarios
from workstation.core.stress import Scenario, apply_scenario
from workstation.core.stress_eval import Line, StressSession, path_scenario
from workstation.core.stress_report import shock_curve, stress_document, summary

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)  # every shipped profile version is in force
RTOL = 1e-12
# (profile, margin mode): every margin method and per-position rule set
METHODS = [("default", "portfolio"), ("deribit-pm", "portfolio"), ("okx-pm", "portfolio"), ("bybit-pm", "portfolio"),
           ("span", "portfolio"), ("deribit-sm", "cross"), ("bybit-rm", "cross"), ("binance-usdm", "cross"),
           ("default", "cross"), ("default", "isolated")]
PRICES = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 140.0}


def random_book(seed: int, n_accounts: int = 3) -> Portfolio:
    """Accounts on random methods with options, futures (some expiring within days), linear and
    inverse perpetuals and spot; coin and stablecoin collateral; WBTC moves with BTC; one pool."""
    rng = np.random.default_rng(seed)
    market = {a: Quote(p, float(rng.uniform(0.4, 0.9))) for a, p in PRICES.items()}
    market["WBTC"] = Quote(60_000.0 * 0.999, moves_with="BTC")
    market["USDT"] = Quote(1.0)
    market["USDC"] = Quote(float(rng.choice([1.0, 0.9998])))
    accounts = []
    for k in range(n_accounts):
        profile, mode = METHODS[int(rng.integers(len(METHODS)))]
        positions = []
        for i in range(int(rng.integers(1, 7))):
            u = str(rng.choice(["BTC", "ETH", "SOL"]))
            s = PRICES[u]
            kind = str(rng.choice(["option", "future", "perpetual", "spot"]))
            inverse = u != "SOL" and kind != "spot" and rng.random() < 0.4
            settle = "inverse" if inverse else "linear"
            q = float(rng.normal(0, 10)) * (s if inverse and kind != "option" else 1.0)
            expiry = AS_OF + timedelta(days=float(rng.choice([0.5, 2.5, 30, 90])))
            iso = float(rng.uniform(0.05, 0.3) * abs(q) * (1 if inverse else s)) if mode == "isolated" else None
            pid = f"p{k}{i}"
            if kind == "option":
                positions.append(Position(pid, "option", u, q, 0.02 if inverse else 0.03 * s, settle, expiry,
                                          str(rng.choice(["call", "put"])), float(s * rng.uniform(0.8, 1.2)),
                                          isolated_margin=iso))
            elif kind == "future":
                positions.append(Position(pid, "future", u, q, s * float(rng.uniform(0.95, 1.05)), settle, expiry,
                                          isolated_margin=iso))
            elif kind == "perpetual":
                positions.append(Position(pid, "perpetual", u, q, s * float(rng.uniform(0.9, 1.1)), settle,
                                          isolated_margin=iso, mark_price=s * float(rng.uniform(0.999, 1.001))))
            elif mode != "isolated":
                positions.append(Position(pid, "spot", u, abs(q), s * 0.95))
        collateral = {"USDT": float(rng.uniform(5e3, 1.5e5)), "USDC": float(rng.uniform(0, 3e4)),
                      "BTC": float(rng.uniform(0, 1)), "WBTC": float(rng.uniform(0, 0.3))}
        accounts.append(Account(f"a{k}", mode, collateral, positions, profile=profile))
    pools = [Pool("p", [a.id for a in accounts[:2]], margin_mode="portfolio", profile="default")]
    return Portfolio(as_of=AS_OF, market=market, accounts=accounts, pools=pools, rate=0.03)


def random_scenario(rng: np.random.Generator) -> Scenario:
    shocks = {"BTC": float(rng.uniform(-0.6, 0.6)), "*": float(rng.uniform(-0.5, 0.5))}
    if rng.random() < 0.5:
        shocks["ETH"] = float(rng.uniform(-0.7, 0.4))
    depeg = {"USDC": float(rng.uniform(0.85, 0.99))} if rng.random() < 0.4 else {}
    days = float(rng.choice([0.0, 1.0, 3.0]))
    return Scenario("random", shocks=shocks, depeg=depeg, days=days)


def report_figures(portfolio: Portfolio, scenario: Scenario, t: float, scope: str,
                   impact: tuple[tuple[str, float], ...] = ()) -> tuple[float, float, float]:
    session = StressSession(portfolio, exact=True)
    shocked = apply_scenario(portfolio, path_scenario(scenario, t, impact, portfolio, session.stable))
    r = build_report(shocked, scope, with_liquidation=False)
    return r["equity"], r["initial_margin"], r["maintenance_margin"]


def close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=RTOL * scale)


def assert_same(a: Any, b: Any, scale: float, path: str = "") -> None:
    """Documents equal field by field; floats to RTOL (absolute RTOL x the book's size)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            assert_same(a[k], b[k], scale, f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, scale, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert close(a, b, scale), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _scale(p: Portfolio) -> float:
    return sum(abs(q) * (p.market[a].price if a in p.market else 1.0)
               for acc in p.accounts for a, q in acc.collateral.items()) + 1e6


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_figures_along_a_scenario_match_the_report(seed, sseed):
    p = random_book(seed)
    rng = np.random.default_rng(sseed)
    scenario = random_scenario(rng)
    session = StressSession(p)
    scope = str(rng.choice(session.names))
    ts = [0.0, float(rng.uniform(0, 1)), 1.0, float(rng.uniform(1, 5))]
    impact = (("BTC", float(rng.uniform(-0.05, 0.05))),) if rng.random() < 0.5 else ()
    f = session.at(Line(scope, scenario, impact), ts)
    for k, t in enumerate(ts):
        eq, im, mm = report_figures(p, scenario, t, scope, impact)
        scale = _scale(p)
        assert close(f.equity[k], eq, scale) and close(f.im[k], im, scale) and close(f.mm[k], mm, scale), \
            (scope, t, (f.equity[k], eq), (f.im[k], im), (f.mm[k], mm))


def test_fast_path_is_taken_where_it_can_be():
    p = random_book(3)
    s = StressSession(p)
    assert s.plan(Scenario("a", shocks={"*": -0.2}, days=0)) is not None
    assert s.plan(Scenario("v", shocks={"*": -0.2}, vol_shift={"BTC": 0.1})) is None  # vols move
    assert s.plan(Scenario("w", shocks={"WBTC": -0.2})) is None  # an asset moving with another named
    assert s.plan(Scenario("e", shocks={"*": -0.2}, days=1)) is None  # an expiry inside the horizon
    assert StressSession(p, exact=True).plan(Scenario("a", shocks={"*": -0.2})) is None


def _same_documents(seed: int, sseed: int) -> dict:
    p = random_book(seed, n_accounts=2)
    scenario = random_scenario(np.random.default_rng(sseed))
    fast = stress_document(p, scenario, impact=0.05, session=StressSession(p))
    exact = stress_document(p, scenario, impact=0.05, session=StressSession(p, exact=True))
    assert_same(fast, exact, _scale(p))
    return fast


# seeds whose documents breach, cascade and give top-ups, on the fast path (1, 7) and the exact
# path (8, 15: expiries inside the horizon)
@pytest.mark.parametrize("seed", [1, 7, 8, 15])
def test_breaching_documents_match_the_exact_session(seed):
    doc = _same_documents(seed, seed + 1)
    assert any(s["breach"] for s in doc["scopes"]) and doc["cascade"]["segregated"] and doc["top_ups"]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_documents_match_the_exact_session(seed, sseed):
    _same_documents(seed, sseed)


def test_a_breaching_document_matches_the_exact_session_and_the_reports():
    p = read_portfolio(DEMO)
    rally = Scenario("rally", shocks={"*": 0.5})
    fast = stress_document(p, rally, session=StressSession(p))
    exact = stress_document(p, rally, session=StressSession(p, exact=True))
    assert_same(fast, exact, _scale(p))
    binance = next(s for s in fast["scopes"] if s["scope"] == "account:binance-usdm")
    assert binance["breach"] and 0.5 < binance["breach_multiple"] < 1.0
    assert [e["scope"] for e in fast["cascade"]["segregated"]] == ["account:binance-usdm"]
    for s in fast["scopes"]:  # the scenario's own figures are the shocked book's report
        r = build_report(apply_scenario(p, rally), s["scope"], with_liquidation=False)
        assert close(s["equity"], r["equity"], 1e6) and close(s["maintenance_margin"], r["maintenance_margin"], 1e6)
        assert close(s["initial_margin"], r["initial_margin"], 1e6)


def test_summary_curve_grid_and_joint_distance_match_the_exact_session():
    p = read_portfolio(DEMO)
    scenarios = historical_scenarios()[:4]
    fast, exact = StressSession(p), StressSession(p, exact=True)
    assert_same(summary(p, scenarios, fast), summary(p, scenarios, exact), 1e6)
    sc = scenarios[1]
    assert_same(shock_curve(p, sc, "pool:all", [0.0, 0.5, 1.0, 2.0], fast),
                shock_curve(p, sc, "pool:all", [0.0, 0.5, 1.0, 2.0], exact), 1e6)
    betas = Betas("BTC", {"ETH": 1.2, "SOL": 1.5})
    xs, ys = [-0.5, 0.0, 0.4], [-0.3, 0.2]
    g_fast = joint_grid(p, "account:binance-usdm", "BTC", "ETH", xs, ys, betas, session=fast)
    g_exact = joint_grid(p, "account:binance-usdm", "BTC", "ETH", xs, ys, betas, session=exact)
    np.testing.assert_allclose(g_fast.headroom, g_exact.headroom, rtol=RTOL, atol=RTOL * 1e6)
    r = build_report(apply_scenario(p, joint_scenario(p, betas, 0.4, override={"ETH": -0.3})), "account:binance-usdm",
                     with_liquidation=False)
    assert close(g_fast.headroom[0, 2], r["equity"] - r["maintenance_margin"], 1e6)
    scopes = ["account:binance-usdm", "pool:all"]
    assert_same(joint_liquidations(fast, scopes, betas), joint_liquidations(exact, scopes, betas), 1.0)
