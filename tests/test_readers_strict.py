"""Readers never crash and always say where: one regression test per root cause found on main
or by tests/test_fuzz_readers.py (README, "Bad input, decided")."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workstation import cli
from workstation.core import jsonread, limits
from workstation.core.errors import JsonError, PortfolioError, ProfileError, shown
from workstation.core.portfolio_fields import format_time
from workstation.core.portfolio_io import portfolio_from_dict, read_portfolio
from workstation.core.profiles import load_profile_file
from workstation.store import codec, repository
from workstation.store.errors import ImportFileError, InvalidInput
from workstation.store.imports import import_file

DATA = Path(__file__).parent / "data" / "store"
BOOK = {
    "format": "margin-workstation/portfolio@1", "as_of": "2026-11-25T08:00:00Z",
    "market": {"BTC": {"price": 60_000.0, "vol": 0.5}, "USDT": {"price": 1.0}},
    "accounts": [{"id": "a", "margin_mode": "portfolio", "collateral": {"USDT": 10_000.0}, "positions": [
        {"id": "p", "kind": "perpetual", "underlying": "BTC", "settlement": "linear", "quantity": 0.1,
         "entry_price": 59_000.0},
        {"id": "o", "kind": "option", "underlying": "BTC", "right": "call", "strike": 65_000,
         "expiry": "2026-12-25T08:00:00Z", "settlement": "inverse", "quantity": -1, "entry_price": 0.02},
    ]}],
}


def _text(**replace_literal: str) -> str:
    """BOOK as indented JSON, with `"quantity": 0.1` etc. replaced by raw literals."""
    text = json.dumps(BOOK, indent=2)
    for old, new in replace_literal.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


def _line(text: str, snippet: str) -> int:
    """1-based line of the first occurrence of `snippet` in `text`."""
    return text[: text.index(snippet)].count("\n") + 1


def _refused(text: str, tmp_path: Path) -> PortfolioError:
    path = tmp_path / "book.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PortfolioError) as err:
        read_portfolio(path)
    assert err.value.source == str(path)
    assert len(str(err.value)) < 400
    return err.value


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- strict JSON
def test_deep_nesting_is_refused_with_line_column_and_path(tmp_path: Path) -> None:
    # main: RecursionError (traceback, exit 1) near 1,000 levels
    deep = "[" * 1_000 + "]" * 1_000
    text = _text(**{'"quantity": 0.1': f'"quantity": {deep}'})
    err = _refused(text, tmp_path)
    assert err.path.startswith("accounts[0].positions[0].quantity[0]")
    assert "at most 64 levels of nesting" in err.expected
    line = text.splitlines().index(next(x for x in text.splitlines() if "[[[" in x)) + 1
    assert err.line == line and err.column is not None
    code, out, message = _cli("margin", str(tmp_path / "book.json"))
    assert code == 2 and out == "" and message.startswith(f"error: {tmp_path / 'book.json'}:{line}:")


def test_nesting_at_the_limit_is_read() -> None:
    doc = jsonread.loads("[" * jsonread.MAX_DEPTH + "]" * jsonread.MAX_DEPTH)
    depth = 0
    while isinstance(doc, list) and doc:
        doc, depth = doc[0], depth + 1
    assert depth == jsonread.MAX_DEPTH - 1  # the innermost list is empty
    with pytest.raises(JsonError, match="at most 64 levels"):
        jsonread.loads("[" * (jsonread.MAX_DEPTH + 1) + "]" * (jsonread.MAX_DEPTH + 1))


def test_brackets_inside_strings_are_not_nesting() -> None:
    assert jsonread.loads(json.dumps({"a": "[" * 5_000})) == {"a": "[" * 5_000}


@pytest.mark.parametrize("literal", ["9" * 5_000, "1" + "0" * 400, "-" + "9" * 309, "1e400", "-2e308"])
def test_numbers_beyond_float_range_are_refused_at_their_path(tmp_path: Path, literal: str) -> None:
    # main: ValueError (int max str digits) or OverflowError, printed as "cannot compute this book"
    err = _refused(_text(**{'"quantity": 0.1': f'"quantity": {literal}'}), tmp_path)
    assert err.path == "accounts[0].positions[0].quantity"
    assert err.expected.startswith("a number within float range")
    assert len(err.expected) < 140  # the literal is cut, its length named
    assert err.line == _line(_text(), '"quantity": 0.1')


def test_largest_float_literal_is_read_then_held_to_the_quantity_range(tmp_path: Path) -> None:
    err = _refused(_text(**{'"quantity": 0.1': '"quantity": 1.7976931348623157e308'}), tmp_path)
    assert err.path == "accounts[0].positions[0].quantity"
    assert err.expected == "a number between -1e+15 and 1e+15"


def test_duplicate_keys_are_refused_at_the_second_one(tmp_path: Path) -> None:
    # main: json kept the last value silently
    text = _text(**{'"quantity": 0.1,': '"quantity": 0.1,\n        "quantity": 5,'})
    err = _refused(text, tmp_path)
    assert err.path == "accounts[0].positions[0].quantity"
    assert (err.line, err.column) == (_line(text, '"quantity": 5'), 9)
    assert "each key once" in err.expected


def test_unpaired_surrogate_escapes_are_refused() -> None:
    with pytest.raises(JsonError) as err:
        jsonread.loads('{"a": ["ok", "x\\ud800y"]}')
    assert err.value.path == "a[1]"
    assert jsonread.loads('"\\ud83d\\ude00"') == "\U0001f600"  # a pair is one character


def test_syntax_errors_name_line_column_and_the_value_they_are_in(tmp_path: Path) -> None:
    text = _text(**{'"quantity": 0.1,': '"quantity": 0.1,,'})
    err = _refused(text, tmp_path)
    line = _line(text, ",,")
    assert (err.line, err.column) == (line, text.splitlines()[line - 1].index(",,") + 2)  # the 2nd comma
    assert err.path == "accounts[0].positions[0].quantity" and "valid JSON" in err.expected


def test_a_byte_order_mark_is_read_and_bad_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + _text().encode())
    assert read_portfolio(path).accounts[0].id == "a"
    path.write_bytes(_text().encode().replace(b'"a"', b'"\xff"', 1))
    with pytest.raises(PortfolioError) as err:
        read_portfolio(path)
    assert (err.value.line, err.value.column) == (_line(_text(), '"id": "a"'), 14)
    assert "UTF-8" in err.value.expected
    assert str(err.value) == f"{path}:{err.value.line}:14: expected UTF-8 text (byte 0xff cannot be decoded)"


# ---------------------------------------------------------------- values
@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("as_of", "9999-12-31T23:59:59-01:00", "a time from 1970 to 2200"),  # main: OverflowError
        ("as_of", "0999-12-25T08:00:00Z", "a time from 1970 to 2200"),  # main: written unpadded
        ("as_of", "1969-12-31T23:59:59Z", "a time from 1970 to 2200"),
        ("as_of", "1970-01-01T00:30:00+01:00", "a time from 1970 to 2200"),  # 1969 in UTC
        ("expiry", "2201-01-01T00:00:00Z", "a time from 1970 to 2200"),
        ("expiry", "0001-01-01T00:00:00+01:00", "a time from 1970 to 2200"),
    ],
)
def test_times_outside_1970_to_2200_are_refused_at_their_path(field: str, value: str, expected: str) -> None:
    doc = copy.deepcopy(BOOK)
    target = doc if field == "as_of" else doc["accounts"][0]["positions"][1]
    target[field] = value
    with pytest.raises(PortfolioError) as err:
        portfolio_from_dict(doc)
    assert err.value.path == ("as_of" if field == "as_of" else "accounts[0].positions[1].expiry")
    assert err.value.expected.startswith(expected)


def test_times_at_the_edges_of_the_window_are_read() -> None:
    doc = copy.deepcopy(BOOK)
    doc["as_of"] = "1970-01-01T00:00:00Z"
    doc["accounts"][0]["positions"][1]["expiry"] = "2200-12-31T23:59:59Z"
    book = portfolio_from_dict(doc)
    assert book.as_of == datetime(1970, 1, 1, tzinfo=UTC)


def test_four_digit_years_are_written_and_old_unpadded_ones_read() -> None:
    t = datetime(999, 12, 25, 8, tzinfo=UTC)
    assert format_time(t) == "0999-12-25T08:00:00Z"
    assert codec.iso(t) == "0999-12-25T08:00:00Z"
    assert codec.iso(t, fixed=True) == "0999-12-25T08:00:00.000000Z"
    # a database written before the fix holds `999-12-25T08:00:00Z`: it can still be read
    assert codec.parse_iso("999-12-25T08:00:00Z") == t
    assert codec.parse_iso("2026-11-25T08:00:00.000000Z") == datetime(2026, 11, 25, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mutate", "path", "expected"),
    [
        (lambda d: d["market"].update({"": {"price": 1.0}}), 'market[""]', "a non-empty string"),
        (lambda d: d["accounts"][0].update(id="a\x00b"), "accounts[0].id", "printable text"),
        (lambda d: d["accounts"][0]["positions"][0].update(id="p\x1b[31m"), "accounts[0].positions[0].id",
         "printable text"),
        (lambda d: d["market"].update({"US\x00DT": {"price": 1.0}}), 'market["US\\u0000DT"]', "printable text"),
        (lambda d: d["accounts"][0].update(name="line\nbreak"), "accounts[0].name", "text without control"),
        (lambda d: d["accounts"][0].update(id="x" * 201), "accounts[0].id", "at most 200 characters"),
        (lambda d: d["market"]["BTC"].update(price=1e-13), "market.BTC.price", "a positive number between"),
        (lambda d: d["market"]["BTC"].update(vol=2e4), "market.BTC.vol", "a vol between 0 and 10000"),
        (lambda d: d.update(rate=5.0), "rate", "a rate between -1 and 1"),
        (lambda d: d["accounts"][0]["collateral"].update(USDT=-2e15), "accounts[0].collateral.USDT",
         "a number between"),
        (lambda d: d["accounts"][0]["positions"][1].update(strike=1e16), "accounts[0].positions[1].strike",
         "a positive number between"),
    ],
)
def test_bad_ids_codes_and_numbers_are_refused_at_their_path(mutate, path: str, expected: str) -> None:
    # main: an empty key was named `market.`; a NUL in a code reached the database
    doc = copy.deepcopy(BOOK)
    mutate(doc)
    with pytest.raises(PortfolioError) as err:
        portfolio_from_dict(doc)
    assert err.value.path == path
    assert err.value.expected.startswith(expected)
    assert str(err.value).isprintable()


def test_messages_quote_a_huge_value_shortened(tmp_path: Path) -> None:
    # main echoed a 1 MB value whole
    doc = copy.deepcopy(BOOK)
    doc["accounts"][0]["margin_mode"] = "y" * 1_000_000
    err = _refused(json.dumps(doc), tmp_path)
    assert err.path == "accounts[0].margin_mode"
    assert "(1,000,000 characters)" in str(err) and len(str(err)) < 300
    assert len(shown(list(range(10**6)))) < 100 and len(shown({"k": "v" * 10**6})) < 200


# ---------------------------------------------------------------- profiles
def test_price_steps_tail_and_scenarios_are_capped(tmp_path: Path) -> None:
    # main: price_steps 1,000,001 took 36 s and 1.9 GB
    cases = [
        ({"price_steps": 1_000_001}, "price_steps", "<= 201"),
        ({"tail": [[-0.5, 0.1]] * 101}, "tail", "at most 100 entries"),
        ({"scenarios": [[0.1, "up", 1.0]] * 1_001}, "scenarios", "at most 1000 entries"),
    ]
    for portfolio, key, expected in cases:
        doc = copy.deepcopy(BOOK) | {"profiles": {"default": {"portfolio": portfolio}}}
        start = time.perf_counter()
        with pytest.raises(PortfolioError) as err:
            portfolio_from_dict(doc)
        assert time.perf_counter() - start < 5  # refused before any scenario is built
        assert err.value.path == f"profiles.default.portfolio.{key}"
        assert expected in err.value.expected
    ok = copy.deepcopy(BOOK) | {"profiles": {"default": {"portfolio": {"price_steps": limits.MAX_PRICE_STEPS}}}}
    assert portfolio_from_dict(ok).profiles["default"]["portfolio"]["price_steps"] == 201


def test_profile_toml_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    for body, key, problem in [
        ("[portfolio]\nmm_factor = " + "9" * 5_000 + "\n", "(file)", "not valid TOML"),
        ("[portfolio]\nrange = " + "[" * 3_000 + "]" * 3_000 + "\n", "(file)", "not valid TOML"),
        ("as_of = 0999-01-01\n", "as_of", "from 1970 to 2200"),
        ("[portfolio]\nprice_steps = 1000001\n", "portfolio.price_steps", "<= 201"),
    ]:
        path.write_text(body)
        with pytest.raises(ProfileError) as err:
            load_profile_file(path)
        assert (err.value.source, err.value.key) == (str(path), key)
        assert problem in err.value.problem and len(str(err.value)) < 400


# ---------------------------------------------------------------- the command line
def test_a_reader_bug_surfaces_as_a_traceback_not_a_user_error(monkeypatch, tmp_path: Path) -> None:
    # main caught ValueError, OverflowError and FloatingPointError as "cannot compute this book"
    import workstation.core.portfolio_io as portfolio_io

    def broken(path):
        raise ValueError("a bug in a reader")

    monkeypatch.setattr(portfolio_io, "read_portfolio", broken)
    with pytest.raises(ValueError, match="a bug in a reader"):
        cli.main(["margin", str(tmp_path / "any.json")])


def test_figures_beyond_float_range_name_the_file_and_scope(tmp_path: Path) -> None:
    # profile factors are not capped: a margin of 1e300 * 1e300 overflows in the engine
    doc = copy.deepcopy(BOOK) | {"profiles": {"default": {"portfolio": {"mm_factor": 1e300, "im_factor": 1e300}}}}
    path = tmp_path / "book.json"
    path.write_text(json.dumps(doc))
    code, out, err = _cli("margin", str(path), "--json")
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}: account:a: ") and "non-finite figure" in err, err


def test_trade_and_hedge_files_are_read_strictly(tmp_path: Path) -> None:
    book = tmp_path / "book.json"
    book.write_text(json.dumps(BOOK))
    trade = tmp_path / "trade.json"
    trade.write_text('[\n  {"kind": "perpetual", "underlying": "BTC", "settlement": "linear",\n'
                     '   "quantity": 1, "quantity": 2, "entry_price": 60000}\n]\n')
    code, _, err = _cli("whatif", str(book), "--account", "a", "--trade", str(trade))
    assert code == 2 and err.startswith(f"error: {trade}:3:"), err
    assert "[0].quantity: expected each key once" in err
    trade.write_text('{"kind": "perpetual", "underlying": "BTC", "settlement": "linear",\n'
                     ' "quantity": 1, "entry_price": 60000, "isolated_margin": 5}')
    code, _, err = _cli("whatif", str(book), "--account", "a", "--trade", str(trade))
    assert code == 2 and err.startswith(f"error: {trade}:2: $.isolated_margin: expected no isolated_margin"), err
    hedge = tmp_path / "hedge.json"
    hedge.write_text('[{"kind": "perpetual", "underlying": "BTC", "settlement": "linear",\n'
                     '  "entry_price": 1e400}]')
    code, _, err = _cli("whatif", str(book), "--account", "a", "--suggest", "delta", "--hedge", str(hedge))
    assert code == 2 and err.startswith(f"error: {hedge}:2: [0].entry_price: expected a number within"), err


# ---------------------------------------------------------------- imports and edits
def _dump(db) -> str:
    return "\n".join(db.conn.iterdump())


@pytest.mark.parametrize(
    ("kind", "text", "account", "line", "field", "message"),
    [
        ("ccxt-balance", '{\n  "US\\u0000DT": {"total": 5}\n}', "main", 2, '["US\\u0000DT"]', "printable text"),
        ("ccxt-balance", '{\n  "": {"total": 5}\n}', "main", 2, '[""]', "a non-empty string"),
        ("ccxt-balance", '{"BTC": {"total": 1}}', "a\x00b", None, "--account", "printable text"),
        ("ccxt-balance", '{\n "BTC": {"total": 1},\n "BTC": {"total": 2}\n}', "main", 3, "BTC",
         "each key once"),
        ("ccxt-positions", '[\n {"symbol": "BTC/USDT:USDT", "contracts": 1e400, "entryPrice": 1}\n]', "main",
         2, "[0].contracts", "a number within float range"),
        ("ccxt-positions", '[\n {"symbol": "BTC/USDT:USDT", "contracts": 2e15, "entryPrice": 1}\n]', "main",
         2, "[0].contracts", "a number between"),
        ("positions-csv", "symbol,qty,entry_price\nBTC/USDT:USDT,1,90000\nB\x01TC,1,5\n", "main", 3, "symbol",
         "printable text"),
        ("positions-csv", "symbol,qty,entry_price,expiry\nBTC/USDT:USDT,1,90000,0226-11-25\n", "main", 2,
         "expiry", "from 1970 to 2200"),
        ("balances-csv", "asset,total\nUSDT,1e16\n", "main", 2, "total", "a number between"),
        ("market-csv", "asset,price\nBTC,1e-300\n", None, 2, "price", "a positive number between"),
    ],
)
def test_imports_refuse_at_file_line_and_field_and_write_nothing(
    db, tmp_path: Path, kind: str, text: str, account: str | None, line: int | None, field: str, message: str
) -> None:
    # main: a NUL code reached the database; the empty key was named by nothing
    path = tmp_path / ("in.json" if kind.startswith("ccxt") else "in.csv")
    path.write_text(text, encoding="utf-8")
    before = _dump(db)
    with pytest.raises(ImportFileError) as err:
        import_file(db, kind, path, account=account, merge=kind != "market-csv")
    assert (err.value.file, err.value.line) == (str(path), line)
    assert err.value.field == field, err.value
    assert message in err.value.message
    assert str(err.value).isprintable()
    assert _dump(db) == before


def test_market_edits_refuse_at_the_field(db) -> None:
    before = _dump(db)
    for asset, price, vol, field, message in [
        ("BTC", 1e16, None, "market.BTC.price", "a positive number between"),
        ("BTC", 90_000.0, 2e4, "market.BTC.vol", "a vol between 0 and 10000"),
        ("NE\x00W", 1.0, None, "market.NE\\u0000W", "printable text"),
        ("BTC", float("nan"), None, "market.BTC.price", "a finite number"),
    ]:
        with pytest.raises(InvalidInput) as err:
            repository.set_quote(db, asset, price, vol)
        assert str(err.value).startswith(f"{field}: expected {message}"), err.value
    assert _dump(db) == before
