"""User stress scenarios and imported price histories in the store (schema: `docs/store.md`).

Each write is one transaction. Scenarios are kept as the JSON of `Scenario.to_dict()`, checked
by `scenario_from_dict` before they are written; a price history is imported from a CSV with
`workstation.core.history.read_price_csv` (every row checked before anything is written).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workstation.core.history import read_price_csv
from workstation.core.stress import Scenario, scenario_from_dict
from workstation.store.connection import Database
from workstation.store.db import open_db, reading, transaction
from workstation.store.errors import NotFoundError, StoreError


def open_existing(path: str | Path) -> Database:
    if not Path(path).exists():
        raise StoreError(f"{path}: no such database (python -m workstation db init --db {path})")
    return open_db(path)


def save_stress_scenario(db: Database, scenario: Scenario) -> None:
    """Save (or replace, by name) a user scenario."""
    body = scenario.to_dict()
    scenario_from_dict(body, f"scenario {scenario.name!r}")  # refuse what could not be read back
    with transaction(db):
        db.conn.execute("INSERT OR REPLACE INTO stress_scenarios (name, created_at, body) VALUES (?, ?, ?)",
                        (scenario.name, datetime.now(UTC).isoformat(), json.dumps(body, allow_nan=False)))


def list_stress_scenarios(db: Database) -> list[Scenario]:
    with reading(db):
        rows = db.conn.execute("SELECT name, body FROM stress_scenarios ORDER BY name").fetchall()
    return [scenario_from_dict(json.loads(body), f"stress_scenarios[{name}]") for name, body in rows]


def delete_stress_scenario(db: Database, name: str) -> None:
    with transaction(db):
        cur = db.conn.execute("DELETE FROM stress_scenarios WHERE name = ?", (name,))
        if cur.rowcount == 0:
            raise NotFoundError(f"no stress scenario {name!r}")


def import_price_history(db: Database, path: str | Path, name: str | None = None) -> str:
    """Read the CSV (all of it, checked), then replace the history called `name` (default: the
    file's stem) in one transaction; returns the name."""
    return save_price_history(db, name or Path(path).stem, read_price_csv(path), str(path))


def save_price_history(db: Database, name: str, prices: Any, source: str = "") -> str:
    """Replace the history called `name` by `prices` (a checked DataFrame: date index, one
    column per asset, as `read_price_csv` gives) in one transaction; returns the name."""
    if not name.strip():
        raise StoreError("a price history needs a name")
    rows = [(name, f"{day:%Y-%m-%d}", str(asset), float(price))
            for day, row in prices.iterrows() for asset, price in row.items() if price == price]
    with transaction(db):
        db.conn.execute("DELETE FROM price_histories WHERE name = ?", (name,))
        db.conn.execute("INSERT INTO price_histories (name, source, imported_at) VALUES (?, ?, ?)",
                        (name, source, datetime.now(UTC).isoformat()))
        db.conn.executemany("INSERT INTO price_history_rows (history, date, asset, price) VALUES (?, ?, ?, ?)", rows)
    return name


def price_histories(db: Database) -> list[dict[str, Any]]:
    with reading(db):
        rows = db.conn.execute(
            "SELECT h.name, h.source, h.imported_at, min(r.date), max(r.date), count(DISTINCT r.date) "
            "FROM price_histories h LEFT JOIN price_history_rows r ON r.history = h.name GROUP BY h.name "
            "ORDER BY h.name").fetchall()
    return [{"name": n, "source": s, "imported_at": t, "start": a, "end": b, "days": k} for n, s, t, a, b, k in rows]


def load_price_history(db: Database, name: str) -> Any:
    """The history as a DataFrame (date index, one column per asset)."""
    import pandas as pd

    with reading(db):
        rows = db.conn.execute("SELECT date, asset, price FROM price_history_rows WHERE history = ?",
                               (name,)).fetchall()
    if not rows:
        raise NotFoundError(f"no price history {name!r}")
    frame = pd.DataFrame(rows, columns=["date", "asset", "price"])
    frame["date"] = pd.to_datetime(frame["date"])
    wide = frame.pivot(index="date", columns="asset", values="price").sort_index()
    wide.columns.name = None
    return wide
