"""Dated versions of the shipped profiles (venues.md "Common behaviour").

Layout of `resources/profiles`:

    NAME.toml                the profile's base (name, method, what every version shares)
    NAME/YYYY-MM-DD.toml     one version each, effective from that date (UTC)

A version file holds `effective` (its file name's date), `sources` (where its numbers come
from), optionally `estimates` (which of its figures the venue does not publish, and why), and
the profile keys that changed. Version k is the base with versions 1..k laid on it in date
order: tables keyed by underlying or asset (`tiers`, `haircuts`, the venue tables) merge key by
key, so a version lists only the underlyings whose parameters changed; the rest carry.

A profile without a version directory (`default`) is undated. A book uses the latest version
effective on or before its `as_of`; a book older than the first version gets none.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from workstation.core.errors import ProfileError
from workstation.core.profile_fields import read_toml, table
from workstation.core.profile_merge import METHOD_DEFAULTS, merge_profile_dicts
from workstation.core.profile_model import Profile
from workstation.core.profile_tables import build_profile


@dataclass(frozen=True)
class Version:
    """One version of a shipped profile: its merged raw form, and the `Profile` built (validated
    and frozen) from it when first asked for: a book dated today uses one version of each
    profile it names, not all of them (`shipped()` still builds and validates every one)."""

    effective: date | None  # None: an undated profile
    raw: dict[str, Any]  # the merged raw profile (a base for portfolio-file overlays); read only
    source: str  # the file it was built from, for the validation's messages

    @cached_property
    def profile(self) -> Profile:
        return build_profile(self.raw, self.source, None if self.effective is None else self.effective.isoformat())


def _effective(value: Any, path: Path) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value)
    if not isinstance(value, date):
        raise ProfileError(str(path), "effective", f"expected a date such as 2024-06-17, got {value!r}")
    if value.isoformat() != path.stem:
        raise ProfileError(str(path), "effective", f"must equal the file name's date {path.stem}, got {value}")
    return value


def merge_version(base: Mapping[str, Any], layer: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Lay a version file on the previous version: `tiers` and `haircuts` by underlying or
    asset, everything else by the portfolio-file rules (`profile_merge.merge_profile_dicts`)."""
    layer = dict(layer)
    for key in ("tiers", "haircuts"):
        if key in layer:
            layer[key] = {**copy.deepcopy(dict(base.get(key, {}))), **table(layer[key], source, key)}
    return merge_profile_dicts(base, layer, source)


def _versions_of(name_base: dict[str, Any], folder: Path) -> list[Version]:
    out: list[Version] = []
    raw = name_base
    base_estimates = list(name_base.get("estimates", []))
    for path in sorted(folder.glob("*.toml")):
        layer = read_toml(path)
        eff = _effective(layer.pop("effective", None), path)
        srcs = layer.pop("sources", None)
        if not isinstance(srcs, list) or not srcs or not all(isinstance(s, str) and s.strip() for s in srcs):
            raise ProfileError(str(path), "sources", "expected a non-empty list of sources")
        if "name" in layer and layer["name"] != name_base.get("name"):
            raise ProfileError(str(path), "name", f"must be {name_base.get('name')!r}, got {layer['name']!r}")
        # a version's estimates: the base's (shared shape) and its own, not its predecessors'
        layer["estimates"] = base_estimates + list(layer.get("estimates", []))
        raw = merge_version(raw, layer, str(path))
        raw["as_of"] = eff.isoformat()
        raw["source"] = "; ".join([str(name_base.get("source", "")), *srcs]).strip("; ")
        # merging copies the base, so this version's raw is never changed by the next one's
        out.append(Version(eff, raw, str(path)))
    if not out:
        raise ProfileError(str(folder), "(versions)", "a version folder holds no YYYY-MM-DD.toml")
    return out


