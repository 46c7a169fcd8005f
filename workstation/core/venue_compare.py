"""The same account and drafts margined under each shipped venue profile, side by side.

Each profile is applied in the margin mode its venue uses (`trading.margin_mode`; the account's
own mode when the profile names none). An isolated account is compared as cross (isolated margin
is set per position by the trader, not by the venue). Fees are each profile's taker fees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from workstation.core.errors import WorkstationError
from workstation.core.model import Portfolio, Position
from workstation.core.profiles import shipped_profiles
from workstation.core.whatif import compare
from workstation.core.whatif_session import WhatIfSession


def _as_profile(portfolio: Portfolio, account_id: str, name: str, mode: str) -> Portfolio:
    accounts = []
    for acc in portfolio.accounts:
        if acc.id == account_id:
            positions = [replace(p, isolated_margin=None) for p in acc.positions]
            acc = replace(acc, profile=name, margin_mode=mode, positions=positions)
        accounts.append(acc)
    return replace(portfolio, accounts=accounts, pools=[])


def compare_venues(portfolio: Portfolio, account_id: str, trades: Sequence[Position],
                   liquidity: str | None = "taker") -> list[dict[str, Any]]:
    """Per shipped profile: mode, IM before and after, its change, MM after, the drafts' fees;
    cheapest IM after first."""
    own = portfolio.account(account_id)
    rows = []
    for name, profile in shipped_profiles(portfolio.as_of).items():
        mode = profile.trading.margin_mode or ("cross" if own.margin_mode == "isolated" else own.margin_mode)
        try:
            book = _as_profile(portfolio, account_id, name, mode)
            session = WhatIfSession(book, f"account:{account_id}", with_liquidation=False)
            drafted = [replace(t, isolated_margin=None) for t in trades]
            res = compare(session, account_id, drafted, liquidity=liquidity)
        except (WorkstationError, ValueError) as exc:  # a profile this book cannot use
            rows.append({"profile": name, "mode": mode, "current": name == own.profile, "im_before": None,
                         "im_after": None, "im_change": None, "mm_after": None, "equity_after": None,
                         "fees": None, "note": f"not applicable: {str(exc)[:80]}"})
            continue
        b, a = res.before, res.after
        rows.append({"profile": name, "mode": mode, "current": name == own.profile,
                     "im_before": b["initial_margin"], "im_after": a["initial_margin"],
                     "im_change": a["initial_margin"] - b["initial_margin"],
                     "mm_after": a["maintenance_margin"], "equity_after": a["equity"],
                     "fees": sum(leg.fee_base for leg in res.legs),
                     "note": "this account's profile" if name == own.profile else ""})
    return sorted(rows, key=lambda r: (r["im_after"] is None, r["im_after"] or 0.0))
