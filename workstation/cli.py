"""Command line: the same engine as the window.

    python -m workstation margin FILE [--account ID | --pool ID] [--json [--pretty]]
    python -m workstation margin --db PATH [--record] ...
    python -m workstation whatif FILE --account ID --trade TRADE.json [--json]
    python -m workstation whatif FILE --account ID --suggest delta|margin|liquidation --hedge HEDGE.json
    python -m workstation stress FILE|--db PATH --scenario NAME|--all [--json]
    python -m workstation reconcile FILE|--db PATH [--account ID] [--json]
    python -m workstation db init|import|export|history ...

Errors go to stderr with exit status 2; nothing is printed on stdout then. Every error names
its file and JSON path or line (a figure beyond float range: the file and the scope); an
exception that is not the project's own is a bug and is not dressed up as a user error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from workstation.core.errors import ComputeError, JsonError, PortfolioError, WorkstationError, printable

T = TypeVar("T")


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` finds it (COLUMNS, then the terminal,
    else 80), without importing `shutil` (with bz2 and lzma: 3 ms of every start)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # no terminal, or no stdout
            columns = 0
    return columns if columns > 0 else 80


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose help is formatted to `_columns()` (its subcommands' too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", lambda prog: argparse.HelpFormatter(prog, width=_columns() - 2))
        super().__init__(*args, **kwargs)


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m workstation", description="Margin Workstation: margin, offsets, contributions, "
                                                           "liquidation distance and hedge what-ifs.")
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("margin", help="margin report of an account, a pool, or everything")
    m.add_argument("file", nargs="?", help="portfolio JSON file (portfolio@1)")
    g = m.add_mutually_exclusive_group()
    g.add_argument("--account", help="report one account")
    g.add_argument("--pool", help="report one pool")
    m.add_argument("--json", action="store_true", help="print the report as JSON (compact)")
    m.add_argument("--pretty", action="store_true", help="with --json: indent the JSON (2 spaces)")
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
    w.add_argument("--json", action="store_true", help="print the result as JSON (compact)")
    w.add_argument("--pretty", action="store_true", help="with --json: indent the JSON (2 spaces)")
    from workstation.reconcile_cli import add_reconcile_parser
    from workstation.stress_cli import add_stress_parser

    add_stress_parser(sub)
    add_reconcile_parser(sub)
    # the store (its SQLite code, CSV and venue readers) is imported only for `db`: `margin FILE` starts faster
    if _command(sys.argv[1:] if argv is None else argv) == "db":
        from workstation.store.commands import add_db_commands

        add_db_commands(sub)
    else:
        sub.add_parser("db", help="the local database: init, import, export, history", add_help=False)
    return ap


def _command(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line (its first positional argument)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _dumps(doc: Any, pretty: bool) -> str:
    """JSON text: compact by default (a 10,000-position report prints several times faster),
    indented with --pretty."""
    if pretty:
        return json.dumps(doc, indent=2, allow_nan=False)
    return json.dumps(doc, separators=(",", ":"), allow_nan=False)


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


def _source(args: argparse.Namespace) -> str:
    """The file or database the book came from, for error messages."""
    return str(getattr(args, "db", None) or args.file)


def _read_json(path: str) -> tuple[Any, str]:
    """A trade or hedge file, read strictly (core.jsonread), and its text."""
    from workstation.core import jsonread

    try:
        return jsonread.read_file(path)
    except JsonError as err:
        raise err.as_portfolio_error() from None


def _position(d: Any, where: str, portfolio, file: str, text: str, default_id: str, mode: str | None = None):
    """One position of a trade or hedge file; errors name the file, the line and the path.
    `mode`: the account's margin mode (isolated_margin required there, refused elsewhere)."""
    from workstation.core.jsonread import line_of
    from workstation.core.portfolio_io import position_from_dict

    try:
        return position_from_dict(d, where, portfolio.market, portfolio.as_of, margin_mode=mode,
                                  default_id=default_id)
    except PortfolioError as err:
        raise err.with_source(file, line=line_of(text, err.path)) from None


def _trades(path: str, portfolio, account: str) -> list:
    doc, text = _read_json(path)
    mode = portfolio.account(account).margin_mode
    if isinstance(doc, dict):
        return [_position(doc, "$", portfolio, path, text, "trade-1", mode)]
    if not isinstance(doc, list):
        raise PortfolioError("$", "a position object or a list of them", doc, source=path, line=1)
    return [_position(d, f"[{k}]", portfolio, path, text, f"trade-{k + 1}", mode) for k, d in enumerate(doc)]


def _hedge(path: str, portfolio):
    doc, text = _read_json(path)
    where = "$"
    if isinstance(doc, list) and len(doc) == 1:
        doc, where = doc[0], "[0]"
    if isinstance(doc, dict) and "quantity" not in doc:
        doc = {**doc, "quantity": 0.0}
    return _position(doc, where, portfolio, path, text, "hedge")


