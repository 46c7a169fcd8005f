"""An independent PMRM_2 (shared/spec/derive-pmrm2.md, "Formulas"), written from the spec and
checked against derivexyz/v2-core `PMRMLib_2.sol` where the spec is terse. Plain Python (math),
no engine code: it reads the portfolio@1 dict directly.

Scope: one portfolio-mode account on a profile with method "pmrm2", options, linear
perpetuals and collateral (what PMRM_2 holds). `reference(doc)` returns equity, MM and IM.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

YEAR = 365 * 86400.0
THIRTY_DAYS = 30 * 86400.0


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _n(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def b76(F: float, K: float, tau: float, vol: float, df: float, call: bool) -> float:
    """Discounted Black-76; intrinsic x df when vol sqrt(tau) is 0 (tau = 0 wins over any vol)."""
    if tau <= 0.0:
        return df * max(0.0, (F - K) if call else (K - F))
    sd = vol * math.sqrt(tau)
    if sd <= 0.0:
        return df * max(0.0, (F - K) if call else (K - F))
    if math.isinf(sd):
        return df * F if call else df * K
    d1 = (math.log(F / K) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if call:
        return df * (F * _n(d1) - K * _n(d2))
    return df * (K * _n(-d2) - F * _n(-d1))


def reference(doc: dict[str, Any]) -> dict[str, float]:
    acc = doc["accounts"][0]
    prof = doc["profiles"][acc["profile"]]
    pp = prof["portfolio"]
    market = doc["market"]
    base = doc.get("base_currency", "USD")
    as_of = _t(doc["as_of"])
    file_rate = float(doc.get("rate", 0.0))
    stables = set(prof.get("stablecoins", [])) | {base}
    haircuts = prof.get("haircuts", {})
    im_haircuts = prof.get("im_haircuts", {})

    def h_of(asset: str) -> float:
        v = haircuts.get(asset, haircuts.get("*", 0.0) if asset not in stables else 0.0)
        assert isinstance(v, int | float), "reference handles flat haircuts only"
        return float(v)

    def price(a: str) -> float:
        return float(market[a]["price"])

    def conf(a: str) -> float:
        return float(market[a].get("confidence", 1.0))

    def driver(a: str) -> str:
        return market[a].get("moves_with", a)

    sd = pp.get("static_discount")
    sk = pp.get("skew_shock")
    bc = pp.get("basis_contingency")
    window = pp.get("forward_fixing_window")
    cc = pp.get("confidence_contingency")
    peg = pp.get("peg_loss")
    im_loss = pp.get("im_loss_factor")
    his = pp.get("haircut_in_scenarios", True)
    cis = pp.get("collateral_in_scenarios", True)
    rows = pp["scenarios"]
    dte_floor = float(pp.get("dte_floor", 1.0))
    vol_floor = pp.get("vol_floor")

    def kappa(c: float, notional: float) -> float:
        if cc is None or c >= cc["threshold"]:
            return 0.0
        return (1.0 - c) * cc["margin"] * notional

    positions = acc["positions"]
    unds = {p["underlying"] for p in positions}
    coll = acc["collateral"]
    unds |= {driver(a) for a in coll if driver(a) not in stables and a not in stables}
    unds -= stables

    equity = 0.0
    for a, amt in coll.items():
        v = amt * price(a)
        equity += v * (1.0 - h_of(a)) if amt > 0 else v
    L_total, c_mm, c_im = 0.0, 0.0, 0.0

    for U in sorted(unds):
        S = price(U)
        perps = [p for p in positions if p["underlying"] == U and p["kind"] == "perpetual"]
        opts = [p for p in positions if p["underlying"] == U and p["kind"] == "option"]
        for p in perps:
            M = float(p.get("mark_price", S))
            equity += p["quantity"] * (M - p["entry_price"])
        fwd_entries = {_t(e["expiry"]): e for e in market[U].get("forwards", [])}
        expiries: dict[datetime, list[dict[str, Any]]] = {}
        for o in opts:
            expiries.setdefault(_t(o["expiry"]), []).append(o)
        ex = []
        for e, group in sorted(expiries.items()):
            sec = max((e - as_of).total_seconds(), 0.0)
            tau = sec / YEAR
            ent = fwd_entries.get(e)
            r = float(ent["rate"]) if ent is not None and ent.get("rate") is not None else file_rate
            F = float(ent["forward"]) if ent is not None else S * math.exp(r * tau)
            c_e = float(ent.get("confidence", 1.0)) if ent is not None else 1.0
            df = math.exp(-r * tau)
            phi = min(1.0, sec / window) if window is not None else 1.0
            days = max(sec / 86400.0, dte_floor)
            x = 30.0 / days if days > 0 else math.inf
            pw = pp["power_short"] if sec <= THIRTY_DAYS else pp["power_long"]
            scale = x**pw
            ex.append(dict(sec=sec, tau=tau, r=r, F=F, c=c_e, df=df, phi=phi, scale=scale, opts=group))

        def vol_of(o: dict[str, Any], mvol: float = float(market[U].get("vol", math.nan))) -> float:
            return float(o.get("vol", mvol))

        def V(e: dict[str, Any], m: float, vols: list[float] | None = None) -> float:
            Fm = e["F"] * (1.0 - e["phi"]) + e["F"] * e["phi"] * (1.0 + m)
            total = 0.0
            for i, o in enumerate(e["opts"]):
                sig = vol_of(o) if vols is None else vols[i]
                total += o["quantity"] * b76(Fm, o["strike"], e["tau"], sig, e["df"], o["right"] == "call")
            return total

        def shocked(e: dict[str, Any], kind: str) -> list[float]:
            out = []
            for o in e["opts"]:
                s = vol_of(o)
                if kind == "up":
                    s2 = s * (1.0 + pp["vol_shock_up"] * e["scale"])
                    if vol_floor is not None:
                        s2 = max(vol_floor, s2)
                elif kind == "down":
                    s2 = s * max(0.0, 1.0 - pp["vol_shock_down"] * e["scale"])
                else:
                    s2 = s
                out.append(s2)
            return out

        def D(e: dict[str, Any], v: float) -> float:
            if sd is None:
                return v
            sdp = sd["base"] * math.exp(-e["tau"] * (e["r"] * sd["long_rate_mult"] + sd["long_rate_add"]))
            sdn = min(1.0 / e["df"], sd["base_neg"] * math.exp(e["tau"] * (e["r"] * sd["short_rate_mult"]
                                                                             + sd["short_rate_add"])))
            return v * sdp if v >= 0 else v * sdn

        V0 = [V(e, 0.0) for e in ex]
        equity += sum(V0)
        # collateral of this underlying (held in U or moving with U), not stable
        cset = [(a, amt) for a, amt in coll.items() if driver(a) == U and a not in stables] if cis else []

        P_rows = []
        for m, kind, w in rows:
            if kind in ("skew_linear", "skew_abs"):
                total = 0.0
                for e, v0 in zip(ex, V0, strict=True):
                    rt = math.sqrt(e["tau"])
                    pre = "linear" if kind == "skew_linear" else "abs"
                    cap = sk[f"{pre}_cbase"] * rt + sk[f"{pre}_scale_cap"]
                    kst = max(sk["min_k_star"], rt * sk["min_width_scale"]
                              * (sk["vol_param_static"] + rt * sk["vol_param_scale"]))
                    vols = []
                    for o in e["opts"]:
                        k = math.log(o["strike"] / e["F"])
                        if pre == "abs":
                            k = abs(k)
                        # k* = 0: the cap at once (k = 0: no shock)
                        ratio = k * cap / kst if kst > 0 else (0.0 if k == 0 else math.copysign(math.inf, k))
                        s = min(cap, ratio) if k >= 0 else max(-cap, ratio)
                        vols.append(vol_of(o) * max(0.0, 1.0 + s))
                    total -= abs(w * (D(e, V(e, 0.0, vols)) - v0))
                P_rows.append(total)
                continue
            total = 0.0
            for p in perps:
                total += p["quantity"] * float(p.get("mark_price", S)) * m
            for a, amt in cset:
                h = h_of(a) if (his and amt > 0) else 0.0
                total += amt * price(a) * m * (1.0 - h)
            for e, v0 in zip(ex, V0, strict=True):
                total += D(e, V(e, m, shocked(e, kind))) - v0
            P_rows.append(w * total)
        B = 0.0
        if bc is not None:
            for e, v0 in zip(ex, V0, strict=True):
                lu = V(e, bc["spot_up"]) - v0
                ld = V(e, bc["spot_down"]) - v0
                B += min(lu, ld, 0.0) * (bc["add_factor"] + bc["mult_factor"] * e["tau"])
        worst = min([B, *P_rows])
        L_total += max(0.0, -worst)

        # contingencies
        for e in ex:
            by_k: dict[float, float] = {}
            for o in e["opts"]:
                by_k[o["strike"]] = by_k.get(o["strike"], 0.0) + o["quantity"]
            naked = sum(max(0.0, -q) for q in by_k.values())
            c_mm += naked * S * pp.get("short_option_contingency", 0.0)
            c_im += naked * S * pp.get("short_option_contingency_im", 0.0)
            c_im += kappa(min(conf(U), e["c"]), sum(abs(o["quantity"]) for o in e["opts"]) * S)
        for p in perps:
            n = abs(p["quantity"]) * S
            c_mm += n * pp.get("perp_contingency", 0.0)
            c_im += n * pp.get("perp_contingency_im", 0.0)
            c_im += kappa(min(conf(U), float(p.get("mark_confidence", 1.0))), n)
    for a, amt in coll.items():
        if amt > 0:
            v = amt * price(a)
            c_im += v * float(im_haircuts.get(a, im_haircuts.get("*", 0.0)))
            if a != base:
                c_im += kappa(conf(a), v)
    mm = pp["mm_factor"] * L_total + c_mm
    if im_loss is None:
        im = pp["im_factor"] * mm
    else:
        f = im_loss
        if peg is not None:
            f += max(0.0, peg["threshold"] - float(market[base].get("peg_price", 1.0))) * peg["factor"]
        im = f * L_total + c_mm + c_im
    return {"equity": equity, "maintenance_margin": mm, "initial_margin": im, "loss": L_total}
