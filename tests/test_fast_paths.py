"""The speed paths give the figures of a plain evaluation (issue 14, deliverable 5).

`MarginMethod.use_fast = False` turns every fast path off: moved states by revaluing every
position (`plain_parts`) instead of the risk-array method's closed forms per column, and the
state "only column a moved" by combining (K, A, A) terms instead of MM0 + that column's change.
Over random books in every mode the whole report, liquidation distances included, is the same
to a relative 1e-12 (liquidation to 1e-12 of the move plus the search's own rounding, which
cannot move a root by more than a few ulp of the move).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from workstation.core.methods import MarginMethod, method_for
from workstation.core.report import build_report, make_scope

sys.path.insert(0, str(Path(__file__).resolve().parent))
import liquidation_books as LX
from conftest import assert_documents_close


def _compare(fast, plain) -> None:
    assert_documents_close(fast, plain, lambda path: 1e-9 if ".liquidation." in path else 1e-12 * 1e6,
                           names=("fast", "plain"))


def _same_liquidation(p, fast, plain):
    """Liquidation distances equal to 1e-12, or both at an ill-conditioned root: where f is
    within rounding noise of 0 over a stretch (a long option worth nothing far out of the money:
    equity and MM both vanish), any rounding difference moves the first f <= noise."""
    m = method_for(make_scope(p, "account:a"))
    scale = abs(m.equity()) + abs(m.requirement()[1]) + 1.0
    names = [m.book.assets[a] for a in m.assets]
    for key, d in fast["liquidation"].items():
        for k, v in d.items():
            w = plain["liquidation"][key][k]
            if v is None or w is None or not k.endswith("_pct") or math.isclose(v, w, rel_tol=1e-12, abs_tol=1e-9):
                continue
            for x in (v / 100, w / 100):
                X = np.zeros((1, m.n_assets))
                if key == "all":
                    X[0, m.assets] = x
                    f = m.f_all(m.plain_parts(X, None))[0]
                else:
                    a = m.assets[names.index(key)]
                    X[0, a] = x
                    f = m.f_single(m.plain_parts(X, None))[0, a]
                assert abs(f) <= 1e-9 * scale, f"{key}.{k}: fast {v!r} plain {w!r}, f = {f!r}"
            d[k] = w  # equal for the comparison of the rest
            if k.replace("pct", "price") in d:
                d[k.replace("pct", "price")] = plain["liquidation"][key][k.replace("pct", "price")]


def _both(p, monkeypatch):
    with np.errstate(all="ignore"):
        fast = build_report(p, "account:a")
        monkeypatch.setattr(MarginMethod, "use_fast", False)
        try:
            plain = build_report(p, "account:a")
        finally:
            monkeypatch.setattr(MarginMethod, "use_fast", True)
    return fast, plain


_SETTINGS = settings(max_examples=30, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("mode", ["cross", "isolated", "portfolio"])
def test_report_is_the_same_with_and_without_the_fast_paths(mode, monkeypatch):
    @_SETTINGS
    @given(p=LX.books(mode))
    def check(p):
        fast, plain = _both(p, monkeypatch)
        with np.errstate(all="ignore"):
            _same_liquidation(p, fast, plain)
        _compare(fast, plain)

    check()


@_SETTINGS
@given(p=LX.books("portfolio"))
def test_risk_array_moved_states_match_a_plain_revaluation(p):
    # every column's equity and terms at random moves, all columns or a few revalued
    m = method_for(make_scope(p, "account:a"))
    rng = np.random.default_rng(3)
    X = rng.uniform(-0.99, 5.0, (9, m.n_assets))
    for only in (None, tuple(m.assets[:1])):
        with np.errstate(all="ignore"):
            a, b = m.plain_parts(X, only), m.fast_parts(X, only)
        scale = np.abs(a.equity).max() + 1.0
        np.testing.assert_allclose(b.equity, a.equity, rtol=1e-12, atol=1e-12 * scale)
        for k, v in a.terms.items():
            np.testing.assert_allclose(b.terms[k], v, rtol=1e-12, atol=1e-12 * scale)


@_SETTINGS
@given(p=LX.books("portfolio"))
def test_risk_array_position_pnl_matches_the_plain_scenario_pnl(p):
    m = method_for(make_scope(p, "account:a"))
    with np.errstate(all="ignore"):
        plain = m.scenario_pnl(m.book)
        fast = m.fast().position_pnl()
    scale = np.abs(plain).max(initial=0.0) + 1.0
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-12 * scale)


def test_a_position_carrying_its_columns_whole_loss_has_a_sound_marginal():
    """Correlated aggregation, and a position whose removal leaves its column (the only one with a
    loss) nearly loss-free: the expansion agg^2 + 2 delta (C L)_a + delta^2 C_aa cancelled to
    rounding noise and its square root made that about sqrt(eps) of the margin (5.6e-5 here), so
    the fast and plain paths disagreed. The marginal is now the margin less the margin of the
    book without the position, whichever path (found by hypothesis in a clean checkout)."""
    from dataclasses import replace

    from workstation.core.portfolio_io import portfolio_from_dict

    expiry = "2026-03-02T08:15:00Z"
    legs = [("p0", "future", None, None, -2.5), ("p1", "future", None, None, 1.0),
            ("p2put", "option", "put", 75000.0, -1.2987644598797408),
            ("p3call", "option", "call", 61875.0, 2.0), ("p3put", "option", "put", 61875.0, 2.0)]
    positions = [{"id": i, "kind": k, "underlying": "BTC", "settlement": "linear", "expiry": expiry,
                  "quantity": q, "entry_price": 60000.0 if k == "future" else 0.0}
                 | ({"right": r, "strike": s, "vol": 1.0} if k == "option" else {})
                 for i, k, r, s, q in legs]
    p = portfolio_from_dict({
        "format": "margin-workstation/portfolio@1", "as_of": "2026-03-02T08:00:00Z", "base_currency": "USD",
        "market": {"BTC": {"price": 60000.0, "vol": 0.6}, "ETH": {"price": 3000.0, "vol": 0.7},
                   "USDT": {"price": 1.0}},
        "accounts": [{"id": "a", "margin_mode": "portfolio", "profile": "binance-usdm",
                      "collateral": {"USDT": 0.0}, "positions": positions}],
        "profiles": {"binance-usdm": {"portfolio": {"aggregation": "correlated",
                                                    "correlation": {"BTC/ETH": 0.6}}}},
    })
    account = p.accounts[0]
    for use_fast in (True, False):
        MarginMethod.use_fast = use_fast
        try:
            r = build_report(p, "account:a", with_liquidation=False)
            for pos in account.positions:
                rest = replace(p, accounts=[replace(account, positions=[x for x in account.positions
                                                                        if x.id != pos.id])])
                im_without = build_report(rest, "account:a", with_liquidation=False)["initial_margin"]
                marginal = next(x for x in r["positions"] if x["id"] == pos.id)["marginal_margin"]
                assert math.isclose(marginal, r["initial_margin"] - im_without, rel_tol=1e-12,
                                    abs_tol=1e-12 * r["initial_margin"]), (use_fast, pos.id)
        finally:
            MarginMethod.use_fast = True
