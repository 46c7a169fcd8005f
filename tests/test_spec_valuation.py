"""Valuation, collateral, equity and Greeks, checked against hand figures and an own Black-76.

Spec: shared/spec/method.md "Valuation", portfolio-format.md "CLI contract" (Greek conventions),
docs/DESIGN.md "Conventions". Every expected value is computed here, never read from the engine.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_spec_common as C

S_BTC = 50_000.0
S_ETH = 3_000.0


def _doc(positions, collateral=None, rate=0.0, mkt=None, prof=None):
    mkt = mkt or C.market(BTC=(S_BTC, 0.5), ETH=(S_ETH, 0.6))
    profiles = {"t-pm": prof or C.profile()}
    acc = C.account("a", "cross", collateral or {"USDT": 100_000.0}, positions)
    return C.portfolio([acc], mkt, profiles=profiles, rate=rate)


# --------------------------------------------------------------------------- perpetuals, futures
def test_linear_perpetual_pnl_is_q_times_price_move():
    # long 2 BTC from 48,000, mark 50,000: 2 * (50,000 - 48,000) = 4,000
    # short 3 ETH from 2,900, mark 3,000: -3 * (3,000 - 2,900) = -300
    doc = _doc([C.perp("b", "BTC", 2.0, 48_000.0), C.perp("e", "ETH", -3.0, 2_900.0)])
    rep = C.report(doc, "account:a")
    b, e = C.pos(rep, "b"), C.pos(rep, "e")
    assert b["mark_price"] == pytest.approx(50_000.0, rel=1e-12)
    assert b["market_value"] == pytest.approx(4_000.0, rel=1e-12)
    assert b["unrealized_pnl"] == pytest.approx(4_000.0, rel=1e-12)
    assert e["market_value"] == pytest.approx(-300.0, rel=1e-12)
    assert e["unrealized_pnl"] == pytest.approx(-300.0, rel=1e-12)
    # V = q*(S - entry): delta = q, no gamma, vega, theta
    assert b["delta"] == pytest.approx(2.0, rel=1e-12)
    assert e["delta"] == pytest.approx(-3.0, rel=1e-12)
    for p in (b, e):
        assert p["gamma"] == pytest.approx(0.0, abs=1e-12)
        assert p["vega"] == pytest.approx(0.0, abs=1e-12)
        assert p["theta"] == pytest.approx(0.0, abs=1e-12)


def test_inverse_perpetual_pnl_in_base_is_Q_times_S_over_entry_minus_1():
    # long Q = 100,000 USD from 40,000, mark 50,000:
    #   coin P&L = 100,000 * (1/40,000 - 1/50,000) = 0.5 BTC; base = 0.5 * 50,000 = 25,000
    #   = Q * (S/entry - 1) = 100,000 * 0.25 = 25,000
    # short Q = -60,000 USD from 52,000: -60,000 * (50,000/52,000 - 1) = 2,307.6923...
    # V = Q*(S/entry - 1) so delta = Q/entry: 100,000/40,000 = 2.5 ; -60,000/52,000 = -1.1538...
    doc = _doc(
        [
            C.perp("l", "BTC", 100_000.0, 40_000.0, settlement="inverse"),
            C.perp("s", "BTC", -60_000.0, 52_000.0, settlement="inverse"),
        ]
    )
    rep = C.report(doc, "account:a")
    lo, sh = C.pos(rep, "l"), C.pos(rep, "s")
    assert lo["market_value"] == pytest.approx(25_000.0, rel=1e-12)
    assert lo["unrealized_pnl"] == pytest.approx(25_000.0, rel=1e-12)
    assert lo["mark_price"] == pytest.approx(50_000.0, rel=1e-12)
    exp_s = -60_000.0 * (50_000.0 / 52_000.0 - 1.0)
    assert exp_s == pytest.approx(2_307.6923076923, rel=1e-10)
    assert sh["market_value"] == pytest.approx(exp_s, rel=1e-12)
    assert sh["unrealized_pnl"] == pytest.approx(exp_s, rel=1e-12)
    assert lo["delta"] == pytest.approx(2.5, rel=1e-12)
    assert sh["delta"] == pytest.approx(-60_000.0 / 52_000.0, rel=1e-12)
    assert lo["gamma"] == pytest.approx(0.0, abs=1e-12)


def test_linear_future_marks_at_forward_with_rate():
    # r = 5 %, T = 73 days = 0.2 y: F = 50,000 * exp(0.01) = 50,502.5083...
    # long 2 from 50,000: V = 2 * (F - 50,000) = 1,005.0167...; delta = 2 * exp(rT)
    # theta per day (S fixed): V(T) = q*(S e^{rT} - entry), dV/dt = -dV/dT = -q r F -> / 365
    r, days = 0.05, 73
    T = C.years(days)
    fwd = S_BTC * math.exp(r * T)
    assert fwd == pytest.approx(50_502.508354, rel=1e-9)
    doc = _doc([C.future("f", "BTC", 2.0, 50_000.0, C.expiry_in(days))], rate=r)
    p = C.pos(C.report(doc, "account:a"), "f")
    assert p["mark_price"] == pytest.approx(fwd, rel=1e-12)
    assert p["market_value"] == pytest.approx(2.0 * (fwd - 50_000.0), rel=1e-9)
    assert p["unrealized_pnl"] == pytest.approx(2.0 * (fwd - 50_000.0), rel=1e-9)
    assert p["delta"] == pytest.approx(2.0 * math.exp(r * T), rel=1e-12)
    assert p["theta"] == pytest.approx(-2.0 * r * fwd / 365.0, rel=1e-9)


def test_inverse_future_without_rate_is_an_inverse_perpetual():
    # r = 0 so F = S: Q*(S/entry - 1) = -250,000 * (50,000/52,000 - 1) = 9,615.3846...
    doc = _doc([C.future("f", "BTC", -250_000.0, 52_000.0, C.expiry_in(90), "inverse")])
    p = C.pos(C.report(doc, "account:a"), "f")
    assert p["market_value"] == pytest.approx(-250_000.0 * (50_000.0 / 52_000.0 - 1), rel=1e-12)
    assert p["delta"] == pytest.approx(-250_000.0 / 52_000.0, rel=1e-12)


# --------------------------------------------------------------------------- options
@pytest.mark.parametrize("rate", [0.0, 0.05])
@pytest.mark.parametrize("right", ["call", "put"])
def test_linear_option_value_is_own_black76(rate, right):
    # K = 52,000, 30 days, own vol 0.55, q = 3 bought at 1,200 per unit.
    # expected mark = own Black-76 (math.erf) on F = S e^{rT}, discounted e^{-rT}
    K, days, vol, q, entry = 52_000.0, 30, 0.55, 3.0, 1_200.0
    T = C.years(days)
    mark = C.black(S_BTC, K, T, vol, rate, right)
    if rate == 0.0 and right == "call":
        # sanity of the own pricer: S=50k, K=52k, T=30/365, vol=55 % -> ~2,312.7
        assert 2_200 < mark < 2_400
    doc = _doc([C.option("o", "BTC", right, K, C.expiry_in(days), q, entry, vol=vol)], rate=rate)
    p = C.pos(C.report(doc, "account:a"), "o")
    assert p["mark_price"] == pytest.approx(mark, rel=1e-9)
    assert p["market_value"] == pytest.approx(q * mark, rel=1e-9)
    assert p["unrealized_pnl"] == pytest.approx(q * (mark - entry), rel=1e-9)


def test_option_without_own_vol_uses_market_vol():
    # market BTC vol 0.5; no "vol" on the position
    K, days = 48_000.0, 45
    mark = C.black(S_BTC, K, C.years(days), 0.5, 0.0, "put")
    doc = _doc([C.option("o", "BTC", "put", K, C.expiry_in(days), -1.0, 900.0)])
    p = C.pos(C.report(doc, "account:a"), "o")
    assert p["mark_price"] == pytest.approx(mark, rel=1e-9)
    assert p["market_value"] == pytest.approx(-mark, rel=1e-9)


@pytest.mark.parametrize("rate", [0.0, 0.04])
def test_inverse_option_base_value_equals_linear_value(rate):
    # Same option linear and inverse: base market value q * black_usd for both;
    # inverse mark_price is in coin: black_usd / S; unrealized P&L q*(mark - entry) in coin, * S.
    K, days, vol, q = 55_000.0, 60, 0.6, 4.0
    bl = C.black(S_BTC, K, C.years(days), vol, rate, "call")
    entry_coin = 0.03
    doc = _doc(
        [
            C.option("lin", "BTC", "call", K, C.expiry_in(days), q, 1_000.0, "linear", vol),
            C.option("inv", "BTC", "call", K, C.expiry_in(days), q, entry_coin, "inverse", vol),
        ],
        rate=rate,
    )
    rep = C.report(doc, "account:a")
    lin, inv = C.pos(rep, "lin"), C.pos(rep, "inv")
    assert inv["market_value"] == pytest.approx(lin["market_value"], rel=1e-12)
    assert inv["market_value"] == pytest.approx(q * bl, rel=1e-9)
    assert inv["mark_price"] == pytest.approx(bl / S_BTC, rel=1e-9)
    assert inv["unrealized_pnl"] == pytest.approx(q * (bl / S_BTC - entry_coin) * S_BTC, rel=1e-9)
    # contract: base delta of an inverse call is q*N(d1) (same as linear)
    nd1 = C.ncdf(C.d1_of(S_BTC, K, C.years(days), vol, rate))
    assert inv["delta"] == pytest.approx(q * nd1, rel=1e-9)
    assert lin["delta"] == pytest.approx(q * nd1, rel=1e-9)


def test_put_call_parity_across_report_values():
    # C - P = e^{-rT}(F - K) = S - K e^{-rT}; r = 3 %, T = 90 days, K = 55,000
    r, days, K = 0.03, 90, 55_000.0
    T = C.years(days)
    doc = _doc(
        [
            C.option("c", "BTC", "call", K, C.expiry_in(days), 1.0, 1.0, vol=0.7),
            C.option("p", "BTC", "put", K, C.expiry_in(days), 1.0, 1.0, vol=0.7),
            C.option("ci", "BTC", "call", K, C.expiry_in(days), 1.0, 0.01, "inverse", 0.7),
            C.option("pi", "BTC", "put", K, C.expiry_in(days), 1.0, 0.01, "inverse", 0.7),
        ],
        rate=r,
    )
    rep = C.report(doc, "account:a")
    parity = S_BTC - K * math.exp(-r * T)
    diff = C.pos(rep, "c")["mark_price"] - C.pos(rep, "p")["mark_price"]
    assert diff == pytest.approx(parity, rel=1e-9)
    diff_mv = C.pos(rep, "ci")["market_value"] - C.pos(rep, "pi")["market_value"]
    assert diff_mv == pytest.approx(parity, rel=1e-9)
    # call delta - put delta = 1 (base deltas)
    assert C.pos(rep, "c")["delta"] - C.pos(rep, "p")["delta"] == pytest.approx(1.0, rel=1e-9)


def test_expired_options_pay_intrinsic_at_settlement_price():
    # linear call K 45,000 settled at 47,000, q=2: 2 * 2,000 = 4,000 (mark 2,000)
    # inverse put K 50,000 settled at 47,000, q=1: 3,000 base; mark in coin 3,000/47,000
    # expired linear put K 40,000 at 47,000: worthless
    past = C.iso(C.AS_OF_DT.replace(day=1, month=1, year=2025))
    c = C.option("c", "BTC", "call", 45_000.0, past, 2.0, 1_500.0)
    p = C.option("p", "BTC", "put", 50_000.0, past, 1.0, 0.05, "inverse")
    w = C.option("w", "BTC", "put", 40_000.0, past, 1.0, 100.0)
    for o in (c, p, w):
        o["expired"] = True
        o["settlement_price"] = 47_000.0
    rep = C.report(_doc([c, p, w]), "account:a")
    assert C.pos(rep, "c")["market_value"] == pytest.approx(4_000.0, rel=1e-12)
    assert C.pos(rep, "c")["mark_price"] == pytest.approx(2_000.0, rel=1e-12)
    assert C.pos(rep, "c")["unrealized_pnl"] == pytest.approx(2 * (2_000 - 1_500), rel=1e-12)
    assert C.pos(rep, "p")["market_value"] == pytest.approx(3_000.0, rel=1e-12)
    assert C.pos(rep, "p")["mark_price"] == pytest.approx(3_000.0 / 47_000.0, rel=1e-12)
    assert C.pos(rep, "w")["market_value"] == pytest.approx(0.0, abs=1e-9)
    for pid in ("c", "p", "w"):
        for g in C.GREEK_KEYS:
            assert C.pos(rep, pid)[g] == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- collateral, equity
def test_collateral_value_flat_tiered_and_borrowed():
    # BTC tiered by value: 5 BTC * 50,000 = 250,000 in bands
    #   [0, 100k) at 0 %  -> 100,000
    #   [100k, 200k) at 10 % -> 90,000
    #   [200k, ...) at 20 %  -> 40,000 (50k of value)        => 230,000
    # ETH flat 5 %: 10 * 3,000 * 0.95 = 28,500
    # USDC flat 2 %: 10,000 * 0.98 = 9,800
    # USDT -5,000 borrowed: counts in full despite its 2 % haircut -> -5,000
    # total 230,000 + 28,500 + 9,800 - 5,000 = 263,300
    prof = C.profile()
    prof["haircuts"] = {
        "BTC": [[100_000, 0.0], [200_000, 0.1], [1e30, 0.2]],
        "ETH": 0.05,
        "USDC": 0.02,
        "USDT": 0.02,
        "SOL": 0.0,
    }
    doc = _doc([], collateral={"BTC": 5.0, "ETH": 10.0, "USDC": 10_000.0, "USDT": -5_000.0},
               prof=prof)
    rep = C.report(doc, "account:a")
    assert rep["collateral_value"] == pytest.approx(263_300.0, rel=1e-12)
    assert rep["equity"] == pytest.approx(263_300.0, rel=1e-12)


def test_tiered_haircut_inside_first_band_only():
    # 1.5 BTC * 50,000 = 75,000 < 100,000: all at 0 % -> 75,000; 0.5 ETH*3,000*(1-0.05) = 1,425
    prof = C.profile()
    prof["haircuts"]["BTC"] = [[100_000, 0.0], [200_000, 0.1], [1e30, 0.2]]
    prof["haircuts"]["ETH"] = 0.05
    rep = C.report(_doc([], collateral={"BTC": 1.5, "ETH": 0.5}, prof=prof), "account:a")
    assert rep["collateral_value"] == pytest.approx(76_425.0, rel=1e-12)


def test_equity_is_collateral_plus_perp_pnl_plus_option_and_spot_value():
    # collateral: 20,000 USDT + 1 BTC (haircut 10 %: 45,000) = 65,000
    # linear perp +2 BTC from 49,000: +2,000
    # inverse perp Q=+50,000 from 40,000: 50,000*(50,000/40,000 - 1) = 12,500
    # linear future -1 ETH from 3,100 (r = 0): -1*(3,000 - 3,100) = +100
    # short 2 linear calls K 55k, 30 d, vol 0.5: -2 * black
    # long 1 inverse put K 45k, 30 d, vol 0.5: +1 * black (base)
    # spot +10 ETH bought at 2,500: market value 10 * 3,000 = 30,000 (purchase already paid)
    # equity = 65,000 + 2,000 + 12,500 + 100 - 2*call + put + 30,000
    T = C.years(30)
    call = C.black(S_BTC, 55_000.0, T, 0.5, 0.0, "call")
    put = C.black(S_BTC, 45_000.0, T, 0.5, 0.0, "put")
    prof = C.profile()
    prof["haircuts"]["BTC"] = 0.1
    doc = _doc(
        [
            C.perp("lp", "BTC", 2.0, 49_000.0),
            C.perp("ip", "BTC", 50_000.0, 40_000.0, "inverse"),
            C.future("f", "ETH", -1.0, 3_100.0, C.expiry_in(60)),
            C.option("c", "BTC", "call", 55_000.0, C.expiry_in(30), -2.0, 500.0, vol=0.5),
            C.option("p", "BTC", "put", 45_000.0, C.expiry_in(30), 1.0, 0.01, "inverse", 0.5),
            C.spot("s", "ETH", 10.0, 2_500.0),
        ],
        collateral={"USDT": 20_000.0, "BTC": 1.0},
        prof=prof,
    )
    rep = C.report(doc, "account:a")
    assert rep["collateral_value"] == pytest.approx(65_000.0, rel=1e-12)
    expected = 65_000 + 2_000 + 12_500 + 100 - 2 * call + put + 30_000
    assert rep["equity"] == pytest.approx(expected, rel=1e-10)
    s = C.pos(rep, "s")
    assert s["market_value"] == pytest.approx(30_000.0, rel=1e-12)
    assert s["unrealized_pnl"] == pytest.approx(5_000.0, rel=1e-12)
    assert s["delta"] == pytest.approx(10.0, rel=1e-12)
    assert rep["margin_usage"] == pytest.approx(rep["maintenance_margin"] / rep["equity"], rel=1e-9)


# --------------------------------------------------------------------------- Greeks
def _own_fd_greeks(S, K, days, vol, r, right, q):
    """Finite differences of the own Black-76 base value q*black (independent of the engine)."""
    T = C.years(days)

    def V(s=S, t=T, v=vol):
        return q * C.black(s, K, t, v, r, right)

    h = S * 1e-4
    delta = (V(s=S + h) - V(s=S - h)) / (2 * h)
    gamma = (V(s=S + h) - 2 * V() + V(s=S - h)) / (h * h)
    dv = 1e-5
    vega = (V(v=vol + dv) - V(v=vol - dv)) / (2 * dv) * 0.01  # per vol point
    dt = 1e-6
    theta = -(V(t=T + dt) - V(t=T - dt)) / (2 * dt) / 365.0  # per calendar day, S fixed
    return delta, gamma, vega, theta


@pytest.mark.parametrize(
    ("right", "settlement", "rate", "q"),
    [
        ("call", "linear", 0.0, 2.0),
        ("put", "linear", 0.05, -3.0),
        ("call", "inverse", 0.03, -1.5),
        ("put", "inverse", 0.0, 4.0),
    ],
)
def test_option_greeks_match_own_finite_differences(right, settlement, rate, q):
    K, days, vol = 52_000.0, 40, 0.65
    d, g, v, t = _own_fd_greeks(S_BTC, K, days, vol, rate, right, q)
    entry = 0.02 if settlement == "inverse" else 1_000.0
    doc = _doc([C.option("o", "BTC", right, K, C.expiry_in(days), q, entry, settlement, vol)],
               rate=rate)
    p = C.pos(C.report(doc, "account:a"), "o")
    assert p["delta"] == pytest.approx(d, rel=1e-5)
    assert p["gamma"] == pytest.approx(g, rel=1e-4)
    assert p["vega"] == pytest.approx(v, rel=1e-5)
    assert p["theta"] == pytest.approx(t, rel=1e-4)
    # signs of the conventions: long options have positive gamma/vega and (r=0) negative theta
    sgn = 1 if q > 0 else -1
    assert sgn * p["gamma"] > 0 and sgn * p["vega"] > 0
    if rate == 0.0:
        assert sgn * p["theta"] < 0


def test_option_greeks_match_finite_differences_of_engine_values():
    # Revalue the same book with the engine at shifted spot, vol and as_of.
    # delta ~ (MV(S+h) - MV(S-h)) / 2h ; vega ~ (MV(vol+dv) - MV(vol-dv)) / 2dv * 0.01 ;
    # theta per day ~ (MV(as_of + 1 min) - MV(as_of - 1 min)) / (2 min in days)
    K, days, vol, q, r = 47_000.0, 20, 0.8, -2.0, 0.02
    pos_ = C.option("o", "BTC", "put", K, C.expiry_in(days), q, 0.02, "inverse")  # market vol

    def mv(S=S_BTC, v=vol, as_of=C.AS_OF):
        mkt = C.market(BTC=(S, v), ETH=(S_ETH, 0.6))
        doc = C.portfolio([C.account("a", "cross", {"USDT": 1e5}, [pos_])], mkt, rate=r,
                          as_of=as_of)
        return C.pos(C.report(doc, "account:a"), "o")

    base = mv()
    h = S_BTC * 1e-4
    fd_delta = (mv(S=S_BTC + h)["market_value"] - mv(S=S_BTC - h)["market_value"]) / (2 * h)
    assert base["delta"] == pytest.approx(fd_delta, rel=1e-5)
    fd_vega = (mv(v=vol + 1e-4)["market_value"] - mv(v=vol - 1e-4)["market_value"]) / 2e-4 * 0.01
    assert base["vega"] == pytest.approx(fd_vega, rel=1e-4)
    later = C.iso(C.AS_OF_DT.replace(minute=1))
    earlier = C.iso(C.AS_OF_DT.replace(year=2025, month=12, day=31, hour=23, minute=59))
    fd_theta = (mv(as_of=later)["market_value"] - mv(as_of=earlier)["market_value"]) / (
        120.0 / 86400.0
    )
    assert base["theta"] == pytest.approx(fd_theta, rel=1e-3)
    # and delta of an inverse put in base is q*(N(d1) - 1)
    nd1 = C.ncdf(C.d1_of(S_BTC, K, C.years(days), vol, r))
    assert base["delta"] == pytest.approx(q * (nd1 - 1.0), rel=1e-9)


def test_per_underlying_greeks_include_collateral():
    # BTC: collateral 1.5 (delta = amount), linear perp +2, inverse perp Q=100,000 @ 40,000
    #      (delta 100,000/40,000 = 2.5), spot +0.5, long 3 linear calls K 55k 30 d vol 0.5
    #      delta = 1.5 + 2 + 2.5 + 0.5 + 3 N(d1); gamma/vega/theta are the option's
    # ETH: collateral -2 (borrowed) + short perp -4 -> delta -6
    K, days, vol = 55_000.0, 30, 0.5
    T = C.years(days)
    d1 = C.d1_of(S_BTC, K, T, vol)
    gamma_1 = C.npdf(d1) / (S_BTC * vol * math.sqrt(T))
    vega_1 = S_BTC * C.npdf(d1) * math.sqrt(T) * 0.01
    theta_1 = -S_BTC * C.npdf(d1) * vol / (2 * math.sqrt(T)) / 365.0
    doc = _doc(
        [
            C.perp("lp", "BTC", 2.0, 49_000.0),
            C.perp("ip", "BTC", 100_000.0, 40_000.0, "inverse"),
            C.spot("s", "BTC", 0.5, 30_000.0),
            C.option("c", "BTC", "call", K, C.expiry_in(days), 3.0, 700.0, vol=vol),
            C.perp("ep", "ETH", -4.0, 3_000.0),
        ],
        collateral={"USDT": 50_000.0, "BTC": 1.5, "ETH": -2.0},
    )
    rep = C.report(doc, "account:a")
    g = rep["greeks"]
    assert g["BTC"]["delta"] == pytest.approx(1.5 + 2 + 2.5 + 0.5 + 3 * C.ncdf(d1), rel=1e-9)
    assert g["BTC"]["gamma"] == pytest.approx(3 * gamma_1, rel=1e-9)
    assert g["BTC"]["vega"] == pytest.approx(3 * vega_1, rel=1e-9)
    assert g["BTC"]["theta"] == pytest.approx(3 * theta_1, rel=1e-9)
    assert g["ETH"]["delta"] == pytest.approx(-6.0, rel=1e-12)
    assert g["ETH"]["gamma"] == pytest.approx(0.0, abs=1e-12)
    # per-underlying delta = sum of position deltas on it + collateral amount
    pos_sum = sum(p["delta"] for p in rep["positions"] if p["id"] in ("lp", "ip", "s", "c"))
    assert g["BTC"]["delta"] == pytest.approx(pos_sum + 1.5, rel=1e-12)
