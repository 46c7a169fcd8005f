"""Margin requirements, attribution and offsets, checked against hand computations.

Spec: shared/spec/method.md "Per-position requirements", "Portfolio margin", "Attribution and
offsets"; portfolio-format.md "CLI contract". Every expected value is computed here by hand or
with a small own calculation (numpy / math), never read from the engine.
"""

from __future__ import annotations

import copy
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared_paths import EXAMPLES as _SHARED_EXAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_spec_common as C

EXAMPLES = _SHARED_EXAMPLES
PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _components_total(rep: dict) -> float:
    return sum(p["component_margin"] for p in rep["positions"]) + sum(
        rep["collateral_components"].values()
    )


# =========================================================================== cross: tiers
def test_cross_mode_per_position_tiers():
    # Profile tiers (Binance-style brackets, maintenance amounts consistent with the cum rule):
    #   BTC: N <= 50k: IM 2 %, MM 1 %, amt 0 ; N <= 250k: IM 4 %, MM 2 %, amt 500
    #        (50k*(2%-1%) = 500) ; above: IM 10 %, MM 5 %, amt 8,000 (250k*(5%-2%) + 500)
    #   ETH: IM 5 %, MM 2.5 %, amt 0
    #   "*" (any other, here XYZ): IM 10 %, MM 5 %, amt 0
    # Positions (r = 0, so the future's F = S):
    #   BTC perp -2 @ S 60k: N = 120,000 -> tier 2: MM = 120,000*0.02 - 500 = 1,900 ; IM = 4,800
    #   BTC future +5 @ S 60k: N = 300,000 -> tier 3: MM = 300,000*0.05 - 8,000 = 7,000 ;
    #                                                  IM = 30,000
    #   ETH perp +100 @ S 3,000: N = 300,000: MM = 7,500 ; IM = 15,000
    #   XYZ perp +10,000 @ S 10: N = 100,000 -> "*": MM = 5,000 ; IM = 10,000
    # account: MM = 1,900 + 7,000 + 7,500 + 5,000 = 21,400 ;
    #          IM = 4,800 + 30,000 + 15,000 + 10,000 = 59,800
    prof = C.profile("t-x")
    prof["tiers"] = {
        "BTC": [
            {"max_notional": 50_000, "initial_rate": 0.02, "maintenance_rate": 0.01,
             "maintenance_amount": 0.0},
            {"max_notional": 250_000, "initial_rate": 0.04, "maintenance_rate": 0.02,
             "maintenance_amount": 500.0},
            {"max_notional": 1e30, "initial_rate": 0.10, "maintenance_rate": 0.05,
             "maintenance_amount": 8_000.0},
        ],
        "ETH": [{"max_notional": 1e30, "initial_rate": 0.05, "maintenance_rate": 0.025,
                 "maintenance_amount": 0.0}],
        "SOL": C.tiers_flat(),
        "*": [{"max_notional": 1e30, "initial_rate": 0.10, "maintenance_rate": 0.05,
               "maintenance_amount": 0.0}],
    }
    acc = C.account(
        "x",
        "cross",
        {"USDT": 100_000.0},
        [
            C.perp("bp", "BTC", -2.0, 61_000.0),
            C.future("bf", "BTC", 5.0, 60_000.0, C.expiry_in(90)),
            C.perp("ep", "ETH", 100.0, 2_900.0),
            C.perp("xp", "XYZ", 10_000.0, 9.5),
        ],
        prof="t-x",
    )
    doc = C.portfolio([acc], C.market(BTC=(60_000, 0.5), ETH=(3_000, 0.6), XYZ=(10.0, 1.0)),
                      profiles={"t-x": prof})
    rep = C.report(doc, "account:x")
    assert rep["maintenance_margin"] == pytest.approx(21_400.0, rel=1e-12)
    assert rep["initial_margin"] == pytest.approx(59_800.0, rel=1e-12)
    own = {"bp": 4_800.0, "bf": 30_000.0, "ep": 15_000.0, "xp": 10_000.0}
    for pid, im in own.items():
        p = C.pos(rep, pid)
        # cross = sum of per-position requirements: alone, marginal and Euler share all equal own
        assert p["standalone_margin"] == pytest.approx(im, rel=1e-12)
        assert p["marginal_margin"] == pytest.approx(im, rel=1e-9)
        assert p["component_margin"] == pytest.approx(im, rel=1e-9)
        assert p["account"] == "x"
    assert rep["standalone_initial_margin"] == pytest.approx(59_800.0, rel=1e-12)
    assert rep["offset"] == pytest.approx(0.0, abs=1e-6)
    assert _components_total(rep) == pytest.approx(rep["initial_margin"], rel=1e-9)
    # equity = 100,000 + (-2)(60,000-61,000) + 5*0 + 100*(3,000-2,900) + 10,000*(10-9.5)
    #        = 117,000
    assert rep["equity"] == pytest.approx(117_000.0, rel=1e-12)
    assert rep["margin_usage"] == pytest.approx(21_400.0 / 117_000.0, rel=1e-9)