class _Catalog:
    """The shipped profiles of one folder, each built (read, merged, validated) when first asked
    for: a book naming three profiles does not pay for the other six (a third of reading the
    demo file). A profile's name is its file's name."""

    def __init__(self, folder: Path):
        self.folder = folder
        files = sorted(folder.glob("*.toml"), key=lambda f: (f.stem != "default", f.name))
        self.files = {f.stem: f for f in files}
        self._built: dict[str, tuple[Version, ...]] = {}
        self._first: dict[str, str | None] = {}

    def versions(self, name: str) -> tuple[Version, ...]:
        """`name`'s versions in date order (KeyError if it is not shipped)."""
        if name not in self._built:
            path = self.files[name]
            base = self.versions("default")[-1].raw if name != "default" and "default" in self.files \
                else METHOD_DEFAULTS
            raw = merge_profile_dicts(base, read_toml(path), str(path))
            if raw.get("name") != name:
                raise ProfileError(str(path), "name", f"must be the file's name {name!r}, got {raw.get('name')!r}")
            folder = path.with_suffix("")
            if folder.is_dir():
                self._built[name] = tuple(_versions_of(raw, folder))
            else:
                self._built[name] = (Version(None, raw, str(path)),)
        return self._built[name]

    def first_day(self, name: str) -> str | None:
        """The first version's date from the file names alone (None: undated), without building
        the profile (its files are checked when it is built); looked up once, as `files` is."""
        if name not in self._first:
            folder = self.files[name].with_suffix("")
            dated = sorted(f.stem for f in folder.glob("*.toml")) if folder.is_dir() else []
            self._first[name] = dated[0] if dated else None
        return self._first[name]


@lru_cache(maxsize=4)
def _catalog_of(folder: Path) -> _Catalog:
    return _Catalog(folder)


def _catalog() -> _Catalog:
    from workstation.core import profiles  # its PROFILES_DIR at call time (tests point it elsewhere)

    return _catalog_of(profiles.PROFILES_DIR)


@lru_cache(maxsize=1)
def shipped() -> dict[str, tuple[Version, ...]]:
    """name -> its versions in date order (one undated entry for an undated profile), every
    shipped profile built and validated."""
    cat = _catalog()
    out = {name: cat.versions(name) for name in cat.files}
    for vs in out.values():
        for v in vs:
            v.profile  # noqa: B018  (built and validated now)
    return out


def versions(name: str) -> tuple[Version, ...]:
    """Shipped profile `name`'s versions in date order (KeyError if it is not shipped)."""
    return _catalog().versions(name)


def names_in_force(as_of: date | datetime | None) -> list[str]:
    """The shipped profiles with a version in force on `as_of` (None: all), from the file names."""
    cat = _catalog()
    day = _day(as_of)
    if day is None:
        return list(cat.files)
    return [n for n in cat.files if (first := cat.first_day(n)) is None or first <= day.isoformat()]


class InForce(Mapping[str, Any]):
    """Shipped profiles in their version in force on `as_of` (built when first looked up), then
    `own` (name -> Profile: a portfolio file's profiles, built already) over them."""

    def __init__(self, as_of: date | datetime | None, own: dict[str, Any] | None = None):
        self.as_of = as_of
        self.own = dict(own or {})
        self._names = [n for n in names_in_force(as_of) if n not in self.own] + list(self.own)

    def __getitem__(self, name: str) -> Any:
        if name in self.own:
            return self.own[name]
        if name not in self._names:
            raise KeyError(name)
        v = select(name, self.as_of)
        if v is None:
            raise KeyError(name)
        return v.profile

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _day(as_of: date | datetime | None) -> date | None:
    if isinstance(as_of, datetime):
        return as_of.date()
    return as_of


def select(name: str, as_of: date | datetime | None) -> Version | None:
    """The version of shipped profile `name` in force on `as_of` (None: the latest); None
    when `as_of` is older than the first version. KeyError if `name` is not shipped."""
    vs = _catalog().versions(name)
    day = _day(as_of)
    if day is None or vs[0].effective is None:
        return vs[-1]
    found = None
    for v in vs:
        if v.effective is not None and v.effective <= day:
            found = v
    return found


def first_version(name: str) -> str | None:
    """The first effective date of shipped profile `name` (None: undated or not shipped)."""
    cat = _catalog()
    if name not in cat.files:
        return None
    versions = cat.versions(name)
    if versions[0].effective is None:
        return None
    return versions[0].effective.isoformat()


def version_dates(name: str) -> tuple[str, ...]:
    """The effective dates of shipped profile `name` (empty when undated)."""
    cat = _catalog()
    versions = cat.versions(name) if name in cat.files else ()
    return tuple(v.effective.isoformat() for v in versions if v.effective is not None)
