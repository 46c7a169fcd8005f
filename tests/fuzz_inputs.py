"""Structure-aware mutations of example inputs, and the outcome every reader must give.

The strategies take a real input (a portfolio, a ccxt dump, a CSV, a profile TOML) and damage
it the way files get damaged: keys deleted, duplicated or renamed, values of the wrong type,
extreme numbers (also as literals json cannot hold: `1e400`, 5,000-digit integers, `NaN`),
dates outside 1970..2200 or with overflowing zones, ids with control characters, deep nesting,
truncation and flipped bytes. `check_refusal` states what a refusal must be: the project's own
error, naming the file and a JSON path or line, with a short printable message.

Used by tests/test_fuzz_readers.py (a few hundred derandomized examples per reader; its
docstring says how to hunt with many more).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

from hypothesis import strategies as st

from workstation.core.errors import JsonError, PortfolioError, ProfileError
from workstation.store.errors import ImportFileError

MAX_MESSAGE = 1_000  # characters of an error message (values are cut to ~80)

NUMBERS = [0, -0.0, 1, -1, 0.5, 1e-12, 9e-13, 1e15, 1.0000001e15, -1e16, 2**53 + 1, 10**20, 1e300,
           -1e308, 5e-324, 1e-320, 1e30, 123456.789]
LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, "9" * 5000,
            "-" + "9" * 4400, "0.1e-400", "1.7976931348623157e308", '"\\ud800"', '"a\\udfffb"',
            '"\\u0000"']
DATES = ["0999-12-25T08:00:00Z", "0226-11-25T08:00:00Z", "9999-12-31T23:59:59-01:00",
         "0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z", "1970-01-01T00:30:00+01:00",
         "2200-12-31T23:59:59-01:00", "2201-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-25",
         "2026-11-25T08:00:00", "20261125T080000Z", "2026-11-25T08:00:00.123456Z",
         "2027-01-01T00:00:00Z", "2026-12-25T08:00:00Z", "2025-01-01T00:00:00Z", "27MAR26", "99XYZ99"]
WORDS = ["", " ", "BTC", "ETH", "USDT", "USD", "DOGE", "option", "future", "perpetual", "spot", "call",
         "put", "inverse", "linear", "cross", "isolated", "portfolio", "default", "deribit-pm",
         "long", "short", "buy", "both", "true", "false", "a\x00b", "\x1f", "tab\there", "\u202e",
         "B.T[C]", "x" * 5000, "BTC/USDT:USDT", "BTC-27MAR26-90000-C", "ETH/USDT:USDT-261225",
         "BTC-PERPETUAL", "SOL/USDT:USDT", "nan", "inf", "-inf", "1e400", "1e16", "-0", "0",
         "0.0", "52.3", "9" * 400, "1,5", "\ufeffBTC"]
KEYS = ["", " ", "id", "price", "vol", "quantity", "a\x00b", "B.T[C]", "x" * 300, "\u0000",
        "symbol", "contracts", "total", "free", "used", "@"]
DEPTHS = [10, 63, 64, 65, 300, 1_100, 5_000]


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


# ---------------------------------------------------------------- JSON
class _Json:
    """A document being mutated, with placeholders for text json.dumps cannot write."""

    def __init__(self, doc: Any):
        self.doc = copy.deepcopy(doc)
        self.literals: dict[str, str] = {}

    def placeholder(self, literal: str) -> str:
        key = f"@@lit{len(self.literals)}@@"
        self.literals[key] = literal
        return key

    def text(self, indent: int | None) -> str:
        text = json.dumps(self.doc, indent=indent, allow_nan=True)
        for key, literal in self.literals.items():
            text = text.replace(json.dumps(key), literal)
        return text


def _slots(doc: Any) -> list[tuple[Any, Any]]:
    """(container, key or index) of every value below the root, in document order."""
    out: list[tuple[Any, Any]] = []
    todo = [doc]
    while todo:
        node = todo.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            out.append((node, key))
            if isinstance(value, dict | list):
                todo.append(value)
    return out


@st.composite
def weird_values(draw: st.DrawFn, doc: _Json) -> Any:
    kind = draw(st.sampled_from(["number", "literal", "date", "word", "other", "float", "int", "nest"]))
    if kind == "number":
        return draw(st.sampled_from(NUMBERS))
    if kind == "float":
        return draw(st.floats(allow_nan=False, allow_infinity=False))
    if kind == "int":
        return draw(st.integers(-(2**70), 2**70))
    if kind == "literal":
        return doc.placeholder(draw(st.sampled_from(LITERALS)))
    if kind == "date":
        return draw(st.sampled_from(DATES))
    if kind == "word":
        return draw(st.sampled_from(WORDS))
    if kind == "nest":
        return doc.placeholder(_nest(draw(st.sampled_from(DEPTHS))))
    return draw(st.sampled_from([None, True, False, [], {}, [1, 2], {"a": 1}, [None], {"": ""}]))


@st.composite
def mutated_json(draw: st.DrawFn, doc: Any) -> bytes:
    """`doc` with one to three structural mutations, written as JSON, maybe then damaged."""
    m = _Json(doc)
    for _ in range(draw(st.integers(1, 3))):
        slots = _slots(m.doc)
        if not slots:
            break
        node, key = draw(st.sampled_from(slots))
        op = draw(st.sampled_from(["delete", "replace", "replace", "replace", "duplicate", "rename",
                                   "wrap", "copy_here", "scale", "scale"]))
        value = node[key]
        if op == "scale":  # a plausible number of another size: reaches the engine more often
            if isinstance(value, int | float) and not isinstance(value, bool):
                node[key] = value * draw(st.sampled_from([-1, 0, 1e-9, 1e-3, 10, 1e3, 1e6, 1e9, 1e12, 1e15]))
            elif isinstance(value, str) and value[:2] in ("19", "20"):
                node[key] = draw(st.sampled_from(DATES))
        elif op == "delete":
            del node[key]
        elif op == "replace":
            node[key] = draw(weird_values(m))
        elif op == "wrap":
            node[key] = draw(st.sampled_from([[node[key]], {"x": node[key]}]))
        elif op == "copy_here":  # another part of the document in this place
            other_node, other_key = draw(st.sampled_from(slots))
            node[key] = copy.deepcopy(other_node[other_key])
        elif op == "duplicate":
            if isinstance(node, dict):
                value = node[key] if draw(st.booleans()) else draw(weird_values(m))
                node[m.placeholder(json.dumps(key))] = value
            else:
                node.insert(key, copy.deepcopy(node[key]))
        elif op == "rename" and isinstance(node, dict):
            new = draw(st.sampled_from(KEYS))
            if new not in node:
                node[new] = node.pop(key)
    text = m.text(indent=draw(st.sampled_from([None, 2]))).encode()
    return draw(damaged(text))


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` as is (mostly), truncated, or with a few bytes replaced or inserted."""
    how = draw(st.sampled_from(["none", "none", "none", "truncate", "bytes", "insert"]))
    if how == "none" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "truncate":
        return data[:at]
    junk = draw(st.binary(min_size=1, max_size=4))
    if how == "insert":
        return data[:at] + junk + data[at:]
    return data[:at] + junk + data[at + len(junk):]