# =========================================================================== cross: options
@pytest.mark.parametrize(
    "rates",
    [
        {"short_im_base": 0.15, "short_im_floor": 0.10, "short_mm": 0.075},  # method.md
        {"short_im_base": 0.20, "short_im_floor": 0.12, "short_mm": 0.09},  # own numbers
    ],
)
def test_deribit_standard_margin_for_short_options(rates):
    # S = 60,000, r = 0, 30 days, vol 0.6, inverse (coin) options; per unit in coin, then * S:
    #   short call: IM = max(base - OTM/S, floor) + mark ; MM = mm + mark
    #   short put : MM = max(mm, mm*mark) + mark ; IM = max(max(base - OTM/S, floor) + mark, MM)
    #   OTM: call max(K - S, 0), put max(S - K, 0). Long options: nothing.
    # With method.md's rates the black prices (own pricer) are, per unit in USD / coin:
    #   call 62k 3,256.44 / 0.054274  (OTM 2,000: 0.15 - 0.0333 = 0.11667 > floor)
    #   call 58k 5,121.91 / 0.085365  (ITM: 0.15)
    #   put 65k  7,237.87 / 0.120631  (ITM: 0.15)
    #   put 50k    697.74 / 0.011629  (OTM 10,000: 0.15 - 0.1667 < floor -> 0.10)
    # e.g. 2 short calls 62k: IM = 2 * (0.11667 + 0.054274) * 60,000 = 20,512.88
    S, T, vol = 60_000.0, C.years(30), 0.6
    base, floor, mm = rates["short_im_base"], rates["short_im_floor"], rates["short_mm"]
    book = [("c62", "call", 62_000.0, -2.0), ("c58", "call", 58_000.0, -1.0),
            ("p65", "put", 65_000.0, -3.0), ("p50", "put", 50_000.0, -1.0),
            ("lc", "call", 70_000.0, 1.0)]
    expected_im, expected_mm = {}, {}
    for pid, right, K, q in book:
        mark = C.black(S, K, T, vol, 0.0, right) / S  # coin
        otm = max(K - S, 0.0) if right == "call" else max(S - K, 0.0)
        if q > 0:
            im_u = mm_u = 0.0
        elif right == "call":
            im_u = max(base - otm / S, floor) + mark
            mm_u = mm + mark
        else:
            mm_u = max(mm, mm * mark) + mark
            im_u = max(max(base - otm / S, floor) + mark, mm_u)
        expected_im[pid] = abs(q) * im_u * S
        expected_mm[pid] = abs(q) * mm_u * S
    if rates["short_im_base"] == 0.15:
        assert expected_im["c62"] == pytest.approx(20_512.88, abs=0.01)
        assert expected_im["p50"] == pytest.approx(6_697.74, abs=0.01)
        assert expected_mm["p50"] == pytest.approx(5_197.74, abs=0.01)
    prof = C.profile("t-o")
    prof["options"] = dict(rates)
    positions = [C.option(pid, "BTC", right, K, C.expiry_in(30), q, 0.05, "inverse", vol)
                 for pid, right, K, q in book]
    doc = C.portfolio([C.account("o", "cross", {"BTC": 10.0}, positions, prof="t-o")],
                      C.market(BTC=(S, 0.5)), profiles={"t-o": prof})
    rep = C.report(doc, "account:o")
    assert rep["initial_margin"] == pytest.approx(sum(expected_im.values()), rel=1e-9)
    assert rep["maintenance_margin"] == pytest.approx(sum(expected_mm.values()), rel=1e-9)
    for pid, im in expected_im.items():
        assert C.pos(rep, pid)["standalone_margin"] == pytest.approx(im, rel=1e-9, abs=1e-9)
    assert _components_total(rep) == pytest.approx(rep["initial_margin"], rel=1e-9)


