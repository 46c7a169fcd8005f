"""The incremental what-if equals a full recompute: random books, every mode, accounts and pools.

The reference is the book as Apply to book leaves it (`with_trades`: trades added, cash legs paid)
reported from scratch by `build_report`. Figures agree to 1e-12 (relative, with an absolute floor of
1e-12 of the book's equity); liquidation moves to 2e-6 (the search's tolerance is 1e-6 of the price:
two searches on figures equal to rounding may stop one step apart).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workstation.core.model import Account, Pool, Portfolio, Position, Quote
from workstation.core.report import build_report
from workstation.core.whatif import compare, whatif, with_trades
from workstation.core.whatif_session import WhatIfSession

AS_OF = datetime(2026, 11, 25, 8, tzinfo=UTC)
PRICES = {"BTC": 91_250.0, "ETH": 3_012.5, "SOL": 138.4}
TOP = ("collateral_value", "equity", "initial_margin", "maintenance_margin", "standalone_initial_margin",
       "offset")


def _position(rng: np.random.Generator, i: int, isolated: bool) -> Position:
    u = str(rng.choice(list(PRICES)))
    s = PRICES[u]
    kind = str(rng.choice(["option", "option", "future", "perpetual", "spot"]))
    inverse = kind != "spot" and u != "SOL" and rng.random() < 0.5
    settle = "inverse" if inverse else "linear"
    q = float(rng.normal(0, 3))
    expiry = AS_OF + timedelta(days=int(rng.integers(1, 120)))
    iso = float(rng.uniform(100, 5_000)) if isolated else None
    if kind == "option":
        k = float(round(s * rng.uniform(0.7, 1.3)))
        entry = 0.02 if inverse else s * 0.03
        return Position(f"p{i}", "option", u, q, entry, settle, expiry, str(rng.choice(["call", "put"])), k,
                        float(rng.uniform(0.3, 1.0)), isolated_margin=iso)
    if kind == "spot":
        return Position(f"p{i}", "spot", u, abs(q), s * 0.95, "linear", isolated_margin=iso)
    qty = q * s if inverse else q
    return Position(f"p{i}", kind, u, qty, s * float(rng.uniform(0.9, 1.1)), settle,
                    expiry if kind == "future" else None, isolated_margin=iso)


def random_book(seed: int, mode: str) -> Portfolio:
    rng = np.random.default_rng(seed)
    market = {a: Quote(p, 0.6, funding_rate=0.0001 * float(rng.normal())) for a, p in PRICES.items()}
    market["USDT"] = Quote(1.0)
    accounts = []
    for a in range(2):
        iso = mode == "isolated"
        positions = [_position(rng, i, iso) for i in range(int(rng.integers(3, 12)))]
        collateral = {"USDT": float(rng.uniform(5e3, 1e5)), "BTC": float(rng.uniform(0, 1))}
        accounts.append(Account(f"a{a}", mode, collateral, positions,
                                profile="deribit-pm" if mode == "portfolio" else "binance-usdm"))
    pools = [Pool("p", ["a0", "a1"], "portfolio" if mode == "portfolio" else "cross", "default")]
    return Portfolio(AS_OF, market, accounts, pools, rate=0.03)


def random_trades(seed: int, mode: str) -> list[Position]:
    rng = np.random.default_rng(seed + 10_000)
    return [_position(rng, 100 + i, mode == "isolated") for i in range(int(rng.integers(1, 4)))]


def assert_same(got: dict, want: dict) -> None:
    scale = max(1.0, abs(want["equity"]))
    for key in TOP:
        assert math.isclose(got[key], want[key], rel_tol=1e-12, abs_tol=1e-12 * scale), key
    gp = {(p["account"], p["id"]): p for p in got["positions"]}
    assert len(gp) == len(want["positions"])
    for p in want["positions"]:
        g = gp[(p["account"], p["id"])]
        for key in ("market_value", "delta", "gamma", "vega", "component_margin", "standalone_margin",
                    "marginal_margin"):
            assert math.isclose(g[key], p[key], rel_tol=1e-12, abs_tol=1e-12 * scale), (p["id"], key)
    for und, gr in want["greeks"].items():
        for key, v in gr.items():
            assert math.isclose(got["greeks"][und][key], v, rel_tol=1e-12, abs_tol=1e-12 * scale), (und, key)
    assert set(got["liquidation"]) == set(want["liquidation"])
    for und, liq in want["liquidation"].items():
        for side in ("down_pct", "up_pct"):
            a, b = got["liquidation"][und][side], liq[side]
            assert (a is None) == (b is None), (und, side, a, b)
            if a is not None:
                assert abs(a - b) <= 2e-4, (und, side, a, b)  # percent: 2e-6 of the price


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(["portfolio", "cross", "isolated"]),
       fee=st.sampled_from([None, "taker"]))
def test_incremental_account_whatif_equals_a_full_recompute(seed: int, mode: str, fee: str | None) -> None:
    book = random_book(seed, mode)
    trades = random_trades(seed, mode)
    session = WhatIfSession(book, "account:a0")
    res = compare(session, "a0", trades, liquidity=fee)
    full = build_report(with_trades(book, "a0", trades, res.legs), "account:a0")
    assert_same(res.after, full)
    assert_same(res.before, build_report(book, "account:a0"))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(["portfolio", "cross"]))
def test_incremental_pool_whatif_equals_a_full_recompute(seed: int, mode: str) -> None:
    book = random_book(seed, mode)
    trades = random_trades(seed, mode)
    session = WhatIfSession(book, "pool:p")
    res = compare(session, "a1", trades, liquidity="maker", members=True)
    after_book = with_trades(book, "a1", trades, res.legs)
    full = build_report(after_book, "pool:p")
    assert_same(res.after, full)
    assert math.isclose(res.after["segregated_initial_margin"], full["segregated_initial_margin"], rel_tol=1e-12)
    assert_same(res.members["a1"]["after"], build_report(after_book, "account:a1"))
    assert res.members["a0"]["after"] == res.members["a0"]["before"]


def test_a_size_slider_reuses_the_before_state() -> None:
    """Successive sizes of one draft: the untouched columns' liquidation pieces come from the
    memo (the grid is not revalued for them), and the figures still equal a full recompute."""
    book = random_book(7, "portfolio")
    session = WhatIfSession(book, "account:a0")
    session.before_report  # noqa: B018  (prepares the before's liquidation memo)
    base = Position("h", "perpetual", "ETH", 1.0, PRICES["ETH"], "linear")
    for q in (-5.0, -5.5, -6.0):
        trade = Position("h", "perpetual", "ETH", q, PRICES["ETH"], "linear")
        res = compare(session, "a0", [trade])
        assert_same(res.after, build_report(with_trades(book, "a0", [trade]), "account:a0"))
        memo = res.prepared.memo
        # only the ETH column (and collateral columns it drives) was revalued on the grid
        eth = list(book.market).index("ETH")
        evaluated_columns = {c for (c, _x) in memo._memo if (c, _x) not in session.before.memo._memo}
        assert evaluated_columns <= {eth}, evaluated_columns
    assert base.quantity == 1.0


def test_whatif_keeps_its_contract() -> None:
    book = random_book(3, "cross")
    trade = Position("t", "perpetual", "BTC", 0.5, PRICES["BTC"], "linear")
    out = whatif(book, "a0", [trade])
    assert {"before", "after", "delta", "cash", "funding_per_day"} <= set(out)
    assert out["delta"]["initial_margin"] == pytest.approx(
        out["after"]["initial_margin"] - out["before"]["initial_margin"], rel=1e-12)


@pytest.mark.parametrize("case", [0, 7, 19])
def test_incremental_whatif_under_derive_pmrm2(case: int) -> None:
    """Every margin method, not only risk arrays: the published Derive PMRM_2 books."""
    from pathlib import Path

    from shared_paths import EXAMPLES

    from workstation.core.portfolio_io import read_portfolio

    files = sorted(Path(EXAMPLES / "derive-pmrm2").glob("test_*.json"))
    book = read_portfolio(files[case])
    acc = book.accounts[0]
    pos = next(p for p in acc.positions if p.kind in ("perpetual", "option"))
    trade = replace(pos, id="t", quantity=pos.quantity * 0.5)
    res = compare(WhatIfSession(book, f"account:{acc.id}"), acc.id, [trade], liquidity="taker")
    assert_same(res.after, build_report(with_trades(book, acc.id, res.trades, res.legs), f"account:{acc.id}"))
