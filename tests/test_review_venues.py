"""Review: the venue methods against further hand-computed cases of the venues' published rules
(venues.md), through `python -m workstation margin FILE --json` where it matters, and the places
where a position's mark or forward must be used (a trader's book carries the venue's marks).

Every expected figure is written out by hand here (Black-76 from `review_pmrm2_reference.b76`,
plain math), never taken from the engine."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from scipy.optimize import brentq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from review_pmrm2_reference import b76
from shared_paths import EXAMPLES

from workstation.core.portfolio_io import portfolio_from_dict
from workstation.core.report import build_report

ROOT = Path(__file__).resolve().parents[1]
VENUES = EXAMPLES / "venues"
YEAR = 365 * 86400.0


def doc(as_of, market, accounts, profiles=None):
    d = {"format": "margin-workstation/portfolio@1", "as_of": as_of, "base_currency": "USD", "rate": 0.0,
         "market": market, "accounts": accounts}
    if profiles:
        d["profiles"] = profiles
    return d


def account(aid, mode, profile, collateral, positions):
    return {"id": aid, "margin_mode": mode, "profile": profile, "collateral": collateral, "positions": positions}


def report(d, aid="a", liquidation=False):
    return build_report(portfolio_from_dict(d), f"account:{aid}", with_liquidation=liquidation)


def cli(d, tmp_path, aid="a"):
    path = tmp_path / "book.json"
    path.write_text(json.dumps(d))
    out = subprocess.run([sys.executable, "-m", "workstation", "margin", str(path), "--account", aid, "--json"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# ------------------------------------------------------------------ Deribit S:PM, coin numeraire
INDEX = 65666.19
PERP_MARK, FUT_MARK = 65910.57, 67371.75
PERP_BTC, FUT_BTC = 0.314538364, -0.001187534  # the example's positions in BTC


def deribit_docs_book_as_the_venue_gives_it():
    """The API docs' pme/simulate example written as a trader's import holds it: inverse sizes in USD
    (coin size x mark), the perpetual's mark and the future's mark as the forward of its expiry."""
    return doc("2024-06-17T10:22:20Z",
               {"BTC": {"price": INDEX, "forwards": [{"expiry": "2024-06-28T08:00:00Z", "forward": FUT_MARK,
                                                      "rate": 0.0}]},
                "USDC": {"price": 1.0}},
               [account("drb", "portfolio", "deribit-pm", {"BTC": 1.0}, [
                   {"id": "perp", "kind": "perpetual", "underlying": "BTC", "settlement": "inverse",
                    "quantity": PERP_BTC * PERP_MARK, "entry_price": PERP_MARK, "mark_price": PERP_MARK},
                   {"id": "fut", "kind": "future", "underlying": "BTC", "settlement": "inverse",
                    "quantity": FUT_BTC * FUT_MARK, "entry_price": FUT_MARK, "expiry": "2024-06-28T08:00:00Z"}])])


def test_deribit_pm_coin_risk_uses_the_marks_of_perpetuals_and_futures(tmp_path):
    # Inverse coin P&L is Q (1/M0 - 1/M1), M the instrument's mark moving with the index: the coin
    # exposure is Q / M = the venue's size in BTC, so the published figures follow exactly:
    # RMM 0.06284313098 BTC, MM 0.050274504784 BTC (x the index 65,666.19), to 1e-9 BTC.
    r = cli(deribit_docs_book_as_the_venue_gives_it(), tmp_path, "drb")
    assert abs(r["initial_margin"] / INDEX - 0.06284313098) <= 1e-9
    assert abs(r["maintenance_margin"] / INDEX - 0.050274504784) <= 1e-9
    # the standard vector of the perpetual alone, by hand: size x (1/(1+m) - 1) ... in coin, at -16 %
    entry = r["scenarios"]["BTC"]["entries"][0]
    assert entry["move"] == -0.16
    want = PERP_BTC * (1 - 1 / 0.84) + FUT_BTC * (1 - 1 / 0.84)
    assert entry["pnl"] == pytest.approx(want, rel=1e-9)
    # roll: perpetual 1 % x 0.314538364 + future 1 % x 0.001187534 (its 11 days are below the minimum)
    assert r["scenarios"]["BTC"]["addons"]["roll"] == pytest.approx(0.00315725898, rel=1e-9)


def test_deribit_pm_roll_per_expiry_and_two_futures_by_hand():
    # 2024 BTC parameters (R 16 %, annual 7.5 %, min 1 %, dampener 100,000), S 60,000, rate 0:
    # long 1 BTC of a 365-day future, short 0.5 BTC of a 30-day one, long 0.3 BTC perpetual (USD sizes).
    S = 60_000.0
    day = 86400
    exp365 = "2025-07-01T00:00:00Z"
    exp30 = "2024-07-31T00:00:00Z"
    book = doc("2024-07-01T00:00:00Z", {"BTC": {"price": S}, "USDC": {"price": 1.0}},
               [account("a", "portfolio", "deribit-pm", {"BTC": 2.0}, [
                   {"id": "f365", "kind": "future", "underlying": "BTC", "settlement": "inverse",
                    "quantity": 1.0 * S, "entry_price": S, "expiry": exp365},
                   {"id": "f30", "kind": "future", "underlying": "BTC", "settlement": "inverse",
                    "quantity": -0.5 * S, "entry_price": S, "expiry": exp30},
                   {"id": "p", "kind": "perpetual", "underlying": "BTC", "settlement": "inverse",
                    "quantity": 0.3 * S, "entry_price": S}])])
    assert (365 * day, 30 * day) == (365 * day, 30 * day)
    # worst standard entry at -16 %: net 0.8 BTC x (1 - 1/0.84); the extended entries (delta-one: the
    # standard edge) are cut by (|m|/R - 1) x 100,000 / ((1 +/- R) S) >= 3.9 BTC: to 0
    worst = round(0.8 * (1 / 0.84 - 1), 9)
    roll = 1.0 * math.expm1(0.075 * 365 / 365) + 0.5 * max(0.01, math.expm1(0.075 * 30 / 365)) + 0.3 * 0.01
    r = report(book)
    assert r["scenarios"]["BTC"]["addons"]["roll"] == pytest.approx(roll, rel=1e-12)
    assert r["initial_margin"] == pytest.approx((worst + roll) * S, rel=1e-12)
    assert r["maintenance_margin"] == pytest.approx(0.8 * (worst + roll) * S, rel=1e-12)


# ------------------------------------------------------------------ Deribit standard margin
@pytest.mark.parametrize(("und", "price", "size", "im_rate", "mm_rate"), [
    # BTC_USDC: IM 2 % + 0.005 % x size, MM 1 % + 0.005 % x size (size in BTC)
    ("BTC", 60_000.0, 10.0, 0.02 + 0.00005 * 10, 0.01 + 0.00005 * 10),
    ("BTC", 60_000.0, -80.0, 0.02 + 0.00005 * 80, 0.01 + 0.00005 * 80),
    # SOL_USDC: IM 4 % + 0.0005 % x size, MM 2 % + 0.0005 % x size
    ("SOL", 150.0, 1000.0, 0.04 + 0.000005 * 1000, 0.02 + 0.000005 * 1000),
])
def test_deribit_sm_linear_size_linear_at_other_sizes(tmp_path, und, price, size, im_rate, mm_rate):
    book = doc("2025-01-06T08:00:00Z", {und: {"price": price}, "USDC": {"price": 1.0}},
               [account("a", "cross", "deribit-sm", {"USDC": 1e7}, [
                   {"id": "p", "kind": "perpetual", "underlying": und, "settlement": "linear",
                    "quantity": size, "entry_price": price}])])
    r = cli(book, tmp_path)
    notional = abs(size) * price
    assert r["initial_margin"] == pytest.approx(notional * im_rate, rel=1e-12)
    assert r["maintenance_margin"] == pytest.approx(notional * mm_rate, rel=1e-12)
    assert r["profile_version"] == "2022-01-11"


def test_deribit_sm_inverse_size_in_coin_is_usd_over_the_perpetual_mark():
    # Deribit: size in coin = |USD size| / mark. 1,000,000 USD of BTC-PERPETUAL marked 50,000 (index
    # 49,000) is 20 BTC: IM rate 2 % + 0.005 % x 20 = 2.1 %, MM rate 1.1 %, on the USD notional.
    book = doc("2025-01-06T08:00:00Z", {"BTC": {"price": 49_000.0}, "USDC": {"price": 1.0}},
               [account("a", "cross", "deribit-sm", {"BTC": 10.0}, [
                   {"id": "p", "kind": "perpetual", "underlying": "BTC", "settlement": "inverse",
                    "quantity": 1_000_000.0, "entry_price": 50_000.0, "mark_price": 50_000.0}])])
    r = report(book)
    assert r["initial_margin"] == pytest.approx(1_000_000.0 * (0.02 + 0.00005 * 20), rel=1e-12)
    assert r["maintenance_margin"] == pytest.approx(1_000_000.0 * (0.01 + 0.00005 * 20), rel=1e-12)


# ------------------------------------------------------------------ Binance USDⓈ-M brackets
def test_binance_2021_bracket_three_with_cum_and_leverage(tmp_path):
    # BTCUSDT 2021-03-18: notional 600,000 is in the (250k, 1M] bracket: MMR 1 %, max 50x,
    # cum = 50,000 x (0.5 % - 0.4 %) + 250,000 x (1 % - 0.5 %) = 50 + 1,250 = 1,300.
    # MM = 600,000 x 1 % - 1,300 = 4,700; IM at the bracket's 50x = 12,000, at leverage 10 = 60,000.
    pos = {"id": "p", "kind": "perpetual", "underlying": "BTC", "settlement": "linear", "quantity": 20.0,
           "entry_price": 30_000.0}
    for lev, im in ((None, 12_000.0), (10, 60_000.0)):
        p = dict(pos) | ({"leverage": lev} if lev else {})
        book = doc("2021-04-01T00:00:00Z", {"BTC": {"price": 30_000.0}, "USDT": {"price": 1.0}},
                   [account("a", "cross", "binance-usdm", {"USDT": 100_000.0}, [p])])
        r = cli(book, tmp_path)
        assert r["maintenance_margin"] == pytest.approx(4_700.0, rel=1e-12)
        assert r["initial_margin"] == pytest.approx(im, rel=1e-12)
        assert r["profile_version"] == "2021-03-18"


def test_binance_isolated_liquidation_in_bracket_three():
    # isolated long 20 BTCUSDT at 30,000 with a 40,000 wallet: LP = (WB + cum - q EP) / (q MMR - q)
    # = (40,000 + 1,300 - 600,000) / (20 x 0.01 - 20) = 28,217.17...; notional there 564,343: same bracket
    wb = 40_000.0
    lp = (wb + 1_300.0 - 20 * 30_000.0) / (20 * 0.01 - 20)
    book = doc("2021-04-01T00:00:00Z", {"BTC": {"price": 30_000.0}, "USDT": {"price": 1.0}},
               [account("a", "isolated", "binance-usdm", {"USDT": 0.0}, [
                   {"id": "p", "kind": "perpetual", "underlying": "BTC", "settlement": "linear", "quantity": 20.0,
                    "entry_price": 30_000.0, "isolated_margin": wb}])])
    r = report(book, liquidation=True)
    assert 250_000 < 20 * lp <= 1_000_000
    assert r["liquidation"]["BTC"]["down_price"] == pytest.approx(lp, rel=1e-6)


def test_binance_version_by_as_of_day_inclusive():
    def version(as_of):
        book = doc(as_of, {"BTC": {"price": 30_000.0}, "USDT": {"price": 1.0}},
                   [account("a", "cross", "binance-usdm", {"USDT": 1e5}, [])])
        return report(book)["profile_version"]

    assert version("2021-03-18T00:00:00Z") == "2021-03-18"
    assert version("2024-08-31T23:59:59Z") == "2021-03-18"
    assert version("2024-09-01T00:00:00Z") == "2024-09-01"
    assert version("2025-08-19T12:00:00Z") == "2025-08-19"


def test_file_profile_overlays_the_version_in_force():
    # a file's binance-usdm gives haircuts only (a table: it replaces the version's whole table); the
    # brackets stay those of the version in force: ETH 600k notional in 2021 -> MMR 2 %, cum 5,365
    # -> MM 6,635 (the 2024 snapshot's ETH brackets differ). BTC collateral at a 50 % haircut.
    prof = {"binance-usdm": {"haircuts": {"BTC": 0.5, "USDT": 0.0}}}
    book = doc("2021-04-01T00:00:00Z", {"BTC": {"price": 30_000.0}, "ETH": {"price": 2_000.0},
                                        "USDT": {"price": 1.0}},
               [account("a", "cross", "binance-usdm", {"USDT": 1e6, "BTC": 1.0}, [
                   {"id": "e", "kind": "perpetual", "underlying": "ETH", "settlement": "linear", "quantity": 300.0,
                    "entry_price": 2_000.0}])], profiles=prof)
    r = report(book)
    assert r["profile_version"] == "2021-03-18"
    assert r["maintenance_margin"] == pytest.approx(600_000 * 0.02 - 5_365.0, rel=1e-12)
    assert r["collateral_value"] == pytest.approx(1e6 + 0.5 * 30_000.0, rel=1e-12)


# ------------------------------------------------------------------ Bybit regular margin
def _vol_for(mark, F, K, T, call):
    return brentq(lambda v: b76(F, K, T, v, 1.0, call) - mark, 1e-4, 5.0, xtol=1e-14)


def test_bybit_rm_short_put_by_hand(tmp_path):
    # short 2 BTC puts K 28,000, index 30,000, mark 150, entry 200, 25 days:
    # MM/unit = max(3 % x 30,000, 3 % x 150) + 150 + 0.2 % x 30,000 = 900 + 150 + 60 = 1,110
    # IM/unit = max(max(15 % x 30,000 - OTM 2,000, 10 % x 30,000) + max(200, 150), 1,110) = 3,200
    T = 25 * 86400 / YEAR
    vol = _vol_for(150.0, 30_000.0, 28_000.0, T, False)
    book = doc("2023-12-04T12:14:15Z", {"BTC": {"price": 30_000.0}, "USDC": {"price": 1.0}},
               [account("a", "cross", "bybit-rm", {"USDC": 50_000.0}, [
                   {"id": "p", "kind": "option", "underlying": "BTC", "right": "put", "strike": 28_000.0,
                    "expiry": "2023-12-29T12:14:15Z", "settlement": "linear", "quantity": -2.0,
                    "entry_price": 200.0, "vol": vol}])])
    r = cli(book, tmp_path)
    assert r["maintenance_margin"] == pytest.approx(2 * 1_110.0, rel=1e-9)
    assert r["initial_margin"] == pytest.approx(2 * 3_200.0, rel=1e-9)


# ------------------------------------------------------------------ SPAN
def test_span_short_future_and_long_call_by_hand(tmp_path):
    # SP at 410, scan range 20 points, vol scan 4 points, extremes 2 x 20 at 35 %: short 1 future
    # (-500 through the quantity) and long 1 call K 410 (500), 60 days, vol 20 %, rate 0.
    T = 60 * 86400 / YEAR
    F, K, vol = 410.0, 410.0, 0.20
    c0 = b76(F, K, T, vol, 1.0, True)
    pnl = []
    for frac, dv in [(0, 1), (0, -1)] + [(s * f, dv) for f in (1 / 3, 2 / 3, 1) for s in (1, -1) for dv in (1, -1)]:
        dF = frac * 20.0
        pnl.append(-500 * dF + 500 * (b76(F + dF, K, T, vol + dv * 0.04, 1.0, True) - c0))
    for s in (1, -1):
        dF = s * 40.0
        pnl.append(0.35 * (-500 * dF + 500 * (b76(F + dF, K, T, vol, 1.0, True) - c0)))
    want = max(0.0, -min(pnl))
    book = doc("1992-11-02T00:00:00Z", {"SP": {"price": F}, "USD": {"price": 1.0}},
               [account("a", "portfolio", "span", {"USD": 50_000.0}, [
                   {"id": "f", "kind": "future", "underlying": "SP", "settlement": "linear", "quantity": -500.0,
                    "entry_price": F, "expiry": "1992-12-18T14:30:00Z"},
                   {"id": "c", "kind": "option", "underlying": "SP", "right": "call", "strike": K,
                    "expiry": "1993-01-01T00:00:00Z", "settlement": "linear", "quantity": 500.0,
                    "entry_price": c0, "vol": vol}])])
    r = cli(book, tmp_path)
    assert want > 0
    assert r["maintenance_margin"] == pytest.approx(want, rel=1e-9)
    entries = r["scenarios"]["SP"]["entries"]
    assert [e["pnl"] for e in entries] == pytest.approx(pnl, rel=1e-9, abs=1e-9)


# ------------------------------------------------------------------ OKX
def okx_book(positions, collateral):
    return doc("2025-01-15T10:26:41Z", {"BTC": {"price": 100_000.0, "forwards": [
        {"expiry": "2025-03-29T10:26:41Z", "forward": 101_000.0, "rate": 0.0}]}, "USDT": {"price": 1.0}},
        [account("a", "portfolio", "okx-pm", collateral, positions)])


def test_okx_mr4_of_a_future_is_on_its_forward():
    # long 1 BTC-USDT future of 73 days (T = 0.2), forward 101,000, index 100,000:
    # USD delta = 1 x 101,000; MR1 = 12 % x 101,000 = 12,120 (= MR6: 0.5 x 24 %);
    # MR4 = max(0.2 %, 5 % x 0.2) x 101,000 = 1,010; MR7 = 0.45 % x 101,000 < MR1 + MR4
    fut = {"id": "f", "kind": "future", "underlying": "BTC", "settlement": "linear", "quantity": 1.0,
           "entry_price": 101_000.0, "expiry": "2025-03-29T10:26:41Z"}
    r = report(okx_book([fut], {"USDT": 1e6}))
    assert r["scenarios"]["BTC"]["addons"]["mr4"] == pytest.approx(1_010.0, rel=1e-9)
    assert r["maintenance_margin"] == pytest.approx(12_120.0 + 1_010.0, rel=1e-9)
    assert r["initial_margin"] == pytest.approx(1.3 * (12_120.0 + 1_010.0), rel=1e-9)


def test_okx_spot_position_and_spot_collateral_hedge_alike():
    # short 1 BTC-USDT swap against 1 BTC held: as collateral or as a spot position, the unit's delta is
    # 0, so MR7 = 0 and MMR = MR4 = 0.2 % x 100,000 = 200 (MR1 = MR6 = 0: a perfect hedge).
    swap = {"id": "s", "kind": "perpetual", "underlying": "BTC", "settlement": "linear", "quantity": -1.0,
            "entry_price": 100_000.0}
    held = {"id": "h", "kind": "spot", "underlying": "BTC", "quantity": 1.0, "entry_price": 100_000.0}
    as_coll = report(okx_book([swap], {"USDT": 1e5, "BTC": 1.0}))
    as_pos = report(okx_book([swap, held], {"USDT": 1e5}))
    for r in (as_coll, as_pos):
        assert r["scenarios"]["BTC"]["addons"]["mr7"] == pytest.approx(0.0, abs=1e-6)
        assert r["maintenance_margin"] == pytest.approx(200.0, rel=1e-9)


# ------------------------------------------------------------------ Deribit S:PM, independently
def deribit_reference(S, positions, as_of_days_to):
    """venues.md 3 written out for one BTC coin unit, 2024-06-17 parameters, rate 0: returns
    (RMM in BTC, roll). positions: dicts as in the book (inverse perpetuals / futures in USD,
    inverse options with a vol), `as_of_days_to` maps an expiry string to its days."""
    R, damp, annual, floor = 0.16, 100_000.0, 0.075, 0.01
    std = [(R * k / 4, v) for k in range(-4, 5) for v in ("up", "same", "down")]
    ext = [(m, "up") for m in (-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0)]

    def vol(p, v):
        dte = as_of_days_to[p["expiry"]]
        x = (30.0 / max(1.0, dte)) ** (0.3 if dte < 30 else 0.13)
        if v == "up":
            return max(0.5, p["vol"] * (1 + 0.5 * x))
        if v == "down":
            return max(0.0, p["vol"] * (1 - 0.25 * x))
        return p["vol"]

    def coin_value(p, s, v):
        if p["kind"] == "option":
            T = as_of_days_to[p["expiry"]] / 365.0
            return p["quantity"] * b76(s, p["strike"], T, vol(p, v), 1.0, p["right"] == "call") / s
        return p["quantity"] * (1.0 / p["entry_price"] - 1.0 / s)

    def P(m, v):
        return sum(coin_value(p, S * (1 + m), v) - coin_value(p, S, "same") for p in positions)

    entries = [P(m, v) for m, v in std]
    for m, v in ext:
        edge = 1 + R if m > 0 else 1 - R
        e = P(m, v) * R / abs(m) * (1 + m) / edge
        cut = (max(abs(m) / R, 1.0) - 1.0) * damp / (edge * S)
        entries.append(math.copysign(max(abs(e) - cut, 0.0), e))
    worst = round(max(0.0, -min(entries)), 9)

    def coin_delta(p):
        if p["kind"] != "option":
            return p["quantity"] / S
        T = as_of_days_to[p["expiry"]] / 365.0
        sd = p["vol"] * math.sqrt(T)
        d1 = (math.log(S / p["strike"]) + 0.5 * sd * sd) / sd
        n = 0.5 * math.erfc(-d1 / math.sqrt(2.0))
        dv = n if p["right"] == "call" else n - 1.0
        return p["quantity"] * (dv - b76(S, p["strike"], T, p["vol"], 1.0, p["right"] == "call") / S)

    groups: dict[str, float] = {}
    for p in positions:
        key = p.get("expiry", "perp")
        groups[key] = groups.get(key, 0.0) + coin_delta(p)
    roll = sum(abs(d) * (floor if k == "perp" else max(floor, math.expm1(annual * as_of_days_to[k] / 365.0)))
               for k, d in groups.items())
    return worst + roll, roll


def test_deribit_pm_matches_an_independent_reading_on_random_books():
    import random

    rng = random.Random(7)
    S = 62_000.0
    expiries = {"2024-07-05T00:00:00Z": 4.0, "2024-07-26T00:00:00Z": 25.0, "2024-09-27T00:00:00Z": 88.0}
    for _ in range(25):
        positions = []
        for i in range(rng.randint(1, 6)):
            kind = rng.choice(["option", "option", "future", "perpetual"])
            q = rng.uniform(-3, 3)
            if kind == "option":
                e = rng.choice(list(expiries))
                positions.append({"id": f"o{i}", "kind": "option", "underlying": "BTC", "settlement": "inverse",
                                  "right": rng.choice(["call", "put"]), "strike": round(S * rng.uniform(0.6, 1.5), -3),
                                  "expiry": e, "quantity": q, "entry_price": 0.01, "vol": rng.uniform(0.3, 1.2)})
            elif kind == "future":
                e = rng.choice(list(expiries))
                positions.append({"id": f"f{i}", "kind": "future", "underlying": "BTC", "settlement": "inverse",
                                  "expiry": e, "quantity": q * S, "entry_price": S})
            else:
                positions.append({"id": f"p{i}", "kind": "perpetual", "underlying": "BTC", "settlement": "inverse",
                                  "quantity": q * S, "entry_price": S})
        book = doc("2024-07-01T00:00:00Z", {"BTC": {"price": S}, "USDC": {"price": 1.0}},
                   [account("a", "portfolio", "deribit-pm", {"BTC": 1.0}, positions)])
        rmm, roll = deribit_reference(S, positions, expiries)
        r = report(book)
        assert r["scenarios"]["BTC"]["addons"]["roll"] == pytest.approx(roll, rel=1e-9, abs=1e-12)
        assert r["initial_margin"] == pytest.approx(rmm * S, rel=1e-9, abs=1e-6)
        assert r["maintenance_margin"] == pytest.approx(0.8 * rmm * S, rel=1e-9, abs=1e-6)