# =========================================================================== portfolio mode
def test_portfolio_mode_hand_example_perpetual_and_option():
    # Profile t-pm: range 10 %, price_steps 3 (-10 %, 0, +10 %), vol up/same/down, no tail,
    # vol_shock_up 0.5, vol_shock_down 0.25, power_short 0.3 (dte 10 < 30), dte_floor 1,
    # contingencies 0, mm_factor 1, im_factor 1.3, aggregation sum. r = 0.
    # Book (BTC S = 50,000): long perp +1 @ 49,000 ; short 2 linear calls K 52,000, 10 days,
    #   vol 0.5; collateral 20,000 USDT (stable: not in the scenarios).
    # Vol shock factor (30/10)^0.3 = 1.390389:
    #   up   0.5 * (1 + 0.5  * 1.390389) = 0.847597
    #   down 0.5 * (1 - 0.25 * 1.390389) = 0.326201
    # Call value now (own Black-76) 868.807 per unit.
    # Scenario P&L table (option = -2 * (C(S', vol') - 868.807), perp = S' - S):
    #   move  vol    option      perp        total
    #   -10%  up     +672.71   -5,000.00   -4,327.29   <- worst
    #   -10%  same  +1,607.23  -5,000.00   -3,392.77
    #   -10%  down  +1,731.66  -5,000.00   -3,268.34
    #     0   up    -2,187.68       0.00   -2,187.68
    #     0   same       0.00       0.00        0.00
    #     0   down    +985.62       0.00     +985.62
    #   +10%  up    -7,717.26  +5,000.00   -2,717.26
    #   +10%  same  -5,574.90  +5,000.00     -574.90
    #   +10%  down  -4,708.90  +5,000.00     +291.10
    # worst loss 4,327.29 -> MM = 4,327.29 ; IM = 1.3 * MM = 5,625.48
    # standalone: perp alone worst 5,000 -> 6,500 ; calls alone worst 7,717.26 -> 10,032.44
    # standalone_initial_margin = 16,532.44 ; offset = 16,532.44 - 5,625.48 = 10,906.96
    # marginal: perp = 5,625.48 - 10,032.44 ; option = 5,625.48 - 6,500
    # components (worst scenario, one underlying, sum): perp 1.3*5,000 = 6,500 ;
    #   option 1.3*(-672.71) = -874.52 ; total 5,625.48
    S, K, days, iv = 50_000.0, 52_000.0, 10, 0.5
    T = C.years(days)
    pm = C.profile()["portfolio"]
    c0 = C.black(S, K, T, iv)
    table = []
    for move in (-0.1, 0.0, 0.1):
        for vd in ("up", "same", "down"):
            s1 = S * (1 + move)
            opt = -2.0 * (C.black(s1, K, T, C.shocked_vol(iv, days, vd, pm)) - c0)
            prp = s1 - S
            table.append((move, vd, opt, prp, opt + prp))
    worst = min(table, key=lambda r: r[4])
    assert (worst[0], worst[1]) == (-0.1, "up")
    assert worst[4] == pytest.approx(-4_327.29, abs=0.01)  # the table above
    loss = -worst[4]
    perp_alone = max(0.0, -min(r[3] for r in table))
    opt_alone = max(0.0, -min(r[2] for r in table))
    assert opt_alone == pytest.approx(7_717.26, abs=0.01)

    doc = C.portfolio(
        [C.account("pm", "portfolio", {"USDT": 20_000.0},
                   [C.perp("perp", "BTC", 1.0, 49_000.0),
                    C.option("call", "BTC", "call", K, C.expiry_in(days), -2.0, 700.0,
                             vol=iv)])],
        C.market(BTC=(S, 0.6)),
    )
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(loss, rel=1e-9)
    assert rep["initial_margin"] == pytest.approx(1.3 * loss, rel=1e-9)
    p, o = C.pos(rep, "perp"), C.pos(rep, "call")
    assert p["standalone_margin"] == pytest.approx(1.3 * perp_alone, rel=1e-9)
    assert o["standalone_margin"] == pytest.approx(1.3 * opt_alone, rel=1e-9)
    sa = 1.3 * (perp_alone + opt_alone)
    assert rep["standalone_initial_margin"] == pytest.approx(sa, rel=1e-9)
    assert rep["offset"] == pytest.approx(sa - 1.3 * loss, rel=1e-9)
    assert p["marginal_margin"] == pytest.approx(1.3 * loss - 1.3 * opt_alone, rel=1e-9)
    assert o["marginal_margin"] == pytest.approx(1.3 * loss - 1.3 * perp_alone, rel=1e-9)
    assert p["component_margin"] == pytest.approx(-1.3 * worst[3], rel=1e-9)
    assert o["component_margin"] == pytest.approx(-1.3 * worst[2], rel=1e-9)
    assert _components_total(rep) == pytest.approx(rep["initial_margin"], rel=1e-9)
    # equity = 20,000 + (50,000 - 49,000) - 2 * 868.807
    assert rep["equity"] == pytest.approx(20_000 + 1_000 - 2 * c0, rel=1e-10)


def test_portfolio_vol_shock_long_dated_uses_power_long():
    # Short 1 linear put K 48,000, 60 days (>= 30: power_long 0.13), iv 0.5, S 50,000.
    # factor (30/60)^0.13 = 0.9138 ; up vol 0.5*(1 + 0.5*0.9138), down 0.5*(1 - 0.25*0.9138)
    # worst over 3 moves x 3 vols of -(P(S', iv') - P(S, iv)), own Black-76.
    S, K, days, iv = 50_000.0, 48_000.0, 60, 0.5
    T = C.years(days)
    pm = C.profile()["portfolio"]
    factor = (30 / 60) ** 0.13
    assert factor == pytest.approx(0.91383, abs=1e-5)
    p0 = C.black(S, K, T, iv, 0.0, "put")
    pnl = [-(C.black(S * (1 + m), K, T, C.shocked_vol(iv, days, vd, pm), 0.0, "put") - p0)
           for m in (-0.1, 0.0, 0.1) for vd in ("up", "same", "down")]
    loss = max(0.0, -min(pnl))
    doc = C.portfolio(
        [C.account("pm", "portfolio", {"USDT": 50_000.0},
                   [C.option("p", "BTC", "put", K, C.expiry_in(days), -1.0, 2_000.0, vol=iv)])],
        C.market(BTC=(S, 0.6)),
    )
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(loss, rel=1e-9)
    assert rep["initial_margin"] == pytest.approx(1.3 * loss, rel=1e-9)


def test_portfolio_tail_moves_are_dampened():
    # long 1 BTC perp, S 50,000; grid +/-10 % -> worst 5,000.
    # tail [[-0.5, 0.3], [0.5, 0.1]]: -50 % loses 25,000 * 0.3 = 7,500 > 5,000 -> MM 7,500
    prof = C.profile(tail=[[-0.5, 0.3], [0.5, 0.1]])
    doc = C.portfolio(
        [C.account("pm", "portfolio", {"USDT": 50_000.0}, [C.perp("p", "BTC", 1.0, 50_000.0)])],
        C.market(BTC=(50_000.0, 0.5)), profiles={"t-pm": prof},
    )
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(7_500.0, rel=1e-12)
    assert rep["initial_margin"] == pytest.approx(9_750.0, rel=1e-12)


