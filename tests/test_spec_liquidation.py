"""Liquidation distance and price.

Spec: shared/spec/method.md "Liquidation distance": the smallest move of one underlying (others
held) with equity(move) <= MM(move), requirement recomputed at the moved state, searched from
-99 % to +500 %, refined to 0.01 % of price; Binance's cross-margin liquidation price formula is
a special case the engine must agree with. portfolio-format.md: `*_pct` are percent moves,
`null` = no liquidation in the range.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_spec_common as C


def _tier(max_notional, mmr, amount, imr=None):
    return {"max_notional": max_notional, "initial_rate": imr if imr is not None else 2 * mmr,
            "maintenance_rate": mmr, "maintenance_amount": amount}


# Binance USDⓈ-M brackets (maintenance rate, cumulative maintenance amount), the cum rule
# amount_n = floor_n * (mmr_n - mmr_{n-1}) + amount_{n-1} holds for every row:
#   ETHUSDT: 10k .5 % 0 | 100k .65 % 15 | 500k 1 % 365 | 1M 2 % 5,365 | 2M 5 % 35,365 |
#            5M 10 % 135,365 | 10M 12.5 % 260,365 | 20M 15 % 510,365 | above 25 % 2,510,365
#   BTCUSDT: 50k .4 % 0 | 250k .5 % 50 | 1M 1 % 1,300 | 10M 2.5 % 16,300 | above 5 % 266,300
ETH_TIERS = [
    _tier(10_000, 0.005, 0.0), _tier(100_000, 0.0065, 15.0), _tier(500_000, 0.01, 365.0),
    _tier(1_000_000, 0.02, 5_365.0), _tier(2_000_000, 0.05, 35_365.0),
    _tier(5_000_000, 0.10, 135_365.0), _tier(10_000_000, 0.125, 260_365.0),
    _tier(20_000_000, 0.15, 510_365.0), _tier(1e30, 0.25, 2_510_365.0, imr=0.5),
]
BTC_TIERS = [
    _tier(50_000, 0.004, 0.0), _tier(250_000, 0.005, 50.0), _tier(1_000_000, 0.01, 1_300.0),
    _tier(10_000_000, 0.025, 16_300.0), _tier(1e30, 0.05, 266_300.0),
]


def _binance_profile():
    prof = C.profile("t-binance")
    prof["tiers"] = {"ETH": ETH_TIERS, "BTC": BTC_TIERS, "*": ETH_TIERS}
    return prof


def binance_lp(WB, TMM1, UPNL1, cumB, side, pos, EP, MMR):
    """Binance: LP = (WB - TMM1 + UPNL1 + cumB - Side1*Position1*EP1) /
    (Position1*MMR1 - Side1*Position1)."""
    return (WB - TMM1 + UPNL1 + cumB - side * pos * EP) / (pos * MMR - side * pos)


def _check_liquidates_at(doc, asset, price, side):
    """equity == MM at `price` within the refine tolerance: rebuild the book at the price.

    side 'down': just above the price the account is safe, just below it is not ('up': mirror).
    """
    at = C.report(C.with_price(doc, asset, price), "account:" + doc["accounts"][0]["id"])
    assert at["margin_usage"] == pytest.approx(1.0, abs=1e-2)
    safe = price * (1 + 2e-4) if side == "down" else price * (1 - 2e-4)
    bust = price * (1 - 2e-4) if side == "down" else price * (1 + 2e-4)
    r_safe = C.report(C.with_price(doc, asset, safe), "account:" + doc["accounts"][0]["id"])
    r_bust = C.report(C.with_price(doc, asset, bust), "account:" + doc["accounts"][0]["id"])
    assert r_safe["equity"] > r_safe["maintenance_margin"]
    assert r_bust["equity"] <= r_bust["maintenance_margin"]


def test_binance_published_cross_margin_example():
    # Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts" (cross,
    # one-way mode) example, quoted e.g. in jesse-ai strategies' comments:
    #   WB 1,535,443.01 ; TMM1 71,200.81144 ; UPNL1 -56,354.57 ; cumB 135,365 ; Side1 = 1 ;
    #   Position1 3,683.979 (ETHUSDT) ; EP1 1,456.84 ; MMR 10 %  ->  LP = 1,153.26
    # (the 10 % / 135,365 row is ETHUSDT's 2M-5M bracket; at LP the notional is
    #  3,683.979 * 1,153.26 = 4.249M, inside it).
    # Book built to reproduce it, ETH marked at 1,300 (notional 4.789M: same bracket):
    #   contract 1: long 3,683.979 ETHUSDT @ 1,456.84
    #   other contract (held still): long 100 BTCUSDT at mark 35,000.324576 -> N = 3,500,032.46
    #     in the 2.5 % bracket: MM = 3,500,032.4576*0.025 - 16,300 = 71,200.81144 = TMM1 ;
    #     entry 35,563.870276 -> UPNL = 100*(35,000.324576 - 35,563.870276) = -56,354.57 = UPNL1
    #   collateral: 1,535,443.01 USDT (haircut 0) = WB
    WB, TMM1, UPNL1, cumB, pos, EP, MMR = (1_535_443.01, 71_200.81144, -56_354.57, 135_365.0,
                                           3_683.979, 1_456.84, 0.10)
    lp = binance_lp(WB, TMM1, UPNL1, cumB, 1, pos, EP, MMR)
    assert lp == pytest.approx(1_153.26, abs=0.005)  # the published figure
    s_btc = 35_000.324576
    assert 100 * s_btc * 0.025 - 16_300 == pytest.approx(TMM1, abs=1e-6)
    doc = C.portfolio(
        [C.account("bn", "cross", {"USDT": WB},
                   [C.perp("ethusdt", "ETH", pos, EP),
                    C.perp("btcusdt", "BTC", 100.0, s_btc - UPNL1 / 100.0)],
                   prof="t-binance")],
        C.market(ETH=(1_300.0, 0.7), BTC=(s_btc, 0.5)),
        profiles={"t-binance": _binance_profile()},
    )
    rep = C.report(doc, "account:bn")
    # at the snapshot: MM = 71,200.81 + 3,683.979*1,300*0.10 - 135,365
    assert rep["maintenance_margin"] == pytest.approx(
        TMM1 + pos * 1_300 * 0.10 - cumB, rel=1e-9)
    liq = rep["liquidation"]["ETH"]
    # refined to 0.01 % of price
    assert liq["down_price"] == pytest.approx(lp, abs=1e-4 * 1_300.0)
    assert liq["down_pct"] == pytest.approx((liq["down_price"] / 1_300.0 - 1) * 100, abs=1e-3)
    assert liq["down_pct"] == pytest.approx((lp / 1_300.0 - 1) * 100, abs=0.011)
    assert liq["up_price"] is None and liq["up_pct"] is None
    _check_liquidates_at(doc, "ETH", liq["down_price"], "down")


def test_binance_formula_short_position_liquidates_up():
    # Own numbers, one fixed bracket each:
    #   contract 1: short 50 ETHUSDT @ 3,100, mark 3,000 (N 150,000: 100k-500k row,
    #     MMR 1 %, cumB 365)
    #   other: long 1 BTCUSDT @ 58,000, mark 60,000: N 60,000 -> .5 % / 50: TMM1 = 300 - 50 = 250,
    #     UPNL1 = +2,000 ; WB = 20,000 USDT
    #   LP = (20,000 - 250 + 2,000 + 365 - (-1)*50*3,100) / (50*0.01 - (-1)*50)
    #      = 177,115 / 50.5 = 3,507.2277   (N at LP = 175,361: still the 1 % bracket)
    lp = binance_lp(20_000.0, 250.0, 2_000.0, 365.0, -1, 50.0, 3_100.0, 0.01)
    assert lp == pytest.approx(177_115 / 50.5, rel=1e-12)
    doc = C.portfolio(
        [C.account("bn", "cross", {"USDT": 20_000.0},
                   [C.perp("ethusdt", "ETH", -50.0, 3_100.0),
                    C.perp("btcusdt", "BTC", 1.0, 58_000.0)], prof="t-binance")],
        C.market(ETH=(3_000.0, 0.7), BTC=(60_000.0, 0.5)),
        profiles={"t-binance": _binance_profile()},
    )
    rep = C.report(doc, "account:bn")
    liq = rep["liquidation"]["ETH"]
    assert liq["up_price"] == pytest.approx(lp, abs=1e-4 * 3_000.0)
    assert liq["up_pct"] == pytest.approx((liq["up_price"] / 3_000.0 - 1) * 100, abs=1e-3)
    assert liq["down_price"] is None and liq["down_pct"] is None
    _check_liquidates_at(doc, "ETH", liq["up_price"], "up")


def _pm_doc():
    # the hand example of test_spec_margin: long perp +1 @ 49,000, 2 short calls K 52,000 10 d;
    # net delta ~ +0.3 now, -1 far up: liquidates on both sides within the search range
    return C.portfolio(
        [C.account("pm", "portfolio", {"USDT": 20_000.0},
                   [C.perp("perp", "BTC", 1.0, 49_000.0),
                    C.option("call", "BTC", "call", 52_000.0, C.expiry_in(10), -2.0, 700.0,
                             vol=0.5)])],
        C.market(BTC=(50_000.0, 0.6)),
    )


def test_portfolio_mode_liquidation_price_makes_equity_equal_mm():
    # rebuild the portfolio at each reported price (grid recentred, options repriced at the same
    # vol and time): margin_usage ~ 1, and the sign of equity - MM flips within 0.02 % of price.
    doc = _pm_doc()
    rep = C.report(doc, "account:pm")
    liq = rep["liquidation"]["BTC"]
    assert liq["down_price"] is not None and liq["up_price"] is not None
    assert 0 < liq["down_price"] < 50_000.0 < liq["up_price"]
    assert liq["down_pct"] == pytest.approx((liq["down_price"] / 50_000.0 - 1) * 100, abs=0.01)
    assert liq["up_pct"] == pytest.approx((liq["up_price"] / 50_000.0 - 1) * 100, abs=0.01)
    _check_liquidates_at(doc, "BTC", liq["down_price"], "down")
    _check_liquidates_at(doc, "BTC", liq["up_price"], "up")
    # one non-stable asset only: moving "all" is moving BTC
    assert rep["liquidation"]["all"]["down_pct"] == pytest.approx(liq["down_pct"], abs=0.02)
    assert rep["liquidation"]["all"]["up_pct"] == pytest.approx(liq["up_pct"], abs=0.02)


def test_cross_margin_single_perp_liquidation_by_hand():
    # long 2 BTC perp @ 50,000 (mark 50,000), "*" tier MMR 1 %, amount 0; 20,000 USDT.
    # equity = 20,000 + 2 (P - 50,000) ; MM = 0.01 * 2 P  ->  20,000 + 2P - 100,000 = 0.02 P
    # P = 80,000 / 1.98 = 40,404.04 (-19.19 %)
    doc = C.portfolio(
        [C.account("x", "cross", {"USDT": 20_000.0}, [C.perp("p", "BTC", 2.0, 50_000.0)])],
        C.market(BTC=(50_000.0, 0.5)),
    )
    liq = C.report(doc, "account:x")["liquidation"]
    exp = 80_000 / 1.98
    assert liq["BTC"]["down_price"] == pytest.approx(exp, abs=1e-4 * 50_000)
    assert liq["BTC"]["down_pct"] == pytest.approx((exp / 50_000 - 1) * 100, abs=0.011)
    assert liq["BTC"]["up_price"] is None
    assert liq["all"]["down_pct"] == pytest.approx((exp / 50_000 - 1) * 100, abs=0.02)
    assert liq["all"]["up_pct"] is None


def test_no_liquidation_in_range_is_null():
    # long 1 BTC perp @ 60,000 with 1,000,000 USDT: at -99 % the loss is 59,400 and
    # MM 0.01*600 = 6 << equity; upward the account only gains -> null both ways.
    doc = C.portfolio(
        [C.account("x", "cross", {"USDT": 1_000_000.0}, [C.perp("p", "BTC", 1.0, 60_000.0)])],
        C.market(BTC=(60_000.0, 0.5)),
    )
    liq = C.report(doc, "account:x")["liquidation"]
    assert liq["BTC"] == {"down_pct": None, "down_price": None, "up_pct": None, "up_price": None}
    assert liq["all"]["down_pct"] is None and liq["all"]["up_pct"] is None


def test_liquidation_beyond_plus_500_percent_is_null():
    # short 1 BTC perp @ 10,000 with 55,000 USDT, MMR 1 %: equity = 55,000 - (P - 10,000),
    # MM = 0.01 P -> P = 65,000 / 1.01 = 64,356 = +543.6 % > +500 % -> null
    doc = C.portfolio(
        [C.account("x", "cross", {"USDT": 55_000.0}, [C.perp("p", "BTC", -1.0, 10_000.0)])],
        C.market(BTC=(10_000.0, 0.5)),
    )
    liq = C.report(doc, "account:x")["liquidation"]["BTC"]
    assert liq["up_pct"] is None and liq["up_price"] is None
    # and 45,000 USDT instead: P = 55,000/1.01 = 54,455.45 (+444.55 %) is found
    doc["accounts"][0]["collateral"]["USDT"] = 45_000.0
    liq = C.report(doc, "account:x")["liquidation"]["BTC"]
    assert liq["up_price"] == pytest.approx(55_000 / 1.01, abs=1e-4 * 10_000)
    assert liq["up_pct"] == pytest.approx((55_000 / 1.01 / 10_000 - 1) * 100, abs=0.05)


def test_account_already_below_maintenance_has_zero_distance():
    # "the smallest move that brings equity <= MM": equity 500 <= MM 0.01 * 2 * 50,000 = 1,000
    # already at the snapshot, so the smallest move is 0 %.
    doc = C.portfolio(
        [C.account("x", "cross", {"USDT": 500.0}, [C.perp("p", "BTC", 2.0, 50_000.0)])],
        C.market(BTC=(50_000.0, 0.5)),
    )
    rep = C.report(doc, "account:x")
    assert rep["margin_usage"] > 1.0
    liq = rep["liquidation"]["BTC"]
    assert liq["down_pct"] == pytest.approx(0.0, abs=0.01)


def test_all_moves_every_non_stable_asset_together():
    # cross, flat tiers MMR 1 %: long BTC 1 @ 50,000 and long ETH 10 @ 3,000 (at their marks),
    # 20,000 USDT. Notional 80,000.
    #   all : 20,000 + 80,000 x = 0.01 * 80,000 (1 + x)  -> x = -19,200 / 79,200 = -24.24 %
    #   BTC : 20,000 + 50,000 x = 0.01 (50,000 (1 + x) + 30,000) -> x = -19,200/49,500 = -38.79 %
    #   ETH : 20,000 + 30,000 x = 0.01 (50,000 + 30,000 (1 + x)) -> x = -19,200/29,700 = -64.65 %
    doc = C.portfolio(
        [C.account("x", "cross", {"USDT": 20_000.0},
                   [C.perp("b", "BTC", 1.0, 50_000.0), C.perp("e", "ETH", 10.0, 3_000.0)])],
        C.market(BTC=(50_000.0, 0.5), ETH=(3_000.0, 0.6)),
    )
    liq = C.report(doc, "account:x")["liquidation"]
    assert liq["all"]["down_pct"] == pytest.approx(-19_200 / 79_200 * 100, abs=0.011)
    assert liq["all"]["up_pct"] is None
    assert liq["BTC"]["down_pct"] == pytest.approx(-19_200 / 49_500 * 100, abs=0.011)
    assert liq["BTC"]["down_price"] == pytest.approx(50_000 * (1 - 19_200 / 49_500), abs=5.0)
    assert liq["ETH"]["down_pct"] == pytest.approx(-19_200 / 29_700 * 100, abs=0.011)
    assert liq["ETH"]["down_price"] == pytest.approx(3_000 * (1 - 19_200 / 29_700), abs=0.3)


def test_collateral_moves_with_its_asset_in_the_liquidation_search():
    # no positions: 1 BTC collateral (haircut 0) against 30,000 USDT borrowed; MM 0.
    # equity = 50,000 (1 + x) - 30,000 <= 0 at x = -40 % (BTC 30,000)
    doc = C.portfolio(
        [C.account("x", "cross", {"BTC": 1.0, "USDT": -30_000.0}, [])],
        C.market(BTC=(50_000.0, 0.5)),
    )
    liq = C.report(doc, "account:x")["liquidation"]
    assert liq["BTC"]["down_pct"] == pytest.approx(-40.0, abs=0.011)
    assert liq["BTC"]["down_price"] == pytest.approx(30_000.0, abs=5.0)
    assert liq["BTC"]["up_pct"] is None
    assert liq["all"]["down_pct"] == pytest.approx(-40.0, abs=0.011)
