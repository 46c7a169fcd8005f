"""The liquidation suggestion (core/suggest.py, `furthest_liquidation`): the size that pushes the
nearest liquidation on the hedge's underlying furthest away, from a 9-size scan refined where
the down and up distances cross (brentq) or meet at no liquidation."""

from __future__ import annotations

import pytest
from test_whatif_session import random_book

from workstation.core.model import Position
from workstation.core.suggest import NO_LIQUIDATION, HedgeProblem, suggest
from workstation.core.whatif_session import WhatIfSession

HEDGE = Position("h", "perpetual", "BTC", 1.0, 91_250.0, "linear")


def _best_nearby(p: HedgeProblem, q: float, dist: float) -> None:
    for nudge in (0.99, 1.01, 0.9, 1.1):
        assert p.distance(q * nudge) <= dist + 1e-12, nudge


def test_the_suggestion_sits_where_down_and_up_cross() -> None:
    # cross account, BTC perp hedge: down falls and up rises with the size; the best size is
    # where they are equal (0.8394 on both sides here), not a scanned size
    book = random_book(2, "cross")
    res = suggest(book, "a0", HEDGE, "liquidation", curve=True)
    s = res["suggestion"]
    p = HedgeProblem(WhatIfSession(book, "account:a0"), "a0", HEDGE)
    down, up = p.sides(s["quantity"])
    assert down == pytest.approx(up, rel=1e-8)
    assert s["distance_after_pct"] == pytest.approx(100 * min(down, up), rel=1e-12)
    assert s["distance_after_pct"] >= max(res["curve"]["distance_pct"]) - 1e-9  # no evaluated size does better
    _best_nearby(p, s["quantity"], min(down, up))
    # the report after the hedge shows the same nearest liquidation
    liq = res["after"]["liquidation"]["BTC"]
    assert min(-liq["down_pct"], liq["up_pct"]) == pytest.approx(s["distance_after_pct"], abs=2e-4)


def test_a_size_without_liquidation_is_taken_nearest_the_delta_hedge() -> None:
    # the demo's Binance account: a range of BTC perp sizes leaves no liquidation within
    # -99 % .. +500 %; all as good, the one nearest the delta hedge is taken
    from pathlib import Path

    import numpy as np

    from workstation.core.portfolio_io import read_portfolio

    book = read_portfolio(Path(__file__).parents[1] / "resources" / "demo" / "demo-portfolio.json")
    hedge = Position("h", "perpetual", "BTC", 1.0, float(book.market["BTC"].price), "linear")
    res = suggest(book, "binance-usdm", hedge, "liquidation", curve=True)
    s = res["suggestion"]
    assert s["distance_after_pct"] == pytest.approx(100 * NO_LIQUIDATION)
    assert res["after"]["liquidation"]["BTC"]["down_pct"] is None
    assert res["after"]["liquidation"]["BTC"]["up_pct"] is None
    delta = suggest(book, "binance-usdm", hedge, "delta")["suggestion"]["quantity"]
    sizes, dist = res["curve"]["sizes"], res["curve"]["distance_pct"]
    free = sizes[np.isnan(dist)]  # sizes with no liquidation in range
    assert free.size >= 1 and 0.0 not in free  # the account liquidates without a hedge
    assert s["quantity"] in free
    assert abs(s["quantity"] - delta) == pytest.approx(np.abs(free - delta).min(), rel=1e-12)