# ---------------------------------------------------------------- CSV
CELLS = WORDS + DATES + [str(n) for n in NUMBERS] + ['"', '""', "a,b", "a;b", "1e-400", "NaN"]


@st.composite
def mutated_csv(draw: st.DrawFn, text: str) -> bytes:
    """A CSV with rows or columns deleted or duplicated, cells replaced, then maybe damaged."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    for _ in range(draw(st.integers(1, 3))):
        if not rows:
            break
        op = draw(st.sampled_from(["cell", "cell", "cell", "del_row", "dup_row", "del_col", "dup_col",
                                   "short_row", "header"]))
        r = 0 if op == "header" else draw(st.integers(0, len(rows) - 1))
        width = max(len(rows[r]), 1)
        c = draw(st.integers(0, width - 1))
        if op == "cell" and rows[r]:
            rows[r][c] = draw(st.sampled_from(CELLS))
        elif op == "header" and rows[0]:
            rows[0][c] = draw(st.sampled_from(["", "qty", "price", "symbol", "account", "expiry", "x" * 300,
                                               "Entry Price", "side", "vol", "asset", "total"]))
        elif op == "del_row":
            del rows[r]
        elif op == "dup_row":
            rows.insert(r, list(rows[r]))
        elif op == "del_col":
            rows = [row[:c] + row[c + 1:] for row in rows]
        elif op == "dup_col":
            rows = [row[: c + 1] + row[c:] for row in rows]
        elif op == "short_row" and rows[r]:
            rows[r] = rows[r][:-1]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return draw(damaged(out.getvalue().encode()))


# ---------------------------------------------------------------- TOML
TOML_VALUES = ["inf", "-inf", "nan", "1e400", "9" * 5000, "-1", "0", "1e16", '"x"', "true", "[]", "{}",
               "0999-01-01", "2026-11-01", '"9999-12-31"', _nest(2_000), "[[1, 2], [3]]", "1000001",
               "[" + ", ".join(["[0.1, 0.5]"] * 150) + "]"]


@st.composite
def mutated_toml(draw: st.DrawFn, text: str) -> bytes:
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "value", "delete", "duplicate"]))
        if op == "value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {draw(st.sampled_from(TOML_VALUES))}"
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
    return draw(damaged("\n".join(lines).encode()))


# ---------------------------------------------------------------- outcomes
def check_refusal(err: BaseException, file: str) -> None:
    """A refusal is the project's own error, names `file` and a path or line, and is short."""
    assert isinstance(err, PortfolioError | JsonError | ProfileError | ImportFileError), repr(err)
    message = str(err)
    assert len(message) <= MAX_MESSAGE, message[:300]
    assert message.isprintable(), message[:300]
    if isinstance(err, PortfolioError):
        assert err.source == file and err.path, message
        assert err.line is not None, message
    elif isinstance(err, JsonError):
        assert err.source == file and (err.line is not None or err.path), message
    elif isinstance(err, ProfileError):
        assert err.source == file and err.key, message
    else:
        assert err.file == file and err.field, message
        located = err.line is not None or err.field.startswith(("(file)", "--", "accounts[", "market"))
        assert located or err.field in ("(rows)", "(header)", "account"), message
