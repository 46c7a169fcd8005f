"""The library of historical days (`resources/scenarios/*.toml`), read into `Scenario`s.

Each file is one episode with its dates and, per asset, moves on two bases: `close` (the
close-to-close move of the day) and `peak` (peak-to-trough), each with its source (title and
URL) and an `estimate` flag (see `resources/scenarios/README.md`). An episode gives two
scenarios, `NAME/close` and `NAME/peak`; an asset without a figure on a basis is not moved by
it (the result lists it as not shocked).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from workstation.core.errors import WorkstationError
from workstation.core.stress import Scenario

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "resources" / "scenarios"
BASES = ("close", "peak")
_TOP = ("name", "title", "start", "end", "days", "description", "moves")
_MOVE = ("asset", "basis", "move", "price", "source", "url", "note", "estimate")


@dataclass(frozen=True)
class Move:
    asset: str
    basis: str
    source: str
    url: str
    move: float | None = None  # relative price move
    price: float | None = None  # a stablecoin's price (a depeg)
    note: str = ""
    estimate: bool = False


@dataclass(frozen=True)
class Episode:
    name: str
    title: str
    start: date
    end: date
    days: float
    description: str
    moves: tuple[Move, ...]
    path: str

    def scenario(self, basis: str) -> Scenario:
        moves = [m for m in self.moves if m.basis == basis]
        sources = "; ".join(f"{m.asset} {_figure(m)}: {m.source} <{m.url}>" for m in moves)
        notes = tuple(f"{m.asset} {_figure(m)} is an estimate: {m.note}" for m in moves if m.estimate)
        return Scenario(
            name=f"{self.name}/{basis}",
            title=f"{self.title} ({'close to close' if basis == 'close' else 'peak to trough'})",
            kind="historical", days=self.days,
            shocks={m.asset: m.move for m in moves if m.move is not None},
            depeg={m.asset: m.price for m in moves if m.price is not None},
            source=sources, dates=(self.start.isoformat(), self.end.isoformat()), notes=notes,
        )

    def scenarios(self) -> list[Scenario]:
        return [self.scenario(b) for b in BASES if any(m.basis == b for m in self.moves)]


def _figure(m: Move) -> str:
    if m.price is not None:
        return f"at {m.price:g}"
    return f"{100.0 * (m.move or 0.0):+.2f} %"


def _fail(path: Path, key: str, problem: str) -> WorkstationError:
    return WorkstationError(f"{path}: {key}: {problem}")


def _text(d: dict[str, Any], key: str, path: Path, where: str, required: bool = True) -> str:
    value = d.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{where}{key}", f"expected a non-empty string, got {str(value)[:80]!r}")
    return value


def _number(value: Any, path: Path, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(path, key, f"expected a finite number, got {str(value)[:80]!r}")
    return float(value)


def read_episode(path: str | Path) -> Episode:
    """One scenario file; every problem names the file and the key."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except OSError as err:
        raise _fail(path, "(file)", f"cannot read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise _fail(path, "(file)", f"not valid TOML: {err}") from None
    for key in doc:
        if key not in _TOP:
            raise _fail(path, key, f"unknown key; allowed: {', '.join(_TOP)}")
    dates = []
    for key in ("start", "end"):
        value = doc.get(key)
        if not isinstance(value, date):
            raise _fail(path, key, f"expected a date such as 2022-11-09, got {str(value)[:80]!r}")
        dates.append(value)
    if dates[1] < dates[0]:
        raise _fail(path, "end", f"before start ({dates[1]} < {dates[0]})")
    days = _number(doc.get("days", 1), path, "days")
    moves = []
    raw = doc.get("moves")
    if not isinstance(raw, list) or not raw:
        raise _fail(path, "moves", "expected a non-empty list of [[moves]] tables")
    for i, m in enumerate(raw):
        where = f"moves[{i}]."
        for key in m:
            if key not in _MOVE:
                raise _fail(path, f"{where}{key}", f"unknown key; allowed: {', '.join(_MOVE)}")
        basis = m.get("basis")
        if basis not in BASES:
            raise _fail(path, f"{where}basis", f"must be close or peak, got {str(basis)[:80]!r}")
        if ("move" in m) == ("price" in m):
            raise _fail(path, where.rstrip("."), "give exactly one of move (relative) or price (a depeg)")
        move = _number(m["move"], path, f"{where}move") if "move" in m else None
        price = _number(m["price"], path, f"{where}price") if "price" in m else None
        if move is not None and move <= -1.0:
            raise _fail(path, f"{where}move", f"must be greater than -1, got {move}")
        if price is not None and price <= 0.0:
            raise _fail(path, f"{where}price", f"must be positive, got {price}")
        url = _text(m, "url", path, where)
        if not url.startswith(("https://", "http://")):
            raise _fail(path, f"{where}url", f"expected an http(s) address, got {url[:80]!r}")
        estimate = m.get("estimate", False)
        if not isinstance(estimate, bool):
            raise _fail(path, f"{where}estimate", f"expected true or false, got {estimate!r}")
        note = _text(m, "note", path, where, required=estimate)
        moves.append(Move(_text(m, "asset", path, where), basis, _text(m, "source", path, where), url,
                          move, price, note, estimate))
    return Episode(_text(doc, "name", path, ""), _text(doc, "title", path, ""), dates[0], dates[1], days,
                   _text(doc, "description", path, "", required=False), tuple(moves), str(path))


@lru_cache(maxsize=1)
def _library(folder: str) -> tuple[Episode, ...]:
    episodes = tuple(read_episode(p) for p in sorted(Path(folder).glob("*.toml")))
    names = [e.name for e in episodes]
    for name in names:
        if names.count(name) > 1:
            raise WorkstationError(f"{folder}: scenario {name!r} is shipped twice")
    return episodes


def episodes(folder: str | Path | None = None) -> list[Episode]:
    """The shipped episodes, oldest first (read once)."""
    return list(_library(str(folder or SCENARIOS_DIR)))


def historical_scenarios(folder: str | Path | None = None) -> list[Scenario]:
    return [s for e in episodes(folder) for s in e.scenarios()]


def find_scenarios(name: str, extra: list[Scenario] | None = None) -> list[Scenario]:
    """Scenarios called `name`, or an episode's both bases when `name` is the episode's name."""
    pool = historical_scenarios() + list(extra or [])
    exact = [s for s in pool if s.name == name]
    if exact:
        return exact
    found = [s for s in pool if s.name.split("/")[0] == name]
    if not found:
        raise WorkstationError(f"no scenario {name!r}; known: " + ", ".join(sorted({s.name for s in pool})))
    return found
