"""Fuzzed inputs to every reader: the only outcomes are a book accepted with finite reports, or a
refusal by the project's own error naming file and path or line (tests/fuzz_inputs.py). After a
refused import the database is unchanged, table by table.

Derandomized, a few hundred examples per reader, so CI is stable and quick; hunt locally with
`FUZZ_EXAMPLES=20000 FUZZ_RANDOM=1 python -m pytest tests/test_fuzz_readers.py -o faulthandler_timeout=0`
(FUZZ_RANDOM draws new examples each run; `--hypothesis-seed=N` repeats one).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import save_book
from fuzz_inputs import check_refusal, mutated_csv, mutated_json, mutated_toml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from shared_paths import EXAMPLES

from workstation import cli
from workstation.core.errors import PortfolioError, ProfileError
from workstation.core.model import Forward
from workstation.core.portfolio_io import loads_portfolio, read_portfolio
from workstation.core.portfolio_write import dumps_portfolio
from workstation.core.profiles import PROFILES_DIR, load_profile_file
from workstation.core.report import build_report, scope_names
from workstation.store import market_edits, repository
from workstation.store.db import open_db
from workstation.store.errors import ImportFileError, InvalidInput, NotFoundError, ReplaceRefused
from workstation.store.imports import VENUE_KINDS, import_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "store"
EXAMPLES_N = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES_N, derandomize=not os.environ.get("FUZZ_RANDOM"), deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])

PORTFOLIOS = [*sorted(EXAMPLES.glob("*.json")), ROOT / "resources" / "demo" / "demo-portfolio.json", DATA / "book.json"]


def _profiled() -> dict[str, Any]:
    """The demo book with profile overrides in the file, so mutations reach the profile reader."""
    doc = json.loads((ROOT / "resources" / "demo" / "demo-portfolio.json").read_text())
    doc["profiles"] = {
        "deribit-pm": {"portfolio": {"price_steps": 11, "tail": [[-0.5, 0.1], [0.5, 0.1]],
                                     "range": {"BTC": 0.2, "*": 0.3}}},
        "mine": {"source": "fuzz", "as_of": "2026-11-01", "stablecoins": ["USDT"],
                 "haircuts": {"ETH": [[1e6, 0.0], [1e30, 0.1]], "*": 0.05},
                 "tiers": {"*": [{"max_notional": 1e6, "initial_rate": 0.02, "maintenance_rate": 0.01}]},
                 "portfolio": {"scenarios": [[-0.1, "up", 1.0], [0.0, "none", 1.0], [0.1, "down", 1.0]],
                               "mm_factor": 1.1, "correlation": {"BTC/ETH": 0.8}}},
    }
    doc["accounts"][1]["profile"] = "mine"
    return doc


DOCS = [json.loads(p.read_text()) for p in PORTFOLIOS] + [_profiled()]


def _finite(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def _accepted(book) -> None:
    """An accepted book gives a finite report for every scope, and writes back readably."""
    for scope in scope_names(book):
        report = build_report(book, scope)
        assert _finite(report), scope
        json.dumps(report, allow_nan=False)
    assert loads_portfolio(dumps_portfolio(book)) == book


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# ---------------------------------------------------------------- portfolio files
@FUZZ
@given(data=st.data())
def test_portfolio_files(work: Path, data: st.DataObject) -> None:
    path = work / "book.json"
    path.write_bytes(data.draw(mutated_json(data.draw(st.sampled_from(DOCS)))))
    try:
        book = read_portfolio(path)
    except PortfolioError as err:
        event("refused")
        check_refusal(err, str(path))
        return
    event("accepted")
    _accepted(book)


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@settings(FUZZ, max_examples=max(EXAMPLES_N // 3, 20))
@given(data=st.data())
def test_cli_margin_names_the_file_or_succeeds(work: Path, data: st.DataObject) -> None:
    # nothing but the project's errors is caught: any other exception fails this test
    path = work / "cli-book.json"
    path.write_bytes(data.draw(mutated_json(data.draw(st.sampled_from(DOCS)))))
    code, out, err = _cli("margin", str(path), "--json")
    if code == 0:
        assert _finite(json.loads(out)) and err == ""
    else:
        assert code == 2 and out == "" and err.startswith(f"error: {path}:"), err[:300]
        assert len(err) < 1_100 and err[:-1].isprintable()


TRADES = [
    [{"kind": "perpetual", "underlying": "BTC", "settlement": "linear", "quantity": -2, "entry_price": 90_000}],
    [{"id": "c", "kind": "option", "underlying": "BTC", "right": "call", "strike": 100_000,
      "expiry": "2026-12-25T08:00:00Z", "settlement": "inverse", "quantity": 3, "entry_price": 0.02, "vol": 0.5},
     {"kind": "future", "underlying": "ETH", "expiry": "2027-03-26T08:00:00Z", "settlement": "linear",
      "quantity": 10, "entry_price": 3_100}],
]


@FUZZ
@given(data=st.data())
def test_trade_and_hedge_files(work: Path, data: st.DataObject) -> None:
    book = ROOT / "resources" / "demo" / "demo-portfolio.json"
    trade = work / "trade.json"
    trade.write_bytes(data.draw(mutated_json(data.draw(st.sampled_from(TRADES)))))
    account = data.draw(st.sampled_from(["deribit-pm", "binance-usdm", "bybit-uta"]))
    if data.draw(st.booleans()):
        argv = ["whatif", str(book), "--account", account, "--trade", str(trade), "--json"]
    else:
        objective = data.draw(st.sampled_from(["delta", "margin", "liquidation"]))
        argv = ["whatif", str(book), "--account", account, "--suggest", objective, "--hedge", str(trade),
                "--json"]
    code, out, err = _cli(*argv)
    if code == 0:
        assert _finite(json.loads(out))
    else:
        assert code == 2 and out == "" and err.startswith(f"error: {trade}:"), err[:300]
        assert len(err) < 1_100 and err[:-1].isprintable()


# ---------------------------------------------------------------- profile files
@FUZZ
@given(data=st.data())
def test_profile_toml_files(work: Path, data: st.DataObject) -> None:
    shipped = data.draw(st.sampled_from(sorted(PROFILES_DIR.glob("*.toml"))))
    path = work / "profile.toml"
    path.write_bytes(data.draw(mutated_toml(shipped.read_text())))
    try:
        load_profile_file(path)
    except ProfileError as err:
        check_refusal(err, str(path))


# ---------------------------------------------------------------- imports into the store
@pytest.fixture(scope="module")
def pristine(work: Path) -> Path:
    return save_book(work / "pristine.db")


def _dump(db) -> str:
    return "\n".join(db.conn.iterdump())


IMPORTS = {  # kind: (example file, its account)
    "portfolio": (DATA / "book.json", None),
    "ccxt-positions": (DATA / "ccxt-positions.json", "main"),
    "ccxt-balance": (DATA / "ccxt-balance.json", "main"),
    "positions-csv": (DATA / "positions.csv", "main"),
    "positions-explicit": (DATA / "positions-explicit.csv", None),
    "balances-csv": (DATA / "balances.csv", "iso"),
    "market-csv": (DATA / "market.csv", None),
}


@st.composite
def import_files(draw: st.DrawFn) -> tuple[str, bytes, str | None]:
    name = draw(st.sampled_from(sorted(IMPORTS)))
    example, account = IMPORTS[name]
    text = example.read_text(encoding="utf-8")
    data = draw(mutated_json(json.loads(text))) if example.suffix == ".json" else draw(mutated_csv(text))
    kind = "positions-csv" if name == "positions-explicit" else name
    return kind, data, draw(st.sampled_from([account, account, "new-acc", "a\x01b"])) if account else None


@FUZZ
@given(case=import_files(), how=st.sampled_from(["merge", "replace", "neither"]), allow_empty=st.booleans())
def test_imports_leave_the_database_unchanged_when_refused(
    work: Path, pristine: Path, case: tuple[str, bytes, str | None], how: str, allow_empty: bool
) -> None:
    kind, data, account = case
    path = work / ("import.json" if kind in ("portfolio", "ccxt-positions", "ccxt-balance") else "import.csv")
    path.write_bytes(data)
    target = work / "import.db"
    shutil.copyfile(pristine, target)
    db = open_db(target)
    try:
        before = _dump(db)
        try:
            import_file(db, kind, path, account=account, merge=how == "merge", replace=how == "replace",
                        allow_empty=allow_empty and kind in VENUE_KINDS, as_of=datetime(2026, 11, 25, 8, tzinfo=UTC))
        except ImportFileError as err:
            event(f"{kind} refused")
            check_refusal(err, str(path))
            assert _dump(db) == before
            return
        except ReplaceRefused as err:  # a file read whole, whose import would delete unasked
            event(f"{kind} needs --replace")
            assert str(err).startswith(f"{path}: ") and str(err).isprintable()
            assert _dump(db) == before
            return
        book = repository.load_portfolio(db)
    finally:
        db.close()
    event(f"{kind} accepted")
    _accepted(book)


# ---------------------------------------------------------------- edits in the window
EDIT_NUMBERS = st.one_of(
    st.sampled_from([0.0, -0.0, 1e-13, 1e-12, 1e15, 2e15, -1e16, math.inf, -math.inf, math.nan, 1e308, 10**400,
                     True, None, "1", 0.5, 11.0]),
    st.floats(), st.integers(),
)
EDIT_CODES = st.sampled_from(["BTC", "ETH", "USDT", "NEW", "", " ", "a\x00b", "B\x7fTC", "x" * 300, "\ud800"])


@FUZZ
@given(data=st.data())
def test_edits_give_a_located_error_or_a_readable_book(work: Path, pristine: Path, data: st.DataObject) -> None:
    target = work / "edit.db"
    shutil.copyfile(pristine, target)
    db = open_db(target)
    try:
        before = _dump(db)
        edit = data.draw(st.sampled_from(["quote", "collateral", "position", "forwards", "details"]))
        try:
            if edit == "quote":
                repository.set_quote(db, data.draw(EDIT_CODES), data.draw(EDIT_NUMBERS), data.draw(EDIT_NUMBERS))
            elif edit == "forwards":
                year = data.draw(st.sampled_from([999, 1969, 2026, 2027, 2201, 9999]))
                forward = Forward(expiry=datetime(year, 12, 25, 8, tzinfo=UTC), forward=data.draw(EDIT_NUMBERS),
                                  rate=data.draw(EDIT_NUMBERS), confidence=data.draw(EDIT_NUMBERS))
                market_edits.set_forwards(db, data.draw(EDIT_CODES), [forward])
            elif edit == "details":
                market_edits.set_quote_details(
                    db, data.draw(EDIT_CODES), confidence=data.draw(EDIT_NUMBERS),
                    moves_with=data.draw(st.one_of(st.none(), EDIT_CODES)), peg_price=data.draw(EDIT_NUMBERS))
            elif edit == "collateral":
                repository.set_collateral(db, "main", data.draw(EDIT_CODES), data.draw(EDIT_NUMBERS))
            else:
                base = repository.load_portfolio(db).account("main").positions[0]
                year = data.draw(st.sampled_from([999, 1969, 2026, 2027, 2201, 9999]))
                position = replace(
                    base, id=data.draw(EDIT_CODES), quantity=data.draw(EDIT_NUMBERS),
                    entry_price=data.draw(EDIT_NUMBERS),
                    expiry=datetime(year, 12, 31, 23, tzinfo=UTC) if base.expiry else None,
                )
                repository.upsert_position(db, "main", position)
        except NotFoundError as err:  # an asset with no quote to edit: named in the message
            assert len(str(err)) < 1_000 and str(err).isprintable(), str(err)[:300]
            assert _dump(db) == before
            return
        except InvalidInput as err:
            message = str(err)
            assert err.field and len(message) < 1_000 and message.isprintable(), message[:300]
            assert _dump(db) == before
            return
        book = repository.load_portfolio(db)
    finally:
        db.close()
    _accepted(book)

