"""Rows read from an import file, not yet checked against the database.

Each staged row remembers where it came from (file, line, the file's name of each field), so a
check that fails later still names `FILE:LINE: FIELD`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workstation.core.model import Position
from workstation.store.errors import ImportFileError


@dataclass
class Staged:
    file: str
    line: int | None
    fields: dict[str, str] = field(default_factory=dict)  # attribute -> the file's name for it
    lines: dict[str, int] = field(default_factory=dict)  # attribute -> line, where it differs

    def error(self, attribute: str, message: str) -> ImportFileError:
        return ImportFileError(
            self.file,
            self.lines.get(attribute, self.line),
            self.fields.get(attribute, attribute),
            message,
        )


@dataclass
class StagedPosition(Staged):
    account: str = ""
    position: Position | None = None
    # collateral set aside for the position (isolated mode), in `isolated_currency` (ccxt)
    isolated_amount: float | None = None
    isolated_currency: str | None = None
    # a closed entry (zero size): `position` is None and this is the id it closes (with
    # `--merge` the matching position is deleted; a replacing import just leaves it out)
    closed_id: str | None = None


@dataclass
class StagedBalance(Staged):
    account: str = ""
    asset: str = ""
    amount: float = 0.0


@dataclass
class StagedQuote(Staged):
    asset: str = ""
    price: float = 0.0
    vol: float | None = None
