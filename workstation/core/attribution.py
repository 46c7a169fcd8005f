"""Who needs the margin: standalone, marginal and component (Euler) margin per position.

- standalone: the initial margin of the position alone (no collateral), same mode and profile;
- marginal: IM(book) - IM(book without the position), collateral kept;
- component: portfolio mode: the position's loss in the worst scenario of its underlying times
  d(aggregate)/d(loss of that underlying), plus the contingency it causes, all times
  mm_factor and im_factor. Components of positions plus collateral add up to IM exactly
  (Euler's theorem: the aggregate is homogeneous of degree one in the losses).
  Cross and isolated modes: requirements are additive, so all three equal the position's own IM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.core.margin import PortfolioRisk, RiskModel


@dataclass(frozen=True)
class Attribution:
    standalone: np.ndarray
    marginal: np.ndarray
    component: np.ndarray
    collateral: dict[str, float]  # collateral asset -> component (IM)


def attribute(model: RiskModel, risk: PortfolioRisk | None = None) -> Attribution:
    book = model.book
    assets = book.assets
    if model.mode != "portfolio":
        im, _ = model.reqs.at()
        return Attribution(standalone=im, marginal=im.copy(), component=im.copy(),
                           collateral={assets[a]: 0.0 for a in model.coll_idx})
    r = risk if risk is not None else model.portfolio_risk()
    pp = model.profile.portfolio
    mmf, imf = pp.mm_factor, pp.im_factor
    u = book.und
    n = len(book)
    spot = book.spot

    # standalone: the position alone, no collateral
    alone_loss = np.maximum(0.0, -r.pnl.min(0)) if r.pnl.shape[0] else np.zeros(n)
    alone_cont = np.where(book.is_option & (book.qty < 0),
                          pp.short_option_contingency * np.abs(book.qty) * spot, 0.0)
    standalone = imf * (mmf * alone_loss + alone_cont)

    # marginal: remove one position; only its underlying's loss and its contingencies change
    loss_wo = np.maximum(0.0, -(r.total[:, u] - r.pnl).min(0)) if r.pnl.shape[0] else np.zeros(n)
    delta = loss_wo - r.loss[u]
    if model.corr is None:
        agg_wo = r.agg + delta
    else:
        cl = model.corr @ r.loss
        quad = r.agg**2 + 2.0 * delta * cl[u] + delta**2 * np.diag(model.corr)[u]
        agg_wo = np.sqrt(np.maximum(quad, 0.0))
    cont_wo = float(r.cont.sum()) + _contingency_change(model, book, spot)
    marginal = r.im - imf * (mmf * agg_wo + cont_wo)

    # component (Euler)
    active = r.loss > 0
    worst_loss = -r.pnl[r.worst[u], np.arange(n)] if r.pnl.shape[0] else np.zeros(n)
    component = imf * (mmf * np.where(active[u], r.grad[u] * worst_loss, 0.0) + r.cont)
    collateral: dict[str, float] = {}
    for a in model.coll_idx:
        c = imf * mmf * r.grad[a] * -r.coll_pnl[r.worst[a], a] if r.pnl.shape[0] and active[a] else 0.0
        collateral[assets[a]] = collateral.get(assets[a], 0.0) + float(c)
    return Attribution(standalone=standalone, marginal=marginal, component=component,
                       collateral=collateral)


def _contingency_change(model: RiskModel, book, spot: np.ndarray) -> np.ndarray:
    """Change of the total contingency when each position alone is removed (n,)."""
    pp = model.profile.portfolio
    n = len(book)
    change = np.zeros(n)
    if pp.short_option_contingency and n:
        grp, net = model.option_groups(book)
        q = np.where(book.is_option, book.qty, 0.0)
        naked = np.maximum(-net[grp], 0.0)
        naked_wo = np.maximum(-(net[grp] - q), 0.0)
        change += pp.short_option_contingency * (naked_wo - naked) * spot
    if pp.futures_contingency and n:
        long_n, short_n = model._delta_one_sides(book, spot)
        tot_long = long_n @ model.onehot
        tot_short = short_n @ model.onehot
        u = book.und
        off = np.minimum(tot_long[u], tot_short[u])
        off_wo = np.minimum(tot_long[u] - long_n, tot_short[u] - short_n)
        change += pp.futures_contingency * (off_wo - off)
    return change
