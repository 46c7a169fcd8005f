"""PMRM_2's scenario results at current prices, per position, and its attribution.

- component (Euler): each column's loss is minus one row's P&L (or the basis term), and that
  P&L is a sum of shares: an option's share of a regular row is w (D-factor V_i' - V_i), the
  D-factor being one scalar per expiry and row; of a skew row, the same times -sign of its
  expiry's P&L; of the basis term, its value change on its expiry's binding leg times the
  expiry's factor; a perpetual's w q M m; a collateral holding's its own. Component = f x
  dagg/dL_U x (-share) + the contingencies it causes (f: im_loss_factor plus the peg add-on,
  or im_factor x mm_factor), so positions plus collateral add up to IM exactly.
- standalone: the position alone (own expiry, no collateral) under the same rows and charges;
  a long option or spot holding can lose at most its value.
- marginal: IM - IM without the position, collateral kept: its expiry's net values, discount
  factors, skew signs and basis legs recomputed without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from workstation.core.book import PERPETUAL, SPOT
from workstation.core.collateral import haircut_value
from workstation.core.methods.base import Attribution
from workstation.core.methods.pmrm2_book import Expiries, contingencies
from workstation.core.methods.portfolio_terms import aggregate_replacing, futures_term

if TYPE_CHECKING:
    from workstation.core.methods.pmrm2 import Pmrm2Method, Shares


@dataclass
class Pmrm2Risk:
    ex: Expiries
    sh: Shares  # K = 1
    coll: np.ndarray  # (n_reg, n_c) collateral rows
    P: np.ndarray  # (n_s, A)
    B: np.ndarray  # (A,)
    loss: np.ndarray  # (A,)
    basis_binds: np.ndarray  # (A,) bool: the basis term is the worst
    worst: np.ndarray  # (A,) worst row (when the basis term does not bind)
    agg: float
    grad: np.ndarray  # (A,) d agg / d L
    cont_mm: np.ndarray  # (n,)
    cont_im: np.ndarray  # (n,)
    coll_im: np.ndarray  # (n_c,)
    cont_mm_col: np.ndarray  # (A,)
    cont_im_col: np.ndarray  # (A,)
    equity: np.ndarray  # (A,) per column
    mm: float
    im: float


def compute_risk(m: Pmrm2Method) -> Pmrm2Risk:
    book = m.book
    A = m.n_assets
    sub = m.subset(None)
    ex = m._expiries(sub)
    spot = book.spot[None, :]
    v = m.position_values(book)[None, :]
    sh = m.shares(ex, spot, v)
    coll = m.collateral_rows(book.prices[None, :], np.ones(A, dtype=bool))
    P, B = m.row_pnl(sh, m.onehot, coll)
    P, B, coll = P[0], B[0], coll[0]
    loss = m.loss(P, B)
    pmin = P.min(0) if P.shape[0] else np.full(A, np.inf)
    basis_binds = pmin >= B  # PMRM_2: a row replaces the basis term only if strictly worse
    worst = P.argmin(0) if P.shape[0] else np.zeros(A, dtype=np.int64)
    agg = float(m.aggregate(loss))
    grad = np.ones(A) if m.corr is None else (m.corr @ loss / agg if agg > 0 else np.zeros(A))
    mm_i, im_i = contingencies(book, m.profile, m.x, book.spot, m.onehot)
    coll_im = np.array([float(m._collateral_im(int(a), float(amt), book.prices[a]))
                        for a, amt in zip(m.coll_idx, m.coll_amt, strict=True)])
    cont_mm_col = mm_i @ m.onehot
    cont_im_col = im_i @ m.onehot + coll_im @ m.coll_onehot
    equity = v[0] @ m.onehot
    for a, col, amt, bands in zip(m.coll_idx, m.coll_col, m.coll_amt, m.coll_bands, strict=True):
        equity[col] += haircut_value(float(amt), book.prices[a], bands)
    terms = {"loss": loss, "cont_mm": cont_mm_col, "cont_im": cont_im_col}
    im, mm = m.combine(terms)
    return Pmrm2Risk(ex, sh, coll, P, B, loss, basis_binds, worst, agg, grad, mm_i, im_i, coll_im,
                     cont_mm_col, cont_im_col, equity, float(mm), float(im))


def _loss_factor(m: Pmrm2Method) -> float:
    pp = m.profile.portfolio
    return m.f_im if m.f_im is not None else pp.im_factor * pp.mm_factor


def _im_of(m: Pmrm2Method, loss_agg, cont_mm, cont_im):
    """IM from an aggregated loss and total contingencies (arrays broadcast)."""
    pp = m.profile.portfolio
    if m.f_im is None:
        return pp.im_factor * (pp.mm_factor * loss_agg + cont_mm)
    return m.f_im * loss_agg + cont_mm + cont_im


def attribute(m: Pmrm2Method) -> Attribution:
    r = m.risk()
    return Attribution(standalone=_standalone(m, r), marginal=_marginal(m, r), component=_component(m, r),
                       collateral=_collateral(m, r))


def _binding_share(m: Pmrm2Method, r: Pmrm2Risk) -> np.ndarray:
    """Each position's share of its column's binding row (or basis term), (n,)."""
    rows = m.rows
    u = m.book.und
    sh = r.sh
    row = r.worst[u]
    n = len(m.book)
    share = np.zeros(n)
    if rows.n:
        reg_pos = np.full(rows.n, -1)
        reg_pos[rows.reg] = np.arange(rows.reg.size)
        skew_pos = np.full(rows.n, -1)
        skew_pos[rows.skew] = np.arange(rows.skew.size)
        idx = np.arange(n)
        rp, sp = reg_pos[row], skew_pos[row]
        if rows.reg.size:
            share = np.where(rp >= 0, sh.reg[0][np.maximum(rp, 0), idx], 0.0)
        if rows.skew.size:
            share = np.where(sp >= 0, sh.skew[0][np.maximum(sp, 0), idx], share)
    return np.where(r.basis_binds[u], sh.basis[0], share)


def _component(m: Pmrm2Method, r: Pmrm2Risk) -> np.ndarray:
    u = m.book.und
    active = r.loss > 0
    loss_part = np.where(active[u], r.grad[u] * -_binding_share(m, r), 0.0)
    pp = m.profile.portfolio
    if m.f_im is None:
        return pp.im_factor * (pp.mm_factor * loss_part + r.cont_mm)
    return m.f_im * loss_part + r.cont_mm + r.cont_im


def _collateral(m: Pmrm2Method, r: Pmrm2Risk) -> dict[str, float]:
    out: dict[str, float] = {}
    rows = m.rows
    f = _loss_factor(m)
    reg_pos = np.full(rows.n, -1)
    reg_pos[rows.reg] = np.arange(rows.reg.size)
    for c, (a, col) in enumerate(zip(m.coll_idx, m.coll_col, strict=True)):
        value = 0.0
        if r.loss[col] > 0 and not r.basis_binds[col] and rows.n and reg_pos[r.worst[col]] >= 0:
            value = f * r.grad[col] * -r.coll[reg_pos[r.worst[col]], c]
        if m.f_im is not None:
            value += r.coll_im[c]
        asset = m.book.assets[a]
        out[asset] = out.get(asset, 0.0) + float(value)
    return out


def _standalone(m: Pmrm2Method, r: Pmrm2Risk) -> np.ndarray:
    book, ex, sh, rows, x = m.book, r.ex, r.sh, m.rows, m.x
    n = len(book)
    P_alone = np.zeros((rows.n, n))
    P_alone[rows.reg] = sh.reg[0]
    B_alone = np.zeros(n)
    if ex.opt.size:
        e, v0 = ex.e_of, sh.v0[0]
        w = rows.damp[rows.reg][:, None]
        vr = sh.v_reg[0]
        P_alone[np.ix_(rows.reg, ex.opt)] = w * (np.where(vr >= 0, ex.sdp[e], ex.sdn[e]) * vr - v0)
        for j, s in enumerate(rows.skew):
            vq = sh.v_skew[0][j]
            t = rows.damp[s] * (np.where(vq >= 0, ex.sdp[e], ex.sdn[e]) * vq - v0)
            P_alone[s, ex.opt] = -np.abs(t)
        if x.basis_contingency is not None:
            B_alone[ex.opt] = np.minimum(np.minimum(sh.v_up[0] - v0, sh.v_dn[0] - v0), 0.0) * ex.basis[e]
    loss = m.loss(P_alone, B_alone)  # (n_s, n): the worst row of each position
    pp = m.profile.portfolio
    s = book.spot
    short_opt = book.is_option & (book.qty < 0)
    perp = book.kind == PERPETUAL
    mm = pp.short_option_contingency * np.where(short_opt, -book.qty * s, 0.0) \
        + x.perp_contingency * np.where(perp, np.abs(book.qty) * s, 0.0)
    im = np.zeros(n)
    if m.f_im is not None:
        conf = np.minimum(book.asset_conf[book.und], book.conf)
        notional = np.where(perp | book.is_option, np.abs(book.qty) * s, 0.0)
        im = x.short_option_contingency_im * np.where(short_opt, -book.qty * s, 0.0) \
            + x.perp_contingency_im * np.where(perp, np.abs(book.qty) * s, 0.0) \
            + np.where(perp | book.is_option, x.confidence_charge(conf, notional), 0.0)
    alone = _im_of(m, loss, mm, im)
    value = m.position_values(book)
    bounded = (book.qty > 0) & (book.is_option | (book.kind == SPOT))
    return np.where(bounded, np.minimum(alone, np.maximum(value, 0.0)), alone)


def _marginal(m: Pmrm2Method, r: Pmrm2Risk) -> np.ndarray:
    book, ex, sh, rows, x = m.book, r.ex, r.sh, m.rows, m.x
    u = book.und
    # P of each position's column without it: (n_s, n)
    P_wo = r.P[:, u].copy()
    B_wo = r.B[u].copy()
    P_wo[rows.reg] -= sh.reg[0]  # others: their share goes; options: recomputed below
    if ex.opt.size:
        e, v0, o = ex.e_of, sh.v0[0], ex.opt
        V0 = ex.sum(v0)
        w = rows.damp[rows.reg][:, None]
        Vr = ex.sum(sh.v_reg[0])  # (n_reg, n_e)
        old = w * (ex.discount(Vr) - V0)
        new = w * (ex.discount(Vr[:, e] - sh.v_reg[0], e) - (V0[e] - v0))
        P_wo[np.ix_(rows.reg, o)] += sh.reg[0][:, o] - old[:, e] + new
        for j, s in enumerate(rows.skew):
            vq = sh.v_skew[0][j]
            Vq = ex.sum(vq)
            wq = rows.damp[s]
            old_q = -np.abs(wq * (ex.discount(Vq) - V0))
            new_q = -np.abs(wq * (ex.discount(Vq[e] - vq, e) - (V0[e] - v0)))
            P_wo[s, o] += new_q - old_q[e]
        if x.basis_contingency is not None:
            lu, ld = ex.sum(sh.v_up[0]) - V0, ex.sum(sh.v_dn[0]) - V0
            old_b = np.minimum(np.minimum(lu, ld), 0.0) * ex.basis
            du, dd = sh.v_up[0] - v0, sh.v_dn[0] - v0
            new_b = np.minimum(np.minimum(lu[e] - du, ld[e] - dd), 0.0) * ex.basis[e]
            B_wo[o] += new_b - old_b[e]
    loss_wo = m.loss(P_wo, B_wo)
    delta = loss_wo - r.loss[u]
    agg_wo = r.agg + delta if m.corr is None else aggregate_replacing(r.loss, m.corr, u, loss_wo)
    d_mm, d_im = _contingency_change(m, r)
    mm_tot = float(r.cont_mm.sum())
    im_tot = float(r.cont_im.sum() + r.coll_im.sum())
    return r.im - _im_of(m, agg_wo, mm_tot + d_mm, im_tot + d_im)


def _contingency_change(m: Pmrm2Method, r: Pmrm2Risk) -> tuple[np.ndarray, np.ndarray]:
    """Change of the total MM and IM contingencies when each position alone is removed."""
    book, x = m.book, m.x
    pp = m.profile.portfolio
    n = len(book)
    s = book.spot
    d_naked = np.zeros(n)
    if n:
        grp, net = book.option_groups
        q = np.where(book.is_option, book.qty, 0.0)
        d_naked = (np.maximum(-(net[grp] - q), 0.0) - np.maximum(-net[grp], 0.0)) * s
    perp = np.where(book.kind == PERPETUAL, np.abs(book.qty) * s, 0.0)
    d_mm = pp.short_option_contingency * d_naked - x.perp_contingency * perp
    if pp.futures_contingency and n:
        d_mm = d_mm + pp.futures_contingency * _futures_change(m)
    d_im = np.zeros(n)
    if m.f_im is not None:
        d_im = x.short_option_contingency_im * d_naked - x.perp_contingency_im * perp
        own_conf = r.cont_im - x.short_option_contingency_im * _naked_share(book) - x.perp_contingency_im * perp
        d_im = d_im - own_conf
    return d_mm, d_im


def _naked_share(book) -> np.ndarray:
    """Each short option's share of its strike group's naked shorts, times S."""
    grp, net = book.option_groups
    q = np.where(book.is_option, book.qty, 0.0)
    shorts = np.bincount(grp, weights=np.where(q < 0, -q, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where((q < 0) & (shorts[grp] > 0), -q / shorts[grp], 0.0)
    return np.maximum(-net, 0.0)[grp] * share * book.spot


def _futures_change(m: Pmrm2Method) -> np.ndarray:
    """Change of the offsetting futures notional when each position alone is removed."""
    book = m.book
    total = futures_term(book, book.spot, m.onehot) @ m.onehot  # per column
    d1 = book.is_delta_one
    notional = np.where(d1, np.where(book.inverse, np.abs(book.qty), np.abs(book.qty) * book.spot), 0.0)
    long_n = np.where(book.qty > 0, notional, 0.0)
    short_n = np.where(book.qty < 0, notional, 0.0)
    tot_long, tot_short = long_n @ m.onehot, short_n @ m.onehot
    u = book.und
    off_wo = np.minimum(tot_long[u] - long_n, tot_short[u] - short_n)
    return off_wo - total[u]
