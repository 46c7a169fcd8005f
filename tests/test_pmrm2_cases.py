"""Derive's published PMRM_2 portfolio cases (shared/examples/derive-pmrm2: the odd-numbered
half of the 138 asserted cases of derivexyz/v2-core) reproduce Derive's MM and IM.

Derive's figures are surpluses: MM = equity - maintenance_margin, IM = equity - initial_margin;
a case matches when both hold to |got - expected| <= 1e-6 max(|expected|, 1)
(shared/spec/derive-pmrm2.md, "Comparing with Derive")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from shared_paths import EXAMPLES

from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report

CASES_DIR = EXAMPLES / "derive-pmrm2"
ROOT = Path(__file__).resolve().parents[1]


def _expected() -> dict[str, dict[str, float]]:
    path = CASES_DIR / "expected.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


EXPECTED = _expected()
TOL = 1e-6


def _check(report: dict, expected: dict[str, float]) -> None:
    got = {"mm": report["equity"] - report["maintenance_margin"], "im": report["equity"] - report["initial_margin"]}
    for key in ("mm", "im"):
        assert abs(got[key] - expected[key]) <= TOL * max(abs(expected[key]), 1.0), (key, got[key], expected[key])


def test_all_published_cases_are_here():
    assert len(EXPECTED) == 69
    # #67 is commented out in Derive's harness (an invalid parameter set): 69 odd cases remain
    assert sorted(int(name.split("_")[1]) for name in EXPECTED) == [k for k in range(1, 140, 2) if k != 67]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_case_reproduces_derive(name: str):
    portfolio = read_portfolio(CASES_DIR / f"{name}.json")
    report = build_report(portfolio, "account:derive", with_liquidation=False)
    _check(report, EXPECTED[name])
    # the attribution adds up to IM under PMRM_2 (Euler)
    total = sum(p["component_margin"] for p in report["positions"]) + sum(report["collateral_components"].values())
    assert total == pytest.approx(report["initial_margin"], rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("name", ["test_5_collateral_general_multi_collat", "test_61_general_general_test_1",
                                  "test_125_SkewShockParameters_LINEAR_SCALE_CAP_max"])
def test_case_through_the_cli(name: str):
    proc = subprocess.run([sys.executable, "-m", "workstation", "margin", str(CASES_DIR / f"{name}.json"),
                           "--account", "derive", "--json"], capture_output=True, text=True, cwd=ROOT,
                          check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    _check(report, EXPECTED[name])
    vectors = report["scenarios"]
    (unit,) = vectors
    assert vectors[unit]["numeraire"] == "USDC"
    assert len(vectors[unit]["entries"]) in (30, 31)