def test_portfolio_explicit_scenarios():
    # Derive PMRM_2-style list replaces range/price_steps/tail:
    #   [+0.0, up, 1.0], [+0.15, none, 1.0], [-0.15, down, 0.5]
    # short 1 linear call K 50,000, 20 days, iv 0.6, S 50,000; long perp +0.3.
    # P&L of each = (option change + perp change) * dampener; own Black-76.
    S, K, days, iv = 50_000.0, 50_000.0, 20, 0.6
    T = C.years(days)
    prof = C.profile()
    for k in ("range", "price_steps", "tail"):
        del prof["portfolio"][k]
    scen = [[0.0, "up", 1.0], [0.15, "none", 1.0], [-0.15, "down", 0.5]]
    prof["portfolio"]["scenarios"] = scen
    pm = prof["portfolio"]
    c0 = C.black(S, K, T, iv)
    pnl = []
    for shock, vd, damp in scen:
        v1 = C.shocked_vol(iv, days, {"none": "same"}.get(vd, vd), pm)
        s1 = S * (1 + shock)
        pnl.append(damp * (-(C.black(s1, K, T, v1) - c0) + 0.3 * (s1 - S)))
    loss = max(0.0, -min(pnl))
    doc = C.portfolio(
        [C.account("pm", "portfolio", {"USDT": 50_000.0},
                   [C.option("c", "BTC", "call", K, C.expiry_in(days), -1.0, 3_000.0, vol=iv),
                    C.perp("p", "BTC", 0.3, 50_000.0)])],
        C.market(BTC=(S, 0.6)), profiles={"t-pm": prof},
    )
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(loss, rel=1e-9)


def test_portfolio_collateral_in_scenarios_hedges_and_gets_a_component():
    # 1 BTC collateral (haircut 0) and a short linear perp of 2 BTC, S 50,000.
    # +10 %: perp -10,000, collateral +5,000 -> -5,000 (worst) ; -10 %: +5,000.
    # MM 5,000 ; IM 6,500 ; components: perp 1.3*10,000 = 13,000, collateral BTC -6,500.
    doc = C.portfolio(
        [C.account("pm", "portfolio", {"BTC": 1.0, "USDT": 10_000.0},
                   [C.perp("p", "BTC", -2.0, 50_000.0)])],
        C.market(BTC=(50_000.0, 0.5)),
    )
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(5_000.0, rel=1e-12)
    assert rep["initial_margin"] == pytest.approx(6_500.0, rel=1e-12)
    assert C.pos(rep, "p")["component_margin"] == pytest.approx(13_000.0, rel=1e-9)
    assert rep["collateral_components"]["BTC"] == pytest.approx(-6_500.0, rel=1e-9)
    assert rep["collateral_components"].get("USDT", 0.0) == pytest.approx(0.0, abs=1e-9)
    assert _components_total(rep) == pytest.approx(6_500.0, rel=1e-9)
    assert rep["greeks"]["BTC"]["delta"] == pytest.approx(-1.0, rel=1e-12)


def test_new_file_profile_takes_method_example_numbers_for_omitted_keys():
    # A file profile of a new name that gives only `portfolio.tail = []`: everything else comes
    # from method.md's example: range BTC/ETH 16 %, "*" 25 %, 9 steps (so +/-16 % / 25 % are on
    # the grid), mm_factor 1, im_factor 1.3, sum aggregation; futures contingency only on
    # offsetting notional (none here).
    # Long perps: BTC 1 @ 50,000 -> 0.16*50,000 = 8,000 ; ETH 10 @ 3,000 -> 0.16*30,000 = 4,800 ;
    #   SOL 100 @ 150 -> 0.25*15,000 = 3,750. MM = 16,550 ; IM = 1.3 * 16,550 = 21,515
    positions = [C.perp("b", "BTC", 1.0, 50_000.0), C.perp("e", "ETH", 10.0, 3_000.0),
                 C.perp("s", "SOL", 100.0, 150.0)]
    doc = C.portfolio(
        [C.account("pm", "portfolio", {"USDT": 1e5}, positions, prof="t-partial")],
        C.market(BTC=(50_000.0, 0.5), ETH=(3_000.0, 0.6), SOL=(150.0, 0.8)),
        profiles={"t-partial": {"portfolio": {"tail": []}}},
    )
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(16_550.0, rel=1e-12)
    assert rep["initial_margin"] == pytest.approx(21_515.0, rel=1e-12)


def test_portfolio_collateral_out_of_scenarios_does_not_hedge():
    # collateral_in_scenarios = false: the 1 BTC no longer offsets the short perp of 2 BTC;
    # +10 %: -10,000 -> MM 10,000 ; IM 13,000 ; collateral components 0
    doc = C.portfolio(
        [C.account("pm", "portfolio", {"BTC": 1.0, "USDT": 10_000.0},
                   [C.perp("p", "BTC", -2.0, 50_000.0)])],
        C.market(BTC=(50_000.0, 0.5)),
        profiles={"t-pm": C.profile(collateral_in_scenarios=False)},
    )
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(10_000.0, rel=1e-12)
    assert rep["initial_margin"] == pytest.approx(13_000.0, rel=1e-12)
    assert sum(rep["collateral_components"].values()) == pytest.approx(0.0, abs=1e-9)
    assert C.pos(rep, "p")["component_margin"] == pytest.approx(13_000.0, rel=1e-9)


def test_portfolio_vol_floor_floors_shocked_up_vol():
    # vol_floor 1.2: the shocked-up vol 0.5*(1 + 0.5*(30/10)^0.3) = 0.8476 is floored to 1.2;
    # same/down vols untouched. Short 1 linear call K 52,000, 10 d, iv 0.5, S 50,000.
    S, K, days, iv = 50_000.0, 52_000.0, 10, 0.5
    T = C.years(days)
    prof = C.profile(vol_floor=1.2)
    pm = prof["portfolio"]
    c0 = C.black(S, K, T, iv)
    pnl = []
    for m in (-0.1, 0.0, 0.1):
        for vd in ("up", "same", "down"):
            v1 = C.shocked_vol(iv, days, vd, pm)
            if vd == "up":
                v1 = max(v1, 1.2)
            pnl.append(-(C.black(S * (1 + m), K, T, v1) - c0))
    loss = max(0.0, -min(pnl))
    doc = C.portfolio(
        [C.account("pm", "portfolio", {"USDT": 50_000.0},
                   [C.option("c", "BTC", "call", K, C.expiry_in(days), -1.0, 800.0, vol=iv)])],
        C.market(BTC=(S, 0.6)), profiles={"t-pm": prof},
    )
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(loss, rel=1e-9)


