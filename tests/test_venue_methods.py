"""The venues' portfolio methods (venues.md 3, 5, 6, 7) against figures computed by hand, or
independently here with the spec tests' own Black-76 (tests/test_spec_common.py)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_spec_common as C

DERIBIT_DAY = "2024-07-01T00:00:00Z"  # deribit-pm 2024-06-17 in force
DERIBIT_DT = C.AS_OF_DT.replace(year=2024, month=7, day=1)


def _doc(positions, collateral, profile, as_of, prices, profiles=None):
    return C.portfolio([C.account("a", "portfolio", collateral, positions, profile)], C.market(**prices),
                       profiles=profiles or {}, as_of=as_of)


def _rep(doc):
    return C.report(doc, "account:a")


def _check_components(r):
    total = sum(p["component_margin"] for p in r["positions"]) + sum(r["collateral_components"].values())
    assert total == pytest.approx(r["initial_margin"], rel=1e-9, abs=1e-9)


# ------------------------------------------------------------------ Deribit S:PM
def test_deribit_roll_shock_per_expiry_and_coin_collateral_is_no_hedge() -> None:
    # long 1,000,000 USD BTC-PERPETUAL against short 1,000,000 USD of a 90-day future at 50,000:
    # the coin P&L cancels in every scenario (worst 0); roll = 1 % x 20 BTC (perpetual)
    # + 20 BTC x max(1 %, e^(7.5 % x 90/365) - 1) (the future's expiry) -> RMM in BTC, x 50,000
    pos = [C.perp("p", "BTC", 1_000_000, 50_000, "inverse"),
           C.future("f", "BTC", -1_000_000, 50_000, C.expiry_in(90, DERIBIT_DT), "inverse")]
    rmm = 0.01 * 20 + 20 * math.expm1(0.075 * 90 / 365)
    for coll in (0.0, 5.0):
        r = _rep(_doc(pos, {"BTC": coll} if coll else {"USDC": 1}, "deribit-pm", DERIBIT_DAY, {"BTC": 50_000}))
        assert r["initial_margin"] == pytest.approx(rmm * 50_000, rel=1e-12)
        assert r["maintenance_margin"] == pytest.approx(0.8 * rmm * 50_000, rel=1e-12)
        assert r["scenarios"]["BTC"]["addons"]["roll"] == pytest.approx(rmm, rel=1e-12)
        _check_components(r)


def test_deribit_delta_shock_beyond_the_threshold() -> None:
    # long 25,000,000 USD BTC-PERPETUAL at 50,000 = 500 BTC; worst at -16 %: 500 (1/0.84 - 1) BTC,
    # rounded to 1e-9; roll 1 % x 500 = 5; |D| S = 25M > 20M: excess 500 - 20M/50,000 = 100 BTC,
    # rate min(10 %, 5e-5 x 100) = 0.5 % -> 2.5 BTC
    r = _rep(_doc([C.perp("p", "BTC", 25_000_000, 50_000, "inverse")], {"BTC": 1000}, "deribit-pm",
                  DERIBIT_DAY, {"BTC": 50_000}))
    worst = round(500 * (1 / 0.84 - 1), 9)
    assert r["initial_margin"] == pytest.approx((worst + 5 + 2.5) * 50_000, rel=1e-12)
    assert r["scenarios"]["BTC"]["addons"]["delta_shock"] == pytest.approx(2.5, rel=1e-12)


def test_deribit_linear_positions_form_their_own_usdc_portfolio() -> None:
    # long 10 BTC_USDC at 50,000: loss at -16 % 80,000 USDC; roll 1 % x 10 BTC x 50,000 = 5,000
    pos = [C.perp("lin", "BTC", 10, 50_000), C.perp("inv", "BTC", -500_000, 50_000, "inverse")]
    r = _rep(_doc(pos, {"BTC": 20}, "deribit-pm", DERIBIT_DAY, {"BTC": 50_000}))
    assert set(r["scenarios"]) == {"BTC", "USDC:BTC"}
    usdc = r["scenarios"]["USDC:BTC"]
    assert usdc["numeraire"] == "USDC"
    assert usdc["addons"]["roll"] == pytest.approx(5_000, rel=1e-12)
    # the inverse short: 10 BTC, worst at +16 %: 10 (1 - 1/1.16) BTC, roll 0.1 BTC
    coin = round(10 * (1 - 1 / 1.16), 9) + 0.1
    assert r["initial_margin"] == pytest.approx(85_000 + coin * 50_000, rel=1e-12)
    _check_components(r)


def _deribit_option_by_hand(S, K, days, iv, q):
    """RMM (BTC) of a book of q inverse puts, from deribit-pm 2024 parameters and venues.md 3."""
    T = C.years(days)
    R, up, down, p, floor, damp = 0.16, 0.5, 0.25, (0.3 if days < 30 else 0.13), 0.5, 100_000
    scale = (30 / days) ** p
    vols = {"up": max(iv * (1 + up * scale), floor), "same": iv, "down": iv * (1 - down * scale)}

    def coin(s, v):
        return q * C.black(s, K, T, v, 0.0, "put") / s

    base = coin(S, iv)
    entries = [coin(S * (1 + R * k / 4), vols[v]) - base for k in range(-4, 5) for v in ("up", "same", "down")]
    for m in (-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0):
        edge = 1 + R if m > 0 else 1 - R
        e = (coin(S * (1 + m), vols["up"]) - base) * R / abs(m) * (1 + m) / edge
        cut = (max(abs(m) / R, 1) - 1) * damp / (edge * S)
        entries.append(math.copysign(max(abs(e) - cut, 0.0), e))
    entries = [min(e, 0.0) for e in entries]  # pnl_offset 0: gains count nothing
    worst = round(max(0.0, -min(entries)), 9)
    d1 = C.d1_of(S, K, T, iv)
    coin_delta = q * ((C.ncdf(d1) - 1.0) - C.black(S, K, T, iv, 0.0, "put") / S)
    roll = abs(coin_delta) * max(0.01, math.expm1(0.075 * T))
    return worst + roll, entries


def test_deribit_short_puts_extended_table_re_expressed_and_dampened() -> None:
    S, K, days, iv, q = 50_000.0, 25_000.0, 45.0, 0.8, -1000.0
    rmm, entries = _deribit_option_by_hand(S, K, days, iv, q)
    opt = C.option("p", "BTC", "put", K, C.expiry_in(days, DERIBIT_DT), q, 0.001, "inverse", vol=iv)
    r = _rep(_doc([opt], {"BTC": 100}, "deribit-pm", DERIBIT_DAY, {"BTC": S}))
    assert r["initial_margin"] == pytest.approx(rmm * S, rel=1e-9)
    vec = r["scenarios"]["BTC"]
    got = [e["pnl"] for e in vec["entries"]]
    assert got == pytest.approx(entries, rel=1e-9, abs=1e-12)
    assert vec["worst"] == 27  # the -66 % extended entry binds, partly dampened
    assert 0 < -got[27] < -entries[27] + 1e-9
    assert [e["vol"] for e in vec["entries"][:3]] == ["up", "same", "down"]
    assert vec["entries"][27]["weight"] == pytest.approx(0.16 / 0.66 * 0.34 / 0.84, rel=1e-12)
    _check_components(r)


# ------------------------------------------------------------------ OKX
OKX_DAY = "2025-02-01T00:00:00Z"


def test_okx_mr7_binds_and_scales_progressively() -> None:
    # short 1 BTC at 100,000; MR1 = MR6 = 12,000, MR4 = 0.2 % x 100,000 = 200; with an MR7 rate of
    # 50 % the raw charge 50,000 is scaled x1 to 30,000 and x2 above: 30,000 + 2 x 20,000 = 70,000
    prof = {"okx-pm": {"okx": {"mr7_rate": {"BTC": 0.5}, "mr7_scaling": {"BTC": [[30_000, 1], [1e30, 2]]}}}}
    r = _rep(_doc([C.perp("p", "BTC", -1, 100_000)], {"USDT": 1e6}, "okx-pm", OKX_DAY, {"BTC": 100_000}, prof))
    add = r["scenarios"]["BTC"]["addons"]
    assert (add["mr1"], add["mr6"], add["mr4"]) == pytest.approx((12_000, 12_000, 200), rel=1e-12)
    assert add["mr7"] == pytest.approx(70_000, rel=1e-12)
    assert r["maintenance_margin"] == pytest.approx(70_000, rel=1e-12)
    assert r["initial_margin"] == pytest.approx(91_000, rel=1e-12)
    _check_components(r)


def test_okx_mr4_of_a_future_uses_the_annual_move() -> None:
    # long 1 BTC 180-day future: MR1 = 12,000; MR4 = max(0.2 %, 5 % x 180/365) x 100,000;
    # MR7 = 0.45 % x 100,000 = 450 does not bind
    f = C.future("f", "BTC", 1, 100_000, C.expiry_in(180, C.AS_OF_DT.replace(year=2025, month=2)))
    r = _rep(_doc([f], {"USDT": 1e6}, "okx-pm", OKX_DAY, {"BTC": 100_000}))
    mr4 = 0.05 * 180 / 365 * 100_000
    assert r["scenarios"]["BTC"]["addons"]["mr4"] == pytest.approx(mr4, rel=1e-12)
    assert r["maintenance_margin"] == pytest.approx(12_000 + mr4, rel=1e-12)


def test_okx_spot_in_the_unit_and_borrowing_margin() -> None:
    # 1 BTC held (in the BTC unit): MR1 = 12 % x 100,000; MR4 = 0 (spot is no derivative);
    # a USDT liability of 10,000: MR8 = 2 % = 200, borrowing IMR = 10 % = 1,000
    r = _rep(_doc([], {"BTC": 1, "USDT": -10_000}, "okx-pm", OKX_DAY, {"BTC": 100_000}))
    assert r["maintenance_margin"] == pytest.approx(12_000 + 200, rel=1e-12)
    assert r["initial_margin"] == pytest.approx(1.3 * 12_000 + 1_000, rel=1e-12)
    assert r["collateral_components"]["USDT"] == pytest.approx(1_000, rel=1e-12)
    _check_components(r)


# ------------------------------------------------------------------ Bybit PM
BYBIT_DAY = "2025-06-01T00:00:00Z"
BYBIT_DT = C.AS_OF_DT.replace(year=2025, month=6)


def test_bybit_perpetual_and_delta_spread_contingencies() -> None:
    # long a 90-day BTC future, short the perpetual, 1 BTC each at 60,000: no stress loss;
    # perpetual/futures 0.5 % x 2 BTC x 60,000 = 600; delta spread 5 % x 90/365 x 1 BTC x 60,000
    pos = [C.future("f", "BTC", 1, 60_000, C.expiry_in(90, BYBIT_DT)), C.perp("p", "BTC", -1, 60_000)]
    r = _rep(_doc(pos, {"USDC": 1e5}, "bybit-pm", BYBIT_DAY, {"BTC": 60_000}))
    mm = 600 + 0.05 * 90 / 365 * 60_000
    assert r["maintenance_margin"] == pytest.approx(mm, rel=1e-12)
    assert r["initial_margin"] == pytest.approx(1.2 * mm, rel=1e-12)
    assert r["profile_version"] == "2025-01-10"
    _check_components(r)


def test_bybit_vega_spread_between_expiries() -> None:
    # long a 30-day call, short a 60-day call (1 BTC each, strike 60,000, vol 60 %): hedged vega
    # min(|v30|, |v60|) (per vol point, base) x 30 days x 0.03 %
    S, K, iv = 60_000.0, 60_000.0, 0.6
    pos = [C.option("l", "BTC", "call", K, C.expiry_in(30, BYBIT_DT), 1, 3000, vol=iv),
           C.option("s", "BTC", "call", K, C.expiry_in(60, BYBIT_DT), -1, 4000, vol=iv)]
    r = _rep(_doc(pos, {"USDC": 1e5}, "bybit-pm", BYBIT_DAY, {"BTC": S}))

    def vega(days):
        T = C.years(days)
        return S * C.npdf(C.d1_of(S, K, T, iv)) * math.sqrt(T) * 0.01

    add = r["scenarios"]["BTC"]["addons"]
    assert add["vega_spread"] == pytest.approx(0.0003 * 30 * min(vega(30), vega(60)), rel=1e-9)
    assert add["short_option"] == 0.0  # net option quantity 0
    d30, d60 = (C.ncdf(C.d1_of(S, K, C.years(t), iv)) for t in (30, 60))
    assert add["delta_spread"] == pytest.approx(0.05 * 30 / 365 * min(d30, d60) * S, rel=1e-9)
    _check_components(r)


# ------------------------------------------------------------------ SPAN
def test_span_sixteen_scenarios_in_price_points() -> None:
    # one S&P future, $500 a point (quantity 500), scan range 20 points: +/-1/3, 2/3, 3/3 of 20 points
    # x 500 = 3,333.33, 6,666.67, 10,000; the extremes 2 x 20 points x 500 x 35 % = 7,000
    f = C.future("f", "SP", 500, 410, "1992-12-18T14:30:00Z")
    doc = C.portfolio([C.account("a", "portfolio", {"USD": 20_000}, [f], "span")],
                      {"SP": {"price": 410.0}, "USD": {"price": 1.0}}, profiles={}, as_of="1992-11-02T00:00:00Z")
    vec = _rep(doc)["scenarios"]["SP"]
    third = 500 * 20 / 3
    expected = [0, 0, third, third, -third, -third, 2 * third, 2 * third, -2 * third, -2 * third,
                10_000, 10_000, -10_000, -10_000, 7_000, -7_000]
    assert [e["pnl"] for e in vec["entries"]] == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert [e["vol"] for e in vec["entries"]][:4] == ["up", "down", "up", "down"]
    assert vec["entries"][14]["move"] == pytest.approx(40 / 410, rel=1e-12)
    assert vec["entries"][14]["weight"] == 0.35


def test_span_volatility_scan_of_a_short_option() -> None:
    # short 1 call: scenario 1 (price unchanged, vol + 4 points) loses black(iv + 0.04) - black(iv)
    S, K, T, iv = 4000.0, 4100.0, C.years(30), 0.2
    o = C.option("c", "SP", "call", K, C.expiry_in(30), -1, 50, vol=iv)
    doc = C.portfolio([C.account("a", "portfolio", {"USD": 1e5}, [o], "span")],
                      {"SP": {"price": S}, "USD": {"price": 1.0}}, profiles={})
    vec = _rep(doc)["scenarios"]["SP"]
    assert vec["entries"][0]["pnl"] == pytest.approx(-(C.black(S, K, T, iv + 0.04) - C.black(S, K, T, iv)),
                                                     rel=1e-9)
    assert vec["entries"][1]["pnl"] == pytest.approx(-(C.black(S, K, T, iv - 0.04) - C.black(S, K, T, iv)),
                                                     rel=1e-9)


# ------------------------------------------------------------------ vectors entry by entry
# A live pme/simulate response of 2026-02-15 (currency ETH, short 0.999487053 ETH of ETH-PERPETUAL,
# index 1,949.34; venues.md source [3]): its aggregated vectors, worst case, roll shock and margins.
ETH_2026_STANDARD = [0.13163975819999998] * 3 + [0.09359358530982659] * 3 + [0.05931022072747252] * 3 + [
    0.028257749142408375] * 3 + [0.0] * 3 + [-0.04304011233014354] * 3 + [-0.08252645391743119] * 3 + [
    -0.11888171996035243] * 3 + [-0.15246412672881357] * 3


def test_deribit_2026_eth_vectors_match_the_venue_entry_by_entry() -> None:
    index = 1949.34
    perp = C.perp("eth-perp", "ETH", -0.999487053 * index, index, "inverse")
    r = _rep(_doc([perp], {"ETH": 1.0}, "deribit-pm", "2026-02-15T23:20:09Z", {"ETH": index}))
    assert r["profile_version"] == "2026-02-15"
    vec = r["scenarios"]["ETH"]
    got = [e["pnl"] for e in vec["entries"]]
    assert got[:27] == pytest.approx(ETH_2026_STANDARD, rel=1e-12)
    assert got[27:] == [0.0] * 8  # every extended entry dampened to 0
    assert vec["worst"] == 25  # bucket 9, vol same: the entry Deribit names
    assert vec["addons"]["roll"] == pytest.approx(0.004997435265, rel=1e-12)
    assert r["initial_margin"] / index == pytest.approx(0.157461562265, abs=1e-12)
    assert r["maintenance_margin"] / index == pytest.approx(0.125969249812, abs=1e-12)


def test_okx_vectors_match_the_position_builder() -> None:
    import json

    from shared_paths import EXAMPLES

    ex = json.loads((EXAMPLES / "venues" / "okx-pm-position-builder-2025.json").read_text(encoding="utf-8"))
    from workstation.core.portfolio_io import read_portfolio
    from workstation.core.report import build_report

    r = build_report(read_portfolio(EXAMPLES / "venues" / ex["book"]), "account:okx", with_liquidation=False)
    pub = ex["published"]
    for unit, key in (("BTC", "mr1Scenarios_volSame (volShockUp and volShockDown identical)"),
                      ("LTC", "mr1Scenarios_volSame")):
        entries = r["scenarios"][unit]["entries"]
        same = {round(e["move"], 6): e["pnl"] for e in entries if e["vol"] == "same"}
        for shock, pnl in pub[unit][key].items():
            # OKX prints each shock's P&L (the short BTC gains at -12 %): the same as ours
            assert same[round(float(shock), 6)] == pytest.approx(pnl, rel=1e-9, abs=1e-9)
        assert r["scenarios"][unit]["addons"]["mr6"] == pytest.approx(pub[unit]["mr6"], rel=1e-9)
        tail = [e for e in entries if e["weight"] == 0.5]
        assert min(e["pnl"] for e in tail) == pytest.approx(pub[unit]["mr6FinalResult"]["pnl"] / 2, rel=1e-9)
