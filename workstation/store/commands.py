"""The `db` command line: init, import, export, history, backups, restore. Errors: message on
stderr, status 2.

`add_db_commands(subparsers)` registers `db` on the main CLI; `run_db_command(args)` runs it.
`load_portfolio_from_db` and `record_reports` serve `margin --db [--record]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from workstation.core.errors import PortfolioError, WorkstationError
from workstation.core.model import Portfolio
from workstation.core.portfolio_io import parse_time
from workstation.store import backups, exports, records, repository
from workstation.store.codec import iso
from workstation.store.db import create_database, open_db
from workstation.store.errors import InvalidInput, StoreError
from workstation.store.health import damage_guard, unusable
from workstation.store.imports import KINDS, ImportResult, import_file
from workstation.store.paths import default_db_path, ensure_database

EXPORTS = ("portfolio", "report-json", "report-csv")


# ---------------------------------------------------------------- helpers for `margin --db`
def _open_existing(path: str | Path | None):
    if path is None:
        return ensure_database()
    if not Path(path).exists():
        raise StoreError(f"no database at {path}; create it with `db init --db {path}`")
    return open_db(path)


def load_portfolio_from_db(path: str | Path | None = None) -> Portfolio:
    """The current book of the database at `path` (default: the user's, created if new),
    checked by the portfolio reader's rules: a damaged file gives one clear error."""
    where = path if path is not None else default_db_path()
    with damage_guard(where):
        db = _open_existing(path)
        try:
            book = repository.load_portfolio(db)
        finally:
            db.close()
        try:
            repository.check_portfolio(book)
        except InvalidInput as err:
            raise unusable(where, f"the stored book is not valid ({err}): the file may be "
                                  f"damaged") from None
    return book


def record_reports(
    path: str | Path | None,
    reports: Sequence[dict[str, Any]],
    as_of: datetime | None = None,
) -> int:
    """Append one history row per report, all in one transaction; return how many.

    `as_of`: the `as_of` of the book the reports were computed from (each row's
    `snapshot_as_of`); without it, the database's current snapshot's.
    """
    from workstation.store.db import transaction

    with damage_guard(path if path is not None else default_db_path()):
        db = _open_existing(path)
        try:
            with transaction(db):
                for report in reports:
                    records.record_history(db, report, as_of=as_of)
            return len(reports)
        finally:
            db.close()


# ---------------------------------------------------------------- parser
def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH", default=None,
        help=f"database file (default: {default_db_path()})",
    )


def _scope_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--account", metavar="ID", help="one account")
    group.add_argument("--pool", metavar="ID", help="one pool")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the `init|import|export|history` sub-commands to `parser`."""
    sub = parser.add_subparsers(dest="db_command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="create the database (with the demo book) and migrate it")
    _db_option(p)
    p.add_argument("--empty", action="store_true", help="do not import the demo book")

    p = sub.add_parser("import", help="import a file atomically (all rows or none)")
    _db_option(p)
    p.add_argument("kind", choices=KINDS, help="what the file holds")
    p.add_argument("file", help="the file to import")
    p.add_argument("--account", metavar="ID",
                   help="account the positions or balances belong to (created if new)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--merge", action="store_true",
                     help="add and update only: positions / balances into their accounts; a "
                          "portfolio's accounts, pools and profiles replace those of the same "
                          "id, the rest of the book is kept")
    how.add_argument("--replace", action="store_true",
                     help="let the import delete what the file does not list (the whole book "
                          "for a portfolio; the accounts' positions or balances otherwise); a "
                          "backup is taken first")
    p.add_argument("--allow-empty", action="store_true",
                   help="accept a positions or balances file that lists nothing (the account "
                        "holds nothing)")
    p.add_argument("--venue", help="venue of the symbols (e.g. bybit: Deribit-style names are "
                                   "USDC-settled there)")
    p.add_argument("--as-of", metavar="TIME",
                   help="market-csv: snapshot time, ISO-8601 UTC (default: now)")
    p.add_argument("--rate", type=float, help="market-csv: rate (default: the current one)")

    p = sub.add_parser("export", help="export the book or its margin reports")
    _db_option(p)
    p.add_argument("what", choices=EXPORTS)
    p.add_argument("-o", "--output", metavar="FILE", default="-", help="file (default: stdout)")
    _scope_options(p)
    p.add_argument("--positions", action="store_true",
                   help="report-csv: one row per position instead of per report")

    p = sub.add_parser("backups", help="list the automatic backups of the database")
    _db_option(p)

    p = sub.add_parser("restore", help="bring back a backup (the current state is backed up "
                                       "first)")
    _db_option(p)
    p.add_argument("backup", help="a number from `db backups` (1 = newest) or a backup file")

    p = sub.add_parser("history", help="print the recorded margin history as a table")
    _db_option(p)
    _scope_options(p)
    p.add_argument("--scope", help="e.g. account:main or pool:all")
    p.add_argument("--limit", type=int, help="only the last N rows")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_db_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register `db` (with its sub-commands) on the main CLI's subparsers."""
    parser = subparsers.add_parser(
        "db", help="the local database: init, import, export, history, backups, restore",
        description="The local SQLite store of the book, market snapshots and margin history.",
    )
    configure(parser)
    return parser


