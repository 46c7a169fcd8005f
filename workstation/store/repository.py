"""The book in the database: load it for the engine, and edit it one transaction at a time.

One entry point for callers (the CLI, the window, the tests); the work is done in
- `book_read`: the current snapshot, the market, the book as a `Portfolio`, its change counter;
- `book_write`: the whole-book check, replacing the whole book, the shared row writers;
- `account_edits`: positions, balances, margin modes, accounts and pools;
- `market_edits`: new snapshots, quotes, forwards and the quotes' optional fields;
- `records`: margin history and what-if scenarios.
Every write runs in one `transaction()` and ends with the check of the whole book by the
portfolio reader's rules, so the database always holds a book that exports to a valid
portfolio file.
"""

from __future__ import annotations

from workstation.store.account_edits import (
    add_account,
    add_pool,
    apply_trades,
    delete_account,
    delete_collateral,
    delete_pool,
    delete_position,
    set_account_mode,
    set_collateral,
    upsert_position,
)
from workstation.store.book_read import (
    current_snapshot,
    load_book,
    load_portfolio,
    market,
    require_counter,
    snapshots,
)
from workstation.store.book_write import check_portfolio, save_portfolio, set_account_figures
from workstation.store.market_edits import add_snapshot, set_forwards, set_quote, set_quote_details
from workstation.store.records import (
    delete_scenario,
    history,
    list_scenarios,
    load_scenario,
    record_history,
    save_scenario,
)

__all__ = [
    "add_account",
    "add_pool",
    "add_snapshot",
    "apply_trades",
    "check_portfolio",
    "current_snapshot",
    "delete_account",
    "delete_collateral",
    "delete_pool",
    "delete_position",
    "delete_scenario",
    "history",
    "list_scenarios",
    "load_book",
    "load_portfolio",
    "load_scenario",
    "market",
    "record_history",
    "require_counter",
    "save_portfolio",
    "save_scenario",
    "set_account_figures",
    "set_account_mode",
    "set_collateral",
    "set_forwards",
    "set_quote",
    "set_quote_details",
    "snapshots",
    "upsert_position",
]
