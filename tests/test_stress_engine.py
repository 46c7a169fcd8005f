"""Stress scenarios, pooled versus segregated, the cascade and the cheapest top-up.

The two-account books are small enough to compute by hand: BTC linear perpetuals in cross
mode on the default profile, tier 1 (notional <= 50,000: MMR 0.4 %, IMR 0.8 %, no amount).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.core.contagion import breach_multiple, cascade, pooled_vs_segregated, top_up, transfers
from workstation.core.model import Account, Pool, Portfolio, Position, Quote
from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report, build_reports
from workstation.core.stress import Scenario, apply_scenario, apply_scenario_detailed, stress_scopes

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"
AS_OF = datetime(2026, 1, 1, 8, tzinfo=UTC)


def perp(pid: str, qty: float, entry: float = 100.0) -> Position:
    return Position(id=pid, kind="perpetual", underlying="BTC", quantity=qty, entry_price=entry, settlement="linear")


def book(a: tuple[float, float], b: tuple[float, float], profiles=None, profile="default") -> Portfolio:
    """Accounts A and B: (BTC perp quantity, USDT collateral); pool `ab` in cross mode."""
    accounts = [Account(name, "cross", {"USDT": coll}, [perp(f"{name}-perp", qty)], profile=profile)
                for name, (qty, coll) in (("A", a), ("B", b))]
    return Portfolio(as_of=AS_OF, market={"BTC": Quote(100.0, 0.5), "USDT": Quote(1.0)}, accounts=accounts,
                     pools=[Pool("ab", ["A", "B"], margin_mode="cross", profile=profile)], profiles=profiles or {})


def test_zero_shock_reproduces_the_plain_report_exactly():
    p = read_portfolio(DEMO)
    shocked = apply_scenario(p, Scenario("nothing"))
    assert json.dumps(build_reports(shocked)) == json.dumps(build_reports(p))
    zero = Scenario("zeros", shocks={"BTC": 0.0, "*": 0.0}, vol_shift={"*": 0.0}, days=0.0)
    assert json.dumps(build_reports(apply_scenario(p, zero))) == json.dumps(build_reports(p))


def test_pooling_rescues_the_losing_account():
    # BTC -10 % to 90. A long 10: equity 50 + 10 (90 - 100) = -50, MM 10 x 90 x 0.004 = 3.6: breach.
    # B short 10: equity 150. Pool: equity 100, MM 3.6 + 3.6 = 7.2: safe.
    p = book((10, 50), (-10, 50))
    rows = {r["account"]: r for r in pooled_vs_segregated(p, Scenario("down", shocks={"BTC": -0.1}))}
    assert rows["A"]["headroom_alone"] == pytest.approx(-53.6, rel=1e-12)
    assert rows["B"]["headroom_alone"] == pytest.approx(150 - 3.6, rel=1e-12)
    assert rows["A"]["headroom_pooled"] == pytest.approx(100 - 7.2, rel=1e-12)
    assert rows["A"]["verdict"] == "rescued by pooling"
    assert rows["B"]["verdict"] == "safe either way"


def test_pooling_drags_the_healthy_account_under():
    # BTC -5 % to 95. A long 1, 20 USDT: equity 15, MM 0.38: safe alone.
    # B long 10, 30 USDT: equity -20, MM 3.8. Pool: equity -5 <= MM 4.18: the pool is liquidated.
    p = book((1, 20), (10, 30))
    rows = {r["account"]: r for r in pooled_vs_segregated(p, Scenario("down", shocks={"BTC": -0.05}))}
    assert rows["A"]["headroom_alone"] == pytest.approx(15 - 0.38, rel=1e-12)
    assert rows["A"]["headroom_pooled"] == pytest.approx(-5 - 4.18, rel=1e-12)
    assert rows["A"]["verdict"] == "dragged under by the pool"
    assert rows["B"]["verdict"] == "breached either way"


def test_cheapest_top_up_exactly_restores_maintenance_margin():
    p = book((10, 50), (-10, 50))
    state = apply_scenario(p, Scenario("down", shocks={"BTC": -0.1}))
    options = top_up(state, "account:A")
    by_asset = {o["asset"]: o for o in options}
    # shortfall 53.6: 53.6 USDT, or 53.6 / 90 BTC (no haircut below 100M, cross MM ignores collateral)
    assert by_asset["USDT"]["amount"] == pytest.approx(53.6, rel=1e-9)
    assert by_asset["BTC"]["amount"] == pytest.approx(53.6 / 90.0, rel=1e-9)
    for o in options:
        after = build_report(_deposit(state, "A", o["asset"], o["amount"]), "account:A", with_liquidation=False)
        assert after["equity"] - after["maintenance_margin"] == pytest.approx(0.0, abs=1e-7)
    # to IM: 53.6 + (7.2 - 3.6) = 57.2
    assert {o["asset"]: o for o in top_up(state, "account:A", "im")}["USDT"]["amount"] == pytest.approx(57.2, rel=1e-9)


def test_top_up_with_a_haircut_grosses_up():
    profiles = {"hc": {"haircuts": {"BTC": 0.2, "USDT": 0.0}}}
    p = book((10, 50), (-10, 50), profiles=profiles, profile="hc")
    state = apply_scenario(p, Scenario("down", shocks={"BTC": -0.1}))
    btc = {o["asset"]: o for o in top_up(state, "account:A")}["BTC"]
    assert btc["amount"] == pytest.approx(53.6 / (90.0 * 0.8), rel=1e-9)  # each BTC counts 72


def test_transfer_from_the_healthy_account():
    p = book((10, 50), (-10, 50))
    state = apply_scenario(p, Scenario("down", shocks={"BTC": -0.1}))
    move = transfers(state, "A")[0]
    # B: equity 150 over IM 10 x 90 x 0.008 = 7.2, but it holds only 50 USDT (the rest is
    # unrealised profit): it can give 50 of the 53.6 A needs
    assert move["from"] == "B" and move["asset"] == "USDT"
    assert move["amount"] == pytest.approx(53.6, rel=1e-9)
    assert move["donor_can_give"] == pytest.approx(50.0, rel=1e-12)
    assert not move["enough"]
    # with 200 USDT, B keeps IM 7.2 at equity 300 - w: it can give all 200
    rich = apply_scenario(book((10, 50), (-10, 200)), Scenario("down", shocks={"BTC": -0.1}))
    assert transfers(rich, "A")[0]["enough"]
    # with an unrealised loss, B's spare is what keeps its equity at IM: B long 5 at 100,
    # S = 90: equity 200 - 50 = 150, IM 5 x 90 x 0.008 = 3.6: it can give 146.4
    lossy = apply_scenario(book((10, 50), (5, 200)), Scenario("down", shocks={"BTC": -0.1}))
    assert transfers(lossy, "A")[0]["donor_can_give"] == pytest.approx(146.4, rel=1e-9)


def _deposit(p: Portfolio, acc: str, asset: str, amount: float) -> Portfolio:
    from workstation.core.contagion import _with_deposit

    return _with_deposit(p, acc, asset, amount)


def test_cascade_order_and_impact():
    # Both long; A breaches first on the way down (less collateral per BTC), its sale of 10 BTC
    # (notional 10 x price) pushes BTC lower and B follows at the same path point.
    p = book((10, 40), (10, 60))
    events = cascade(p, Scenario("down", shocks={"BTC": -0.1}), impact_per_million=10.0)
    assert [e.scope for e in events] == ["account:A", "account:B"]
    # A breaches at S with 40 + 10 (S - 100) = 0.04 S: S = 960 / 9.96, t = (1 - S / 100) / 0.1
    s_a = 960 / 9.96
    assert events[0].t == pytest.approx((1 - s_a / 100) / 0.1, abs=2e-3)
    # A sells 10 BTC at S: impact -10 x 10 S / 1e6 (about -0.96 %)
    assert events[0].impact["BTC"] == pytest.approx(-10 * 10 * s_a / 1e6, rel=1e-3)
    # B alone would breach at S = 940 / 9.96; with A's impact it comes sooner on the path
    s_b = 940 / 9.96
    t_b_alone = (1 - s_b / 100) / 0.1
    assert events[0].t <= events[1].t < t_b_alone
    assert events[1].cause == "after account:A is liquidated"


def test_cascade_without_breach_is_empty_and_multiple_found():
    p = book((10, 50), (-10, 50))
    assert cascade(p, Scenario("calm", shocks={"BTC": -0.01})) == []
    # A breaches when 50 + 10 (S - 100) = 0.04 S, S = 950 / 9.96: a move of 1 - 9.5381.. / 100 ...
    m = breach_multiple(p, Scenario("one", shocks={"BTC": -0.01}), "account:A")
    s = 950 / 9.96
    assert m == pytest.approx((1 - s / 100) / 0.01, abs=2e-3)


def test_days_forward_settles_expiring_options_and_futures():
    exp = AS_OF + timedelta(days=2)
    acc = Account("X", "cross", {"USDT": 1000.0}, [
        Position("c", "option", "BTC", 2.0, 5.0, "linear", expiry=exp, right="call", strike=90.0, vol=0.5),
        Position("f", "future", "BTC", -3.0, 95.0, "linear", expiry=exp),
        Position("i", "future", "BTC", 1000.0, 80.0, "inverse", expiry=exp),
    ])
    p = Portfolio(as_of=AS_OF, market={"BTC": Quote(100.0, 0.5), "USDT": Quote(1.0)}, accounts=[acc])
    shocked, settled = apply_scenario_detailed(p, Scenario("s", shocks={"BTC": 0.1}, days=3))
    assert shocked.as_of == AS_OF + timedelta(days=3)
    (opt,) = shocked.account("X").positions
    assert opt.expired and opt.settlement_price == pytest.approx(110.0, rel=1e-15)
    coll = shocked.account("X").collateral
    assert coll["USD"] == pytest.approx(-3.0 * (110.0 - 95.0), rel=1e-12)  # linear: base currency
    assert coll["BTC"] == pytest.approx(1000.0 * (1 / 80.0 - 1 / 110.0), rel=1e-12)  # inverse: coins
    assert {s.position for s in settled} == {"c", "f", "i"}
    report = build_report(shocked, "account:X", with_liquidation=False)
    # equity: 1000 - 45 + 1000 (1/80 - 1/110) x 110 + 2 x (110 - 90)
    assert report["equity"] == pytest.approx(1000 - 45 + 1000 * (110 / 80 - 1) + 40, rel=1e-12)


def test_depeg_revalues_collateral_and_quotes():
    acc = Account("U", "cross", {"USDT": 1000.0}, [perp("p", 2.0, 90.0)], profile="binance-usdm")
    p = Portfolio(as_of=AS_OF, market={"BTC": Quote(100.0, 0.5), "USDT": Quote(1.0)}, accounts=[acc])
    r = build_report(apply_scenario(p, Scenario("d", depeg={"USDT": 0.9})), "account:U", with_liquidation=False)
    # 1000 USDT at 0.9, and a USDT-quoted perpetual whose USD P&L is 2 (100 - 0.9 x 90)
    assert r["equity"] == pytest.approx(900 + 2 * (100 - 81), rel=1e-12)
    par = {"binance-usdm": {"stress": {"quote": "USDT", "depeg": {"USDT": "par"}}}}
    p_par = Portfolio(as_of=AS_OF, market=p.market, accounts=[acc], profiles=par)
    r2 = build_report(apply_scenario(p_par, Scenario("d", depeg={"USDT": 0.9})), "account:U", with_liquidation=False)
    assert r2["equity"] == pytest.approx(1000 + 2 * (100 - 81), rel=1e-12)


def test_vol_shift_points_and_relative():
    p = read_portfolio(DEMO)
    pts = apply_scenario(p, Scenario("v", vol_shift={"BTC": 0.1}))
    rel = apply_scenario(p, Scenario("v", vol_shift={"*": 0.5}, vol_mode="relative"))
    assert pts.market["BTC"].vol == pytest.approx(0.62, rel=1e-12)
    assert pts.market["ETH"].vol == pytest.approx(0.66, rel=1e-15)
    assert rel.market["ETH"].vol == pytest.approx(0.99, rel=1e-12)
    assert pts.account("deribit-pm").positions[0].vol == pytest.approx(0.6, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.floats(-0.9, 2.0), st.floats(-0.9, 2.0))
def test_moves_scale_prices(mb, me):
    p = read_portfolio(DEMO)
    s = apply_scenario(p, Scenario("m", shocks={"BTC": mb, "*": me}))
    assert math.isclose(s.market["BTC"].price, 91245.5 * (1 + mb), rel_tol=1e-12)
    assert math.isclose(s.market["SOL"].price, 139.82 * (1 + me), rel_tol=1e-12)
    assert s.market["USDT"].price == 1.0  # "*" never moves a stablecoin


def test_stress_scopes_reports_breach_and_losers():
    p = book((10, 50), (-10, 50))
    res = {r.scope: r for r in stress_scopes(p, Scenario("down", shocks={"BTC": -0.1}))}
    a = res["account:A"]
    assert a.breach and a.shortfall_mm == pytest.approx(53.6, rel=1e-12)
    assert a.losers == [{"account": "A", "id": "A-perp", "pnl": pytest.approx(-100.0, rel=1e-12)}]
    assert not res["pool:ab"].breach
