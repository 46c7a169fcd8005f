"""Reading CSV files whose columns go by several names (venue exports, ccxt, hand-made).

Header names are compared after lower-casing and dropping everything but letters and digits,
so `entryPrice`, `Entry Price` and `entry_price` are one name. Lines are physical file lines
(the header is line 1). Blank lines and lines starting with `#` are skipped. The delimiter is
`,`, `;` or a tab, whichever the header uses most.

Cells are held to the portfolio reader's rules (`core.limits`): numbers finite and within
range, ids and codes printable; errors quote an offending cell shortened (`core.errors.shown`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workstation.core import jsonread, limits
from workstation.core.errors import JsonError, printable, shown
from workstation.store.errors import ImportFileError

MAX_COLUMN_NAME = 60  # characters of a header cell quoted in an error


def normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class Row:
    """One data row: `values` (the stripped non-empty cells) and `names` (the header as
    written) by canonical column. `read_rows` strips each cell once, so the many lookups of
    one row (a 20,000-row import makes about 30 per row) cost a dict lookup each."""

    file: str
    line: int
    values: dict[str, str]
    names: dict[str, str]

    def get(self, column: str) -> str | None:
        """The stripped cell of `column`, None if the column is absent or the cell empty."""
        return self.values.get(column)

    def name(self, column: str) -> str:
        return self.names.get(column, column)

    def error(self, column: str, message: str) -> ImportFileError:
        return ImportFileError(self.file, self.line, self.name(column), message)

    def text(self, column: str, *, required: bool = False) -> str | None:
        value = self.values.get(column)
        if value is None and required:
            raise self.error(column, "a value is required")
        return value

    def code(self, column: str, *, required: bool = False) -> str | None:
        """An id, account, symbol or asset code: printable, at most limits.MAX_CODE long."""
        value = self.values.get(column)
        if value is None:
            if required:
                raise self.error(column, "a value is required")
            return None
        problem = limits.code(value)
        if problem:
            raise self.error(column, f"expected {problem} (got {shown(value)})")
        return value

    def number(
        self,
        column: str,
        *,
        required: bool = False,
        rule: Callable[[float], str | None] = limits.magnitude,
    ) -> float | None:
        """The cell as a float within `rule` (a core.limits check; default: +/-1e15)."""
        value = self.values.get(column)
        if value is None:
            if required:
                raise self.error(column, "a value is required")
            return None
        try:
            result = float(value)
        except ValueError:
            raise self.error(column, f"expected a number (got {shown(value)})") from None
        if not math.isfinite(result):
            raise self.error(column, f"expected a finite number (got {shown(value)})")
        problem = rule(result)
        if problem:
            raise self.error(column, f"expected {problem} (got {shown(value)})")
        return result


def read_text(path: str | Path) -> str:
    """The UTF-8 text of an import file (a BOM is dropped; at most jsonread.MAX_FILE_BYTES)."""
    try:
        return jsonread.read_text(path)
    except JsonError as err:
        where = "(file)" if err.line is None else f"(column {err.column})"
        raise ImportFileError(path, err.line, where, f"expected {err.problem}") from None


def check_account(path: str | Path, account: str | None) -> None:
    """Refuse an `--account` that is no valid id (control characters, too long)."""
    problem = limits.code(account) if account else None
    if problem:
        raise ImportFileError(path, None, "--account", f"expected {problem} (got {shown(account)})")


def _cells(reader: Any, file: str) -> Iterator[list[str]]:
    """The reader's rows, with a malformed file (NUL bytes, ...) as an ImportFileError."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ImportFileError(file, reader.line_num, "(csv)", shown(str(err))) from None


def read_rows(
    path: str | Path,
    synonyms: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...],
    text: str | None = None,
) -> Iterator[Row]:
    """Rows of the CSV at `path`; `synonyms` maps each canonical column to its accepted names.

    Raises ImportFileError for a missing required column, an ambiguous header or a row whose
    number of fields differs from the header's. Unknown columns are ignored.
    """
    file = str(path)
    text = read_text(path) if text is None else text
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    lookup = {normal(n): canon for canon, names in synonyms.items() for n in (canon, *names)}
    header: list[str] | None = None
    columns: dict[int, str] = {}
    names: dict[str, str] = {}
    for cells in _cells(reader, file):
        if not "".join(cells).strip() or cells[0].lstrip().startswith("#"):  # blank: no cell has text
            continue
        if header is None:
            header = cells
            for i, cell in enumerate(cells):
                canon = lookup.get(normal(cell))
                if canon is None:
                    continue
                name = printable(cell.strip(), MAX_COLUMN_NAME)
                if canon in names:
                    raise ImportFileError(
                        file, reader.line_num, name, f"column {names[canon]!r} already gives {canon}",
                    )
                columns[i] = canon
                names[canon] = name
            for canon in required:
                if canon not in names:
                    accepted = ", ".join((canon, *synonyms.get(canon, ())))
                    raise ImportFileError(
                        file, reader.line_num, canon, f"missing column (accepted names: {accepted})"
                    )
            continue
        if len(cells) != len(header):
            raise ImportFileError(
                file, reader.line_num, "(row)",
                f"expected {len(header)} fields as in the header, got {len(cells)}",
            )
        values = {canon: value for i, canon in columns.items() if (value := cells[i].strip())}
        yield Row(file, reader.line_num, values, names)
    if header is None:
        raise ImportFileError(file, None, "(header)", "the file is empty")
