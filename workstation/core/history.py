"""Price histories: read a CSV (pandas), build a scenario between two dates, replay the book.

A price history is a table of daily prices in the base currency, one column per asset, indexed
by date. The CSV may be wide (`date,BTC,ETH,...`) or long (`date,asset,price`); the first
column named date (or time, timestamp; else the first) holds ISO-8601 dates.

`scenario_between(prices, d0, d1)` moves every asset by its price ratio between the two dates
(`days` = the calendar days between them). `replay(portfolio, prices)` runs today's book
through every day's move of the history (day d: the move from the previous row to d), one job
per (day, scope), mapped through `concurrent.futures` (threads: the engine is numpy and pure)
or, with `scheduler="tcp://host:port"` or a `distributed.Client`, on a Dask cluster (the
optional `dask` extra): the same pure function, so the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workstation.core import limits
from workstation.core.errors import WorkstationError
from workstation.core.methods import method_for
from workstation.core.model import Portfolio
from workstation.core.report import make_scope, scope_names
from workstation.core.stress import Scenario, apply_scenario
from workstation.core.stress_eval import figures_of


def read_price_csv(path: str | Path) -> Any:
    """A price history DataFrame (date index, one float column per asset) from a CSV file.
    Errors name the file, the line and the column."""
    import pandas as pd

    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, skip_blank_lines=True, comment="#")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise WorkstationError(f"{path}: cannot read the price history ({str(err)[:120]})") from None
    return prices_from_frame(raw, str(path))


def prices_from_frame(raw: Any, source: str = "price history") -> Any:
    import pandas as pd

    cols = [str(c).strip() for c in raw.columns]
    raw = raw.copy()
    raw.columns = cols
    lower = {c.lower(): c for c in cols}
    date_col = lower.get("date") or lower.get("time") or lower.get("timestamp") or cols[0]
    dates = pd.to_datetime(raw[date_col], errors="coerce", utc=True, format="ISO8601")
    bad = dates.isna()
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise WorkstationError(f"{source}:{i + 2}: {date_col}: not a date: {str(raw[date_col].iloc[i])[:80]!r}")
    outside = (dates < limits.EARLIEST) | (dates > limits.LATEST)
    if outside.any():
        i = int(outside.to_numpy().argmax())
        raise WorkstationError(f"{source}:{i + 2}: {date_col}: expected a date from {limits.FIRST_YEAR} to "
                               f"{limits.LAST_YEAR} (four-digit year), got {str(raw[date_col].iloc[i])[:80]!r}")
    for c in cols:
        wrong = limits.code(c)
        if wrong is not None:
            raise WorkstationError(f"{source}:1: column {c[:80]!r}: expected {wrong}")
    raw[date_col] = dates.dt.tz_convert(None).dt.normalize()
    if {"asset", "price"} <= set(lower):
        a, p = lower["asset"], lower["price"]
        values = _numbers(raw[p], source, p)
        frame = pd.DataFrame({"date": raw[date_col], "asset": raw[a].str.strip(), "price": values})
        dup = frame.duplicated(["date", "asset"])
        if dup.any():
            i = int(dup.to_numpy().argmax())
            raise WorkstationError(f"{source}:{i + 2}: {a}: {frame['asset'].iloc[i]} given twice on "
                                   f"{frame['date'].iloc[i]:%Y-%m-%d}")
        wide = frame.pivot(index="date", columns="asset", values="price")
    else:
        wide = pd.DataFrame({c: _numbers(raw[c], source, c) for c in cols if c != date_col})
        wide.index = raw[date_col]
        if wide.index.duplicated().any():
            i = int(wide.index.duplicated().argmax())
            raise WorkstationError(f"{source}:{i + 2}: {date_col}: date {wide.index[i]:%Y-%m-%d} given twice")
    wide = wide.sort_index()
    wide.index.name = "date"
    if wide.shape[1] == 0 or wide.shape[0] < 2:
        raise WorkstationError(f"{source}: a price history needs at least two dates and one asset column")
    return wide


def _numbers(col: Any, source: str, name: str) -> Any:
    import pandas as pd

    values = pd.to_numeric(col.str.strip().str.replace(",", "", regex=False), errors="coerce")
    # NaN (an empty cell) is a missing price; inf, 1e400 and prices past the engine's range are refused
    bad = (values.isna() & col.notna() & (col.str.strip() != "")) | (values <= 0) | (values < limits.MIN_PRICE) \
        | (values > limits.MAX_MAGNITUDE)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise WorkstationError(f"{source}:{i + 2}: {name}: expected a positive price between {limits.MIN_PRICE:g} "
                               f"and {limits.MAX_MAGNITUDE:g}, got {str(col.iloc[i])[:80]!r}")
    return values


def scenario_between(prices: Any, start: Any, end: Any, name: str | None = None) -> Scenario:
    """Every asset moved by its price ratio from `start` to `end` (nearest dates on or before)."""
    import pandas as pd

    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    rows = prices.loc[:t0]
    rows1 = prices.loc[:t1]
    if rows.empty or rows1.empty:
        raise WorkstationError(f"the price history starts {prices.index[0]:%Y-%m-%d}, after {t0:%Y-%m-%d}")
    p0, p1 = rows.ffill().iloc[-1], rows1.ffill().iloc[-1]
    d0, d1 = rows.index[-1], rows1.index[-1]
    shocks = {str(a): float(p1[a] / p0[a] - 1.0) for a in prices.columns
              if not (math.isnan(p0[a]) or math.isnan(p1[a]))}
    return Scenario(name=name or f"{d0:%Y-%m-%d} to {d1:%Y-%m-%d}", shocks=shocks, kind="history",
                    days=float((d1 - d0).days), dates=(f"{d0:%Y-%m-%d}", f"{d1:%Y-%m-%d}"),
                    source="imported price history")


def daily_scenarios(prices: Any, assets: Iterable[str] | None = None) -> list[Scenario]:
    """One scenario per row after the first: the move from the previous row (days = 1 apart)."""
    keep = [a for a in prices.columns if assets is None or a in set(assets)]
    frame = prices[keep].ffill()
    ratio = (frame / frame.shift(1)).iloc[1:]
    out = []
    for day, row in ratio.iterrows():
        shocks = {str(a): float(v - 1.0) for a, v in row.items() if not math.isnan(v)}
        out.append(Scenario(name=f"{day:%Y-%m-%d}", shocks=shocks, kind="history", dates=(f"{day:%Y-%m-%d}",)))
    return out


# ------------------------------------------------------------------------------ replay
def replay_job(portfolio: Portfolio, scenario: Scenario, scope: str) -> tuple[str, str, float, float, float]:
    """(day, scope, equity, MM, IM) of `scope` under one day's move: the unit of work, pure. The
    figures are the report's (`requirement()` and `equity()` of the scope's method), without
    the attribution a report adds."""
    shocked = apply_scenario(portfolio, scenario)
    with np.errstate(all="ignore"):
        equity, im, mm = figures_of(method_for(make_scope(shocked, scope)))
    return scenario.name, scope, equity, mm, im


@dataclass
class ReplayResult:
    rows: list[tuple[str, str, float, float, float]]  # (day, scope, equity, MM, IM)

    def worst(self, n: int = 5) -> dict[str, list[dict[str, Any]]]:
        """Per scope, the `n` days of least equity - MM."""
        out: dict[str, list[dict[str, Any]]] = {}
        for day, scope, eq, mm, im in self.rows:
            out.setdefault(scope, []).append({"day": day, "equity": eq, "maintenance_margin": mm,
                                              "initial_margin": im, "headroom": eq - mm, "breach": eq <= mm})
        return {s: sorted(v, key=lambda r: r["headroom"])[:n] for s, v in out.items()}


def replay(portfolio: Portfolio, prices: Any, scopes: Sequence[str] | None = None, *,
           executor: Executor | None = None, scheduler: Any = None, workers: int = 2) -> ReplayResult:
    """The book through every day of `prices`; a map over (day, scope). `scheduler`: a Dask
    scheduler address or `distributed.Client` (needs the `dask` extra); else `executor` or a
    thread pool of `workers`."""
    names = list(scopes) if scopes is not None else scope_names(portfolio)
    priced = [a for a in prices.columns if a in portfolio.market]
    days = daily_scenarios(prices, priced)
    jobs = [(d, s) for d in days for s in names]
    if scheduler is not None:
        return ReplayResult(_dask_map(portfolio, jobs, scheduler))
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        rows = list(pool.map(lambda job: replay_job(portfolio, *job), jobs))
    finally:
        if own:
            pool.shutdown()
    return ReplayResult(rows)


def _dask_map(portfolio: Portfolio, jobs: list[tuple[Scenario, str]], scheduler: Any) -> list:
    try:
        from distributed import Client
    except ImportError:
        raise WorkstationError("a Dask scheduler needs the optional extra: pip install 'margin-workstation[dask]'") \
            from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        book = client.scatter(portfolio, broadcast=True)
        futures = client.map(replay_job, [book] * len(jobs), [d for d, _ in jobs], [s for _, s in jobs], pure=True)
        return client.gather(futures)
    finally:
        if client is not scheduler:
            client.close()
