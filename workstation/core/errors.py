"""Every error the engine reports to a user, in one place so that messages read alike.

Messages never echo a whole value: `shown(value)` is its repr cut to about 80 characters, and
`printable(text)` makes a path, key or file name safe to print (control characters and lone
surrogates escaped, long text cut). Every reader uses these two.
"""

from __future__ import annotations

import reprlib

SHOWN_LIMIT = 80  # characters of an offending value quoted in a message
NAME_LIMIT = 160  # characters of a path, key, field or file name in a message


def _escape(text: str) -> str:
    """`text` with every non-printable character (controls, lone surrogates, ...) as \\uXXXX."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _cut(text: str, limit: int, length: int | None = None) -> str:
    """`text` if it fits in `limit`, else its start and the length of the whole."""
    length = len(text) if length is None else length
    if len(text) <= limit and length == len(text):
        return text
    return f"{text[: max(limit - 24, 8)]}… ({length:,} characters)"


def printable(text: object, limit: int = NAME_LIMIT) -> str:
    """A path, key, field or file name as it may be printed: escaped and at most ~`limit` long."""
    raw = str(text)
    return _cut(_escape(raw[: 2 * limit]), limit, len(raw) if len(raw) > 2 * limit else None)


_REPR = reprlib.Repr()  # keyword arguments only from Python 3.12
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 6, 8, 8, 8
_REPR.maxstring = _REPR.maxother = SHOWN_LIMIT
_REPR.maxlong = 40


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """The repr of an offending value for a message, cut to about `limit` characters."""
    if isinstance(value, Shown):
        return str(value)
    if isinstance(value, str | bytes) and len(value) > limit:
        return _cut(_escape(repr(value[: 2 * limit])), limit, len(value))
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):  # an int beyond str() limits, a deep structure
        return f"<{type(value).__name__}>"
    return _cut(_escape(text), limit)


class Shown(str):
    """An offending value already shortened by `shown`: its repr is the text itself, so that
    callers formatting `{err.got!r}` print the short form."""

    def __repr__(self) -> str:
        return str(self)


class WorkstationError(Exception):
    """Base of every error the engine reports to a user."""


class PortfolioError(WorkstationError):
    """A portfolio document is malformed. `path` is the JSON path of the offending value.

    `line` and `column` (1-based) are set when known (JSON syntax, strict-JSON refusals, or a
    reader that located the path in the text). `got` is the offending value, shortened.
    """

    def __init__(
        self,
        path: str,
        expected: str,
        got: object = None,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ):
        self.path = path
        self.expected = expected
        self.got = None if got is None else Shown(shown(got))
        self.source = source
        self.line = line
        self.column = column
        super().__init__(self._text())

    @property
    def detail(self) -> str:
        """`expected ... (got ...)`: the message without the location."""
        got = "" if self.got is None else f" (got {self.got})"
        return f"expected {self.expected}{got}"

    def _text(self) -> str:
        where = ""
        if self.source:
            where = printable(self.source)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        if where and self.line is not None and self.path.startswith("line "):  # no value to name
            return f"{where}{self.detail}"
        return f"{where}{printable(self.path)}: {self.detail}"

    def with_source(self, source: str | None, line: int | None = None) -> PortfolioError:
        return PortfolioError(self.path, self.expected, self.got, source=source,
                              line=self.line if line is None else line, column=self.column)


class JsonError(WorkstationError):
    """A text that is not strict JSON: a syntax error, a key given twice, nesting deeper than
    the limit, a number beyond float range, an unpaired surrogate. Names `source`, the 1-based
    `line` and `column`, and the JSON `path` of the offending value when there is one.
    `problem` says what was expected (`valid JSON (Expecting ',' delimiter)`)."""

    def __init__(
        self,
        problem: str,
        *,
        line: int | None,
        column: int | None,
        path: str | None = None,
        source: str | None = None,
    ):
        self.problem = problem
        self.line = line
        self.column = column
        self.path = path
        self.source = source
        where = printable(source) if source else "(text)"
        if line is not None:
            where += f":{line}:{column}" if column is not None else f":{line}"
        at = f" {printable(path)}:" if path else ""
        super().__init__(f"{where}:{at} expected {problem}")

    def with_source(self, source: str | None) -> JsonError:
        return JsonError(self.problem, line=self.line, column=self.column, path=self.path, source=source)

    def as_portfolio_error(self) -> PortfolioError:
        """The same refusal in the portfolio reader's terms (path, or `line L column C`)."""
        path = self.path or (f"line {self.line} column {self.column}" if self.line else "$")
        return PortfolioError(path, self.problem, source=self.source, line=self.line, column=self.column)


class ProfileError(WorkstationError):
    """A margin profile is malformed: names the file (or portfolio path), the key and the problem."""

    def __init__(self, source: str, key: str, problem: str):
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{printable(source)}: {printable(key)}: {_cut(problem, 4 * NAME_LIMIT)}")


class ComputeError(WorkstationError):
    """A book read without complaint gives figures beyond float range (or no figure at all).

    `field` names the figure of the report (e.g. `initial_margin`), `scope` the account or pool,
    `source` the file or database; the CLI fills in what it knows.
    """

    def __init__(self, field: str, problem: str, *, scope: str | None = None, source: str | None = None):
        self.field = field
        self.problem = problem
        self.scope = scope
        self.source = source
        parts = [printable(p) for p in (source, scope) if p]
        parts.append(f"{printable(field)}: {problem}")
        super().__init__(": ".join(parts))

    def located(self, *, scope: str | None = None, source: str | None = None) -> ComputeError:
        return ComputeError(self.field, self.problem, scope=self.scope or scope, source=self.source or source)


class ScopeError(WorkstationError):
    """An account or pool asked for does not exist."""


def unknown_profile(name: str, known: list[str]) -> ProfileError:
    return ProfileError("profiles", name, f"unknown margin profile; known: {', '.join(sorted(known))}")
