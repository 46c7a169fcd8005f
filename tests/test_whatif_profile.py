"""Risk profile (date and vol), pool view, venue comparison and the scipy suggestions."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from shared_paths import EXAMPLES

from workstation.core.model import Account, Pool, Portfolio, Position, Quote
from workstation.core.pool_view import first_to_liquidate, pool_margining
from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report
from workstation.core.risk_profile import AgedState, Horizon, crossings, date_stops, next_weekly_expiry, profile
from workstation.core.suggest import HedgeProblem, largest_size, suggest
from workstation.core.venue_compare import compare_venues
from workstation.core.whatif import compare, with_trades
from workstation.core.whatif_session import WhatIfSession

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"
AS_OF = datetime(2026, 11, 25, 8, tzinfo=UTC)  # a Wednesday


def one_option(q: float = 2.0, days: int = 10, collateral: float = 50_000.0, mode: str = "cross") -> Portfolio:
    call = Position("c", "option", "BTC", q, 1_000.0, "linear", AS_OF + timedelta(days=days), "call", 90_000.0, 0.6)
    acc = Account("a", mode, {"USDT": collateral}, [call], profile="default")
    return Portfolio(AS_OF, {"BTC": Quote(90_000.0, 0.6), "ETH": Quote(3_000.0, 0.7), "USDT": Quote(1.0)}, [acc],
                     rate=0.0)


def black(F: float, K: float, T: float, vol: float) -> float:
    """Call price, independently of the engine's pricing (scipy's normal)."""
    d1 = (math.log(F / K) + 0.5 * vol * vol * T) / (vol * math.sqrt(T))
    return F * norm.cdf(d1) - K * norm.cdf(d1 - vol * math.sqrt(T))


def test_next_weekly_expiry_and_date_stops() -> None:
    assert next_weekly_expiry(AS_OF) == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert next_weekly_expiry(datetime(2026, 11, 27, 8, tzinfo=UTC)) == datetime(2026, 12, 4, 8, tzinfo=UTC)
    book = WhatIfSession(read_portfolio(DEMO), "account:deribit-pm").scope.book
    stops = dict(date_stops(AS_OF, [book]))
    assert stops[0.0] == "today" and "weekly" in stops[2.0]
    assert {30.0, 65.0, 121.0} <= set(stops)  # 25 Dec 26, 29 Jan 27, 26 Mar 27


def test_today_profile_passes_through_the_report() -> None:
    book = read_portfolio(DEMO)
    s = WhatIfSession(book, "account:deribit-pm")
    report = s.before_report
    col = list(book.market).index("BTC")
    state = AgedState(s.before, Horizon(), col)
    moves = np.linspace(-0.4, 0.4, 9)  # 0 is the 5th point of both grids
    out = profile(state, moves, moves, reference=report["equity"])
    assert out["equity"][4] == pytest.approx(report["equity"], rel=1e-12)
    assert out["pnl"][4] == pytest.approx(0.0, abs=1e-9 * report["equity"])
    assert out["maintenance_margin"][4] == pytest.approx(report["maintenance_margin"], rel=1e-12)
    np.testing.assert_allclose(out["mm_equity"], out["equity"], rtol=1e-12)  # both grids agree


def test_a_date_ages_the_options_and_settles_the_expired() -> None:
    book = one_option(q=2.0, days=10)
    s = WhatIfSession(book, "account:a")
    col = list(book.market).index("BTC")
    moves = np.array([-0.1, 0.0, 0.1])
    prices = 90_000.0 * (1 + moves)
    # 4 days on: 6 days left, Black-76 at T = 6/365 (rate 0: F = S)
    four = AgedState(s.before, Horizon(days=4.0), col)
    want = [50_000.0 + 2.0 * black(p, 90_000.0, 6 / 365, 0.6) for p in prices]
    np.testing.assert_allclose(four.equity(moves), want, rtol=1e-12)
    # vols +10 points on BTC's options
    shifted = AgedState(s.before, Horizon(days=4.0, vol_shift=0.10), col)
    want = [50_000.0 + 2.0 * black(p, 90_000.0, 6 / 365, 0.7) for p in prices]
    np.testing.assert_allclose(shifted.equity(moves), want, rtol=1e-12)
    # 15 days on: settled at the price on the axis, worth its intrinsic value, no margin left
    after = AgedState(s.before, Horizon(days=15.0), col)
    np.testing.assert_allclose(after.equity(moves), 50_000.0 + 2.0 * np.maximum(prices - 90_000.0, 0.0),
                               rtol=1e-15)
    eq, mm = after.equity_mm(moves)
    np.testing.assert_allclose(eq, after.equity(moves), rtol=1e-12)
    assert np.all(mm == 0.0)


def test_crossings_interpolate_the_nearest_sign_change() -> None:
    prices = np.array([80.0, 90.0, 100.0, 110.0, 120.0])
    f = np.array([-10.0, 10.0, 20.0, 5.0, -15.0])
    down, up = crossings(prices, f, 100.0)
    assert down == pytest.approx(85.0) and up == pytest.approx(112.5)
    assert crossings(prices, np.ones(5), 100.0) == (None, None)


def test_the_after_profile_is_the_booked_books_profile() -> None:
    book = read_portfolio(DEMO)
    trade = Position("t", "perpetual", "BTC", -273_740.0, 91_245.5, "inverse")
    s = WhatIfSession(book, "account:deribit-pm")
    res = compare(s, "deribit-pm", [trade], liquidity="taker")
    col = list(book.market).index("BTC")
    moves = np.linspace(-0.3, 0.3, 7)
    h = Horizon(days=30.0, vol_shift=-0.05)
    base = AgedState(s.before, h, col)
    got = profile(AgedState(res.prepared, h, col, base=base), moves, moves, 0.0)
    booked = WhatIfSession(with_trades(book, "deribit-pm", res.trades, res.legs), "account:deribit-pm")
    want = profile(AgedState(booked.before, h, col), moves, moves, 0.0)
    for key in ("equity", "maintenance_margin"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12)


def test_pool_margining_and_first_to_liquidate() -> None:
    book = read_portfolio(DEMO)
    m = pool_margining(book, "all")
    assert not m.together and set(m.venues) == {"deribit", "binance", "bybit"} and "Compared here only" in m.text
    same = replace(book, pools=[Pool("p", ["deribit-pm"], "portfolio", "default")])
    assert pool_margining(same, "p").together
    members = {a: build_report(book, f"account:{a}") for a in ("deribit-pm", "binance-usdm", "bybit-uta")}
    first = first_to_liquidate(members)
    # binance: all assets together +32.4 % is the smallest move of any member (deribit's is +472 %)
    assert first.account == "binance-usdm" and first.underlying == "all"
    assert first.pct == pytest.approx(members["binance-usdm"]["liquidation"]["all"]["up_pct"])


def test_venue_comparison_of_the_drafts() -> None:
    book = read_portfolio(DEMO)
    trade = Position("t", "perpetual", "BTC", -273_740.0, 91_245.5, "inverse")
    rows = compare_venues(book, "deribit-pm", [trade])
    priced = [r["im_after"] for r in rows if r["im_after"] is not None]
    assert priced == sorted(priced) and len(priced) >= 4
    own = next(r for r in rows if r["current"])
    assert own["profile"] == "deribit-pm" and own["mode"] == "portfolio"
    report = build_report(book, "account:deribit-pm")
    assert own["im_before"] == pytest.approx(report["initial_margin"], rel=1e-12)
    assert own["fees"] == pytest.approx(0.0005 * 273_740, rel=1e-9)  # taker 0.05 % of the USD amount
    binance = next(r for r in rows if r["profile"] == "binance-usdm")
    assert binance["mode"] == "cross"


def test_margin_suggestion_is_the_grids_best_and_a_local_minimum() -> None:
    book = read_portfolio(EXAMPLES / "deribit-options-book.json")
    perp = replace(book.account("deribit-btc").positions[-1], id="h", quantity=0.0)
    res = suggest(book, "deribit-btc", perp, "margin", curve=True)
    q = res["suggestion"]["quantity"]
    curve = res["curve"]
    p = HedgeProblem(WhatIfSession(book, "account:deribit-btc"), "deribit-btc", perp)
    best = p.initial_margin(q)
    assert best <= curve["initial_margin"].min() * (1 + 1e-12)  # no scanned size does better
    step = abs(curve["sizes"][1] - curve["sizes"][0])
    for nudge in (-0.01, 0.01):
        assert p.initial_margin(q + nudge * step) >= best * (1 - 1e-12)
    assert res["after"]["initial_margin"] == pytest.approx(best, rel=1e-9)


def test_delta_suggestion_pays_its_fee_and_still_hedges() -> None:
    book = read_portfolio(DEMO)
    perp = Position("h", "perpetual", "BTC", 1.0, 91_245.5, "inverse")
    res = suggest(book, "deribit-pm", perp, "delta", liquidity="taker")
    s = res["suggestion"]
    assert s["fee_base"] > 0
    assert res["after"]["greeks"]["BTC"]["delta"] == pytest.approx(0.0, abs=1e-9)


def test_largest_size_that_fits_free_margin() -> None:
    book = one_option(q=1.0, days=30, collateral=20_000.0)
    session = WhatIfSession(book, "account:a")
    perp = Position("h", "perpetual", "BTC", 1.0, 90_000.0, "linear")
    p = HedgeProblem(session, "a", perp, liquidity="taker")
    q = largest_size(p, 1.0)
    assert q is not None and q > 0
    assert p.free_margin(q) == pytest.approx(0.0, abs=1e-6 * 20_000)
    assert p.free_margin(q * 1.001) < 0 < p.free_margin(q * 0.999)
    # the same through the full what-if (the booked book's figures)
    r = compare(session, "a", [replace(perp, quantity=q)], liquidity="taker").after
    assert r["equity"] - r["initial_margin"] == pytest.approx(0.0, abs=1e-6 * 20_000)


def test_aging_keeps_the_forwards_carry() -> None:
    # a linear future, rate 5 %: at d days on it is worth q (S exp(r (T - d)) - entry)
    fut = Position("f", "future", "BTC", 2.0, 90_000.0, "linear", AS_OF + timedelta(days=60))
    acc = Account("a", "cross", {"USDT": 10_000.0}, [fut], profile="default")
    book = Portfolio(AS_OF, {"BTC": Quote(90_000.0, 0.6), "USDT": Quote(1.0)}, [acc], rate=0.05)
    s = WhatIfSession(book, "account:a")
    moves = np.array([-0.1, 0.0, 0.2])
    state = AgedState(s.before, Horizon(days=20.0), 0)
    prices = 90_000.0 * (1 + moves)
    want = 10_000.0 + 2.0 * (prices * math.exp(0.05 * 40 / 365) - 90_000.0)
    np.testing.assert_allclose(state.equity(moves), want, rtol=1e-12)


def test_concatenated_books_equal_a_book_of_all_rows() -> None:
    from dataclasses import fields

    from workstation.core.book import Book
    from workstation.core.incremental import concat_books

    book = read_portfolio(DEMO)
    rows = [(a.id, p) for a in book.accounts for p in a.positions]
    whole = Book.from_positions(rows, book)
    joined = concat_books(Book.from_positions(rows[:7], book), Book.from_positions(rows[7:], book))
    for f in fields(Book):
        a, b = getattr(joined, f.name), getattr(whole, f.name)
        if isinstance(b, np.ndarray):
            same = (a == b).all() if a.dtype == object else np.array_equal(a, b, equal_nan=True)
            assert a.shape == b.shape and same, f.name
        else:
            assert a == b, f.name