# ---------------------------------------------------------------- commands
def _path(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else default_db_path()


def _scope(args: argparse.Namespace) -> str | None:
    if getattr(args, "account", None):
        return f"account:{args.account}"
    if getattr(args, "pool", None):
        return f"pool:{args.pool}"
    return getattr(args, "scope", None)


def _init(args: argparse.Namespace) -> int:
    db = ensure_database(_path(args), demo=not args.empty, empty=args.empty)
    try:
        accounts = db.conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
        snap = repository.current_snapshot(db)
    finally:
        db.close()
    when = f", market as of {snap['as_of']}" if snap else ", no market snapshot yet"
    print(f"database {_path(args)}: {accounts} account(s){when}")
    return 0


def _import(args: argparse.Namespace) -> int:
    as_of: datetime | None = None
    if args.as_of:
        try:
            as_of = parse_time(args.as_of, "--as-of")
        except PortfolioError as err:
            raise StoreError(f"--as-of: expected {err.expected} (got {args.as_of!r})") from None
    path = _path(args)
    options = dict(account=args.account, merge=args.merge, replace=args.replace,
                   allow_empty=args.allow_empty, venue=args.venue, as_of=as_of, rate=args.rate)
    done: list[ImportResult] = []
    # a new database is built in a file of its own and only put in place once the import
    # succeeded: a refused import leaves nothing behind and deletes no file it did not make
    if not path.exists() and create_database(
        path, prepare=lambda db: done.append(import_file(db, args.kind, args.file, **options))
    ):
        print(done[0])
        return 0
    db = ensure_database(path, demo=False)
    try:
        result = import_file(db, args.kind, args.file, **options)
    finally:
        db.close()
    print(result)
    return 0


def _export(args: argparse.Namespace) -> int:
    db = _open_existing(_path(args))
    try:
        if args.what == "portfolio":
            text = exports.portfolio_json(db)
        else:
            scope = _scope(args)
            reports = exports.build(db, scope)
            if args.what == "report-json":
                text = exports.reports_json(reports, single=scope is not None)
            else:
                text = exports.reports_csv(reports, positions=args.positions)
    finally:
        db.close()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        exports.write_text(text, args.output, protect=[_path(args)])
    return 0


def _backups(args: argparse.Namespace) -> int:
    path = _path(args)
    found = backups.list_backups(path)
    if not found:
        print(f"no backups of {path} yet (they are kept in {backups.backup_dir(path)})")
        return 0
    table = [("#", "taken (UTC)", "reason", "size", "file")]
    for n, b in enumerate(found, start=1):
        table.append((str(n), f"{b.taken:%Y-%m-%d %H:%M:%S}", b.reason,
                      f"{max(b.size // 1024, 1):,} KiB", b.path.name))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(f"\nin {backups.backup_dir(path)}; bring one back with `db restore N --db {path}`")
    return 0


def _restore(args: argparse.Namespace) -> int:
    print(backups.restore(_path(args), args.backup))
    return 0


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent:
        return f"{value * 100:.1f}%"
    return f"{value:,.2f}"


def _nearest(liquidation: dict[str, Any]) -> str:
    """The smallest liquidation move in a report's `liquidation` map, e.g. `BTC -23.4%`."""
    moves = [
        (abs(pct), name, pct)
        for name, entry in (liquidation or {}).items()
        for pct in ((entry or {}).get("down_pct"), (entry or {}).get("up_pct"))
        if isinstance(pct, int | float)
    ]
    if not moves:
        return "-"
    _, name, pct = min(moves)
    return f"{name} {pct:+.1f}%"


def history_table(rows: Sequence[dict[str, Any]]) -> str:
    """Aligned text table of history rows: time, scope, equity, IM, MM, usage, offset and the
    nearest liquidation (the smallest move, in percent, of one asset or of `all`)."""
    header: tuple[str, ...] = ("recorded_at", "scope", "equity", "initial_margin", "maintenance_margin",
                               "usage", "offset", "nearest_liquidation")
    venue = any(r.get("venue") for r in rows)
    if venue:  # ours - the venue's MM, when the reports had venue figures (core.reconcile)
        header += ("mm_vs_venue",)
    table = [header]
    for r in rows:
        line: tuple[str, ...] = (
            r["recorded_at"].strftime("%Y-%m-%d %H:%M:%S"), r["scope"], _fmt(r["equity"]),
            _fmt(r["initial_margin"]), _fmt(r["maintenance_margin"]),
            _fmt(r["margin_usage"], percent=True), _fmt(r["offset"]),
            _nearest(r.get("liquidation") or {}),
        )
        table.append(line + ((_venue_mm(r.get("venue")),) if venue else ()))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines = []
    for row in table:
        cells = [
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _venue_mm(venue: dict[str, Any] | None) -> str:
    """`ours - venue` of the account's maintenance margin and its percent, or `-`."""
    d = ((venue or {}).get("venue_diff") or {})
    if not isinstance(d.get("maintenance_margin"), int | float):
        return "-"
    pct = d.get("maintenance_margin_pct")
    return _fmt(d["maintenance_margin"]) + (f" ({pct:+.2f}%)" if isinstance(pct, int | float) else "")


def _history(args: argparse.Namespace) -> int:
    db = _open_existing(_path(args))
    try:
        rows = records.history(db, _scope(args), args.limit)
    finally:
        db.close()
    if args.json:
        out = [
            {**r, "recorded_at": iso(r["recorded_at"]),
             "snapshot_as_of": iso(r["snapshot_as_of"]) if r["snapshot_as_of"] else None}
            for r in rows
        ]
        sys.stdout.write(json.dumps(records.json_safe(out), indent=2) + "\n")
    elif not rows:
        print("no margin history recorded yet (margin --db --record adds to it)")
    else:
        sys.stdout.write(history_table(rows))
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "init": _init, "import": _import, "export": _export, "history": _history,
    "backups": _backups, "restore": _restore,
}


def run_db_command(args: argparse.Namespace) -> int:
    """Run a parsed `db` command; on error print the message to stderr and return 2."""
    try:
        with damage_guard(_path(args)):
            return _COMMANDS[args.db_command](args)
    except (WorkstationError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m workstation.store ...`: the `db` commands on their own."""
    parser = argparse.ArgumentParser(prog="python -m workstation.store",
                                     description="The local database of the margin workstation.")
    configure(parser)
    return run_db_command(parser.parse_args(argv))
