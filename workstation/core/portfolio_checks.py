"""The portfolio reader's checks across the book, after each section was read on its own:
every account and pool names a known profile in force on the book's date (the file's own
`profiles` validated on the way), and a leverage within its bracket's maximum."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workstation.core.errors import PortfolioError, ProfileError
from workstation.core.model import Account, Pool, Quote


def check_leverage(accounts: list[Account], doc_profiles: dict[str, Any], market: Mapping[str, Quote],
                    as_of: datetime) -> None:
    """Refuse a leverage above its bracket's maximum at the current notional (cross and
    isolated accounts; portfolio mode ignores leverage)."""
    from workstation.core.methods.per_position import max_leverages
    from workstation.core.profiles import load_profiles

    profiles = None
    prices = {asset: q.price for asset, q in market.items()}
    for i, acc in enumerate(accounts):
        if acc.margin_mode == "portfolio":
            continue
        levered = [(j, pos) for j, pos in enumerate(acc.positions) if pos.leverage is not None]
        if not levered:
            continue
        profiles = profiles or load_profiles(doc_profiles, source="profiles", as_of=as_of)
        # the account's brackets in one evaluation (max_leverage of each, a venue dump's
        # thousands of leveraged positions at once); the first one above its maximum is named
        most = max_leverages(profiles[acc.profile], [pos for _, pos in levered], prices)
        for (j, pos), top in zip(levered, most.tolist(), strict=True):
            if pos.leverage > top * (1 + 1e-12):
                raise PortfolioError(f"accounts[{i}].positions[{j}].leverage",
                                     f"at most {top:g} (the maximum leverage of its bracket at the "
                                     "current notional)", pos.leverage)


def check_profiles(doc_profiles: dict[str, Any], accounts: list[Account], pools: list[Pool],
                    as_of: datetime | None = None) -> None:
    """Validate the file's profiles and that every account and pool names a known one, in a
    version in force on the book's date."""
    from workstation.core.profiles import load_profiles

    _check_profile_dates(accounts, pools, as_of)
    try:
        known = load_profiles(doc_profiles, source="profiles", as_of=as_of)
    except ProfileError as err:
        path = err.key if err.source in ("", "profiles") else f"{err.source}.{err.key}"
        if not path.startswith("profiles"):
            path = f"profiles.{path}"
        raise PortfolioError(path, _expected(err.problem)) from None
    for i, acc in enumerate(accounts):
        if acc.profile not in known:
            raise PortfolioError(f"accounts[{i}].profile", _known_list(known), acc.profile)
    for k, pool in enumerate(pools):
        if pool.profile not in known:
            raise PortfolioError(f"pools[{k}].profile", _known_list(known), pool.profile)


def _expected(problem: str) -> str:
    """A profile reader's problem as what was expected (`must be >= 0, got -1` -> `>= 0, ...`)."""
    for prefix in ("expected ", "must be "):
        if problem.startswith(prefix):
            return problem.removeprefix(prefix)
    return f"a valid profile value: {problem}"


def _check_profile_dates(accounts: list[Account], pools: list[Pool], as_of: datetime | None) -> None:
    """A book older than a shipped profile's first version is refused where it names it."""
    from workstation.core.profile_versions import first_version

    if as_of is None:
        return
    named = [(f"accounts[{i}].profile", a.profile) for i, a in enumerate(accounts)]
    named += [(f"pools[{k}].profile", p.profile) for k, p in enumerate(pools)]
    for path, name in named:
        first = first_version(name)
        if first is not None and as_of.date().isoformat() < first:
            raise PortfolioError(path, f"a profile in force on the book's date "
                                       f"{as_of.date().isoformat()}: {name} starts on {first}", name)


def _known_list(known: Mapping[str, Any]) -> str:
    return "a known margin profile: " + ", ".join(sorted(known))
