"""Every venue's published worked example reproduces with the shipped profiles
(shared/examples/venues/, spec shared/spec/venues.md).

Each `<id>.json` names its book (`<id>.portfolio.json`, dated on the example's date) and its
`checks`: a figure path in the report of `margin FILE --account ID --json`, the expected value
(base currency) and the tolerance (the published precision). The report must also name the
profile version it used. One example also runs through the CLI as a subprocess.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from shared_paths import EXAMPLES

from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report

VENUES = EXAMPLES / "venues"
ROOT = Path(__file__).resolve().parent.parent
CASES = sorted(p for p in VENUES.glob("*.json") if not p.name.endswith(".portfolio.json"))


def _figure(report: dict, path: str) -> float:
    return functools.reduce(lambda d, k: d[k], path.split("."), report)


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_example_reproduces_published_figures(case: Path) -> None:
    example = json.loads(case.read_text(encoding="utf-8"))
    portfolio = read_portfolio(VENUES / example["book"])
    assert example["checks"], "an example without checks checks nothing"
    for check in example["checks"]:
        report = build_report(portfolio, f"account:{check['account']}")
        got = _figure(report, check["figure"])
        assert abs(got - check["expected"]) <= check["tolerance"], (check["label"], got, check["expected"])
        if "tolerance_coin" in check:  # a coin figure: compare in coin as well
            assert abs(got / check["index"] - check["published"]) <= check["tolerance_coin"] * (1 + 1e-9)
        assert report["profile"] == example["profile"]
        version = report["profile_version"]
        assert isinstance(version, str) and version <= portfolio.as_of.date().isoformat()


def test_examples_are_there() -> None:
    assert len(CASES) >= 10, f"venue examples missing under {VENUES}"


def test_cli_json_reproduces_deribit_pm_example() -> None:
    example = json.loads((VENUES / "deribit-pm-btc-docs-2024.json").read_text(encoding="utf-8"))
    out = subprocess.run(
        [sys.executable, "-m", "workstation", "margin", str(VENUES / example["book"]), "--account", "drb",
         "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    for check in example["checks"]:
        assert abs(_figure(report, check["figure"]) - check["expected"]) <= check["tolerance"]
    assert (report["profile"], report["profile_version"]) == ("deribit-pm", "2024-06-17")
    vec = report["scenarios"]["BTC"]
    assert vec["numeraire"] == "BTC" and len(vec["entries"]) == 27 + 8
    # Deribit's aggregated standard entry at -16 % (the docs' response example), in BTC
    assert vec["entries"][0]["pnl"] == pytest.approx(-0.05968587238095239, rel=1e-12)
    assert vec["addons"]["roll"] == pytest.approx(0.00315725898, rel=1e-12)
