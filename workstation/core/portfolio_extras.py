"""Reading and writing the optional market and perpetual fields of portfolio@1
(`shared/spec/derive-pmrm2.md`, "Portfolio file"): per-expiry forwards, oracle confidences,
`moves_with`, a stable's `peg_price`, a perpetual's `mark_price` and `mark_confidence`.

Absent fields stay absent (None, or no forwards) so that the writer gives back exactly what
was read and the engine keeps today's behaviour. Every check names the JSON path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workstation.core.errors import PortfolioError
from workstation.core.model import Forward, Position, Quote
from workstation.core.portfolio_io import _fields, _list, _num, _obj, _str, format_time, parse_time

QUOTE_FIELDS = frozenset({"confidence", "moves_with", "peg_price", "forwards"})
FORWARD_FIELDS = {"expiry", "forward", "rate", "confidence"}
POSITION_FIELDS = frozenset({"mark_price", "mark_confidence"})


def _confidence(value: Any, path: str) -> float:
    x = _num(value, path, minimum=0.0)
    if x > 1.0:
        raise PortfolioError(path, "a confidence within [0, 1]", value)
    return x


def forward_from_dict(d: Any, path: str) -> Forward:
    d = _obj(d, path)
    _fields(d, path, FORWARD_FIELDS, ("expiry", "forward"))
    return Forward(
        expiry=parse_time(d["expiry"], f"{path}.expiry"),
        forward=_num(d["forward"], f"{path}.forward", positive=True),
        rate=_num(d["rate"], f"{path}.rate") if "rate" in d else None,
        confidence=_confidence(d["confidence"], f"{path}.confidence") if "confidence" in d else None,
    )


def quote_extras(entry: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The optional fields of one `market.<A>` object, as `Quote` keyword arguments."""
    out: dict[str, Any] = {}
    if "confidence" in entry:
        out["confidence"] = _confidence(entry["confidence"], f"{path}.confidence")
    if "moves_with" in entry:
        out["moves_with"] = _str(entry["moves_with"], f"{path}.moves_with")
    if "peg_price" in entry:
        out["peg_price"] = _num(entry["peg_price"], f"{path}.peg_price", positive=True)
    if "forwards" in entry:
        forwards: list[Forward] = []
        seen: set[datetime] = set()
        for i, fd in enumerate(_list(entry["forwards"], f"{path}.forwards")):
            p = f"{path}.forwards[{i}]"
            f = forward_from_dict(fd, p)
            if f.expiry in seen:
                raise PortfolioError(f"{p}.expiry", "at most one forward per expiry", fd.get("expiry"))
            seen.add(f.expiry)
            forwards.append(f)
        out["forwards"] = tuple(forwards)
    return out


def check_market(market: Mapping[str, Quote], path: str = "market") -> None:
    """`moves_with` names another priced asset that does not itself move with something else."""
    for asset, q in market.items():
        if q.moves_with is None:
            continue
        p = f"{path}.{asset}.moves_with"
        target = market.get(q.moves_with)
        if target is None or q.moves_with == asset:
            raise PortfolioError(p, "another asset with a price in market", q.moves_with)
        if target.moves_with is not None:
            raise PortfolioError(p, f"an asset that does not itself move with another "
                                    f"({q.moves_with} moves with {target.moves_with})", q.moves_with)


def position_extras(d: Mapping[str, Any], path: str, kind: str, market: Mapping[str, Quote]) -> dict[str, Any]:
    """`mark_price` and `mark_confidence` (perpetuals only), as `Position` keyword arguments;
    and a position's underlying must be an underlying of its own (not `moves_with` another)."""
    und = d.get("underlying")
    if isinstance(und, str) and und in market and market[und].moves_with is not None:
        raise PortfolioError(f"{path}.underlying", f"an asset that is an underlying of its own "
                                                   f"(market.{und} moves with {market[und].moves_with})", und)
    out: dict[str, Any] = {}
    for key in ("mark_price", "mark_confidence"):
        if key in d and kind != "perpetual":
            raise PortfolioError(f"{path}.{key}", f"no {key} on a {kind} (perpetuals only)", d[key])
    if "mark_price" in d:
        out["mark_price"] = _num(d["mark_price"], f"{path}.mark_price", positive=True)
    if "mark_confidence" in d:
        out["mark_confidence"] = _confidence(d["mark_confidence"], f"{path}.mark_confidence")
    return out


def present(obj: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The fields `keys` of `obj` that are set (not None), in that order."""
    return {k: v for k in keys if (v := getattr(obj, k)) is not None}


def quote_extras_to_dict(q: Quote) -> dict[str, Any]:
    out = present(q, ("confidence", "moves_with", "peg_price"))
    if q.forwards:
        out["forwards"] = [forward_to_dict(f) for f in q.forwards]
    return out


def forward_to_dict(f: Forward) -> dict[str, Any]:
    return {"expiry": format_time(f.expiry), "forward": f.forward, **present(f, ("rate", "confidence"))}


def position_extras_to_dict(pos: Position) -> dict[str, Any]:
    return present(pos, ("mark_price", "mark_confidence"))
