"""Exports: the book as a portfolio file, margin reports as JSON (the CLI contract) or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workstation.core.portfolio_write import dumps_portfolio
from workstation.store.book_read import load_portfolio
from workstation.store.connection import Database
from workstation.store.files import write_export
from workstation.store.records import HISTORY_FIGURES, json_safe

SUMMARY_COLUMNS = ("scope", "base_currency", *HISTORY_FIGURES)
POSITION_COLUMNS = (
    "scope", "account", "id", "mark_price", "market_value", "unrealized_pnl", "delta", "gamma",
    "vega", "theta", "standalone_margin", "marginal_margin", "component_margin",
)


def portfolio_json(db: Database) -> str:
    """The current book as a `portfolio@1` document."""
    return dumps_portfolio(load_portfolio(db))


def build(db: Database, scope: str | None = None) -> list[dict[str, Any]]:
    """Margin reports of the current book: of `scope`, or of every account and pool."""
    from workstation.core.report import build_report, build_reports

    book = load_portfolio(db)
    return [build_report(book, scope)] if scope else build_reports(book)


def reports_json(reports: Sequence[dict[str, Any]], single: bool = False) -> str:
    """One report as itself when `single`, else `{"reports": [...]}` (the CLI contract)."""
    doc: Any = reports[0] if single and len(reports) == 1 else {"reports": list(reports)}
    return json.dumps(json_safe(doc), indent=2, allow_nan=False) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else ""
    return str(value)


def _liquidation_columns(reports: Sequence[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(column, key, field) for every liquidation distance the reports carry."""
    keys = list(dict.fromkeys(k for r in reports for k in (r.get("liquidation") or {})))
    keys.sort(key=lambda k: (k == "all", k))
    return [(f"liquidation_{k}_{f}", k, f) for k in keys for f in ("down_pct", "up_pct")]


def reports_csv(reports: Sequence[dict[str, Any]], positions: bool = False) -> str:
    """One row per report (summary figures and liquidation distances in percent),
    or with `positions` one row per position of each report."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if positions:
        writer.writerow(POSITION_COLUMNS)
        for report in reports:
            for row in report.get("positions", []):
                values = {"scope": report.get("scope"), **row}
                writer.writerow([_cell(values.get(c)) for c in POSITION_COLUMNS])
        return out.getvalue()
    liq = _liquidation_columns(reports)
    writer.writerow([*SUMMARY_COLUMNS, *(c for c, _, _ in liq)])
    for report in reports:
        distances = report.get("liquidation") or {}
        writer.writerow(
            [_cell(report.get(c)) for c in SUMMARY_COLUMNS]
            + [_cell((distances.get(k) or {}).get(f)) for _, k, f in liq]
        )
    return out.getvalue()


def write_text(text: str, path: str | Path, protect: Sequence[str | Path] = ()) -> Path:
    """Write an export atomically (a private temporary file in the target folder, fsynced,
    renamed over `path`; the file is 0600). Refuses to overwrite the databases in `protect`,
    their -wal / -shm, or any SQLite file."""
    return write_export(text, path, [Path(p) for p in protect])
