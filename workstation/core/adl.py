"""Auto-deleveraging exposure: each position ranked by its venue's published ADL formula.

When a venue's insurance fund cannot absorb a bankrupt position, it closes profitable
positions on the other side, highest rank first. Formulas, by the account's `venue`:

- **binance** (USDⓈ-M; Binance FAQ "What Is Auto-Deleveraging (ADL) and How Does It Work",
  https://www.binance.com/en/support/faq/360033525471): per account,
  `PnlPercent = max(0, unrealised profit) / max(1, wallet balance)`,
  `MarginRatio = maintenance margin / (wallet balance + unrealised profit)` (0 when that is
  <= 0), `LeveragePnl = PnlPercent x MarginRatio`; every position of the account shares it.
- **okx** (OKX help "Automatic-Deleveraging: what it is and how it affects your positions",
  https://www.okx.com/help/iv-introduction-to-auto-deleveraging-adl): leverage PnL % =
  position PnL % x effective leverage.
- **deribit** has no ADL queue: if its insurance fund were depleted, further bankruptcies would
  be "socialized among the winning traders for that day" (Deribit support, "Insurance Fund",
  https://support.deribit.com/hc/en-us/articles/25944777576477-Insurance-Fund). Its positions
  are listed with their P&L and leverage, rank 0 and not at risk of being closed (a winner may
  bear a share of a socialised loss instead).
- **bybit** and any other venue (Bybit help "What is Auto-Deleveraging (ADL)?",
  https://help.bybit.com/hc/en-us/articles/900000031623: "derived in order of highest profit
  and effective leverage"; the exact form as MEXC and Poloniex publish it): rank =
  PnL % x effective leverage when PnL % > 0, PnL % / effective leverage otherwise, with
  PnL % = (mark value - entry value) / |entry value| and effective leverage =
  |mark value| / (mark value - bankrupt value).

Here, for a cross or portfolio account, the bankrupt value is the mark value less the account's
equity (the position would be bankrupt when the whole equity is gone), so effective leverage is
|notional| / equity; for an isolated position, equity is its isolated margin plus its value.
Wallet balance (Binance) is the collateral value; unrealised profit is the positions'
unrealised P&L. Only profitable positions can be deleveraged: they are ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from workstation.core.model import Portfolio
from workstation.core.report import build_report

FORMULAS = ("binance", "okx", "bybit", "deribit")


def pnl_rank(pnl_pct: float, leverage: float) -> float:
    """PnL % x leverage when profitable, PnL % / leverage otherwise (Bybit, MEXC, Poloniex)."""
    if leverage <= 0:
        return 0.0
    return pnl_pct * leverage if pnl_pct > 0 else pnl_pct / leverage


def binance_leverage_pnl(unrealized: float, wallet: float, maintenance: float) -> float:
    """Binance's LeveragePnl of an account (see the module docstring)."""
    pnl_pct = max(0.0, unrealized) / max(1.0, wallet)
    denom = wallet + unrealized
    ratio = maintenance / denom if denom > 0 else 0.0
    return pnl_pct * ratio


def bankruptcy_price_isolated_long(entry: float, leverage: float) -> float:
    """Bybit's inverse-contract example: a long at `leverage` is bankrupt at entry L / (L + 1)."""
    return entry * leverage / (leverage + 1.0)


def formula_for(venue: str | None) -> str:
    v = (venue or "").lower()
    return v if v in FORMULAS else "bybit"


def _entry_value(pos, spot: float) -> float:
    if pos.kind == "option":
        unit = pos.entry_price * (spot if pos.settlement == "inverse" else 1.0)
        return abs(pos.quantity) * unit
    if pos.settlement == "inverse" and pos.kind != "spot":
        return abs(pos.quantity)
    return abs(pos.quantity) * pos.entry_price


def adl_ranking(portfolio: Portfolio, accounts: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every position with its venue's ADL rank, highest first (profitable positions lead)."""
    rows = []
    for acc in portfolio.accounts:
        if accounts is not None and acc.id not in accounts:
            continue
        report = build_report(portfolio, f"account:{acc.id}", with_liquidation=False)
        formula = formula_for(acc.venue)
        equity = report["equity"]
        by_id = {p["id"]: p for p in report["positions"]}
        upnl = sum(p["unrealized_pnl"] for p in report["positions"])
        account_score = binance_leverage_pnl(upnl, report["collateral_value"], report["maintenance_margin"])
        for pos in acc.positions:
            r = by_id[pos.id]
            spot = portfolio.market[pos.underlying].price
            entry_value = _entry_value(pos, spot)
            pnl_pct = r["unrealized_pnl"] / entry_value if entry_value else 0.0
            notional = abs(pos.quantity) if pos.settlement == "inverse" and pos.kind in ("perpetual", "future") \
                else abs(pos.quantity) * spot
            own = equity if acc.margin_mode != "isolated" else (pos.isolated_margin or 0.0) + r["market_value"]
            leverage = notional / own if own > 0 else float("inf")
            if formula == "deribit":  # socialised loss, no ranking (see the module docstring)
                rank = 0.0
            elif formula == "binance":
                rank = account_score if r["unrealized_pnl"] > 0 else 0.0
            elif formula == "okx":
                rank = pnl_pct * leverage if leverage != float("inf") else 0.0
            else:
                rank = pnl_rank(pnl_pct, leverage) if leverage != float("inf") else 0.0
            rows.append({"account": acc.id, "id": pos.id, "venue": acc.venue, "formula": formula,
                         "unrealized_pnl": r["unrealized_pnl"], "pnl_pct": pnl_pct,
                         "effective_leverage": leverage, "rank": rank,
                         "at_risk": r["unrealized_pnl"] > 0 and pos.kind != "spot" and formula != "deribit"})
    rows.sort(key=lambda r: (not r["at_risk"], -r["rank"]))
    return rows


def without_positions(portfolio: Portfolio, closed: Sequence[tuple[str, str]]) -> Portfolio:
    """The book after the venue closes `closed` (account, id) at the mark: each position's value
    is credited to its account in the base currency (added to the market at 1 if missing)."""
    shut = set(closed)
    market = dict(portfolio.market)
    base = portfolio.base_currency
    values = {}
    for acc in portfolio.accounts:
        if any(a == acc.id for a, _ in shut):
            report = build_report(portfolio, f"account:{acc.id}", with_liquidation=False)
            values.update({(acc.id, p["id"]): p["market_value"] for p in report["positions"]})
    accounts = []
    for acc in portfolio.accounts:
        credit = sum(values.get((acc.id, p.id), 0.0) for p in acc.positions if (acc.id, p.id) in shut)
        keep = [p for p in acc.positions if (acc.id, p.id) not in shut]
        if len(keep) != len(acc.positions):
            if base not in market:
                from workstation.core.model import Quote

                market[base] = Quote(1.0)
            coll = dict(acc.collateral)
            coll[base] = coll.get(base, 0.0) + credit
            acc = replace(acc, positions=keep, collateral=coll)
        accounts.append(acc)
    return replace(portfolio, market=market, accounts=accounts)