def test_portfolio_inverse_options_margin_like_linear_ones_in_base():
    # An inverse option's base value is q * black_usd, the linear one's too: same scenario P&L,
    # same requirement. Short 3 calls K 55,000 40 d + long 2 puts K 45,000 40 d, iv 0.7;
    # expected by hand from the own pricer over 3 moves x 3 vols (dte 40 >= 30: power_long).
    S, days, iv = 50_000.0, 40, 0.7
    T = C.years(days)
    pm = C.profile()["portfolio"]
    legs = [("call", 55_000.0, -3.0), ("put", 45_000.0, 2.0)]

    def value(s, v):
        return sum(q * C.black(s, K, T, v, 0.0, right) for right, K, q in legs)

    v0 = value(S, iv)
    pnl = [value(S * (1 + m), C.shocked_vol(iv, days, vd, pm)) - v0
           for m in (-0.1, 0.0, 0.1) for vd in ("up", "same", "down")]
    loss = max(0.0, -min(pnl))
    accounts = []
    for settlement, entry in (("linear", 1_000.0), ("inverse", 0.02)):
        accounts.append(C.account(
            settlement, "portfolio", {"USDT": 1e5},
            [C.option(f"{settlement}-{right}", "BTC", right, K, C.expiry_in(days), q, entry,
                      settlement, iv) for right, K, q in legs]))
    doc = C.portfolio(accounts, C.market(BTC=(S, 0.5)))
    for scope in ("account:linear", "account:inverse"):
        rep = C.report(doc, scope)
        assert rep["maintenance_margin"] == pytest.approx(loss, rel=1e-9), scope
        assert rep["initial_margin"] == pytest.approx(1.3 * loss, rel=1e-9), scope


def test_cross_pool_adds_per_position_requirements_under_the_pool_profile():
    # pool margin_mode cross, profile t-x (flat "*"/BTC/ETH tiers IM 5 %): positions of A and B
    # each need 5 % of their notional, netting nothing:
    #   A BTC +1 (50,000) -> 2,500 ; B BTC -0.5 (25,000) -> 1,250 ; B ETH +2 (6,000) -> 300
    #   pool IM = 4,050
    doc = _pool_doc()
    doc["profiles"]["t-x"] = C.profile("t-x")
    flat5 = C.tiers_flat(initial_rate=0.05, maintenance_rate=0.02)
    doc["profiles"]["t-x"]["tiers"] = {"BTC": flat5, "ETH": flat5, "SOL": flat5, "*": flat5}
    doc["pools"][0].update(margin_mode="cross", profile="t-x")
    rp = C.report(doc, "pool:P")
    assert rp["initial_margin"] == pytest.approx(4_050.0, rel=1e-12)
    assert rp["maintenance_margin"] == pytest.approx(0.02 * 81_000.0, rel=1e-12)
    assert rp["segregated_initial_margin"] == pytest.approx(7_120.0, rel=1e-12)


# --------------------------------------------------------------------------- contingencies
def _mm_with(positions, **pm):
    doc = C.portfolio(
        [C.account("pm", "portfolio", {"USDT": 1e6}, positions)],
        C.market(BTC=(50_000.0, 0.5), ETH=(3_000.0, 0.6)),
        profiles={"t-pm": C.profile(**pm)},
    )
    rep = C.report(doc, "account:pm")
    return rep["maintenance_margin"], rep["initial_margin"]


@pytest.mark.parametrize(
    ("book", "net_short"),
    [
        # 3 naked short calls -> 3 contracts
        ([("c", "call", 52_000.0, 30, -3.0)], 3.0),
        # synthetic forward (short call + long put, same strike and expiry) -> none
        ([("c", "call", 50_000.0, 30, -2.0), ("p", "put", 50_000.0, 30, 2.0)], 0.0),
        # box: +C45 -C55 -P45 +P55 -> none after netting per strike
        ([("c1", "call", 45_000.0, 30, 1.0), ("c2", "call", 55_000.0, 30, -1.0),
          ("p1", "put", 45_000.0, 30, -1.0), ("p2", "put", 55_000.0, 30, 1.0)], 0.0),
        # same strike, different expiries: counted per expiry -> the short one stays naked
        ([("c1", "call", 50_000.0, 30, -1.0), ("c2", "call", 50_000.0, 60, 1.0)], 1.0),
    ],
)
def test_short_option_contingency(book, net_short):
    # contingency = short_option_contingency (0.01) * net short contracts * S (50,000)
    # measured as MM(with) - MM(without): the scenario loss is the same in both.
    positions = [C.option(pid, "BTC", right, K, C.expiry_in(d), q, 1_000.0, vol=0.5)
                 for pid, right, K, d, q in book]
    mm0, im0 = _mm_with(positions)
    mm1, im1 = _mm_with(positions, short_option_contingency=0.01)
    assert mm1 - mm0 == pytest.approx(0.01 * net_short * 50_000.0, abs=1e-6)
    assert im1 - im0 == pytest.approx(1.3 * 0.01 * net_short * 50_000.0, abs=1e-6)


