"""The command-line contract of portfolio-format.md ("CLI contract"), run as a subprocess.

`python -m workstation margin FILE [--account ID | --pool ID] [--json]` and
`python -m workstation whatif FILE --account ID --trade TRADE.json [--json]` /
`--suggest delta|margin|liquidation --hedge HEDGE.json`; errors to stderr, exit 2, nothing on
stdout.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from shared_paths import EXAMPLES as _SHARED_EXAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_spec_common as C
from conftest import assert_documents_close

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = _SHARED_EXAMPLES
BAD = EXAMPLES / "bad"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workstation", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _refuse_constant(name):
    raise AssertionError(f"non-standard JSON constant {name} in output")


def run_json(*args: str):
    r = run(*args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout, parse_constant=_refuse_constant)


def _scopes(path: Path) -> list[str]:
    doc = json.loads(path.read_text())
    return [f"account:{a['id']}" for a in doc["accounts"]] + [
        f"pool:{p['id']}" for p in doc.get("pools", [])
    ]


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_contract(rep: dict, doc: dict) -> None:
    """Every key of the contract's report, with the right types."""
    for k in C.TOP_KEYS:
        assert k in rep, f"missing top-level key {k}"
    assert rep["base_currency"] == doc.get("base_currency", "USD")
    for k in (*C.TOP_MONEY, "margin_usage"):
        assert _is_num(rep[k]), (k, rep[k])
    kind, sid = rep["scope"].split(":", 1)
    if kind == "account":
        accounts = [a for a in doc["accounts"] if a["id"] == sid]
    else:
        assert kind == "pool"
        assert _is_num(rep["segregated_initial_margin"])
        pool = next(p for p in doc["pools"] if p["id"] == sid)
        accounts = [a for a in doc["accounts"] if a["id"] in pool["accounts"]]
    expected_pos = {(a["id"], p["id"]) for a in accounts for p in a["positions"]}
    got_pos = {(p["account"], p["id"]) for p in rep["positions"]}
    assert got_pos == expected_pos
    for p in rep["positions"]:
        for k in C.POSITION_KEYS:
            assert k in p, f"position {p.get('id')} misses {k}"
        for k in C.POSITION_KEYS[2:]:
            assert _is_num(p[k]), (p["id"], k, p[k])
    assert isinstance(rep["collateral_components"], dict)
    for v in rep["collateral_components"].values():
        assert _is_num(v)
    underlyings = {p["underlying"] for a in accounts for p in a["positions"]}
    for u in underlyings:
        assert set(C.GREEK_KEYS) <= set(rep["greeks"][u]), u
        assert all(_is_num(rep["greeks"][u][g]) for g in C.GREEK_KEYS)
        liq = rep["liquidation"][u]
        for k in C.LIQ_KEYS:
            assert k in liq, (u, k)
            assert liq[k] is None or _is_num(liq[k]), (u, k, liq[k])
        for side in ("down", "up"):
            assert (liq[f"{side}_pct"] is None) == (liq[f"{side}_price"] is None)
            if liq[f"{side}_pct"] is not None:
                S = doc["market"][u]["price"]
                assert liq[f"{side}_price"] == pytest.approx(
                    S * (1 + liq[f"{side}_pct"] / 100), rel=1e-4)
                if side == "down":
                    assert liq["down_pct"] <= 0
                else:
                    assert liq["up_pct"] >= 0
                assert -99.0 <= liq[f"{side}_pct"] <= 500.0
    for k in C.LIQ_ALL_KEYS:
        assert k in rep["liquidation"]["all"]
        v = rep["liquidation"]["all"][k]
        assert v is None or _is_num(v)
    if rep["equity"] > 0:
        assert rep["margin_usage"] == pytest.approx(rep["maintenance_margin"] / rep["equity"],
                                                    rel=1e-9)
    assert rep["offset"] == pytest.approx(
        rep["standalone_initial_margin"] - rep["initial_margin"], rel=1e-9, abs=1e-6)


SCOPED = [(f.name, s) for f in sorted(EXAMPLES.glob("*.json")) for s in _scopes(f)]


@pytest.mark.parametrize(("name", "scope"), SCOPED, ids=[f"{n}-{s}" for n, s in SCOPED])
def test_margin_json_has_every_contract_key(name, scope):
    kind, sid = scope.split(":", 1)
    rep = run_json("margin", EXAMPLES / name, f"--{kind}", sid, "--json")
    assert rep["scope"] == scope
    check_contract(rep, json.loads((EXAMPLES / name).read_text()))


@pytest.mark.parametrize("name", sorted(f.name for f in EXAMPLES.glob("*.json")))
def test_margin_json_without_scope_is_reports_for_every_account_and_pool(name):
    out = run_json("margin", EXAMPLES / name, "--json")
    assert set(out) == {"reports"}
    doc = json.loads((EXAMPLES / name).read_text())
    assert sorted(r["scope"] for r in out["reports"]) == sorted(_scopes(EXAMPLES / name))
    for rep in out["reports"]:
        check_contract(rep, doc)


