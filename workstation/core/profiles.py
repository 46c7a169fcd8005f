"""Margin profiles: every parameter of the margin method, as data (`resources/profiles/*.toml`).

A profile is read from TOML (shipped) or from the portfolio file's `profiles` object (JSON),
laid over its base (`profile_merge`), validated key by key (`profile_tables`, with the venue
tables in `profile_venues` and PMRM_2's keys in `profile_pmrm2`) and frozen (`profile_model`).
Keys and meaning: `shared/spec/method.md`, "Profiles", and `shared/spec/venues.md` (see
`resources/profiles/README.md`).

Dated versions: a shipped profile with a folder of versions is selected by the book's `as_of`
(`load_profiles(..., as_of=)`, `shipped_profiles(as_of)`); `Profile.version` is the effective
date used (None: undated). See `profile_versions.py`.

This module is the public entry: it re-exports the data classes and constants, so callers
import everything from `workstation.core.profiles`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from workstation.core import profile_versions
from workstation.core.errors import ProfileError, shown, unknown_profile
from workstation.core.jsonread import join_key
from workstation.core.profile_fields import FrozenMap, read_toml, table
from workstation.core.profile_merge import METHOD_DEFAULTS, merge_profile_dicts
from workstation.core.profile_model import (
    AGGREGATIONS,
    INF,
    METHODS,
    PREMIUMS,
    VOL_DIRECTIONS,
    OptionParams,
    PortfolioParams,
    Profile,
    Tier,
    by_quantity,
)
from workstation.core.profile_tables import build_profile

__all__ = [
    "AGGREGATIONS", "INF", "METHODS", "METHOD_DEFAULTS", "PREMIUMS", "PROFILES_DIR", "VOL_DIRECTIONS",
    "FrozenMap", "OptionParams", "PortfolioParams", "Profile", "Tier", "by_quantity", "get_profile",
    "load_profile_file", "load_profiles", "merge_profile_dicts", "profile_from_dict", "shipped_profiles",
]

# read by profile_versions.shipped() at call time (tests point it at a folder of their own)
PROFILES_DIR = Path(__file__).resolve().parents[2] / "resources" / "profiles"


def profile_from_dict(
    d: Mapping[str, Any], source: str, base: Mapping[str, Any] | None = None
) -> Profile:
    """Validate the raw profile `d` laid over `base` (default: the method.md example).

    Every problem raises `ProfileError(source, dotted_key, problem)`.
    """
    return build_profile(merge_profile_dicts(METHOD_DEFAULTS if base is None else base, d, source), source)


def load_profile_file(path: str | Path, base: Mapping[str, Any] | None = None) -> Profile:
    """Read and validate one profile TOML file; missing keys come from `base` (method.md)."""
    path = Path(path)
    return profile_from_dict(read_toml(path), str(path), base)


def shipped_profiles(as_of: date | datetime | None = None) -> dict[str, Profile]:
    """The profiles shipped in `resources/profiles` (read once, cached): each in its version in
    force on `as_of` (None: the latest); a profile whose first version is later is left out."""
    out: dict[str, Profile] = {}
    for name in profile_versions.names_in_force(as_of):
        v = profile_versions.select(name, as_of)
        if v is not None:
            out[name] = v.profile
    return out


def load_profiles(
    extra: Mapping[str, Any] | None = None, source: str = "portfolio.profiles",
    as_of: date | datetime | None = None,
) -> Mapping[str, Profile]:
    """Shipped profiles (in their version in force on `as_of`, None: the latest) plus the
    portfolio file's `profiles` object (name -> raw profile).

    A name that is shipped is laid over the selected version (and keeps its version date); a
    new name is built on `default` and is undated. A shipped name with no version in force on
    `as_of` is left out, also when the file overlays it (the overlay is still validated). Errors
    name `"{source}.{NAME}"` and the dotted key. The file's profiles are built here; a shipped
    one when first looked up (`profile_versions.InForce`).
    """
    shipped = profile_versions.names_in_force(None)
    profiles: dict[str, Profile] = {}
    default_raw = profile_versions.select("default", None).raw if "default" in shipped else METHOD_DEFAULTS
    for name, raw in (extra or {}).items():
        origin = join_key(source, name)
        body = table(raw, origin, "(profile)")
        if "name" in body and body["name"] != name:
            raise ProfileError(
                origin, "name", f"must match the profile's key {shown(name)}, got {shown(body['name'])}"
            )
        body["name"] = name
        if name in shipped:
            chosen = profile_versions.select(name, as_of)
            # not yet in force: still validated (over the first version), left out of the result
            base_version = chosen or profile_versions.versions(name)[0]
            built = build_profile(merge_profile_dicts(base_version.raw, body, origin), origin,
                                  base_version.profile.version)
            if chosen is not None:
                profiles[name] = built
        else:
            profiles[name] = profile_from_dict(body, origin, default_raw)
    return profile_versions.InForce(as_of, profiles)


def get_profile(name: str, profiles: Mapping[str, Profile]) -> Profile:
    """The profile called `name`; `unknown_profile` error listing the known ones otherwise
    (or, for a shipped profile left out for the book's date, naming its first version)."""
    try:
        return profiles[name]
    except KeyError:
        first = profile_versions.first_version(name)
        if first is not None:
            raise ProfileError("profiles", name, f"no version in force on the book's date; "
                               f"the first version is effective {first}") from None
        raise unknown_profile(name, list(profiles)) from None