def test_futures_contingency_on_smaller_of_long_and_short_notional():
    # BTC: long perp 2 (100,000), short future 1.5 (75,000, r = 0 so F = S) -> 0.01 * 75,000 = 750
    # ETH: long perp 10 and long future 5: nothing offsets -> 0
    positions = [
        C.perp("bp", "BTC", 2.0, 50_000.0),
        C.future("bf", "BTC", -1.5, 50_000.0, C.expiry_in(90)),
        C.perp("ep", "ETH", 10.0, 3_000.0),
        C.future("ef", "ETH", 5.0, 3_000.0, C.expiry_in(90)),
    ]
    mm0, _ = _mm_with(positions)
    mm1, im1 = _mm_with(positions, futures_contingency=0.01)
    assert mm1 - mm0 == pytest.approx(750.0, abs=1e-6)
    # scenario loss without contingency: BTC net +0.5 -> 2,500 ; ETH +15 -> 4,500 ; sum 7,000
    assert mm0 == pytest.approx(7_000.0, rel=1e-12)
    assert im1 == pytest.approx(1.3 * 7_750.0, rel=1e-12)


# --------------------------------------------------------------------------- aggregation
def test_correlated_aggregation_sqrt_LtCL():
    # Long perps, range 10 %: losses L = [BTC 1*50,000*0.1, ETH 10*3,000*0.1, SOL 100*150*0.1]
    #   = [5,000, 3,000, 1,500]. Profile lists only BTC/ETH = 0.85; unlisted pairs -> 1.
    # C = [[1, .85, 1], [.85, 1, 1], [1, 1, 1]] ; agg = sqrt(L^T C L)
    # (BTC+ETH only: sqrt(25e6 + 9e6 + 2*.85*15e6) = sqrt(59.5e6) = 7,713.63)
    # components: 1.3 * L_i * (C L)_i / agg (Euler on the aggregation's gradient)
    L = np.array([5_000.0, 3_000.0, 1_500.0])
    Cm = np.array([[1.0, 0.85, 1.0], [0.85, 1.0, 1.0], [1.0, 1.0, 1.0]])
    agg = float(np.sqrt(L @ Cm @ L))
    assert math.sqrt(59.5e6) == pytest.approx(7_713.63, abs=0.01)
    positions = [C.perp("b", "BTC", 1.0, 50_000.0), C.perp("e", "ETH", 10.0, 3_000.0),
                 C.perp("s", "SOL", 100.0, 150.0)]
    prof = C.profile(aggregation="correlated", correlation={"BTC/ETH": 0.85})
    doc = C.portfolio([C.account("pm", "portfolio", {"USDT": 1e5}, positions)],
                      C.market(BTC=(50_000.0, 0.5), ETH=(3_000.0, 0.6), SOL=(150.0, 0.8)),
                      profiles={"t-pm": prof})
    rep = C.report(doc, "account:pm")
    assert rep["maintenance_margin"] == pytest.approx(agg, rel=1e-9)
    assert rep["initial_margin"] == pytest.approx(1.3 * agg, rel=1e-9)
    grad = Cm @ L / agg
    for pid, i in (("b", 0), ("e", 1), ("s", 2)):
        p = C.pos(rep, pid)
        assert p["component_margin"] == pytest.approx(1.3 * L[i] * grad[i], rel=1e-9)
        assert p["standalone_margin"] == pytest.approx(1.3 * L[i], rel=1e-9)
    assert rep["standalone_initial_margin"] == pytest.approx(1.3 * L.sum(), rel=1e-9)
    assert rep["offset"] == pytest.approx(1.3 * (L.sum() - agg), rel=1e-9)
    assert _components_total(rep) == pytest.approx(rep["initial_margin"], rel=1e-9)
    # same book, sum aggregation: no offset
    doc["profiles"]["t-pm"] = C.profile()
    rep2 = C.report(doc, "account:pm")
    assert rep2["maintenance_margin"] == pytest.approx(L.sum(), rel=1e-12)
    assert rep2["offset"] == pytest.approx(0.0, abs=1e-6)


# --------------------------------------------------------------------------- pools
def _pool_doc():
    # A (portfolio, t-pm): 10,000 USDT, BTC perp +1 @ 50,000 -> IM 1.3 * 5,000 = 6,500
    # B (cross, t-pm "*" tier IM 2 %): 5,000 USDT, BTC perp -0.5 (N 25,000 -> 500),
    #   ETH perp +2 (N 6,000 -> 120) -> IM 620
    # pool P (portfolio, t-pm): BTC net +0.5 -> 2,500 ; ETH +2 -> 600 ; IM 1.3 * 3,100 = 4,030
    # segregated = 6,500 + 620 = 7,120 ; pool standalone: 1.3*(5,000 + 2,500 + 600) = 10,530
    a = C.account("A", "portfolio", {"USDT": 10_000.0}, [C.perp("a-btc", "BTC", 1.0, 50_000.0)])
    b = C.account("B", "cross", {"USDT": 5_000.0},
                  [C.perp("b-btc", "BTC", -0.5, 50_000.0), C.perp("b-eth", "ETH", 2.0, 3_000.0)])
    pool = {"id": "P", "accounts": ["A", "B"], "margin_mode": "portfolio", "profile": "t-pm"}
    return C.portfolio([a, b], C.market(BTC=(50_000.0, 0.5), ETH=(3_000.0, 0.6)), pools=[pool])


