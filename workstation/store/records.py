"""Margin history (report figures over time) and saved what-if scenarios."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from workstation.core.model import Position, Quote
from workstation.core.portfolio_write import position_to_dict
from workstation.store import validate
from workstation.store.codec import iso, loads, now_utc, parse_iso, position_from_doc
from workstation.store.connection import Database
from workstation.store.db import transaction
from workstation.store.errors import InvalidInput, NotFoundError, StoreError

# Top-level figures of a report (portfolio-format.md, CLI contract) kept in the history.
HISTORY_FIGURES = (
    "collateral_value",
    "equity",
    "initial_margin",
    "maintenance_margin",
    "margin_usage",
    "standalone_initial_margin",
    "offset",
    "segregated_initial_margin",
)


def _finite_or_none(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, f"expected a number or null (got {value!r})")
    return float(value) if math.isfinite(value) else None


def json_safe(value: Any) -> Any:
    """Non-finite floats (no liquidation, infinite usage) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def record_history(
    db: Database,
    report: dict[str, Any],
    recorded_at: datetime | None = None,
    as_of: datetime | None = None,
) -> int:
    """Append the figures of one margin report (a `build_report` dict); return the row id.

    `as_of` is the `as_of` of the book the report was computed from, kept as the row's
    `snapshot_as_of`; without it, the current snapshot's `as_of` at the time of recording.
    """
    if not isinstance(report, dict):
        raise InvalidInput("report", "expected a report dict")
    scope = validate.text(report.get("scope"), "report.scope")
    when = validate.utc(recorded_at, "recorded_at") or now_utc()
    book_as_of = validate.utc(as_of, "as_of")
    figures = {k: _finite_or_none(report.get(k), f"report.{k}") for k in HISTORY_FIGURES}
    liquidation = validate.json_dumps(json_safe(report.get("liquidation") or {}), "liquidation")
    venue = venue_of(report)
    with transaction(db):
        if book_as_of is not None:
            snap = (iso(book_as_of),)
        else:
            snap = db.conn.execute(
                "SELECT as_of FROM snapshots ORDER BY id DESC LIMIT 1"
            ).fetchone()
        # the venue column only when the report has venue figures (older schemas lack it)
        extra = ("", ()) if venue is None else (", venue", (venue,))
        cur = db.conn.execute(
            'INSERT INTO margin_history(recorded_at, scope, snapshot_as_of, base_currency, '
            'collateral_value, equity, initial_margin, maintenance_margin, margin_usage, '
            f'standalone_initial_margin, "offset", segregated_initial_margin, liquidation{extra[0]}) '
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{', ?' * len(extra[1])})",
            (
                iso(when, fixed=True),
                scope,
                snap[0] if snap else None,
                report.get("base_currency"),
                *figures.values(),
                liquidation,
                *extra[1],
            ),
        )
        return int(cur.lastrowid or 0)


def venue_of(report: dict[str, Any]) -> str | None:
    """The report's venue figures and differences (core.reconcile), account and positions, as
    the history's `venue` JSON; None when it has none."""
    doc: dict[str, Any] = {k: report[k] for k in ("venue_figures", "venue_diff") if k in report}
    positions = [
        {"id": p.get("id"), "account": p.get("account"), "venue_figures": p["venue_figures"],
         "venue_diff": p.get("venue_diff")}
        for p in report.get("positions") or [] if isinstance(p, dict) and "venue_figures" in p
    ]
    if positions:
        doc["positions"] = positions
    return validate.json_dumps(json_safe(doc), "venue") if doc else None


def history(db: Database, scope: str | None = None, limit: int | None = None) -> list[dict]:
    """History rows, oldest first (the last `limit` ones if given), optionally of one scope."""
    sql = "SELECT * FROM margin_history"
    params: list[Any] = []
    if scope is not None:
        sql += " WHERE scope = ?"
        params.append(scope)
    sql += " ORDER BY recorded_at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    rows = list(db.query(sql, params))
    rows.reverse()
    for row in rows:
        row["recorded_at"] = parse_iso(row["recorded_at"])
        if row["snapshot_as_of"] is not None:
            row["snapshot_as_of"] = parse_iso(row["snapshot_as_of"])
        row["liquidation"] = loads(row["liquidation"])
        row["venue"] = loads(row["venue"]) if row.get("venue") else None
    return rows


# ---------------------------------------------------------------- scenarios
def save_scenario(db: Database, name: str, account_id: str, trades: list[Position]) -> int:
    """Save hypothetical trades for an account; return the scenario id."""
    validate.text(name, "scenario.name")
    if not isinstance(trades, list | tuple):
        raise InvalidInput("scenario.trades", "expected a list of positions")
    with transaction(db):
        acc = db.conn.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone()
        if acc is None:
            raise NotFoundError(f"no account {account_id!r}")
        snap = db.conn.execute(
            "SELECT id, as_of FROM snapshots ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if snap is None:
            raise StoreError("no market snapshot yet: import a portfolio or a market CSV first")
        quotes = {r[0]: Quote(r[1], r[2]) for r in db.conn.execute(
            "SELECT asset, price, vol FROM quotes WHERE snapshot_id = ?", (snap[0],)
        )}
        docs = []
        for i, trade in enumerate(trades):
            pos = validate.position(
                trade,
                f"scenario.trades[{i}]",
                market=quotes,
                as_of=parse_iso(snap[1]),
                require_id=False,
            )
            doc = position_to_dict(pos)
            if not pos.id:
                del doc["id"]
            docs.append(doc)
        cur = db.conn.execute(
            "INSERT INTO scenarios(name, account_id, created_at, trades) VALUES (?, ?, ?, ?)",
            (name, account_id, iso(now_utc()), validate.json_dumps(docs, "scenario.trades")),
        )
        return int(cur.lastrowid or 0)


def list_scenarios(db: Database, account_id: str | None = None) -> list[dict[str, Any]]:
    """Saved scenarios (id, name, account_id, created_at, trade_count), oldest first."""
    sql = (
        "SELECT id, name, account_id, created_at, json_array_length(trades) AS trade_count "
        "FROM scenarios"
    )
    params: list[Any] = []
    if account_id is not None:
        sql += " WHERE account_id = ?"
        params.append(account_id)
    rows = list(db.query(sql + " ORDER BY id", params))
    for row in rows:
        row["created_at"] = parse_iso(row["created_at"])
    return rows


def load_scenario(db: Database, scenario_id: int) -> dict[str, Any]:
    """One scenario with its `trades` as positions."""
    rows = list(db.query("SELECT * FROM scenarios WHERE id = ?", [scenario_id]))
    if not rows:
        raise NotFoundError(f"no scenario {scenario_id!r}")
    row = rows[0]
    row["created_at"] = parse_iso(row["created_at"])
    row["trades"] = [position_from_doc(d) for d in loads(row["trades"])]
    return row


def delete_scenario(db: Database, scenario_id: int) -> None:
    with transaction(db):
        cur = db.conn.execute("DELETE FROM scenarios WHERE id = ?", (scenario_id,))
        if cur.rowcount == 0:
            raise NotFoundError(f"no scenario {scenario_id!r}")
