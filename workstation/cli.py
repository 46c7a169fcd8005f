"""Command line: the same engine as the window.

    python -m workstation margin FILE [--account ID | --pool ID] [--json]
    python -m workstation margin --db PATH [--record] ...
    python -m workstation whatif FILE --account ID --trade TRADE.json [--json]
    python -m workstation whatif FILE --account ID --suggest delta|margin|liquidation --hedge HEDGE.json
    python -m workstation stress FILE|--db PATH --scenario NAME|--all [--json]
    python -m workstation db init|import|export|history ...

Errors go to stderr with exit status 2; nothing is printed on stdout then.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workstation.core.errors import PortfolioError, ProfileError, WorkstationError


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m workstation",
                                 description="Margin Workstation: margin, offsets, contributions, "
                                             "liquidation distance and hedge what-ifs.")
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("margin", help="margin report of an account, a pool, or everything")
    m.add_argument("file", nargs="?", help="portfolio JSON file (portfolio@1)")
    g = m.add_mutually_exclusive_group()
    g.add_argument("--account", help="report one account")
    g.add_argument("--pool", help="report one pool")
    m.add_argument("--json", action="store_true", help="print the report as JSON")
    m.add_argument("--db", help="read the book from this database instead of FILE")
    m.add_argument("--record", action="store_true", help="with --db: append the figures to history")
    m.add_argument("--scenarios", action="store_true",
                   help="add each position's scenario vector to the report's scenarios")
    w = sub.add_parser("whatif", help="before/after report of hypothetical trades, or a hedge")
    w.add_argument("file", help="portfolio JSON file")
    w.add_argument("--account", required=True)
    w.add_argument("--trade", help="JSON list of positions to add")
    w.add_argument("--suggest", choices=("delta", "margin", "liquidation"))
    w.add_argument("--hedge", help="JSON position: the hedge instrument (quantity ignored)")
    w.add_argument("--json", action="store_true")
    from workstation.stress_cli import add_stress_parser

    add_stress_parser(sub)
    try:
        from workstation.store.commands import add_db_commands
    except ImportError:  # pragma: no cover - the store ships with the package
        pass
    else:
        add_db_commands(sub)
    return ap


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace):
    from workstation.core.portfolio_io import read_portfolio

    if getattr(args, "db", None):
        from workstation.store.commands import load_portfolio_from_db

        return load_portfolio_from_db(args.db)
    if not args.file:
        raise WorkstationError("give a portfolio FILE or --db PATH")
    return read_portfolio(args.file)


def _read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise WorkstationError(f"{path}: cannot read the {what} file ({err})") from None
    except json.JSONDecodeError as err:
        raise PortfolioError(f"line {err.lineno} column {err.colno}", f"valid JSON ({err.msg})",
                             source=path) from None


def _trades(path: str, portfolio) -> list:
    from workstation.core.portfolio_io import position_from_dict

    doc = _read_json(path, "trade")
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise PortfolioError("$", "a list of positions", type(doc).__name__, source=path)
    out = []
    for k, d in enumerate(doc):
        try:
            out.append(position_from_dict(d, f"[{k}]", portfolio.market, portfolio.as_of,
                                          default_id=f"trade-{k + 1}"))
        except PortfolioError as err:
            raise err.with_source(path) from None
    return out


def _hedge(path: str, portfolio):
    from workstation.core.portfolio_io import position_from_dict

    doc = _read_json(path, "hedge")
    if isinstance(doc, list) and len(doc) == 1:
        doc = doc[0]
    if isinstance(doc, dict) and "quantity" not in doc:
        doc = {**doc, "quantity": 0.0}
    try:
        return position_from_dict(doc, "$", portfolio.market, portfolio.as_of, default_id="hedge")
    except PortfolioError as err:
        raise err.with_source(path) from None


def _cmd_margin(args: argparse.Namespace) -> int:
    from workstation.core.report import build_report, build_reports
    from workstation.format import format_report

    if args.record and not args.db:
        raise WorkstationError("--record needs --db PATH: history lives in the database")
    portfolio = _load(args)
    vec = {"position_vectors": True} if getattr(args, "scenarios", False) else {}
    if args.account:
        reports = [build_report(portfolio, f"account:{args.account}", **vec)]
    elif args.pool:
        reports = [build_report(portfolio, f"pool:{args.pool}", **vec)]
    else:
        reports = build_reports(portfolio, **vec)
    if args.db and args.record:
        from workstation.store.commands import record_reports

        record_reports(args.db, reports, as_of=portfolio.as_of)
    if args.json:
        doc = reports[0] if (args.account or args.pool) else {"reports": reports}
        print(json.dumps(doc, indent=2, allow_nan=False))
    else:
        print("\n\n".join(format_report(r) for r in reports))
    return 0


def _cmd_whatif(args: argparse.Namespace) -> int:
    from workstation.core.whatif import suggest, whatif
    from workstation.format import format_whatif

    portfolio = _load(args)
    try:
        portfolio.account(args.account)
    except KeyError:
        raise WorkstationError(f"no account {args.account!r} in {args.file}") from None
    if args.suggest:
        if not args.hedge:
            raise WorkstationError("--suggest needs --hedge HEDGE.json")
        result = suggest(portfolio, args.account, _hedge(args.hedge, portfolio), args.suggest)
    else:
        if not args.trade:
            raise WorkstationError("whatif needs --trade TRADE.json or --suggest with --hedge")
        result = whatif(portfolio, args.account, _trades(args.trade, portfolio))
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
    else:
        print(format_whatif(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "margin":
            return _cmd_margin(args)
        if args.command == "whatif":
            return _cmd_whatif(args)
        if args.command == "stress":
            from workstation.stress_cli import run_stress

            return run_stress(args, _load)
        if args.command == "db":
            from workstation.store.commands import run_db_command

            return run_db_command(args)
    except (PortfolioError, ProfileError, WorkstationError) as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(str(err))
    except (ValueError, FloatingPointError, OverflowError) as err:  # numbers beyond float range
        return _fail(f"cannot compute this book: {err}")
    return _fail(f"unknown command {args.command}")  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
