"""The arrays PMRM_2 (`pmrm2.py`) prepares once per (sub-)book: scenario rows, options grouped
by expiry with their shocked vols, discount and basis factors, and the contingencies.

Everything here follows `shared/spec/derive-pmrm2.md`, "Formulas"; see `pmrm2.py` for the
formula as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.core.book import PERPETUAL, SECONDS_PER_YEAR, Book
from workstation.core.errors import ProfileError
from workstation.core.methods.portfolio_terms import futures_term, naked_shorts
from workstation.core.profile_pmrm2 import Pmrm2Params
from workstation.core.profiles import Profile

UP, NONE, DOWN, SKEW_LINEAR, SKEW_ABS = 1, 0, -1, 2, 3
KIND_CODES = {"up": UP, "none": NONE, "same": NONE, "down": DOWN, "skew_linear": SKEW_LINEAR,
              "skew_abs": SKEW_ABS}
KIND_NAMES = {UP: "up", NONE: "none", DOWN: "down", SKEW_LINEAR: "skew_linear", SKEW_ABS: "skew_abs"}
_THIRTY_DAYS = 30 * 86400.0


class Rows:
    """The profile's scenario rows: spot moves (n_s, assets), vol kind and dampening (n_s,).
    Skew rows move no price (their written move is ignored)."""

    def __init__(self, profile: Profile, assets: tuple[str, ...], used: np.ndarray):
        pp = profile.portfolio
        lists = {int(a): pp.scenario_list(assets[a]) for a in np.flatnonzero(used)}
        if not lists:  # nothing moves: the rows still apply to options on stable underlyings
            lists = {-1: pp.scenario_list(assets[0])} if pp.scenarios is not None and assets else {}
        n_s = max((len(v) for v in lists.values()), default=0)
        shapes = {tuple((vdir, damp) for _, vdir, damp in v) for v in lists.values()}
        if len(shapes) > 1:  # the rows' vol kinds and dampenings are shared by every underlying
            key = "portfolio.moves" if pp.moves else "portfolio.tails" if pp.tails else "portfolio.range"
            raise ProfileError(profile.origin or profile.name, key,
                               "PMRM_2 needs the same scenario rows (count, vol direction, dampening) for "
                               "every underlying: give one `scenarios` list, or grids of one shape")
        self.n = n_s
        self.shock = np.zeros((n_s, len(assets)))
        self.kind = np.zeros(n_s, dtype=np.int64)
        self.damp = np.ones(n_s)
        for a, scen in lists.items():
            for s, (move, vdir, damp) in enumerate(scen):
                self.kind[s] = KIND_CODES[vdir]
                self.damp[s] = damp
                if a >= 0 and self.kind[s] not in (SKEW_LINEAR, SKEW_ABS):
                    self.shock[s, a] = move
        self.reg = np.flatnonzero(self.kind < SKEW_LINEAR)
        self.skew = np.flatnonzero(self.kind >= SKEW_LINEAR)


def seconds(book: Book) -> np.ndarray:
    """Seconds to expiry, max(expiry - as_of, 0) (0 for perpetuals and spot)."""
    return book.tte * SECONDS_PER_YEAR


def shocked_vols(book: Book, profile: Profile, rows: Rows) -> np.ndarray:
    """Option vols of the regular rows (n_reg, n): up max(vol_floor, vol (1 + up x^p)), none
    vol, down vol max(0, 1 - down x^p); x = 30 / max(days, dte_floor), p = power_short up to
    and including 30 days (PMRM_2's boundary), else power_long. An option at tau = 0 is worth
    its intrinsic value whatever the vol (dte_floor = 0 gives x = inf there, harmlessly)."""
    pp = profile.portfolio
    sec = seconds(book)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = 30.0 / np.maximum(sec / 86400.0, pp.dte_floor)
        power = np.where(sec <= _THIRTY_DAYS * (1.0 + 1e-12), pp.power_short, pp.power_long)
        scale = x**power
        up = book.vol * (1.0 + pp.vol_shock_up * scale)
        if pp.vol_floor is not None:
            up = np.maximum(up, pp.vol_floor)
        down = book.vol * np.maximum(0.0, 1.0 - pp.vol_shock_down * scale)
    kind = rows.kind[rows.reg][:, None]
    return np.where(kind == UP, up, np.where(kind == DOWN, down, book.vol))


@dataclass
class Expiries:
    """A (sub-)book split into live options, grouped by (underlying, expiry), and the rest."""

    opt: np.ndarray  # indices of live options in the book, grouped by expiry
    oth: np.ndarray  # indices of every other position
    ob: Book  # the options
    db: Book  # the others
    e_of: np.ndarray  # (n_o,) expiry of each option (non-decreasing)
    starts: np.ndarray  # (n_e,) first option of each expiry
    Ecol: np.ndarray  # (n_e, A) expiry -> column
    Dcol: np.ndarray  # (n_d, A) other position -> column
    tau: np.ndarray  # (n_e,) years
    rate: np.ndarray  # (n_e,)
    sdp: np.ndarray  # (n_e,) static discount of a net long expiry (1 without the key)
    sdn: np.ndarray  # (n_e,) ... of a net short one
    basis: np.ndarray  # (n_e,) add_factor + mult_factor tau (0 without the key)
    vols: np.ndarray  # (n_reg, n_o) shocked vols of the regular rows
    cap_lin: np.ndarray  # (n_e,) skew caps and k* (zeros without skew_shock)
    cap_abs: np.ndarray
    kstar: np.ndarray

    @classmethod
    def build(cls, book: Book, profile: Profile, x: Pmrm2Params, rows: Rows) -> Expiries:
        A = len(book.assets)
        live = book.is_option
        opt, oth = np.flatnonzero(live), np.flatnonzero(~live)
        opt = opt[np.lexsort((book.expiry_key[opt], book.und[opt]))]  # by underlying, then expiry
        ob, db = book.take(opt), book.take(oth)
        if opt.size:
            keys = np.stack([ob.und, ob.expiry_key], 1)
            uniq, first, e_of = np.unique(keys, axis=0, return_index=True, return_inverse=True)
            e_of = e_of.ravel()
        else:
            uniq, first, e_of = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, np.int64)
        n_e = uniq.shape[0]
        Ecol = np.zeros((n_e, A))
        Ecol[np.arange(n_e), uniq[:, 0]] = 1.0
        Dcol = np.zeros((oth.size, A))
        Dcol[np.arange(oth.size), db.und] = 1.0
        tau = ob.tte[first]
        rate = ob.rates[first]
        df = np.exp(-rate * tau)
        if x.static_discount is not None:
            sdp, sdn = x.static_discount.factors(tau, rate, df)
        else:
            sdp = sdn = np.ones(n_e)
        bc = x.basis_contingency
        basis = bc.add_factor + bc.mult_factor * tau if bc is not None else np.zeros(n_e)
        sk = x.skew_shock
        if sk is not None:
            rt = np.sqrt(tau)
            cap_lin = sk.linear_cbase * rt + sk.linear_scale_cap
            cap_abs = sk.abs_cbase * rt + sk.abs_scale_cap
            kstar = np.maximum(sk.min_k_star, rt * sk.min_width_scale * (sk.vol_param_static + rt * sk.vol_param_scale))
        else:
            cap_lin = cap_abs = kstar = np.ones(n_e)
        return cls(opt, oth, ob, db, e_of, first, Ecol, Dcol, tau, rate, np.asarray(sdp), np.asarray(sdn),
                   np.asarray(basis, dtype=float), shocked_vols(ob, profile, rows), cap_lin, cap_abs, kstar)

    def sum(self, v: np.ndarray) -> np.ndarray:
        """Per-expiry sums (..., n_e) of per-option figures (..., n_o)."""
        if not self.starts.size:
            return np.zeros((*v.shape[:-1], 0))
        return np.add.reduceat(v, self.starts, axis=-1)

    def discount(self, v: np.ndarray, e: np.ndarray | None = None) -> np.ndarray:
        """D_e(V): V sdp where V >= 0, else V sdn (expiries on the last axis, or the expiries
        `e` of each element of the last axis)."""
        sdp, sdn = (self.sdp, self.sdn) if e is None else (self.sdp[e], self.sdn[e])
        return np.where(v >= 0.0, v * sdp, v * sdn)

    def skew_vols(self, forward: np.ndarray, kind: int) -> np.ndarray:
        """Option vols (..., n_o) of a skew row at forwards (..., n_o): k = ln(K/F) (abs: |k|),
        s = min(cap, k cap / k*) for k >= 0, else max(-cap, k cap / k*); vol max(0, 1 + s)."""
        e = self.e_of
        cap = (self.cap_lin if kind == SKEW_LINEAR else self.cap_abs)[e]
        k = np.log(self.ob.strike / forward)
        if kind == SKEW_ABS:
            k = np.abs(k)
        kstar = self.kstar[e]
        with np.errstate(divide="ignore", invalid="ignore"):  # k* = 0: the cap at once (k = 0: none)
            ratio = np.where(kstar > 0.0, k * cap / kstar, np.sign(k) * np.inf * np.abs(cap))
        ratio = np.nan_to_num(ratio, nan=0.0, posinf=np.inf, neginf=-np.inf)
        s = np.where(k >= 0.0, np.minimum(cap, ratio), np.maximum(-cap, ratio))
        return self.ob.vol * np.maximum(0.0, 1.0 + s)


def fixing_phi(book: Book, x: Pmrm2Params) -> np.ndarray:
    """phi = min(1, seconds / forward_fixing_window) for options and futures (1 elsewhere, and
    without the key): the share of the forward that still moves with spot."""
    if x.forward_fixing_window is None:
        return np.ones(len(book))
    has_fwd = book.expiry_key != 0
    return np.where(has_fwd, np.minimum(1.0, seconds(book) / x.forward_fixing_window), 1.0)


def effective_spot(book: Book, spot: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """The spot that puts each forward at F (1 - phi) + F phi S'/S: S + phi (S' - S) where
    phi < 1, S' itself elsewhere."""
    inside = phi < 1.0
    if not inside.any():
        return spot
    s0 = book.spot
    return np.where(inside, s0 + phi * (spot - s0), spot)


