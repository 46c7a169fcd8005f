"""The engine's kept arrays give the figures a fresh computation gives (review of issue 14's speed work).

- A suggestion builds the drafts' and the hedge's rows once and sets the hedge's quantity per size
  (`HedgeProblem._book`, `Book.with_qty`): every column, and what is derived from them, equals
  `Book.from_positions` of the drafts and that size of the hedge.
- The tier tables are kept per profile object (`per_position.tier_table`): a profile with other
  brackets, built after many others (ids of freed profiles reused), gets its own brackets; a
  sub-book priced on the whole book's table gets the brackets of its own table.
- A method's snapshot equity and MM are kept per snapshot object: a new snapshot (a what-if's
  `seed_snapshot`) is read afresh.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workstation.core.book import Book
from workstation.core.methods import method_for
from workstation.core.methods.per_position import PositionRequirements, _tier_table, tier_table
from workstation.core.model import Account, Portfolio, Position, Quote
from workstation.core.profile_fields import FrozenMap
from workstation.core.profile_model import Tier
from workstation.core.report import make_scope
from workstation.core.suggest import HedgeProblem
from workstation.core.whatif_session import WhatIfSession

AS_OF = datetime(2026, 3, 2, 8, tzinfo=UTC)
PRICES = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 140.0}
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == object or b.dtype == object:
        return a.shape == b.shape and list(a) == list(b)
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


@st.composite
def trades(draw, prefix: str, n_max: int) -> list[Position]:
    out = []
    for i in range(draw(st.integers(0, n_max))):
        u = draw(st.sampled_from(list(PRICES)))
        s = PRICES[u]
        kind = draw(st.sampled_from(["perpetual", "future", "option", "spot"]))
        settle = draw(st.sampled_from(["linear", "inverse"])) if kind != "spot" else "linear"
        expiry = AS_OF + timedelta(days=draw(st.integers(1, 200))) if kind in ("future", "option") else None
        q = draw(st.floats(-5.0, 5.0).filter(lambda x: abs(x) > 1e-3))
        lev = draw(st.sampled_from([None, 3.0, 20.0])) if kind in ("perpetual", "future") else None
        iso = draw(st.sampled_from([None, 500.0]))
        mark = s * 1.01 if kind == "perpetual" and draw(st.booleans()) else None
        if kind == "option":
            out.append(Position(f"{prefix}{i}", "option", u, q, 0.0, settle, expiry,
                                draw(st.sampled_from(["call", "put"])), s * draw(st.floats(0.7, 1.3)),
                                draw(st.sampled_from([None, 0.5])), isolated_margin=iso))
        else:
            out.append(Position(f"{prefix}{i}", kind, u, q * s if settle == "inverse" else q, s, settle, expiry,
                                isolated_margin=iso, mark_price=mark, leverage=lev))
    return out


def _portfolio(held: list[Position], mode: str) -> Portfolio:
    market = {a: Quote(p, 0.6) for a, p in PRICES.items()} | {"USDT": Quote(1.0)}
    acc = Account(id="a", margin_mode=mode, collateral={"USDT": 50_000.0}, positions=held, profile="default")
    return Portfolio(as_of=AS_OF, market=market, accounts=[acc])


@SETTINGS
@given(held=trades("p", 4), drafts=trades("d", 3), hedge=trades("h", 1).filter(bool),
       sizes=st.lists(st.floats(-50.0, 50.0).filter(lambda x: x != 0.0), min_size=1, max_size=4),
       mode=st.sampled_from(["cross", "isolated", "portfolio"]))
def test_a_hedge_size_sets_every_column_a_fresh_book_has(held, drafts, hedge, sizes, mode) -> None:
    iso = 500.0 if mode == "isolated" else None
    held, drafts, hedge = ([replace(p, isolated_margin=iso, leverage=None if mode == "portfolio" else p.leverage)
                            for p in ps] for ps in (held, drafts, hedge))
    session = WhatIfSession(_portfolio(held, mode), "account:a")
    problem = HedgeProblem(session, "a", hedge[0], drafts)
    for q in sizes:
        got = problem._book(q)
        want = Book.from_positions([("a", t) for t in [*problem.drafts, problem.trade(q)]], session.portfolio)
        for f in fields(Book):
            assert _same(getattr(got, f.name), getattr(want, f.name)), f.name
        for f in fields(got.groups):
            assert _same(getattr(got.groups, f.name), getattr(want.groups, f.name)), f.name
        assert all(_same(x, y) for x, y in zip(got.option_groups, want.option_groups, strict=True))


@st.composite
def tier_tables(draw) -> FrozenMap:
    tables = {}
    for u in draw(st.lists(st.sampled_from([*PRICES, "*"]), min_size=1, max_size=3, unique=True)):
        bounds = sorted(draw(st.lists(st.floats(1e3, 1e6), min_size=1, max_size=4, unique=True)))
        rates = sorted(draw(st.lists(st.floats(0.001, 0.2), min_size=len(bounds), max_size=len(bounds))))
        amount = draw(st.sampled_from([0.0, 10.0]))
        tables[u] = tuple(Tier(b, 2 * r, r, amount) for b, r in zip(bounds, rates, strict=True))
    if "*" not in tables:
        tables["*"] = (Tier(1e30, 0.02, 0.01),)
    return FrozenMap(tables)


@SETTINGS
@given(held=trades("p", 6).filter(lambda ps: any(p.kind in ("perpetual", "future") for p in ps)),
       tables=st.lists(tier_tables(), min_size=2, max_size=4))
def test_each_profile_prices_on_its_own_brackets(held, tables) -> None:
    portfolio = _portfolio(held, "cross")
    base = make_scope(portfolio, "account:a")
    book = base.book
    used = np.zeros(len(book.assets), dtype=bool)
    used[book.und[book.is_delta_one]] = True
    for round_ in range(2):  # the second round: every profile's table is kept by then
        for tiers in tables:
            profile = replace(base.profile, tiers=tiers)  # a new object: freed ones' ids come back
            for _ in range(70 if round_ == 0 else 0):  # more profiles than the cache keeps
                tier_table(replace(base.profile, tiers=tiers), book.assets, used)
            fresh = _tier_table(profile, book.assets, used)
            kept = tier_table(profile, book.assets, used)
            for k, v in fresh.items():
                np.testing.assert_array_equal(kept[k], v)
            im, mm = PositionRequirements(book, profile).at()
            im0, mm0 = PositionRequirements(book, profile, fresh).at()
            np.testing.assert_allclose(im, im0, rtol=1e-14)
            np.testing.assert_allclose(mm, mm0, rtol=1e-14)


@SETTINGS
@given(held=trades("p", 6).filter(lambda ps: len({p.underlying for p in ps}) > 1), tiers=tier_tables(),
       mode=st.sampled_from(["cross", "isolated"]), x=st.floats(-0.5, 0.8))
def test_a_subset_priced_on_the_books_table_gets_its_own_brackets(held, tiers, mode, x) -> None:
    scope = make_scope(_portfolio(held, mode), "account:a")
    scope = replace(scope, profile=replace(scope.profile, tiers=tiers))
    m = method_for(scope)
    for a in m.assets:
        sub = m.subset((a,))
        own = PositionRequirements(sub.book, m.profile)  # its own table (only its assets used)
        spot = sub.book.spot * (1.0 + x)
        for got, want in zip(m._reqs(sub).at(spot[None, :]), own.at(spot[None, :]), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-14)


def test_a_new_snapshot_is_read_afresh() -> None:
    held = [Position("p", "perpetual", "BTC", 1.0, 60_000.0), Position("q", "perpetual", "ETH", -10.0, 3_000.0)]
    m = method_for(make_scope(_portfolio(held, "cross"), "account:a"))
    eq0 = m._equity0()
    p0 = m.snapshot()
    m._p0 = type(p0)(p0.equity + 100.0, {k: v * 2.0 for k, v in p0.terms.items()})
    assert abs(m._equity0() - (eq0 + 100.0 * p0.equity.shape[1])) < 1e-9 * abs(eq0)
    np.testing.assert_allclose(m._snapshot_figures()[1], 2.0 * m.combine(p0.terms)[1], rtol=1e-14)
