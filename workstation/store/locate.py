"""Line numbers of JSON values, so import errors can name `FILE:LINE`.

`json_lines(text)` maps each value's path (`accounts[0].positions[3].strike`, `[2].symbol`,
`market.BTC.price`: the portfolio reader's notation) to the line where the value starts; it
lives in `workstation.core.jsonread` with the strict JSON reader that shares its notation.
`import_error` turns a refusal of the core readers into the store's `ImportFileError`.
"""

from __future__ import annotations

from pathlib import Path

from workstation.core.errors import JsonError, PortfolioError
from workstation.core.jsonread import json_lines, line_of
from workstation.store.errors import ImportFileError

__all__ = ["import_error", "json_lines", "line_of"]


def import_error(file: str | Path, text: str, err: PortfolioError | JsonError) -> ImportFileError:
    """`FILE:LINE: PATH: expected ...` for a refusal of the portfolio or strict JSON reader."""
    if isinstance(err, JsonError):
        return ImportFileError(file, err.line, err.path or "(json)", f"expected {err.problem}")
    if err.path.startswith("line "):  # JSON syntax outside any value: `line L column C`
        return ImportFileError(file, err.line, "(json)", err.detail)
    line = err.line if err.line is not None else line_of(text, err.path)
    return ImportFileError(file, line, err.path, err.detail)
