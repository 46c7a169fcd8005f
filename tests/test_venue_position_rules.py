"""Per-position venue rules (venues.md 1 "Leverage", 2.6 size-linear rates, quantity tiers, 2.7
option standard margin with a fee term and max(entry, mark), quantity haircuts, liquidation
threshold), each against figures computed by hand in the comments."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from scipy.optimize import brentq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_spec_common as C

from workstation.core.errors import PortfolioError

SM_DAY = "2025-01-06T08:00:00Z"  # deribit-sm 2022-01-11 in force
BYBIT_DAY = "2024-10-23T09:28:30Z"  # bybit-rm 2023-12-04 in force


def _one(mode, positions, collateral, profile, as_of, prices, profiles=None):
    return C.portfolio([C.account("a", mode, collateral, positions, profile)], C.market(**prices),
                       profiles=profiles or {}, as_of=as_of)


def _rep(doc):
    return C.report(doc, "account:a")


# ------------------------------------------------------------------ size-linear (Deribit SM)
def test_deribit_sm_inverse_perpetual_rate_grows_with_size_in_coin() -> None:
    # short 1,000,000 USD of BTC-PERPETUAL at 50,000: size 20 BTC
    #   IM = (2 % + 0.005 % x 20) x 1,000,000 = 21,000 ; MM = (1 % + 0.005 % x 20) x 1,000,000 = 11,000
    # at 55,000: size 18.1818... BTC: IM = (0.02 + 0.00005 x 18.1818...) x 1,000,000 = 20,909.0909...
    doc = _one("cross", [C.perp("p", "BTC", -1_000_000, 50_000, "inverse")], {"BTC": 10}, "deribit-sm",
               SM_DAY, {"BTC": 50_000})
    r = _rep(doc)
    assert r["initial_margin"] == pytest.approx(21_000, rel=1e-12)
    assert r["maintenance_margin"] == pytest.approx(11_000, rel=1e-12)
    assert r["profile_version"] == "2022-01-11"
    up = _rep(C.with_price(doc, "BTC", 55_000))
    assert up["initial_margin"] == pytest.approx((0.02 + 0.00005 * 1_000_000 / 55_000) * 1_000_000, rel=1e-12)


def test_deribit_sm_linear_perpetual_rate_is_fixed_by_size_not_price() -> None:
    # 25 BTC_USDC: the rate 2.125 % holds at any price; at 110,000 IM = 0.02125 x 2,750,000 = 58,437.5
    doc = _one("cross", [C.perp("p", "BTC", 25, 100_000)], {"USDC": 1e6}, "deribit-sm", SM_DAY, {"BTC": 110_000})
    r = _rep(doc)
    assert r["initial_margin"] == pytest.approx(58_437.5, rel=1e-12)
    assert r["maintenance_margin"] == pytest.approx(0.01125 * 2_750_000, rel=1e-12)


# ------------------------------------------------------------------ quantity-denominated tiers
QTY_TIERS = {"tiers": {"BTC": [
    {"max_quantity": 10, "initial_rate": 0.01, "maintenance_rate": 0.005},
    # cum in coin: 10 x (1 % - 0.5 %) = 0.05 BTC, so MM is continuous at 10 BTC
    {"max_quantity": 1e30, "initial_rate": 0.02, "maintenance_rate": 0.01, "maintenance_amount": 0.05},
]}}


@pytest.mark.parametrize(("position", "mm", "im"), [
    # 15 BTC linear at 40,000: bracket 2: MM = 600,000 x 1 % - 0.05 x 40,000 = 4,000 ; IM = 12,000
    (C.perp("p", "BTC", 15, 40_000), 4_000.0, 12_000.0),
    # the same size as a COIN-M (inverse) short of 600,000 USD: 15 BTC at 40,000
    (C.perp("p", "BTC", -600_000, 40_000, "inverse"), 4_000.0, 12_000.0),
    # 8 BTC: bracket 1: MM = 320,000 x 0.5 % = 1,600 ; IM = 3,200
    (C.perp("p", "BTC", 8, 40_000), 1_600.0, 3_200.0),
])
def test_quantity_tiers(position, mm, im) -> None:
    doc = _one("cross", [position], {"USDT": 1e6}, "q", C.AS_OF, {"BTC": 40_000}, {"q": QTY_TIERS})
    r = _rep(doc)
    assert r["maintenance_margin"] == pytest.approx(mm, rel=1e-12)
    assert r["initial_margin"] == pytest.approx(im, rel=1e-12)


def test_quantity_tiers_are_continuous_at_the_bound() -> None:
    # at exactly 10 BTC both brackets give 0.05 x S
    doc = _one("cross", [C.perp("p", "BTC", 10, 40_000)], {"USDT": 1e6}, "q", C.AS_OF, {"BTC": 40_000},
               {"q": QTY_TIERS})
    assert _rep(doc)["maintenance_margin"] == pytest.approx(0.05 * 40_000, rel=1e-12)


# ------------------------------------------------------------------ per-position leverage
def _lev_doc(mode, leverage, q=2.0, kind="perp"):
    p = C.perp("p", "BTC", q, 30_000) if kind == "perp" else C.option("p", "BTC", "call", 30_000,
                                                                       C.expiry_in(30), -1, 100, vol=0.5)
    p["leverage"] = leverage
    if mode == "isolated":
        p["isolated_margin"] = 10_000.0
    return _one(mode, [p], {} if mode == "isolated" else {"USDT": 1e5}, "binance-usdm", "2024-10-01T00:00:00Z",
                {"BTC": 30_000})


@pytest.mark.parametrize("mode", ["cross", "isolated"])
def test_leverage_sets_im_not_mm(mode) -> None:
    # 2 BTC at 30,000 = 60,000 notional at 10x: IM 6,000; MM stays the bracket's (0.5 % - 50 = 250)
    r = _rep(_lev_doc(mode, 10))
    assert r["initial_margin"] == pytest.approx(6_000, rel=1e-12)
    assert r["maintenance_margin"] == pytest.approx(60_000 * 0.005 - 50, rel=1e-12)
    assert C.pos(r, "p")["component_margin"] == pytest.approx(6_000, rel=1e-12)


def test_portfolio_mode_ignores_leverage() -> None:
    doc = _lev_doc("cross", 10)
    plain = _lev_doc("cross", 10)
    for d in (doc, plain):
        d["accounts"][0]["margin_mode"] = "portfolio"
    del plain["accounts"][0]["positions"][0]["leverage"]
    assert _rep(doc)["initial_margin"] == _rep(plain)["initial_margin"]


@pytest.mark.parametrize(("doc", "expected"), [
    (_lev_doc("cross", 200, q=1.0), "at most 125"),  # 30,000 notional: bracket 1, 125x at most
    (_lev_doc("cross", 125, q=2.0), "at most 100"),  # 60,000 notional: bracket 2, 100x at most
    (_lev_doc("cross", 0.5), "a number >= 1"),
    (_lev_doc("cross", 5, kind="option"), "no leverage on a option"),
])
def test_leverage_is_refused_where_it_cannot_be(doc, expected) -> None:
    with pytest.raises(PortfolioError) as err:
        C.load(doc)
    assert err.value.path == "accounts[0].positions[0].leverage"
    assert expected in str(err.value)


def test_leverage_round_trips() -> None:
    from workstation.core.portfolio_io import loads_portfolio
    from workstation.core.portfolio_write import dumps_portfolio

    p = C.load(_lev_doc("cross", 10))
    assert loads_portfolio(dumps_portfolio(p)).accounts[0].positions[0].leverage == 10


# ------------------------------------------------------------------ option standard margin variants
def _vol_for(price, S, K, days, right):
    return brentq(lambda v: C.black(S, K, C.years(days), v, 0.0, right) - price, 1e-4, 5.0, xtol=1e-15)


@pytest.mark.parametrize(("entry", "im"), [(280.0, 2_315.0), (400.0, 2_425.0)])
def test_bybit_short_put_mm_with_fee_and_im_with_max_entry_mark(entry, im) -> None:
    # Bybit help, 'Comparison of Spread Strategies in Cross Margin and Portfolio Margin': short 1 BTC
    # 18,500 put, index 20,250, mark 290, entry 280:
    #   MM = max(0.03 x 20,250, 0.03 x 290) + 290 + 0.2 % x 20,250 = 607.5 + 290 + 40.5 = 938
    #   IM = max(max(0.15 x 20,250 - 1,750, 0.1 x 20,250) + max(280, 290), 938) = 2,025 + 290 = 2,315
    # with an entry of 400 above the mark the premium term is the entry: 2,025 + 400 = 2,425
    days = 7.0
    vol = _vol_for(290.0, 20_250, 18_500, days, "put")
    opt = C.option("p", "BTC", "put", 18_500, C.expiry_in(days, C.AS_OF_DT), -1, entry, vol=vol)
    doc = _one("cross", [opt], {"USDC": 10_000}, "bybit-rm", C.AS_OF, {"BTC": 20_250})
    r = _rep(doc)
    assert r["maintenance_margin"] == pytest.approx(938.0, rel=1e-9)
    assert r["initial_margin"] == pytest.approx(im, rel=1e-9)
    assert r["profile_version"] == "2023-12-04"


def test_bybit_inverse_option_entry_is_in_coin() -> None:
    # the same put settled in coin: an entry of 0.02 BTC is 405 USD at 20,250 > the mark 290
    vol = _vol_for(290.0, 20_250, 18_500, 7.0, "put")
    opt = C.option("p", "BTC", "put", 18_500, C.expiry_in(7.0, C.AS_OF_DT), -1, 0.02, "inverse", vol=vol)
    r = _rep(_one("cross", [opt], {"BTC": 1}, "bybit-rm", C.AS_OF, {"BTC": 20_250}))
    assert r["initial_margin"] == pytest.approx(2_025 + 0.02 * 20_250, rel=1e-9)


# ------------------------------------------------------------------ collateral tiers by quantity
def test_bybit_collateral_ratio_by_quantity() -> None:
    # Bybit's example: 0-10 BTC at 0.98, 10-20 at 0.95: 15 BTC at 60,000 = (10 x 0.98 + 5 x 0.95) x 60,000
    doc = _one("portfolio", [], {"BTC": 15}, "bybit-pm", "2025-06-01T00:00:00Z", {"BTC": 60_000})
    assert _rep(doc)["collateral_value"] == pytest.approx((9.8 + 4.75) * 60_000, rel=1e-12)
    doc = _one("portfolio", [], {"BTC": 60}, "bybit-pm", "2025-06-01T00:00:00Z", {"BTC": 60_000})
    # above 50 BTC the ratio is 0: 9.8 + 9.5 + 9 + 8.5 + 8 = 44.8 BTC
    assert _rep(doc)["collateral_value"] == pytest.approx(44.8 * 60_000, rel=1e-12)


# ------------------------------------------------------------------ liquidation threshold
def test_liquidation_threshold_liquidates_before_equity_meets_mm() -> None:
    # one long BTCUSDT perpetual; with threshold 1.05 the account liquidates where equity = 1.05 MM:
    # 20,000 + 10 (S - 30,000) = 1.05 x (10 S x 0.5 % - 50) (bracket 2, notional 50k..600k at S)
    # -> S (10 - 0.0525) = 300,000 - 20,000 - 52.5  ->  S = 279,947.5 / 9.9475
    prof = {"binance-usdm": {"liquidation_threshold": 1.05}}
    doc = _one("cross", [C.perp("p", "BTC", 10, 30_000)], {"USDT": 20_000}, "binance-usdm",
               "2024-10-01T00:00:00Z", {"BTC": 30_000}, prof)
    r = _rep(doc)
    assert r["liquidation"]["BTC"]["down_price"] == pytest.approx(279_947.5 / 9.9475, rel=1e-6)
    plain = _rep(_one("cross", [C.perp("p", "BTC", 10, 30_000)], {"USDT": 20_000}, "binance-usdm",
                      "2024-10-01T00:00:00Z", {"BTC": 30_000}))
    # threshold 1: 20,000 + 10 (S - 30,000) = 0.05 S - 50 -> S = 279,950 / 9.95
    assert plain["liquidation"]["BTC"]["down_price"] == pytest.approx(279_950 / 9.95, rel=1e-6)
    assert math.isclose(r["maintenance_margin"], plain["maintenance_margin"])


def test_leverage_is_kept_by_the_store(tmp_path) -> None:
    from workstation.store import repository
    from workstation.store.db import open_db

    book = C.load(_lev_doc("cross", 10))
    db = open_db(tmp_path / "w.db")
    try:
        repository.save_portfolio(db, book)
        assert repository.load_portfolio(db).accounts[0].positions[0].leverage == 10
    finally:
        db.close()
