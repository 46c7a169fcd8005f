"""Review of the stress engine's correctness (issue 15): the cascade path keeps a scenario's
`"*"` move and the assets that move with another; a scaled depeg never prices a coin at or
below zero; a correlated move carries an asset that `moves_with` another along with it."""

from __future__ import annotations

import pytest

from workstation.core.contagion import breach_multiple, cascade
from workstation.core.correlated import Betas, joint_scenario
from workstation.core.portfolio_io import portfolio_from_dict
from workstation.core.stress import Scenario, apply_scenario


def book(accounts, market=None):
    return portfolio_from_dict({
        "format": "margin-workstation/portfolio@1", "as_of": "2026-03-01T00:00:00Z", "base_currency": "USD",
        "market": market or {"BTC": {"price": 60_000.0}, "ETH": {"price": 3_000.0}, "USDT": {"price": 1.0}},
        "accounts": accounts})


def perp_account(aid, und, qty, entry, collateral):
    return {"id": aid, "margin_mode": "cross", "profile": "default", "collateral": collateral,
            "positions": [{"id": f"{aid}-p", "kind": "perpetual", "underlying": und, "settlement": "linear",
                           "quantity": qty, "entry_price": entry}]}


def _times(events):
    return {e.scope: e.t for e in events}


@pytest.mark.parametrize("shocks", [{"*": -0.4}, {"BTC": -0.4, "ETH": -0.4}])
def test_cascade_without_impact_breaches_each_unit_when_it_breaches_alone(shocks):
    # three long-perpetual accounts with growing cushions: with no market impact, the cascade must
    # list each account at the point of the path where it breaches on its own
    p = book([perp_account("a", "BTC", 1.0, 60_000.0, {"USDT": 8_000.0}),
              perp_account("b", "BTC", 1.0, 60_000.0, {"USDT": 16_000.0}),
              perp_account("c", "ETH", 10.0, 3_000.0, {"USDT": 10_000.0})])
    s = Scenario("crash", shocks=shocks)
    got = _times(cascade(p, s, pooled=False, impact_per_million=0.0))
    for unit in ("account:a", "account:b", "account:c"):
        alone = breach_multiple(p, s, unit, limit=1.0)
        assert alone is not None
        assert got.get(unit) == pytest.approx(alone, abs=2e-3), unit


def test_cascade_keeps_an_asset_moving_with_another():
    # LRT moves with ETH; account b's only collateral is LRT (long 1 BTC perpetual). After account a
    # (ETH perpetual, a little LRT too) is liquidated, LRT must still fall with ETH along the path.
    market = {"BTC": {"price": 60_000.0}, "ETH": {"price": 3_000.0}, "USDT": {"price": 1.0},
              "LRT": {"price": 3_100.0, "moves_with": "ETH"}}
    p = book([perp_account("a", "ETH", 10.0, 3_000.0, {"USDT": 6_000.0, "LRT": 0.1}),
              perp_account("b", "BTC", 1.0, 60_000.0, {"LRT": 0.13})], market)
    s = Scenario("eth down", shocks={"ETH": -0.6})
    got = _times(cascade(p, s, pooled=False, impact_per_million=0.0))
    for unit in ("account:a", "account:b"):
        alone = breach_multiple(p, s, unit, limit=1.0)
        assert alone is not None
        assert got.get(unit) == pytest.approx(alone, abs=2e-3), unit


def test_a_scaled_depeg_never_prices_the_coin_at_or_below_zero():
    p = book([perp_account("a", "BTC", 1.0, 60_000.0, {"USDT": 10_000.0})])
    s = Scenario("usdt", depeg={"USDT": 0.5})
    for t in (1.0, 2.0, 3.0, 5.0):
        assert apply_scenario(p, s.times(t)).market["USDT"].price > 0.0, t


def test_a_correlated_move_carries_assets_that_move_with_another():
    # driver BTC, ETH beta 1.5: a -10 % BTC move takes ETH -15 %, and LRT (moving with ETH) too
    market = {"BTC": {"price": 60_000.0}, "ETH": {"price": 3_000.0}, "USDT": {"price": 1.0},
              "LRT": {"price": 3_100.0, "moves_with": "ETH"}}
    p = book([perp_account("a", "ETH", 1.0, 3_000.0, {"LRT": 1.0})], market)
    s = joint_scenario(p, Betas("BTC", {"ETH": 1.5}), -0.1)
    m = apply_scenario(p, s).market
    assert m["ETH"].price == pytest.approx(3_000.0 * 0.85, rel=1e-12)
    assert m["LRT"].price == pytest.approx(3_100.0 * 0.85, rel=1e-12)


@pytest.mark.parametrize(("doc", "message"), [
    # 1e300 days forward overflowed `as_of + timedelta(days)`: an OverflowError, not a located refusal
    ({"name": "x", "days": 1e300}, r"scenario 'x': days: must be at most 36500, got 1e\+300"),
    ({"name": "x", "days": 36_501}, r"days: must be at most 36500"),
    ({"name": "x", "shocks": {"BTC": 1e300}}, r"shocks.BTC: must be at most 1000, got 1e\+300"),
])
def test_scenarios_beyond_the_engines_range_are_refused_at_their_field(doc, message):
    from workstation.core.errors import WorkstationError
    from workstation.core.stress import scenario_from_dict

    with pytest.raises(WorkstationError, match=message):
        scenario_from_dict(doc, "scenario 'x'")
    ok = scenario_from_dict({"name": "x", "days": 36_500, "shocks": {"BTC": 1000.0}}, "scenario 'x'")
    assert ok.days == 36_500.0 and ok.shocks == {"BTC": 1000.0}
