"""Strict JSON for every reader (portfolio files, trade and hedge files, ccxt dumps).

`loads(text)` is `json.loads` that refuses, with a `JsonError` naming line, column and (when
there is one) the JSON path of the offending value:
- a syntax error (and a file that is not UTF-8, or larger than MAX_FILE_BYTES: `read_file`);
- a key given twice in one object (json would keep the last one silently);
- nesting deeper than MAX_DEPTH (json itself would overflow the stack near 1,000);
- a number beyond float range: an integer literal of any length (json would build the int, or
  fail past 4,300 digits) or a literal such as `1e400` (json would read `inf`);
- a string with an unpaired surrogate escape (`"\\ud800"`: it cannot be printed or stored).
`NaN` and `Infinity` literals are read, as the portfolio format says; each reader refuses them
at their path like any non-finite number.

Paths use the portfolio reader's notation: `accounts[0].positions[3].strike`; a key that is
empty or holds `.`, `[`, `]`, `"` or non-printable characters is written `market["B.T\\u0000C"]`
(`join_key`). `json_lines(text)` maps each path to the line where its value starts.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workstation.core.errors import JsonError, printable

MAX_DEPTH = 64  # objects and arrays inside each other; the formats need fewer than 10
MAX_FILE_BYTES = 64 * 1024 * 1024  # a book of 100,000 positions is about 30 MB
MAX_KEY_IN_PATH = 60  # characters of a key written into a path

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SCALAR = re.compile(r"-?(?:Infinity|NaN|[0-9][0-9.eE+-]*)|true|false|null")
_BRACKETS = re.compile(r"[^\[\]{}]+")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_KEY = re.compile(r'[^.\[\]"]+')


# ---------------------------------------------------------------- paths
def join_key(path: str, key: str) -> str:
    """The path of `key` inside the object at `path` (`market.BTC`, `market[""]`)."""
    if key and key.isprintable() and len(key) <= MAX_KEY_IN_PATH and _PLAIN_KEY.fullmatch(key) \
            and key.strip() == key:
        return f"{path}.{key}" if path else key
    if len(key) > MAX_KEY_IN_PATH:
        key = key[: MAX_KEY_IN_PATH - 20]
        inner = json.dumps(key)[1:-1] + "…"
    else:
        inner = json.dumps(key)[1:-1]
    return f'{path}["{printable(inner, 2 * MAX_KEY_IN_PATH)}"]'


def join_index(path: str, index: int) -> str:
    return f"{path}[{index}]"


def parent_of(path: str) -> str:
    """The path of the value that holds the value at `path` ("" for the root's children)."""
    if path.endswith('"]'):
        cut = path.rfind('["')
    elif path.endswith("]"):
        cut = path.rfind("[")
    else:
        cut = path.rfind(".")
    return path[: max(cut, 0)]


# ---------------------------------------------------------------- locating
class _Malformed(Exception):
    pass


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def line_column(text: str, pos: int, starts: list[int] | None = None) -> tuple[int, int]:
    """1-based line and column of the character at `pos`."""
    starts = _line_starts(text) if starts is None else starts
    line = bisect.bisect_right(starts, pos)
    return line, pos - starts[line - 1] + 1


def _events(text: str) -> Iterator[tuple[str, str, int]]:
    """(event, path, position) through `text`, without recursion: `value` where each value
    starts, `key` where each key starts, `duplicate` at a key given twice in its object and
    `deep` at a bracket opening level MAX_DEPTH + 1. Stops quietly on malformed text."""
    stack: list[tuple[str, str, list[int], set[str]]] = []
    n = len(text)

    def skip(pos: int) -> int:
        m = _WS.match(text, pos)
        return m.end() if m else pos

    def key_at(pos: int) -> tuple[str, int]:
        m = _STRING.match(text, pos)
        if not m:
            raise _Malformed
        try:
            key = json.loads(m.group(0))
        except ValueError:
            raise _Malformed from None
        pos = skip(m.end())
        if not text.startswith(":", pos):
            raise _Malformed
        return key, pos + 1

    try:
        path, pos = "", skip(0)
        while True:
            # a value at `path` starts at `pos`
            pos = skip(pos)
            if pos >= n:
                return
            yield "value", path, pos
            char = text[pos]
            if char in "{[":
                if len(stack) >= MAX_DEPTH:
                    yield "deep", path, pos
                    return
                stack.append((char, path, [0], set()))
                pos = skip(pos + 1)
                closer = "}" if char == "{" else "]"
                if not text.startswith(closer, pos):
                    if char == "{":
                        key, after = key_at(pos)
                        stack[-1][3].add(key)
                        path = join_key(path, key)
                        yield "key", path, pos
                        pos = after
                    else:
                        path = join_index(path, 0)
                    continue
                stack.pop()
                pos += 1
            else:
                m = _STRING.match(text, pos) or _SCALAR.match(text, pos)
                if not m:
                    raise _Malformed
                pos = m.end()
            # after a value: commas and closing brackets
            while stack:
                kind, cpath, index, seen = stack[-1]
                pos = skip(pos)
                if text.startswith(",", pos):
                    pos = skip(pos + 1)
                    if kind == "{":
                        key, after = key_at(pos)
                        path = join_key(cpath, key)
                        yield ("duplicate" if key in seen else "key"), path, pos
                        seen.add(key)
                        pos = after
                    else:
                        index[0] += 1
                        path = join_index(cpath, index[0])
                    break
                if text.startswith("}" if kind == "{" else "]", pos):
                    stack.pop()
                    pos += 1
                    continue
                raise _Malformed
            else:
                return
    except _Malformed:
        return


def json_lines(text: str) -> dict[str, int]:
    """Path -> 1-based line of every value in `text` (the root is the path "")."""
    starts = _line_starts(text)
    found: dict[str, int] = {}
    for event, path, pos in _events(text):
        if event in ("value", "key"):
            found.setdefault(path, bisect.bisect_right(starts, pos))
    return found


def line_of(text: str, path: str, lines: dict[str, int] | None = None) -> int | None:
    """Line of the value at `path`, else of its nearest enclosing value that exists."""
    lines = json_lines(text) if lines is None else lines
    if path.startswith("$"):  # the root, as some readers name it
        path = path[1:].lstrip(".")
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = parent_of(path)


def _first(text: str, wanted: str) -> tuple[str, int] | None:
    for event, path, pos in _events(text):
        if event == wanted:
            return path, pos
    return None


def _path_at(text: str, offset: int) -> str | None:
    """The path of the innermost value that starts at or before `offset`."""
    last = None
    for event, path, pos in _events(text):
        if pos > offset:
            break
        if event == "value":
            last = path
    return last


# ---------------------------------------------------------------- strict loading
class _OutOfRange(float):
    """A number literal beyond float range, as read (its value is +/-inf); `text` is the literal."""

    text: str


class _Duplicate(Exception):
    pass


def _too_deep(text: str) -> bool:
    """Whether brackets (outside strings) nest deeper than MAX_DEPTH: a quick pass in C, then
    one Python step per bracket."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for char in _BRACKETS.sub("", _STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


class _Numbers:
    """json's number hooks for one `loads` call; `beyond` collects the literals out of range."""

    def __init__(self) -> None:
        self.beyond: list[_OutOfRange] = []

    def _out(self, literal: str, value: float) -> float:
        out = _OutOfRange(value)
        out.text = literal
        self.beyond.append(out)
        return out

    def float(self, literal: str) -> float:
        value = float(literal)
        return self._out(literal, value) if math.isinf(value) else value

    def int(self, literal: str) -> int | float:
        negative = literal.startswith("-")
        if len(literal) - negative > 309:  # above 1.8e308 whatever the digits: no int built
            return self._out(literal, -math.inf if negative else math.inf)
        value = int(literal)
        if abs(value) > sys.float_info.max:
            return self._out(literal, -math.inf if negative else math.inf)
        return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Duplicate
    return out


def _walk(doc: Any) -> Iterator[tuple[str, Any, bool]]:
    """(path, value, is_key) of every value and key of a parsed document, in document order."""
    todo: list[tuple[str, Any]] = [("", doc)]
    while todo:
        path, value = todo.pop()
        yield path, value, False
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                sub = join_key(path, key)
                yield sub, key, True
                items.append((sub, item))
            todo.extend(reversed(items))
        elif isinstance(value, list):
            todo.extend((join_index(path, i), item) for i, item in reversed(list(enumerate(value))))


def _error(text: str, problem: str, source: str | None, *, path: str | None = None,
           pos: int | None = None) -> JsonError:
    line = column = None
    if pos is not None:
        line, column = line_column(text, pos)
    elif path is not None:
        line = line_of(text, path)
    return JsonError(problem, line=line, column=column, path=path, source=source)


def loads(text: str, source: str | None = None) -> Any:
    """The JSON value of `text`, read strictly (see the module docstring); `source` names the
    file in errors."""
    if _too_deep(text):
        found = _first(text, "deep")
        if found is not None:
            path, pos = found
            raise _error(text, f"at most {MAX_DEPTH} levels of nesting", source, path=path, pos=pos)
    numbers = _Numbers()
    try:
        doc = json.loads(text, object_pairs_hook=_pairs, parse_float=numbers.float,
                         parse_int=numbers.int)
    except _Duplicate:
        found = _first(text, "duplicate")
        path, pos = found if found is not None else (None, None)
        raise _error(text, "each key once in its object (this one is given twice)", source,
                     path=path, pos=pos) from None
    except json.JSONDecodeError as err:
        raise JsonError(f"valid JSON ({err.msg})", line=err.lineno, column=err.colno,
                        path=_path_at(text, err.pos), source=source) from None
    except RecursionError:  # malformed and deep: the quick depth pass could not place it
        raise JsonError(f"at most {MAX_DEPTH} levels of nesting", line=None, column=None,
                        source=source) from None
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    if surrogates or numbers.beyond:
        for path, value, is_key in _walk(doc):
            if isinstance(value, _OutOfRange):
                raise _error(text, f"a number within float range (got {printable(value.text, 60)})",
                             source, path=path)
            if surrogates and isinstance(value, str) and _LONE_SURROGATE.search(value):
                what = "a key" if is_key else "a string"
                raise _error(text, f"{what} without unpaired surrogates (\\ud800-\\udfff escapes)",
                             source, path=path)
    return doc


def read_file(path: str | Path) -> tuple[Any, str]:
    """The strict JSON value of the UTF-8 file at `path` (a BOM is allowed) and its text."""
    text = read_text(path)
    return loads(text, source=str(path)), text


def read_text(path: str | Path) -> str:
    """The text of a UTF-8 file (a BOM is dropped), with a located JsonError if it cannot be."""
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise JsonError(f"a readable file ({err.strerror or err})", line=None, column=None,
                        source=source) from None
    if len(data) > MAX_FILE_BYTES:
        raise JsonError(f"a file of at most {MAX_FILE_BYTES // 2**20} MB", line=None, column=None,
                        source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise JsonError(f"UTF-8 text (byte {data[err.start]:#04x} cannot be decoded)", line=line,
                        column=column, source=source) from None
