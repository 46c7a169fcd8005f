"""Liquidation distance: the nearest move of an underlying (others held), or of every non-stable
asset together (`all`), within -99 % .. +500 %, at which equity(move) <= maintenance margin(move),
the requirement recomputed at the moved state (tiers, scenario grid centred on the moved price;
options repriced at unchanged vol and time).

f(x) = equity - MM (isolated: the weakest position's isolated margin + value - MM) is searched
outward from 0 on each side, for every underlying and `all` at once. The search proves its
answer rather than sampling a grid and hoping:

1. f is sampled at a coarse grid, at every kink of the book (`method.kinks()`, each taken just
   before and just after), and at 0;
2. between two neighbouring samples x0, x1 with f > 0 at both, the method's bound M on
   (x0, x1) (`method.curvature()`: f lies above its chord less M (x - x0)(x1 - x) / 2, any
   upper bound of f'' is one; see `methods/bounds.py`) proves f > 0 throughout when
   M < 2 (sqrt f(x0) + sqrt f(x1))^2 / (x1 - x0)^2, with f less the rounding noise and twice
   the method's `f_slack()` (a venue's rounding: f within it of the bounded curve); an interval
   not proven is split, into more pieces the further the bound is from proving it;
3. the first sample where f <= 0 brackets the nearest liquidation with the last positive one;
   an Illinois (regula falsi) refine shrinks the bracket to TOL, while the intervals before it
   are proven or split (a dip found there becomes the new, nearer bracket).

The answer is the f <= 0 end of the final bracket: a move that liquidates, with f > 0 proven on
every move nearer than it by more than TOL (intervals narrower than TOL / 4 are not split
further). Every built-in method bounds every interval (docs/DESIGN.md, "Liquidation contract",
lists the few configurations that get no bound). Where a method gives none (`curvature()` None
or inf) the search estimates one from the second differences of its samples (times 4) and caps
the step (`liquidation_split.py`): adaptive sampling, no proof. Each round evaluates its new moves in
one batch: single-underlying moves packed into rows (row r moves each searching underlying to
its r-th new move; only those underlyings are revalued), `all` moves as rows of their own.
(About 410 lines: one algorithm, its rounds and their batched evaluation; the what-if warm
start is in `warm_liquidation.py`.)
"""

from __future__ import annotations

import numpy as np

from workstation.core.arrays import index_mask, run_starts, unique
from workstation.core.liquidation_split import split_unproven
from workstation.core.methods import MarginMethod, Parts

DOWN_LIMIT = -0.99
UP_LIMIT = 5.0
TOL = 1e-9  # bracket width at which the refine stops (the method asks 0.01 % of the price: 1e-4)
_GRID = (np.array([0.2, -DOWN_LIMIT]), np.array([0.3, 1.5, UP_LIMIT]))  # distances per side
_LIMITS = np.array([-DOWN_LIMIT, UP_LIMIT])
_KINK_EPS = TOL / 16  # a kink is sampled at x -/+ this (the pair is narrower than TOL / 4)
_MAX_ROUNDS = 200