def _computed(source: str, scope: str | None, compute: Callable[[], T]) -> T:
    """Run an engine computation; a figure beyond float range is reported with the file and
    scope it came from (anything else unexpected is a bug and surfaces as a traceback)."""
    try:
        return compute()
    except ComputeError as err:
        raise err.located(scope=scope, source=source) from None
    except (OverflowError, FloatingPointError) as err:
        raise ComputeError("(figures)", f"numbers beyond float range ({err})", scope=scope,
                           source=source) from err


def _in_file(path: str, compute: Callable[[], T]) -> T:
    """Run a what-if; the engine's refusal of a trade or hedge names the file it came from."""
    try:
        return compute()
    except (PortfolioError, ComputeError):
        raise
    except WorkstationError as err:
        raise WorkstationError(f"{printable(path)}: {err}") from None


def _cmd_margin(args: argparse.Namespace) -> int:
    from workstation.core.report import build_report, scope_names
    from workstation.format import format_report

    if args.record and not args.db:
        raise WorkstationError("--record needs --db PATH: history lives in the database")
    portfolio = _load(args)
    source = _source(args)
    vec = {"position_vectors": True} if getattr(args, "scenarios", False) else {}
    if args.account or args.pool:
        scopes = [f"account:{args.account}" if args.account else f"pool:{args.pool}"]
    else:
        scopes = scope_names(portfolio)
    reports = [
        _computed(source, scope, lambda scope=scope: build_report(portfolio, scope, **vec)) for scope in scopes
    ]
    if args.db and args.record:
        from workstation.store.commands import record_reports

        record_reports(args.db, reports, as_of=portfolio.as_of)
    if args.json:
        doc = reports[0] if (args.account or args.pool) else {"reports": reports}
        print(_dumps(doc, args.pretty))
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
    scope = f"account:{args.account}"
    if args.suggest:
        if not args.hedge:
            raise WorkstationError("--suggest needs --hedge HEDGE.json")
        hedge = _hedge(args.hedge, portfolio)
        result = _in_file(args.hedge, lambda: _computed(
            args.file, scope, lambda: suggest(portfolio, args.account, hedge, args.suggest)))
    else:
        if not args.trade:
            raise WorkstationError("whatif needs --trade TRADE.json or --suggest with --hedge")
        trades = _trades(args.trade, portfolio, args.account)
        result = _in_file(args.trade, lambda: _computed(
            args.file, scope, lambda: whatif(portfolio, args.account, trades)))
    if args.json:
        print(_dumps(result, args.pretty))
    else:
        print(format_whatif(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then seen below
    except BrokenPipeError:
        # the reader went away (`margin ... | head`): stop quietly, the Python way
        # (https://docs.python.org/3/library/signal.html#note-on-sigpipe): stdout goes to devnull so
        # that the flush at exit does not fail again, and the exit code is 1
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


def run() -> None:
    """The command's entry point (`python -m workstation`, `margin-workstation-cli`): `main`, then
    the interpreter's exit without its teardown.

    Freeing every module and object at exit (numpy's and the engine's) took 20-25 ms of a
    190 ms `margin FILE --json`. The exit is otherwise the ordinary one, in its order: running
    threads are waited for (`threading._shutdown`, what the interpreter calls), the exit handlers
    run (`atexit`), the output is flushed; if one of these is missing or the output cannot be
    flushed, the exit is the ordinary one."""
    import atexit
    import threading

    code = main()
    shutdown = getattr(threading, "_shutdown", None)
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if shutdown is None or run_exit_handlers is None:
        sys.exit(code)
    shutdown()
    run_exit_handlers()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser(argv).parse_args(argv)
    try:
        if args.command == "margin":
            return _cmd_margin(args)
        if args.command == "whatif":
            return _cmd_whatif(args)
        if args.command == "stress":
            from workstation.stress_cli import run_stress

            return run_stress(args, _load)
        if args.command == "reconcile":
            from workstation.reconcile_cli import run_reconcile

            return run_reconcile(args, _load)
        if args.command == "db":
            from workstation.store.commands import run_db_command

            return run_db_command(args)
    except ComputeError as err:  # from a command that did not locate it itself (stress)
        return _fail(str(err.located(source=getattr(args, "db", None) or getattr(args, "file", None))))
    except WorkstationError as err:  # every refusal of input, located by the code that raised it
        return _fail(str(err))
    except BrokenPipeError:
        raise  # the reader closed the pipe: `main` stops quietly
    except OSError as err:  # writing the output (a full disk)
        return _fail(str(err))
    # anything else is a bug: it surfaces as a traceback, never as a user error
    return _fail(f"unknown command {args.command}")  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
