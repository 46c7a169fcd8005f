"""Invariants of every venue method: components add up to IM, the liquidation price is where
equity meets the threshold x MM, what-if and hedge suggestions run, and the report carries the
profile, its version and (portfolio methods) the scenario vectors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_spec_common as C

from workstation.core.model import Position
from workstation.core.portfolio_io import parse_time
from workstation.core.whatif import suggest, whatif

DAY = "2026-03-01T00:00:00Z"  # every shipped version is in force
DT = parse_time(DAY, "t")
# (profile, margin mode): every venue method and per-position rule set
METHODS = [("deribit-pm", "portfolio"), ("okx-pm", "portfolio"), ("bybit-pm", "portfolio"),
           ("span", "portfolio"), ("deribit-sm", "cross"), ("bybit-rm", "cross"), ("binance-usdm", "cross")]


def _book(profile: str, mode: str, q: list[float]) -> dict:
    """A mixed BTC/ETH book: perpetuals (linear and inverse), a future, options both ways."""
    pos = [
        C.perp("lp", "BTC", q[0], 60_000),
        C.perp("ip", "BTC", q[1] * 60_000, 60_000, "inverse"),
        C.future("f", "BTC", q[2] * 60_000, 60_000, C.expiry_in(40, DT), "inverse"),
        C.option("c", "BTC", "call", 66_000, C.expiry_in(20, DT), q[3], 0.02, "inverse", vol=0.6),
        C.option("pu", "BTC", "put", 50_000, C.expiry_in(70, DT), q[4], 800, vol=0.7),
        C.perp("e", "ETH", q[5], 3_000),
    ]
    return C.portfolio([C.account("a", mode, {"BTC": 2.0, "USDT": 250_000}, pos, profile)],
                       C.market(BTC=(60_000, 0.6), ETH=(3_000, 0.7)), profiles={}, as_of=DAY)


def _components(r: dict) -> float:
    return sum(p["component_margin"] for p in r["positions"]) + sum(r["collateral_components"].values())


@pytest.mark.parametrize(("profile", "mode"), METHODS)
def test_components_add_up_and_liquidation_is_where_equity_meets_mm(profile, mode) -> None:
    doc = _book(profile, mode, [-3.0, 2.0, -1.5, -20.0, -10.0, 30.0])
    r = C.report(doc, "account:a")
    assert r["profile"] == profile and r["profile_version"]
    assert _components(r) == pytest.approx(r["initial_margin"], rel=1e-9)
    if mode == "portfolio":
        assert r["scenarios"] and all(v["entries"] for v in r["scenarios"].values())
    for asset in ("BTC", "ETH"):
        for side in ("down", "up"):
            price = r["liquidation"][asset][f"{side}_price"]
            if price is None:
                continue
            assert r["liquidation"][asset][f"{side}_pct"] != 0, "the book must start healthy"
            at = C.report(C.with_price(doc, asset, price), "account:a")
            assert at["equity"] == pytest.approx(at["maintenance_margin"], rel=2e-3, abs=1.0), (asset, side)


@pytest.mark.parametrize(("profile", "mode"), METHODS[:4])
def test_whatif_and_suggestions_under_each_portfolio_method(profile, mode) -> None:
    p = C.load(_book(profile, mode, [-3.0, 2.0, -1.5, -20.0, -10.0, 30.0]))
    hedge = Position(id="h", kind="perpetual", underlying="BTC", quantity=0.0, entry_price=60_000,
                     settlement="linear")
    out = whatif(p, "a", [Position(id="t", kind="perpetual", underlying="BTC", quantity=1.0,
                                   entry_price=60_000, settlement="linear")])
    assert out["after"]["initial_margin"] != out["before"]["initial_margin"]
    for objective in ("delta", "margin"):
        s = suggest(p, "a", hedge, objective)
        assert s["after"]["profile_version"] == s["before"]["profile_version"]
        if objective == "margin":
            assert s["after"]["initial_margin"] <= s["before"]["initial_margin"] + 1e-6


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(METHODS[:4]),
       st.lists(st.floats(-40, 40, allow_nan=False).map(lambda x: round(x, 3)), min_size=6, max_size=6))
def test_components_add_up_for_any_book(method, q) -> None:
    profile, mode = method
    r = C.report(_book(profile, mode, q), "account:a")
    assert _components(r) == pytest.approx(r["initial_margin"], rel=1e-9, abs=1e-6)
    assert r["maintenance_margin"] <= r["initial_margin"] + 1e-9
    assert all(p["standalone_margin"] >= -1e-9 for p in r["positions"])


def test_position_vectors_on_request() -> None:
    from workstation.core.report import build_report

    p = C.load(_book("okx-pm", "portfolio", [-3.0, 2.0, -1.5, -20.0, -10.0, 30.0]))
    r = build_report(p, "account:a", with_liquidation=False, position_vectors=True)
    btc = r["scenarios"]["BTC"]
    assert set(btc["by_position"]) == {"a/lp", "a/ip", "a/f", "a/c", "a/pu"}
    # the unit's entries are the positions' plus its collateral's (2 BTC held, in the unit)
    total = [sum(v[i] for v in btc["by_position"].values()) for i in range(len(btc["entries"]))]
    coll = [e["pnl"] - t for e, t in zip(btc["entries"], total, strict=True)]
    assert coll[0] == pytest.approx(2.0 * 60_000 * -0.12, rel=1e-9)  # MR1 -12 %, vol up
