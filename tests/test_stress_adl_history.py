"""ADL ranking (venues' published formulas), price histories, betas and the history replay."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workstation.core.adl import (
    adl_ranking,
    bankruptcy_price_isolated_long,
    binance_leverage_pnl,
    pnl_rank,
    without_positions,
)
from workstation.core.correlated import Betas, fit_betas, joint_grid, joint_liquidation, joint_scenario
from workstation.core.errors import WorkstationError
from workstation.core.history import read_price_csv, replay, scenario_between
from workstation.core.model import Account, Portfolio, Position, Quote
from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report
from workstation.core.scenario_library import SCENARIOS_DIR, episodes, historical_scenarios, read_episode

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json"
AS_OF = datetime(2026, 1, 1, 8, tzinfo=UTC)


# ------------------------------------------------------------------------------ library
def test_every_shipped_scenario_loads_with_source_and_dates():
    eps = episodes()
    assert len(eps) >= 7
    for e in eps:
        assert e.start <= e.end and e.title and e.moves
        for m in e.moves:
            assert m.source.strip() and m.url.startswith("http")
            assert (m.move is None) != (m.price is None)
            assert not m.estimate or m.note
    for s in historical_scenarios():
        assert s.source and len(s.dates) == 2 and s.kind == "historical"
    names = {s.name for s in historical_scenarios()}
    assert {"black-thursday-2020/close", "usdc-depeg-2023/peak", "ftx-2022/close", "tariff-crash-2025/peak"} <= names
    usdc = next(s for s in historical_scenarios() if s.name == "usdc-depeg-2023/peak")
    assert usdc.depeg == {"USDC": 0.8774}


def test_a_bad_scenario_file_is_refused_by_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntitle = "x"\nstart = 2020-01-02\nend = 2020-01-01\n[[moves]]\nasset = "BTC"\n'
                   'basis = "close"\nmove = -0.1\nsource = "s"\nurl = "https://x"\n')
    with pytest.raises(WorkstationError, match=r"bad\.toml: end: before start"):
        read_episode(bad)
    bad.write_text(bad.read_text().replace("end = 2020-01-01", "end = 2020-01-03").replace("-0.1", "'ten'"))
    with pytest.raises(WorkstationError, match=r"moves\[0\]\.move: expected a finite number"):
        read_episode(bad)
    assert SCENARIOS_DIR.is_dir()


# ------------------------------------------------------------------------------ ADL
def test_binance_leverage_pnl_matches_the_worked_example():
    # Binance's formula (FAQ 360033525471) as worked on dev.binance.vision: unrealised profit
    # 40.2, wallet balance 4.27, margin ratio 13.42 % => PnL % 9.41, LeveragePnl 1.26
    mm = 0.1342 * (4.27 + 40.2)  # the maintenance margin that gives that ratio
    assert binance_leverage_pnl(40.2, 4.27, mm) == pytest.approx(40.2 / 4.27 * 0.1342, rel=1e-12)
    assert binance_leverage_pnl(40.2, 4.27, mm) == pytest.approx(1.26, abs=0.005)
    assert binance_leverage_pnl(-5.0, 100.0, 3.0) == 0.0  # no profit, no rank
    assert binance_leverage_pnl(2.0, 0.5, 1.0) == pytest.approx(2.0 / 1.0 * (1.0 / 2.5), rel=1e-12)  # max(1, WB)


def test_bybit_bankruptcy_price_example():
    # Bybit's ADL page: 5,000 BTCUSD long at 7,890.08, 50x: bankruptcy 7,735.372549 (shown 7,735.50)
    assert bankruptcy_price_isolated_long(7890.08, 50) == pytest.approx(7735.372549, abs=5e-7)


def test_rank_formula_profit_times_and_loss_over_leverage():
    # effective leverage = |MV| / (MV - BV): MV 10,000, BV 8,000 => 5; PnL % = (MV - AEV) / |AEV|
    mv, bv, aev = 10_000.0, 8_000.0, 9_000.0
    lev, pnl = abs(mv) / (mv - bv), (mv - aev) / abs(aev)
    assert pnl_rank(pnl, lev) == pytest.approx(1 / 9 * 5, rel=1e-12)
    assert pnl_rank(-0.1, 5.0) == pytest.approx(-0.02, rel=1e-12)


def test_adl_ranking_of_a_book():
    perp = Position("p", "perpetual", "BTC", 2.0, 80.0, "linear")
    short = Position("s", "perpetual", "BTC", -1.0, 120.0, "linear")
    okx = Account("o", "cross", {"USDT": 100.0}, [perp], venue="okx")
    bn = Account("b", "cross", {"USDT": 100.0}, [short], venue="binance")
    p = Portfolio(as_of=AS_OF, market={"BTC": Quote(100.0), "USDT": Quote(1.0)}, accounts=[okx, bn])
    rows = {r["account"]: r for r in adl_ranking(p)}
    # OKX: PnL 40 on entry value 160 = 25 %; leverage 200 / equity 140 => 0.25 x 200 / 140
    assert rows["o"]["rank"] == pytest.approx(0.25 * 200 / 140, rel=1e-12)
    # Binance: profit 20, wallet 100, MM 100 x 0.004 = 0.4 over 120 => 0.2 x 0.4 / 120
    assert rows["b"]["rank"] == pytest.approx(0.2 * 0.4 / 120, rel=1e-12)
    assert [r["account"] for r in adl_ranking(p)] == ["o", "b"]
    # Deribit socialises losses instead of ranking winners (support article "Insurance Fund")
    dr = Account("d", "cross", {"USDT": 100.0}, [Position("q", "perpetual", "BTC", 1.0, 90.0, "linear")],
                 venue="deribit")
    d_row = next(r for r in adl_ranking(Portfolio(as_of=AS_OF, market=p.market, accounts=[dr])))
    assert d_row["formula"] == "deribit" and d_row["rank"] == 0.0 and not d_row["at_risk"]
    assert d_row["unrealized_pnl"] == pytest.approx(10.0, rel=1e-12)
    after = without_positions(p, [("o", "p")])
    r = build_report(after, "account:o", with_liquidation=False)
    assert r["equity"] == pytest.approx(140.0, rel=1e-12) and r["maintenance_margin"] == 0.0


# ------------------------------------------------------------------------------ histories
def _history(tmp_path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(text)
    return path


def test_read_wide_and_long_csv(tmp_path):
    wide = read_price_csv(_history(tmp_path, "date,BTC,ETH\n2024-01-01,100,10\n2024-01-02,90,8\n"))
    long = read_price_csv(_history(tmp_path, "date,asset,price\n2024-01-02,BTC,90\n2024-01-01,BTC,100\n"
                                             "2024-01-01,ETH,10\n2024-01-02,ETH,8\n"))
    pd.testing.assert_frame_equal(wide, long, check_names=False, check_like=True)
    s = scenario_between(wide, "2024-01-01", "2024-01-02")
    assert s.shocks == {"BTC": pytest.approx(-0.1, rel=1e-12), "ETH": pytest.approx(-0.2, rel=1e-12)}
    assert s.days == 1.0


def test_bad_csv_names_line_and_column(tmp_path):
    with pytest.raises(WorkstationError, match=r"prices.csv:3: ETH: expected a positive price .*, got 'x'"):
        read_price_csv(_history(tmp_path, "date,BTC,ETH\n2024-01-01,100,10\n2024-01-02,90,x\n"))
    with pytest.raises(WorkstationError, match=r"prices.csv:2: date: not a date"):
        read_price_csv(_history(tmp_path, "date,BTC\nnope,100\n2024-01-02,90\n"))


@pytest.mark.parametrize(("text", "where"), [
    # a price beyond float range read as inf made every replayed figure inf or NaN
    ("date,BTC\n2024-01-01,100\n2024-01-02,1e400\n",
     r"prices.csv:3: BTC: expected a positive price between 1e-12 and 1e\+15, got '1e400'"),
    ("date,BTC\n2024-01-01,100\n2024-01-02,inf\n", r"prices.csv:3: BTC: expected a positive price"),
    ("date,BTC\n2024-01-01,100\n2024-01-02,1e16\n", r"prices.csv:3: BTC: expected a positive price"),
    # a year typo was read and printed unpadded ("999-01-02")
    ("date,BTC\n0999-01-01,100\n2024-01-02,90\n",
     r"prices.csv:2: date: expected a date from 1970 to 2200 .*'0999-01-01'"),
    ("date,BTC\n2024-01-01,100\n2201-01-02,90\n", r"prices.csv:3: date: expected a date from 1970 to 2200"),
    ("date,BT\x00C\n2024-01-01,100\n2024-01-02,90\n", r"prices.csv:1: column 'BT\\x00C': expected printable text"),
])
def test_out_of_range_prices_dates_and_codes_are_refused_at_their_line(tmp_path, text, where):
    with pytest.raises(WorkstationError, match=where):
        read_price_csv(_history(tmp_path, text))


def test_fitted_betas_recover_a_known_beta():
    rng = np.random.default_rng(7)
    rd = rng.normal(0, 0.03, 400)
    noise = rng.normal(0, 0.01, 400)
    re = 1.5 * rd + noise
    idx = pd.date_range("2023-01-01", periods=401, freq="D")
    prices = pd.DataFrame({"BTC": 100 * np.exp(np.r_[0, np.cumsum(rd)]),
                           "ETH": 10 * np.exp(np.r_[0, np.cumsum(re)])}, index=idx)
    b = fit_betas(prices, "BTC")
    # the OLS slope of the sample, computed independently
    slope = np.cov(re, rd, ddof=1)[0, 1] / np.var(rd, ddof=1)
    assert b.betas["ETH"] == pytest.approx(slope, rel=1e-9)
    assert b.r2["ETH"] == pytest.approx(np.corrcoef(re, rd)[0, 1] ** 2, rel=1e-9)
    assert b.window == ("2023-01-01", "2024-02-05") and b.observations == 400


def test_joint_move_and_liquidation_line():
    p = read_portfolio(DEMO)
    betas = Betas("BTC", {"ETH": 1.2, "SOL": 1.5})
    s = joint_scenario(p, betas, -0.1)
    assert s.shocks["ETH"] == pytest.approx(-0.12, rel=1e-12) and "USDT" not in s.shocks
    liq = joint_liquidation(p, "account:binance-usdm", betas)
    up = liq["up"]
    assert up is not None and 0 < up < 5
    from workstation.core.correlated import _headroom
    from workstation.core.profiles import load_profiles

    profiles = load_profiles()
    assert _headroom(p, "account:binance-usdm", joint_scenario(p, betas, up), profiles) <= 0
    assert _headroom(p, "account:binance-usdm", joint_scenario(p, betas, up - 1e-5), profiles) > 0
    grid = joint_grid(p, "account:binance-usdm", "BTC", "ETH", [0.0, 0.3, 0.6], [0.0, 0.5, 1.0])
    assert grid.headroom.shape == (3, 3) and grid.headroom[0, 0] > 0
    for x, y in grid.line:
        assert x in (0.0, 0.3, 0.6) and 0.0 <= y <= 1.0


def _prices(n: int = 6) -> pd.DataFrame:
    idx = pd.date_range("2024-08-01", periods=n, freq="D")
    btc = [60000, 58000, 61000, 52000, 50000, 55000][:n]
    eth = [3000, 2900, 3100, 2400, 2300, 2600][:n]
    return pd.DataFrame({"BTC": btc, "ETH": eth}, index=idx, dtype=float)


def test_replay_threads_and_worst_days():
    p = read_portfolio(DEMO)
    res = replay(p, _prices(), scopes=["account:deribit-pm", "pool:all"])
    assert len(res.rows) == 5 * 2
    worst = res.worst(2)
    assert set(worst) == {"account:deribit-pm", "pool:all"}
    # one day by hand through the same engine: the day of BTC 61,000 -> 52,000
    from workstation.core.stress import Scenario, apply_scenario

    day = Scenario("2024-08-04", shocks={"BTC": 52000 / 61000 - 1, "ETH": 2400 / 3100 - 1})
    r = build_report(apply_scenario(p, day), "pool:all", with_liquidation=False)
    row = next(x for x in res.rows if x[0] == "2024-08-04" and x[1] == "pool:all")
    assert math.isclose(row[2], r["equity"], rel_tol=1e-12)


def test_replay_on_a_local_dask_cluster():
    distributed = pytest.importorskip("distributed")
    p = read_portfolio(DEMO)
    prices = _prices(4)
    local = replay(p, prices, scopes=["pool:all", "account:bybit-uta"])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        remote = replay(p, prices, scopes=["pool:all", "account:bybit-uta"], scheduler=client)
    assert sorted(remote.rows) == sorted(local.rows)