def test_pool_report_and_segregated_initial_margin():
    doc = _pool_doc()
    ra, rb, rp = (C.report(doc, s) for s in ("account:A", "account:B", "pool:P"))
    assert ra["initial_margin"] == pytest.approx(6_500.0, rel=1e-12)
    assert rb["initial_margin"] == pytest.approx(620.0, rel=1e-12)
    assert rp["scope"] == "pool:P"
    assert rp["segregated_initial_margin"] == pytest.approx(7_120.0, rel=1e-12)
    assert rp["segregated_initial_margin"] == pytest.approx(
        ra["initial_margin"] + rb["initial_margin"], rel=1e-12)
    assert rp["initial_margin"] == pytest.approx(4_030.0, rel=1e-12)
    assert rp["maintenance_margin"] == pytest.approx(3_100.0, rel=1e-12)
    assert rp["collateral_value"] == pytest.approx(15_000.0, rel=1e-12)
    assert rp["equity"] == pytest.approx(ra["equity"] + rb["equity"], rel=1e-12)
    assert rp["standalone_initial_margin"] == pytest.approx(10_530.0, rel=1e-12)
    assert rp["offset"] == pytest.approx(10_530.0 - 4_030.0, rel=1e-12)
    accounts = {p["id"]: p["account"] for p in rp["positions"]}
    assert accounts == {"a-btc": "A", "b-btc": "B", "b-eth": "B"}
    assert _components_total(rp) == pytest.approx(rp["initial_margin"], rel=1e-9)


def test_build_reports_one_per_account_and_pool():
    from workstation.core.report import build_reports

    reps = build_reports(C.load(_pool_doc()))
    assert sorted(r["scope"] for r in reps) == ["account:A", "account:B", "pool:P"]


# --------------------------------------------------------------------------- examples
def _example_reports():
    from workstation.core.portfolio_io import read_portfolio
    from workstation.core.report import build_reports

    out = []
    for f in sorted(EXAMPLES.glob("*.json")):
        out.extend((f.name, r) for r in build_reports(read_portfolio(f)))
    return out


def test_examples_components_add_up_and_offset_identity():
    reps = _example_reports()
    assert len(reps) >= 5
    for name, rep in reps:
        im = rep["initial_margin"]
        tol = 1e-9 * max(abs(im), 1.0)
        assert _components_total(rep) == pytest.approx(im, abs=tol), (name, rep["scope"])
        assert rep["offset"] == pytest.approx(rep["standalone_initial_margin"] - im,
                                              abs=1e-9 * max(abs(im), 1.0)), name
        sa = sum(p["standalone_margin"] for p in rep["positions"])
        assert rep["standalone_initial_margin"] == pytest.approx(sa, rel=1e-9, abs=1e-9), name
        if rep["equity"] > 0:
            assert rep["margin_usage"] == pytest.approx(
                rep["maintenance_margin"] / rep["equity"], rel=1e-9), name
        assert rep["initial_margin"] >= rep["maintenance_margin"] - 1e-9, name


def test_example_pool_segregated_is_sum_of_member_accounts():
    from workstation.core.portfolio_io import read_portfolio
    from workstation.core.report import build_report

    p = read_portfolio(EXAMPLES / "pooled-three-accounts.json")
    pool = build_report(p, "pool:everything")
    members = ("deribit-btc", "binance-usdm", "spot-wallet")
    total = sum(build_report(p, f"account:{a}")["initial_margin"] for a in members)
    assert pool["segregated_initial_margin"] == pytest.approx(total, rel=1e-9)


# =========================================================================== properties
BOOK_S = {"BTC": 50_000.0, "ETH": 3_000.0}


@st.composite
def positions_st(draw, n_min=1, n_max=5, linear_only=False, und=None):
    out = []
    for i in range(draw(st.integers(n_min, n_max))):
        u = und or draw(st.sampled_from(["BTC", "ETH"]))
        S = BOOK_S[u]
        q = draw(st.floats(0.1, 10.0)) * draw(st.sampled_from([1.0, -1.0]))
        kinds = ["perpetual", "future"] if linear_only else ["perpetual", "future", "option"]
        kind = draw(st.sampled_from(kinds))
        settlement = "linear" if linear_only else draw(st.sampled_from(["linear", "inverse"]))
        entry = S * draw(st.floats(0.8, 1.2))
        pid = f"p{i}"
        if kind == "option":
            right = draw(st.sampled_from(["call", "put"]))
            K = round(S * draw(st.floats(0.7, 1.3)), 2)
            days = draw(st.integers(2, 200))
            prem = 0.03 if settlement == "inverse" else 0.03 * S
            out.append(C.option(pid, u, right, K, C.expiry_in(days), q, prem, settlement,
                                draw(st.floats(0.3, 1.2))))
        else:
            if settlement == "inverse":
                q = q * S  # USD notional
            if kind == "perpetual":
                out.append(C.perp(pid, u, q, entry, settlement))
            else:
                out.append(C.future(pid, u, q, entry, C.expiry_in(draw(st.integers(2, 200))),
                                    settlement))
    return out


def _pm_doc(positions, collateral=None, **pm):
    return C.portfolio(
        [C.account("pm", "portfolio", collateral or {"USDT": 1e6}, positions)],
        C.market(BTC=(BOOK_S["BTC"], 0.5), ETH=(BOOK_S["ETH"], 0.6)),
        profiles={"t-pm": C.profile(**pm)},
    )


