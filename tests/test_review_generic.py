"""Review of the generic portfolio method (risk-array): per-underlying grids and tails (the
`moves` / `tails` keys that came with the venue profiles) each keep their own dampeners."""

from __future__ import annotations

import pytest

from workstation.core.portfolio_io import portfolio_from_dict
from workstation.core.report import build_report


def _two_perps(portfolio: dict) -> dict:
    """Long 1 BTC perpetual at 60,000 and 10 ETH perpetuals at 3,000 (linear, at the mark) in a
    portfolio account whose profile's `[portfolio]` is `portfolio` laid over mm 1, im 1.3 and
    no contingencies."""
    return {"format": "margin-workstation/portfolio@1", "as_of": "2026-03-01T00:00:00Z", "base_currency": "USD",
            "market": {"BTC": {"price": 60_000.0}, "ETH": {"price": 3_000.0}, "USDT": {"price": 1.0}},
            "accounts": [{"id": "a", "margin_mode": "portfolio", "profile": "p", "collateral": {"USDT": 1e5},
                          "positions": [{"id": "b", "kind": "perpetual", "underlying": "BTC", "settlement": "linear",
                                         "quantity": 1.0, "entry_price": 60_000.0},
                                        {"id": "e", "kind": "perpetual", "underlying": "ETH", "settlement": "linear",
                                         "quantity": 10.0, "entry_price": 3_000.0}]}],
            "profiles": {"p": {"portfolio": {"mm_factor": 1.0, "im_factor": 1.3, "short_option_contingency": 0.0,
                                             "futures_contingency": 0.0, **portfolio}}}}


def test_each_underlying_takes_its_own_tail_dampener():
    # range 5 % (3 points) and one tail each: BTC -50 % at 0.2, ETH -50 % at 0.8.
    # long 1 BTC perpetual at 60,000: max(5 % x 60,000, 0.2 x 50 % x 60,000) = 6,000
    # long 10 ETH perpetuals at 3,000: max(5 % x 30,000, 0.8 x 50 % x 30,000) = 12,000
    # MM = 18,000 (mm_factor 1, no contingencies), IM = 1.3 x MM
    doc = _two_perps({"range": {"*": 0.05}, "price_steps": 3,
                      "tails": {"BTC": [[-0.5, 0.2]], "ETH": [[-0.5, 0.8]]}})
    r = build_report(portfolio_from_dict(doc), "account:a", with_liquidation=False)
    assert r["maintenance_margin"] == pytest.approx(18_000.0, rel=1e-12)
    assert r["initial_margin"] == pytest.approx(1.3 * 18_000.0, rel=1e-12)
    comp = {p["id"]: p["component_margin"] for p in r["positions"]}
    assert comp["b"] == pytest.approx(1.3 * 6_000.0, rel=1e-12)
    assert comp["e"] == pytest.approx(1.3 * 12_000.0, rel=1e-12)


def test_grids_of_different_lengths_per_underlying():
    # BTC 3 moves (0, +/-5 %), ETH 5 moves (0, +/-10 %, +/-20 %), no tails:
    # long 1 BTC at 60,000 -> 3,000; long 10 ETH at 3,000 -> 20 % x 30,000 = 6,000; MM 9,000
    doc = _two_perps({"moves": {"BTC": [-0.05, 0.0, 0.05], "*": [-0.2, -0.1, 0.0, 0.1, 0.2]}, "tail": []})
    r = build_report(portfolio_from_dict(doc), "account:a")
    assert r["maintenance_margin"] == pytest.approx(9_000.0, rel=1e-12)
    total = sum(p["component_margin"] for p in r["positions"]) + sum(r["collateral_components"].values())
    assert total == pytest.approx(r["initial_margin"], rel=1e-12)
