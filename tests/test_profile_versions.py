"""Dated profile versions (venues.md "Common behaviour"): the version in force on the book's
as_of, refusal of a book older than the first version, undated profiles, overlays, report
fields, and the version files' own validation."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from shared_paths import EXAMPLES

from workstation.core import profile_versions, profiles
from workstation.core.errors import PortfolioError, ProfileError
from workstation.core.portfolio_io import loads_portfolio, portfolio_from_dict
from workstation.core.portfolio_write import dumps_portfolio
from workstation.core.profiles import get_profile, load_profiles, shipped_profiles
from workstation.core.report import build_report

FAQ = EXAMPLES / "venues" / "binance-usdm-faq-cross.portfolio.json"


def _doc(as_of: str, profile: str = "binance-usdm") -> dict:
    doc = json.loads(FAQ.read_text(encoding="utf-8"))
    doc["as_of"] = as_of
    doc["accounts"][0]["profile"] = profile
    return doc


def test_latest_version_on_or_before_as_of() -> None:
    cases = [(date(2021, 3, 18), "2021-03-18"), (date(2023, 1, 1), "2021-03-18"),
             (date(2024, 9, 1), "2024-09-01"), (date(2025, 8, 18), "2024-09-01"),
             (date(2025, 8, 19), "2025-08-19"), (None, "2025-08-19")]
    for as_of, version in cases:
        assert shipped_profiles(as_of)["binance-usdm"].version == version
    assert profile_versions.version_dates("binance-usdm") == ("2021-03-18", "2024-09-01", "2025-08-19")
    # a datetime's UTC day decides
    assert profile_versions.select("binance-usdm", datetime(2024, 9, 1, 0, 0, tzinfo=UTC)).profile.version \
        == "2024-09-01"


def test_a_version_lists_only_what_changed() -> None:
    v21, v24, v25 = (shipped_profiles(date.fromisoformat(d))["binance-usdm"]
                     for d in ("2021-03-18", "2024-09-01", "2025-08-19"))
    assert v21.tier_for("BTC") != v24.tier_for("BTC") != v25.tier_for("BTC")
    assert v25.tier_for("ETH") == v24.tier_for("ETH")  # carried
    assert v21.tier_for("SOL") == v24.tier_for("SOL") == v25.tier_for("SOL")  # the base's shape
    d24, d26 = (shipped_profiles(date.fromisoformat(d))["deribit-pm"] for d in ("2024-06-17", "2026-02-15"))
    assert d24.deribit.pairs.for_("ETH").price_range == 0.16  # 2024: BTC's parameters (estimate)
    assert d26.deribit.pairs.for_("ETH").price_range == 0.18
    assert d26.deribit.pairs.for_("BTC") == d24.deribit.pairs.for_("BTC")  # carried
    assert d26.deribit.currencies.for_("ETH").pnl_offset == 0.6
    # a version states its own estimates (and the base's), not its predecessors'
    assert any("2026 response gives ETH" in e for e in d26.estimates)
    assert not any("Deribit's example gives BTC only" in e for e in d26.estimates)


def test_book_older_than_the_first_version_is_refused_at_the_profile() -> None:
    doc = _doc("2021-03-17T23:59:59Z")
    with pytest.raises(PortfolioError) as err:
        portfolio_from_dict(doc)
    assert err.value.path == "accounts[0].profile"
    assert "2021-03-18" in str(err.value) and "binance-usdm" in str(err.value)
    doc = _doc("2021-03-18T00:00:00Z")
    assert build_report(portfolio_from_dict(doc), "account:bn", with_liquidation=False)["profile_version"] \
        == "2021-03-18"
    pool = _doc("2020-01-01T00:00:00Z", "default")
    pool["pools"] = [{"id": "p", "accounts": ["bn"], "profile": "okx-pm"}]
    with pytest.raises(PortfolioError) as err:
        portfolio_from_dict(pool)
    assert err.value.path == "pools[0].profile" and "2025-01-15" in str(err.value)


def test_engine_refuses_a_profile_not_yet_in_force() -> None:
    profs = load_profiles(None, as_of=date(2020, 1, 1))
    assert "binance-usdm" not in profs and "default" in profs
    with pytest.raises(ProfileError, match="first version is effective 2021-03-18"):
        get_profile("binance-usdm", profs)


def test_undated_profiles_and_overlays() -> None:
    doc = _doc("2024-10-01T00:00:00Z", "mine")
    doc["profiles"] = {"mine": {"portfolio": {"im_factor": 1.5}},
                       "binance-usdm": {"liquidation_threshold": 1.05}}
    doc["accounts"].append(copy.deepcopy(doc["accounts"][0]) | {"id": "b2", "profile": "binance-usdm"})
    doc["accounts"].append(copy.deepcopy(doc["accounts"][0]) | {"id": "b3", "profile": "default"})
    doc["pools"] = [{"id": "p", "accounts": ["bn", "b2"], "margin_mode": "cross", "profile": "binance-usdm"}]
    p = portfolio_from_dict(doc)
    mine = build_report(p, "account:bn", with_liquidation=False)
    assert (mine["profile"], mine["profile_version"]) == ("mine", None)
    assert build_report(p, "account:b3", with_liquidation=False)["profile_version"] is None
    over = build_report(p, "account:b2", with_liquidation=False)
    assert (over["profile"], over["profile_version"]) == ("binance-usdm", "2024-09-01")
    pool = build_report(p, "pool:p", with_liquidation=False)
    assert (pool["profile"], pool["profile_version"]) == ("binance-usdm", "2024-09-01")
    prof = load_profiles(doc["profiles"], as_of=p.as_of)["binance-usdm"]
    assert prof.liquidation_threshold == 1.05 and prof.version == "2024-09-01"
    # the file round-trips
    assert loads_portfolio(dumps_portfolio(p)).profiles == p.profiles


def _fake_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> None:
    (tmp_path / "default.toml").write_text(
        (profiles.PROFILES_DIR / "default.toml").read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(profiles, "PROFILES_DIR", tmp_path)
    profile_versions.shipped.cache_clear()


@pytest.fixture
def fresh_cache():
    yield
    profile_versions.shipped.cache_clear()


BASE = 'name = "v"\nsource = "test"\nstablecoins = []\n'


@pytest.mark.parametrize(("files", "key", "problem"), [
    ({"v/2024-01-02.toml": 'effective = 2024-01-03\nsources = ["s"]\n'}, "effective", "file name"),
    ({"v/2024-01-02.toml": "effective = 2024-01-02\n"}, "sources", "non-empty list"),
    ({"v/2024-01-02.toml": 'effective = 2024-01-02\nsources = ["s"]\nname = "w"\n'}, "name", "'v'"),
    ({"v/2024-01-02.toml": 'effective = 2024-01-02\nsources = ["s"]\n[options]\nfee = 2\n'}, "options.fee",
     "<= 1"),
])
def test_version_files_are_validated(tmp_path, monkeypatch, fresh_cache, files, key, problem) -> None:
    _fake_dir(tmp_path, monkeypatch, {"v.toml": BASE, **files})
    with pytest.raises(ProfileError) as err:
        profile_versions.shipped()
    assert err.value.key == key and problem in err.value.problem
    assert "2024-01-02.toml" in err.value.source


def test_version_layers_in_date_order(tmp_path, monkeypatch, fresh_cache) -> None:
    _fake_dir(tmp_path, monkeypatch, {
        "v.toml": BASE,
        "v/2024-01-02.toml": 'effective = 2024-01-02\nsources = ["one"]\n[options]\nfee = 0.001\n',
        "v/2025-01-02.toml": 'effective = 2025-01-02\nsources = ["two"]\n[options]\nshort_mm = 0.05\n',
    })
    first, second = (shipped_profiles(date(y, 6, 1))["v"] for y in (2024, 2025))
    assert (first.options.fee, first.options.short_mm) == (0.001, 0.075)
    assert (second.options.fee, second.options.short_mm) == (0.001, 0.05)  # the fee carries
    assert second.source == "test; two" and second.as_of == "2025-01-02"


def test_an_overlay_of_a_profile_not_yet_in_force_is_still_validated() -> None:
    with pytest.raises(ProfileError) as err:
        load_profiles({"okx-pm": {"okx": {"borrow_mmr": 2}}}, source="profiles", as_of=date(2020, 1, 1))
    assert err.value.key == "okx.borrow_mmr"
    assert "okx-pm" not in load_profiles({"okx-pm": {"okx": {"borrow_mmr": 0.5}}}, as_of=date(2020, 1, 1))