def test_cli_json_matches_build_report():
    from workstation.core.portfolio_io import read_portfolio
    from workstation.core.report import build_report

    f = EXAMPLES / "pooled-three-accounts.json"
    rep = run_json("margin", f, "--pool", "everything", "--json")
    api = json.loads(json.dumps(build_report(read_portfolio(f), "pool:everything")))
    # the same engine, to a few ulp: the command's process prices small arrays through the C
    # library's erfc (it never loads scipy.special), this one through scipy's ndtr
    assert_documents_close(rep, api, lambda path: 1e-9, rel_tol=1e-12, names=("cli", "api"))


def _aligned(lines: list[str]) -> None:
    """Each whitespace-separated column starts, or ends, at the same offset on every line."""
    spans = [[m.span() for m in re.finditer(r"\S+", ln)] for ln in lines]
    assert len({len(s) for s in spans}) == 1, lines
    for j in range(len(spans[0])):
        starts = {s[j][0] for s in spans}
        ends = {s[j][1] for s in spans}
        assert len(starts) == 1 or len(ends) == 1, ("column", j, lines)


def test_margin_human_output_is_an_aligned_table():
    r = run("margin", EXAMPLES / "usdm-perps-cross.json", "--account", "binance-usdm")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.stdout)
    lines = r.stdout.splitlines()
    rows = []
    for pid in ("btcusdt", "ethusdt", "solusdt"):
        hits = [ln for ln in lines if re.search(rf"(^|\s){pid}(\s|$)", ln)]
        assert hits, f"{pid} not in the table:\n{r.stdout}"
        rows.append(hits[0])
    _aligned(rows)


def test_margin_human_output_without_scope_covers_every_account_and_pool():
    r = run("margin", EXAMPLES / "pooled-three-accounts.json")
    assert r.returncode == 0, r.stderr
    for ident in ("deribit-btc", "binance-usdm", "spot-wallet", "everything"):
        assert ident in r.stdout


# --------------------------------------------------------------------------- errors
def _expected_table() -> dict[str, str]:
    rows = re.findall(r"^\|\s*([\w.-]+\.json)\s*\|\s*([^|]+?)\s*\|\s*$",
                      (BAD / "EXPECTED.md").read_text(), flags=re.M)
    return dict(rows)


@pytest.mark.parametrize("name", sorted(f.name for f in BAD.glob("*.json")))
@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_bad_files_exit_2_with_the_path_on_stderr(name, json_flag):
    r = run("margin", BAD / name, *json_flag)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    assert _expected_table()[name] in r.stderr