# ------------------------------------------------------------------------------ contingencies
def contingencies(book: Book, profile: Profile, x: Pmrm2Params, spot: np.ndarray,
                  onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(MM, IM) contingency per position (..., n), each charge on what causes it:
    - naked short options per (underlying, expiry, strike), calls and puts netted, times S,
      shared by the group's short legs: short_option_contingency (MM), ..._im (IM);
    - perpetuals |q| S perp_contingency (MM), perp_contingency_im (IM);
    - futures: today's futures term (MM), on the smaller of long and short notional;
    - confidence charge (IM): kappa(min(c_U, c), |q| S) on perpetuals (c its mark's) and options
      (c its expiry's forward entry's; the expiry's charge is linear in its notional).
    IM contingencies are 0 unless im_loss_factor is set."""
    pp = profile.portfolio
    n = len(book)
    s = np.asarray(spot, dtype=float)
    shape = np.broadcast_shapes(s.shape, (n,))
    mm, im = np.zeros(shape), np.zeros(shape)
    if n == 0:
        return mm, im
    im_on = x.im_loss_factor is not None
    opt = book.is_option
    naked, share = naked_shorts(book)
    naked_s = naked * share * s
    perp = book.kind == PERPETUAL
    perp_n = np.where(perp, np.abs(book.qty) * s, 0.0)
    mm = mm + pp.short_option_contingency * naked_s + x.perp_contingency * perp_n
    if pp.futures_contingency:
        mm = mm + pp.futures_contingency * futures_term(book, s, onehot)
    if im_on:
        im = im + x.short_option_contingency_im * naked_s + x.perp_contingency_im * perp_n
        conf = np.minimum(book.asset_conf[book.und], book.conf)
        notional = np.where(perp | opt, np.abs(book.qty) * s, 0.0)
        im = im + np.where(perp | opt, x.confidence_charge(conf, notional), 0.0)
    return mm, im


def collateral_im(x: Pmrm2Params, asset: str, amount: float, price: np.ndarray, confidence: float,
                  is_base: bool) -> np.ndarray:
    """IM contingency of one collateral holding at `price`: v im_haircut + kappa(c, v), v = amount
    price, for amount > 0 (no confidence charge on the base currency); 0 without im_loss_factor."""
    price = np.asarray(price, dtype=float)
    if x.im_loss_factor is None or amount <= 0.0:
        return np.zeros(price.shape)
    v = amount * price
    out = x.im_haircut(asset) * v
    if not is_base:
        out = out + x.confidence_charge(confidence, v)
    return out