@PROPS
@given(positions_st())
def test_property_position_plus_exact_opposite_needs_no_portfolio_margin(book):
    # every scenario P&L of q and -q cancels; contingencies are 0 -> loss 0 -> IM 0
    opposite = []
    for p in book:
        o = copy.deepcopy(p)
        o["id"] = p["id"] + "-opp"
        o["quantity"] = -p["quantity"]
        opposite.append(o)
    rep = C.report(_pm_doc(book + opposite), "account:pm")
    assert rep["initial_margin"] == pytest.approx(0.0, abs=1e-6)
    assert rep["maintenance_margin"] == pytest.approx(0.0, abs=1e-6)


@PROPS
@given(positions_st(), positions_st(), st.floats(0.0, 5.0), st.floats(0.0, 5.0))
def test_property_pooled_requirement_at_most_sum_of_accounts(book_a, book_b, btc_a, eth_b):
    # sum aggregation, contingencies 0: max(0, -min(a + b)) <= max(0, -min a) + max(0, -min b)
    # per underlying, and collateral sits in the scenarios of both the accounts and the pool.
    for p in book_b:
        p["id"] = "b-" + p["id"]
    a = C.account("A", "portfolio", {"USDT": 1e5, "BTC": btc_a}, book_a)
    b = C.account("B", "portfolio", {"USDT": 1e5, "ETH": eth_b}, book_b)
    pool = {"id": "P", "accounts": ["A", "B"], "margin_mode": "portfolio", "profile": "t-pm"}
    doc = C.portfolio([a, b], C.market(BTC=(BOOK_S["BTC"], 0.5), ETH=(BOOK_S["ETH"], 0.6)),
                      pools=[pool])
    ra, rb, rp = (C.report(doc, s) for s in ("account:A", "account:B", "pool:P"))
    seg = ra["initial_margin"] + rb["initial_margin"]
    assert rp["segregated_initial_margin"] == pytest.approx(seg, rel=1e-9, abs=1e-9)
    assert rp["initial_margin"] <= seg * (1 + 1e-12) + 1e-9


@PROPS
@given(positions_st(n_min=1, n_max=6, linear_only=True, und="BTC"))
def test_property_hedge_halving_delta_lowers_linear_book_margin(book):
    # linear BTC perps/futures (r = 0): every scenario P&L = D * S * move, so loss = 0.1 |D| S;
    # a perp of -D/2 halves the loss; the futures contingency (0.01 of the offsetting notional)
    # can grow by at most 0.01 * |D|/2 * S < 0.05 |D| S saved -> IM strictly lower.
    D = sum(p["quantity"] for p in book)
    if abs(D) < 0.05:
        return
    before = C.report(_pm_doc(book, futures_contingency=0.01), "account:pm")
    hedged = [*book, C.perp("hedge", "BTC", -D / 2.0, BOOK_S["BTC"])]
    after = C.report(_pm_doc(hedged, futures_contingency=0.01), "account:pm")
    assert after["greeks"]["BTC"]["delta"] == pytest.approx(D / 2.0, rel=1e-9)
    assert after["initial_margin"] < before["initial_margin"]


@PROPS
@given(positions_st(), st.floats(0.0, 3.0), st.floats(0.1, 10.0))
def test_property_scaling_quantities_scales_portfolio_margin(book, btc, k):
    # every scenario P&L is linear in the quantities (and in collateral held in the scenarios),
    # contingencies 0 -> IM(k * book) = k * IM(book)
    scaled = copy.deepcopy(book)
    for p in scaled:
        p["quantity"] = p["quantity"] * k
    r1 = C.report(_pm_doc(book, {"USDT": 1e5, "BTC": btc}), "account:pm")
    rk = C.report(_pm_doc(scaled, {"USDT": 1e5 * k, "BTC": btc * k}), "account:pm")
    assert rk["initial_margin"] == pytest.approx(k * r1["initial_margin"], rel=1e-9, abs=1e-6)
    assert rk["maintenance_margin"] == pytest.approx(k * r1["maintenance_margin"], rel=1e-9,
                                                     abs=1e-6)


def test_long_option_standalone_margin_never_exceeds_its_value():
    # Long 1 linear call K 70,000 with 2 days left, S 60,000, iv 0.5 (profile t-pm: +/-10 %,
    # vol up/same/down, im_factor 1.3). Its value C0 is small; at -10 % and vol down it is worth
    # almost nothing, so its worst loss L is close to C0 and 1.3 * L > C0. A long option can
    # lose at most its value: its standalone margin is C0, not 1.3 * L.
    S, K, days, iv = 60_000.0, 70_000.0, 2, 0.5
    T = C.years(days)
    pm = C.profile()["portfolio"]
    c0 = C.black(S, K, T, iv)
    worst = max(c0 - C.black(S * (1 + m), K, T, C.shocked_vol(iv, days, vd, pm))
                for m in (-0.1, 0.0, 0.1) for vd in ("up", "same", "down"))
    assert 1.3 * worst > c0  # the uncapped figure would exceed the option's value
    doc = C.portfolio([C.account("pm", "portfolio", {"USDT": 1_000.0},
                                 [C.option("c", "BTC", "call", K, C.expiry_in(days), 1.0, c0, vol=iv)])],
                      C.market(BTC=(S, 0.5)))
    rep = C.report(doc, "account:pm")
    o = C.pos(rep, "c")
    assert o["market_value"] == pytest.approx(c0, rel=1e-9)
    assert o["standalone_margin"] == pytest.approx(c0, rel=1e-9)
    # the account's own requirement is the method's (not capped): 1.3 x the worst loss
    assert rep["initial_margin"] == pytest.approx(1.3 * worst, rel=1e-9)