class Liquidation:
    """The liquidation search of one scope, on its margin method's moved states."""

    def __init__(self, method: MarginMethod, with_all: bool = True):
        self.m = method
        self.with_all = with_all  # False: single-asset searches only (`all` stays nan)
        self.A = method.n_assets
        self.assets = method.assets
        self._assets = np.asarray(self.assets, dtype=np.int64)
        self.p0 = method.snapshot()
        self.rows = 0  # moved states evaluated (single-asset packed rows + `all` rows)
        # each finished search's samples (distances, f), keyed (asset or -1 for `all`, side 0
        # down / 1 up): a later search of a similar book starts from them (warm_liquidation.py)
        self.trail: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def parts(self, X: np.ndarray, only: tuple[int, ...] | None = None) -> Parts:
        return self.m.parts(X, only)

    def f_single(self, P: Parts) -> np.ndarray:
        return self.m.f_single(P)

    def f_all(self, P: Parts) -> np.ndarray:
        return self.m.f_all(P)

    def _rows(self, moves: np.ndarray) -> np.ndarray:
        """X with every moving asset at the row's move."""
        X = np.zeros((moves.size, self.A))
        X[:, self.assets] = moves[:, None]
        return X

    # ---------------------------------------------------------------- evaluation
    def _eval(self, sid: np.ndarray, d: np.ndarray) -> np.ndarray:
        """f at distance d of searches sid (search j = sid // 2, side = sid % 2: 0 down, 1 up).

        Single-asset moves are packed into rows (row r moves each searching asset to its r-th
        move) that revalue only those assets; `all` moves are rows of their own. Both go in one
        batch of every column when the method says that pays (`batch_together`: a small book,
        where a batch costs more than its rows)."""
        n_a = len(self.assets)
        j = sid // 2
        x = np.where(sid % 2 == 0, -d, d)
        f = np.empty(d.size)
        single = j < n_a
        rows, sel, only = [], [], None
        if single.any():
            idx, rank, asset, cols, start, count = self._packed(j, single)
            X = np.zeros((int(count.max()), self.A))
            X[:, asset[start]] = x[idx[start]]  # pad: each column's first move, repeated
            X[rank, asset] = x[idx]
            only = tuple(sorted(int(a) for a in self._assets[cols]))
            rows.append(X)
            sel.append((idx, rank, asset))
        if (~single).any():
            idx = np.flatnonzero(~single)
            xs, inv = np.unique(x[idx], return_inverse=True)
            rows.append(self._rows(xs))
            sel.append((idx, inv.ravel(), None))
        together = len(rows) == 2 and self.m.batch_together(rows[0].shape[0], rows[1].shape[0])
        if together:
            P = self.parts(np.concatenate(rows))
            Fs, Fa = self.f_single(P), self.f_all(P)
        start = 0
        for X, (idx, rank, asset) in zip(rows, sel, strict=True):
            R = X.shape[0]
            if asset is not None:
                F = Fs[start:start + R] if together else self.f_single(self.parts(X, only))
                f[idx] = F[rank, asset]
            else:
                F = Fa[start:start + R] if together else self.f_all(self.parts(X))
                f[idx] = F[rank]
            start += R
            self.rows += R
        return f

    def _packed(self, j: np.ndarray, single: np.ndarray) -> tuple[np.ndarray, ...]:
        """Rows for the single-asset searches `j[single]`: each search's index (idx), its row
        (rank: the k-th search of an asset goes to row k) and column (asset), and per searched
        asset (cols, in order) its first entry (start) and count."""
        idx = np.flatnonzero(single)
        jj = j[idx]
        n = idx.size
        if len(self.assets) == 1:  # one searched asset (j = 0 throughout): already in order
            start, count = np.zeros(1, dtype=np.intp), np.full(1, n, dtype=np.intp)
            return idx, np.arange(n), self._assets[jj], jj[:1], start, count
        order = np.argsort(jj, kind="stable")
        idx, jj = idx[order], jj[order]
        start = np.flatnonzero(run_starts(jj))  # np.unique(jj, return_index, return_counts) of sorted jj
        count = np.diff(start, append=n)
        rank = np.arange(n) - np.repeat(start, count)
        return idx, rank, self._assets[jj], jj[start], start, count

    def _bounds(self, sid: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                need: np.ndarray) -> np.ndarray | None:
        """Upper bounds of f'' over [lo, hi] (signed moves, lo < hi) for each interval of the
        searches sid; None when the method has none."""
        n_a = len(self.assets)
        j = sid // 2
        M = np.full(sid.size, np.inf)
        single = j < n_a
        if single.any():
            idx, rank, asset, _, _, count = self._packed(j, single)
            R = int(count.max())
            L = np.zeros((R, self.A))
            H = np.zeros((R, self.A))
            N = np.full((R, self.A), np.inf)
            L[rank, asset], H[rank, asset], N[rank, asset] = lo[idx], hi[idx], need[idx]
            B = self.m.curvature(L, H, False, N)
            if B is None:
                return None
            M[idx] = B[rank, asset]
        if (~single).any():
            idx = np.flatnonzero(~single)
            B = self.m.curvature(lo[idx], hi[idx], True, need[idx])
            if B is None:
                return None
            M[idx] = B
        return M

    def _kink_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(sid, d) of every kink (just before and after it) of each search: a column's own for
        its search; for `all`, those of every column that moves with a searched one (`moves_with`
        columns follow their driver's relative move)."""
        driven = np.flatnonzero(index_mask(self._assets, self.A)[self.m.driver])
        kinks = self.m.kinks(columns=[int(c) for c in driven])
        sids, ds = [], []

        def add(j: int, x: np.ndarray) -> None:
            pts = np.concatenate([x - _KINK_EPS, x + _KINK_EPS])
            sids.append(2 * j + (pts > 0))
            ds.append(np.abs(pts))

        for j, a in enumerate(self.assets):
            x = np.asarray(kinks.get(a, ()), dtype=float)
            if x.size:
                add(j, x)
        every = [np.asarray(kinks[c], dtype=float) for c in driven if c in kinks]
        if every:
            add(len(self.assets), unique(np.concatenate(every)))
        if not sids:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        sid, d = np.concatenate(sids).astype(np.int64), np.concatenate(ds)
        keep = (d > 0) & (d < _LIMITS[sid % 2])
        return sid[keep], d[keep]

    # ---------------------------------------------------------------- search
    def search(self) -> tuple[np.ndarray, np.ndarray]:
        """Nearest liquidation moves: (down, up) arrays over [assets..., all]; nan = none."""
        n_a = len(self.assets)
        J = n_a + 1
        S = 2 * J
        result = np.full(S, np.nan)
        if not self.assets:
            return result[0::2], result[1::2]
        f0 = np.concatenate([self.f_single(self.p0)[0, self.assets], self.f_all(self.p0)])
        scale = abs(self.m._equity0()) + abs(float(self.m.combine(self.p0.terms)[1][0])) + 1.0  # MM from the snapshot
        err = 1e-12 * scale  # f at or below err counts as liquidated (rounding noise)
        slack = 2.0 * self.m.f_slack()  # f within f_slack of the bounded curve: prove from f - 2 slack
        if not np.isfinite(err) or np.isnan(f0).any() or (f0 == -np.inf).any():
            return result[0::2], result[1::2]  # overflow: the report refuses the book by name
        now = np.repeat(f0 <= err, 2)
        result[now] = 0.0
        skip = now.copy()  # searches not run: liquidated at no move, and `all` if not asked for
        skip[-2:] |= not self.with_all
        live = np.flatnonzero(~skip)
        # initial samples: the grid on each side (one batch of rows serves every search), kinks
        grid = np.concatenate([-_GRID[0], _GRID[1]])
        P = self.parts(self._rows(grid))
        Fg = np.concatenate([self.f_single(P)[:, self.assets], self.f_all(P)[:, None]], axis=1)
        self.rows += grid.size
        g_side = (grid > 0).astype(np.int64)
        g_sid = (2 * np.arange(J)[None, :] + g_side[:, None]).ravel()
        g_d = np.repeat(np.abs(grid), J)
        g_f = Fg.ravel()
        k_sid, k_d = self._kink_points()
        w_sid, w_d = self._warm_points(f0)
        k_sid, k_d = np.concatenate([k_sid, w_sid]), np.concatenate([k_d, w_d])
        keep = ~skip[k_sid]
        k_sid, k_d = k_sid[keep], k_d[keep]
        sel = ~skip[g_sid]
        sid = np.concatenate([live, g_sid[sel], k_sid])
        d = np.concatenate([np.zeros(live.size), g_d[sel], k_d])
        f = np.concatenate([f0[live // 2], g_f[sel], self._eval(k_sid, k_d)])
        ok = np.zeros(sid.size, dtype=bool)  # the interval from this sample outward is proven
        self._ill = np.zeros((S, 2))  # Illinois: times the near / far end of the bracket was kept
        self._prev = np.full((S, 2), np.nan)  # last round's bracket
        self._widths = np.full((S, 2), np.inf)  # bracket widths one and two rounds ago
        open_ = ~skip
        for _ in range(_MAX_ROUNDS):
            if not open_.any():
                break
            order = np.lexsort((d, sid))
            sid, d, f, ok = sid[order], d[order], f[order], ok[order]
            first = run_starts(sid)
            bad = ~(f > err)  # non-finite f (overflow far out) counts as liquidated too
            seg = np.cumsum(first) - 1
            bad_before = np.cumsum(bad) - bad
            start_bad = bad_before[first][seg]
            keep = (bad_before - start_bad) == 0  # up to the first liquidating sample
            sid, d, f, ok, bad = sid[keep], d[keep], f[keep], ok[keep], bad[keep]
            nxt = np.zeros(sid.size, dtype=bool)  # an interval starts here
            np.equal(sid[1:], sid[:-1], out=nxt[:-1])
            i = np.flatnonzero(nxt)
            h = d[i + 1] - d[i]
            bracket = bad[i + 1]
            todo = ~ok[i] & ~bracket & (h > TOL / 4)
            ok[i[~todo & ~bracket]] = True
            # prove intervals: M < need
            t = i[todo]
            if t.size:
                fa = np.maximum(f[t] - err - slack, 0.0)
                fb = np.maximum(f[t + 1] - err - slack, 0.0)
                need = 2.0 * (np.sqrt(fa) + np.sqrt(fb)) ** 2 / h[todo] ** 2
                sign = np.where(sid[t] % 2 == 0, -1.0, 1.0)
                xa, xb = sign * d[t], sign * d[t + 1]
                M = self._bounds(sid[t], np.minimum(xa, xb), np.maximum(xa, xb), need)
                M = np.full(t.size, np.inf) if M is None else M
                sample = ~np.isfinite(M)  # no bound: estimate one from the samples, cap the step
                if not sample.any() and (need > M).all():  # the usual round: every interval proven
                    ok[t] = True
                    split, pieces = t[:0], np.zeros(0, dtype=np.int64)
                else:
                    split, pieces = split_unproven(d, f, sid, t, h[todo], need, M, sample, ok)
            else:
                split, pieces = t, np.zeros(0, dtype=np.int64)
            # per search: resolved?
            seg_i = sid[i]
            unproven = np.zeros(S, dtype=bool)
            unproven[seg_i[~ok[i] & ~bracket]] = True
            has_bracket = np.zeros(S, dtype=bool)
            br = i[bracket]
            has_bracket[sid[br]] = True
            width = np.full(S, np.inf)
            width[sid[br]] = d[br + 1] - d[br]
            last = ~nxt
            reaches_end = np.zeros(S, dtype=bool)
            reaches_end[sid[last]] = d[last] >= _LIMITS[sid[last] % 2]
            done_hit = open_ & has_bracket & ~unproven & (width <= TOL)
            done_none = open_ & ~has_bracket & ~unproven & reaches_end
            for s in np.flatnonzero(done_hit):
                result[s] = (-1.0 if s % 2 == 0 else 1.0) * d[br[sid[br] == s][0] + 1]
            finished = done_hit | done_none
            if finished.any():
                self._keep_trail(finished, sid, d, f)
                open_ &= ~finished
            if not open_.any():
                break
            live_pt = open_[sid]
            if not live_pt.all():  # drop the samples of finished searches
                remap = np.cumsum(live_pt) - 1
                sid, d, f, ok = sid[live_pt], d[live_pt], f[live_pt], ok[live_pt]
                keep_split = live_pt[split]
                split, pieces = remap[split[keep_split]], pieces[keep_split]
                keep_br = live_pt[br]
                br = remap[br[keep_br]]
            # new samples: splits of unproven intervals, a refine step in each bracket
            new_sid, new_d = [], []
            if split.size:
                reps = pieces - 1
                base = np.repeat(split, reps)
                k = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps) + 1
                frac = k / np.repeat(pieces, reps)
                new_sid.append(sid[base])
                new_d.append(d[base] + frac * (d[base + 1] - d[base]))
            rb = br[d[br + 1] - d[br] > TOL]
            if rb.size:  # the Illinois point c as a pair c -/+ TOL / 4: once c is that close
                a, b = d[rb], d[rb + 1]  # to the root, the pair is the final bracket
                c = self._illinois(sid[rb], a, b, f[rb], f[rb + 1])
                s_rb = sid[rb]
                new_sid.append(np.concatenate([s_rb, s_rb]))
                new_d.append(np.concatenate([np.maximum(c - TOL / 4, 0.5 * (a + c)),
                                             np.minimum(c + TOL / 4, 0.5 * (c + b))]))
            if not new_sid:
                break  # nothing left to sample (every open search is resolved above)
            ns, nd = np.concatenate(new_sid), np.concatenate(new_d)
            sid = np.concatenate([sid, ns])
            d = np.concatenate([d, nd])
            f = np.concatenate([f, self._eval(ns, nd)])
            ok = np.concatenate([ok, np.zeros(ns.size, dtype=bool)])
        else:  # pragma: no cover - the rounds always suffice in practice; keep the nearest hit
            for s in np.flatnonzero(open_):
                hits = d[(sid == s) & (f <= err)]
                if hits.size:
                    result[s] = (-1.0 if s % 2 == 0 else 1.0) * hits.min()
        return result[0::2], result[1::2]

    def _warm_points(self, f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sid, d) sampled with the first batch besides the grid and the kinks (none here;
        `WarmLiquidation` adds a previous search's samples)."""
        return np.zeros(0, dtype=np.int64), np.zeros(0)

    def _keep_trail(self, done: np.ndarray, sid: np.ndarray, d: np.ndarray, f: np.ndarray) -> None:
        n_a = len(self.assets)
        for s in np.flatnonzero(done):
            m = sid == s
            j, side = divmod(int(s), 2)
            self.trail[(int(self.assets[j]) if j < n_a else -1, side)] = (d[m].copy(), f[m].copy())

    def _illinois(self, s: np.ndarray, a: np.ndarray, b: np.ndarray, fa: np.ndarray,
                  fb: np.ndarray) -> np.ndarray:
        """The next sample in each bracket [a, b] (distances, f(a) > 0 >= f(b)) of searches s:
        regula falsi with the Illinois rule (an end kept twice in a row has its f halved, per
        time kept), bisection when the bracket is tiny or did not halve in two rounds (f flat
        at one end, e.g. exactly 0 where a far out-of-the-money option is worth nothing)."""
        ill, prev, widths = self._ill, self._prev, self._widths
        kept_a = a == prev[s, 0]
        kept_b = b == prev[s, 1]
        ill[s, 0] = np.where(kept_a & ~kept_b, ill[s, 0] + 1, 0)
        ill[s, 1] = np.where(kept_b & ~kept_a, ill[s, 1] + 1, 0)
        prev[s, 0], prev[s, 1] = a, b
        ga = fa * 0.5 ** np.maximum(ill[s, 0] - 1, 0)
        gb = fb * 0.5 ** np.maximum(ill[s, 1] - 1, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = a + ga / (ga - gb) * (b - a)
        w = b - a
        slow = w > 0.5 * widths[s, 1]
        widths[s, 1], widths[s, 0] = widths[s, 0], w
        c = np.where((w <= 4 * TOL) | slow | ~np.isfinite(c), 0.5 * (a + b), c)
        gap = np.minimum(TOL / 4, w / 4)
        return np.minimum(np.maximum(c, a + gap), b - gap)  # np.clip (c is finite), without its overhead

    def report(self) -> dict[str, dict[str, float | None]]:
        down, up = self.search()
        m = self.m
        out: dict[str, dict[str, float | None]] = {}
        for j, a in enumerate(self.assets):
            price = float(m.book.prices[a])
            dn, u = down[j], up[j]
            out[m.book.assets[a]] = {
                "down_pct": _pct(dn), "down_price": None if np.isnan(dn) else price * (1 + dn),
                "up_pct": _pct(u), "up_price": None if np.isnan(u) else price * (1 + u),
            }
        out["all"] = {"down_pct": _pct(down[-1]) if self.assets else None,
                      "up_pct": _pct(up[-1]) if self.assets else None}
        return out

    def curve(self, a: int | None, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(equity, MM) at relative moves `x` of asset `a` (None: every non-stable asset)."""
        x = np.asarray(x, dtype=float)
        if a is None:
            return self.m.eq_mm_all(self.parts(self._rows(x)))
        X = np.zeros((x.size, self.A))
        X[:, a] = x
        eq, mm = self.m.eq_mm_single(self.parts(X, (a,)))
        return eq[:, a], mm[:, a]


def _pct(x: float) -> float | None:
    return None if np.isnan(x) else 100.0 * float(x)


def liquidation(method: MarginMethod) -> dict[str, dict[str, float | None]]:
    return Liquidation(method).report()
