"""Standalone, marginal and component (Euler) margin under the generic portfolio method.

- standalone: the position alone (no collateral): mm_factor * its own worst loss plus its own
  contingency, times im_factor; a long option or a spot holding can lose no more than its
  value, so its standalone margin is capped there;
- marginal: IM(book) - IM(book without it), collateral kept: only its underlying's loss and
  the contingencies it takes part in change;
- component: its loss in the worst scenario of its underlying times d agg / d L_u, plus the
  contingency allocated to it, times mm_factor and im_factor. Positions' plus collateral's
  components add up to IM exactly (Euler: agg is homogeneous of degree one in the losses).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workstation.core.book import SPOT, Book
from workstation.core.methods.base import Attribution, column_sums
from workstation.core.methods.portfolio_terms import aggregate_replacing, delta_one_sides

if TYPE_CHECKING:
    from workstation.core.methods.risk_array import RiskArrayMethod


def attribute(m: RiskArrayMethod) -> Attribution:
    r = m.risk()
    book = m.book
    assets = book.assets
    pp = m.profile.portfolio
    mmf, imf = pp.mm_factor, pp.im_factor
    u = book.und
    n = len(book)
    spot = book.spot
    has_scen = r.pnl.shape[0] > 0

    alone_loss = np.maximum(0.0, -r.pnl.min(0)) if has_scen else np.zeros(n)
    alone_cont = np.where(book.is_option & (book.qty < 0),
                          pp.short_option_contingency * np.abs(book.qty) * spot, 0.0)
    standalone = imf * (mmf * alone_loss + alone_cont)
    # a long option or spot holding loses at most its value
    value = m.position_values(book)
    bounded = (book.qty > 0) & (book.is_option | (book.kind == SPOT))
    standalone = np.where(bounded, np.minimum(standalone, np.maximum(value, 0.0)), standalone)

    loss_wo = np.maximum(0.0, -(r.total[:, u] - r.pnl).min(0)) if has_scen else np.zeros(n)
    delta = loss_wo - r.loss[u]
    agg_wo = r.agg + delta if m.corr is None else aggregate_replacing(r.loss, m.corr, u, loss_wo)
    cont_wo = float(r.cont.sum()) + _contingency_change(m, book, spot)
    marginal = r.im - imf * (mmf * agg_wo + cont_wo)

    active = r.loss > (0.0 if r.noise is None else r.noise)  # a loss within rounding noise is none
    worst_loss = -r.pnl[r.worst[u], np.arange(n)] if has_scen else np.zeros(n)
    component = imf * (mmf * np.where(active[u], r.grad[u] * worst_loss, 0.0) + r.cont)
    collateral: dict[str, float] = {}
    for a, col in zip(m.coll_idx, m.coll_col, strict=True):
        c = imf * mmf * r.grad[col] * -r.coll_pnl[r.worst[col], col] if has_scen and active[col] else 0.0
        collateral[assets[a]] = collateral.get(assets[a], 0.0) + float(c)
    return Attribution(standalone=standalone, marginal=marginal, component=component,
                       collateral=collateral)


def _contingency_change(m: RiskArrayMethod, book: Book, spot: np.ndarray) -> np.ndarray:
    """Change of the total contingency when each position alone is removed (n,)."""
    pp = m.profile.portfolio
    n = len(book)
    change = np.zeros(n)
    if pp.short_option_contingency and n:
        grp, net = book.option_groups
        q = np.where(book.is_option, book.qty, 0.0)
        naked = np.maximum(-net[grp], 0.0)
        naked_wo = np.maximum(-(net[grp] - q), 0.0)
        change += pp.short_option_contingency * (naked_wo - naked) * spot
    if pp.futures_contingency and n:
        long_n, short_n = delta_one_sides(book, spot)
        u = book.und
        tot_long = column_sums(long_n, u, m.n_assets)
        tot_short = column_sums(short_n, u, m.n_assets)
        off = np.minimum(tot_long[u], tot_short[u])
        off_wo = np.minimum(tot_long[u] - long_n, tot_short[u] - short_n)
        change += pp.futures_contingency * (off_wo - off)
    return change
