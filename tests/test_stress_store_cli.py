"""Saved stress scenarios and price histories in the store; the `stress` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workstation.cli import main
from workstation.core.stress import Scenario
from workstation.store.db import open_db
from workstation.store.stress_store import (
    delete_stress_scenario,
    import_price_history,
    list_stress_scenarios,
    load_price_history,
    price_histories,
    save_stress_scenario,
)

DEMO = str(Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo-portfolio.json")


def test_scenarios_and_histories_round_trip(tmp_path):
    db = open_db(tmp_path / "s.db")
    try:
        s = Scenario("rally", shocks={"BTC": 0.3, "*": 0.4}, vol_shift={"*": -0.05}, days=2, depeg={"USDT": 0.98})
        save_stress_scenario(db, s)
        assert list_stress_scenarios(db) == [s]
        csv = tmp_path / "px.csv"
        csv.write_text("date,BTC,ETH\n2024-01-01,100,10\n2024-01-02,90,8\n2024-01-03,95,9\n")
        assert import_price_history(db, csv) == "px"
        assert price_histories(db)[0]["days"] == 3
        frame = load_price_history(db, "px")
        assert frame.loc["2024-01-02", "ETH"] == 8.0
        csv.write_text("date,BTC\n2024-01-01,100\n2024-01-02,-5\n")
        with pytest.raises(Exception, match=r"px\.csv:3: BTC"):
            import_price_history(db, csv)
        assert price_histories(db)[0]["days"] == 3  # the refused import wrote nothing
        delete_stress_scenario(db, "rally")
        assert list_stress_scenarios(db) == []
    finally:
        db.close()


def test_cli_stress_json_is_one_document(capsys):
    assert main(["stress", DEMO, "--scenario", "ftx-2022", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = [d["scenario"]["name"] for d in doc["scenarios"]]
    assert names == ["ftx-2022/close", "ftx-2022/peak"]
    scopes = {s["scope"]: s for s in doc["scenarios"][0]["scopes"]}
    assert set(scopes) == {"account:deribit-pm", "account:binance-usdm", "account:bybit-uta", "pool:all"}
    assert doc["scenarios"][0]["not_shocked"] == ["ETH", "SOL"]


def test_cli_stress_text_and_errors(capsys):
    assert main(["stress", DEMO, "--scenario", "usdc-depeg-2023/peak"]) == 0
    assert "USDC at 0.8774" in capsys.readouterr().out
    assert main(["stress", DEMO, "--scenario", "nope"]) == 2
    err = capsys.readouterr()
    assert err.out == "" and "no scenario 'nope'" in err.err
    assert main(["stress", DEMO]) == 2


def test_cli_stress_db_saved_scenario_adl_and_replay(tmp_path, capsys, demo_db_path):
    db = open_db(demo_db_path)
    try:
        save_stress_scenario(db, Scenario("big-rally", shocks={"*": 0.5}))
    finally:
        db.close()
    assert main(["stress", "--db", str(demo_db_path), "--scenario", "big-rally", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["scenarios"][0]
    binance = next(s for s in doc["scopes"] if s["scope"] == "account:binance-usdm")
    assert binance["breach"] and doc["top_ups"]["account:binance-usdm"]["deposits"]
    assert doc["cascade"]["segregated"][0]["scope"] == "account:binance-usdm"
    assert main(["stress", DEMO, "--adl", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["adl"]
    csv = tmp_path / "px.csv"
    csv.write_text("date,BTC,ETH\n2024-01-01,100,10\n2024-01-02,90,8\n2024-01-03,95,9\n")
    assert main(["stress", DEMO, "--replay", str(csv), "--json"]) == 0
    worst = json.loads(capsys.readouterr().out)["worst_days"]
    assert len(worst["pool:all"]) == 2