def test_bad_files_refused_by_whatif_too(tmp_path):
    trade = tmp_path / "t.json"
    trade.write_text("[]")
    r = run("whatif", BAD / "nan-price.json", "--account", "binance-usdm", "--trade", trade)
    assert r.returncode == 2 and r.stdout == ""
    assert "market.BTC.price" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("margin", EXAMPLES / "usdm-perps-cross.json", "--account", "nope", "--json"),
        ("margin", EXAMPLES / "usdm-perps-cross.json", "--pool", "nope"),
        ("margin", EXAMPLES / "does-not-exist.json", "--json"),
    ],
    ids=["unknown-account", "unknown-pool", "missing-file"],
)
def test_usage_errors_exit_2_nothing_on_stdout(args):
    r = run(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.strip()


def test_bad_trade_file_names_its_path(tmp_path):
    trade = tmp_path / "t.json"
    trade.write_text(json.dumps([{"kind": "perpetual", "underlying": "BTC",
                                  "settlement": "linear", "quantity": "one",
                                  "entry_price": 91_250.0}]))
    r = run("whatif", EXAMPLES / "usdm-perps-cross.json", "--account", "binance-usdm",
            "--trade", trade, "--json")
    assert r.returncode == 2 and r.stdout == ""
    assert "quantity" in r.stderr


# --------------------------------------------------------------------------- whatif
TRADE = [{"kind": "perpetual", "underlying": "BTC", "settlement": "linear", "quantity": 1.5,
          "entry_price": 91_250.0},
         {"kind": "perpetual", "underlying": "ETH", "settlement": "linear", "quantity": -10.0,
          "entry_price": 3_012.5}]  # both at their marks in usdm-perps-cross.json


def _check_delta(out: dict) -> None:
    for k in C.TOP_MONEY:
        assert k in out["delta"], k
        assert out["delta"][k] == pytest.approx(out["after"][k] - out["before"][k],
                                                rel=1e-9, abs=1e-6), k


def test_whatif_trade_delta_is_after_minus_before(tmp_path):
    f = EXAMPLES / "usdm-perps-cross.json"
    trade = tmp_path / "trade.json"
    trade.write_text(json.dumps(TRADE))
    out = run_json("whatif", f, "--account", "binance-usdm", "--trade", trade, "--json")
    assert {"before", "after", "delta"} <= set(out)
    doc = json.loads(f.read_text())
    check_contract(out["before"], doc)
    assert len(out["after"]["positions"]) == len(out["before"]["positions"]) + 2
    _check_delta(out)
    # before is the file's own report
    assert out["before"] == run_json("margin", f, "--account", "binance-usdm", "--json")
    # linear perps at the mark: equity unchanged, margin up
    assert out["delta"]["equity"] == pytest.approx(0.0, abs=1e-6)
    assert out["delta"]["initial_margin"] > 0


def test_whatif_human_output(tmp_path):
    trade = tmp_path / "trade.json"
    trade.write_text(json.dumps(TRADE[:1]))
    r = run("whatif", EXAMPLES / "usdm-perps-cross.json", "--account", "binance-usdm",
            "--trade", trade)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def _suggest(tmp_path, example: str, account: str, objective: str, underlying: str, entry: float) -> dict:
    """`whatif EXAMPLE --account A --suggest OBJECTIVE --hedge` a linear perpetual on `underlying`."""
    hedge = tmp_path / "hedge.json"
    hedge.write_text(json.dumps({"kind": "perpetual", "underlying": underlying, "settlement": "linear",
                                 "quantity": 1.0, "entry_price": entry}))
    return run_json("whatif", EXAMPLES / example, "--account", account, "--suggest", objective, "--hedge",
                    hedge, "--json")


def test_whatif_suggest_delta_neutralises_the_underlying(tmp_path):
    # objective delta: the hedge quantity that brings the account's BTC delta (collateral
    # included) to zero; a linear perp at the mark has delta 1 per unit -> q = -delta_before.
    out = _suggest(tmp_path, "deribit-options-book.json", "deribit-btc", "delta", "BTC", 91_250.0)
    assert {"before", "after", "delta", "suggestion"} <= set(out)
    assert out["suggestion"]["objective"] == "delta"
    d0 = out["before"]["greeks"]["BTC"]["delta"]
    assert out["suggestion"]["quantity"] == pytest.approx(-d0, rel=1e-6, abs=1e-6)
    assert out["after"]["greeks"]["BTC"]["delta"] == pytest.approx(0.0, abs=1e-6 * (1 + abs(d0)))
    assert len(out["after"]["positions"]) == len(out["before"]["positions"]) + 1
    _check_delta(out)


def test_whatif_suggest_margin_does_not_raise_margin(tmp_path):
    # adding nothing (q = 0) is always possible, so the margin-optimal hedge needs at most
    # the margin of the book as it is.
    out = _suggest(tmp_path, "deribit-options-book.json", "deribit-btc", "margin", "BTC", 91_250.0)
    assert out["suggestion"]["objective"] == "margin"
    assert _is_num(out["suggestion"]["quantity"])
    assert out["after"]["initial_margin"] <= out["before"]["initial_margin"] * (1 + 1e-9)
    _check_delta(out)


def test_whatif_suggest_liquidation_runs(tmp_path):
    out = _suggest(tmp_path, "usdm-perps-cross.json", "binance-usdm", "liquidation", "SOL", 138.4)
    assert out["suggestion"]["objective"] == "liquidation"
    assert _is_num(out["suggestion"]["quantity"])
    _check_delta(out)


# --------------------------------------------------------------------------- whatif API
def test_whatif_api_matches_reports():
    from workstation.core.model import Position
    from workstation.core.portfolio_io import read_portfolio
    from workstation.core.report import build_report
    from workstation.core.whatif import suggest, whatif

    f = EXAMPLES / "usdm-perps-cross.json"
    p = read_portfolio(f)
    before = build_report(p, "account:binance-usdm")
    trade = Position(id="t1", kind="perpetual", underlying="BTC", quantity=2.0,
                     entry_price=91_250.0, settlement="linear")
    out = whatif(p, "binance-usdm", [trade])
    assert out["before"] == before
    _check_delta(out)
    assert "t1" in {q["id"] for q in out["after"]["positions"]}
    # BTC delta moves by exactly the trade's 2 BTC
    assert out["after"]["greeks"]["BTC"]["delta"] - before["greeks"]["BTC"]["delta"] == (
        pytest.approx(2.0, rel=1e-9))
    # the portfolio passed in is not modified
    assert build_report(p, "account:binance-usdm") == before
    hedge = Position(id="h", kind="perpetual", underlying="BTC", quantity=1.0,
                     entry_price=91_250.0, settlement="linear")
    s = suggest(p, "binance-usdm", hedge, "delta")
    assert s["suggestion"]["objective"] == "delta"
    assert s["suggestion"]["quantity"] == pytest.approx(-before["greeks"]["BTC"]["delta"],
                                                        rel=1e-6)
