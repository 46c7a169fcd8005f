"""Line numbers of JSON values, so import errors can name `FILE:LINE`.

`json_lines(text)` maps each value's path (`accounts[0].positions[3].strike`, `[2].symbol`,
`market.BTC.price`: the portfolio reader's notation) to the line where the value starts.
It tolerates what Python's json module accepts (NaN, Infinity) and stops quietly on bad input.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"-?(?:Infinity|NaN|[0-9][0-9.eE+-]*)|true|false|null|NaN|Infinity")


class _Stop(Exception):
    pass


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def json_lines(text: str) -> dict[str, int]:
    """Path -> 1-based line of every value in `text` (the root is the path "")."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found: dict[str, int] = {}

    def line(pos: int) -> int:
        return bisect.bisect_right(starts, pos)

    def skip(pos: int) -> int:
        match = _WS.match(text, pos)
        return match.end() if match else pos

    def value(pos: int, path: str) -> int:
        pos = skip(pos)
        if pos >= len(text):
            raise _Stop
        found.setdefault(path, line(pos))
        char = text[pos]
        if char == "{":
            pos = skip(pos + 1)
            if text.startswith("}", pos):
                return pos + 1
            while True:
                match = _STRING.match(text, pos)
                if not match:
                    raise _Stop
                key = json.loads(match.group(0))
                found.setdefault(_key(path, key), line(pos))
                pos = skip(match.end())
                if not text.startswith(":", pos):
                    raise _Stop
                pos = skip(value(pos + 1, _key(path, key)))
                if text.startswith(",", pos):
                    pos = skip(pos + 1)
                elif text.startswith("}", pos):
                    return pos + 1
                else:
                    raise _Stop
        if char == "[":
            pos = skip(pos + 1)
            if text.startswith("]", pos):
                return pos + 1
            index = 0
            while True:
                pos = skip(value(pos, f"{path}[{index}]"))
                index += 1
                if text.startswith(",", pos):
                    pos += 1
                elif text.startswith("]", pos):
                    return pos + 1
                else:
                    raise _Stop
        match = _STRING.match(text, pos) or _SCALAR.match(text, pos)
        if not match:
            raise _Stop
        return match.end()

    with contextlib.suppress(_Stop, ValueError, RecursionError):
        value(0, "")
    return found


def line_of(text: str, path: str) -> int | None:
    """Line of the value at `path`, else of its nearest enclosing value that exists."""
    lines = json_lines(text)
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        cut = max(path.rfind("."), path.rfind("["))
        path = path[: max(cut, 0)]
