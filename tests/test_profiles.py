"""Tests of workstation.core.profiles: shipped TOML files, merge rules, validation errors."""

from __future__ import annotations

import itertools
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from workstation.core.errors import ProfileError
from workstation.core.profiles import (
    METHOD_DEFAULTS,
    PROFILES_DIR,
    OptionParams,
    Tier,
    get_profile,
    load_profile_file,
    load_profiles,
    profile_from_dict,
    shipped_profiles,
)

SHIPPED = ("default", "deribit-pm", "binance-usdm", "okx-pm", "bybit-pm", "deribit-sm", "bybit-rm", "span")


# ------------------------------------------------------------------------------ shipped files
def test_every_shipped_profile_loads_with_source_and_date() -> None:
    profiles = shipped_profiles()
    assert set(SHIPPED) <= set(profiles)
    for name in SHIPPED:
        p = profiles[name]
        assert p.name == name and p.source and p.as_of
        # "*" fallbacks: any underlying has tiers, a range and scenarios
        assert p.tier_for("DOGE")
        assert p.portfolio.range_for("DOGE") > 0
        assert p.portfolio.scenario_list("DOGE")
        assert p.is_stable("USDT") and p.is_stable("USDC") and not p.is_stable("BTC")
        hash(p)  # frozen all the way down


def test_each_shipped_file_loads_on_its_own() -> None:
    """An undated profile's file builds alone; a dated one's base builds with each version."""
    from workstation.core.profile_versions import shipped

    versions = shipped()
    for path in sorted(PROFILES_DIR.glob("*.toml")):
        if path.with_suffix("").is_dir():
            dated = versions[path.stem]
            files = sorted(p.stem for p in path.with_suffix("").glob("*.toml"))
            assert [v.effective.isoformat() for v in dated] == files
            assert all(v.profile.name == path.stem and v.profile.version for v in dated)
        else:
            assert load_profile_file(path).name == path.stem


def test_default_is_the_method_example() -> None:
    p = shipped_profiles()["default"]
    assert p.name == "default"
    assert p.stablecoins == ("USDT", "USDC")
    assert p.haircut_bands("BTC") == ((100_000_000, 0.0), (200_000_000, 0.025), (1e30, 0.05))
    assert p.haircut_bands("USDT") == ((math.inf, 0.0),)
    assert p.haircut_bands("USDC") == ((math.inf, 0.0),)
    # the method lists BTC (tiered) and USDT; assets it does not list take no haircut
    assert p.haircut_bands("ETH") == ((math.inf, 0.0),)
    assert p.haircut_bands("XYZ") == ((math.inf, 0.0),)
    assert "*" not in p.haircuts
    assert p.tier_for("BTC")[0] == Tier(50_000, 0.008, 0.004, 0.0)
    assert p.options == OptionParams(0.15, 0.10, 0.075)
    pp = p.portfolio
    assert dict(pp.range) == {"BTC": 0.16, "ETH": 0.16, "*": 0.25}
    assert pp.price_steps == 9
    assert (pp.vol_shock_up, pp.vol_shock_down) == (0.5, 0.275)
    assert (pp.power_short, pp.power_long, pp.dte_floor) == (0.30, 0.13, 1.0)
    assert pp.tail == ((-0.66, 0.0545), (-0.33, 0.109), (0.5, 0.072), (1.0, 0.036))
    assert pp.scenarios is None and pp.vol_floor is None
    assert (pp.short_option_contingency, pp.futures_contingency) == (0.01, 0.01)
    assert (pp.mm_factor, pp.im_factor) == (1.0, 1.3)
    assert pp.aggregation == "sum"
    assert dict(pp.correlation) == {("BTC", "ETH"): 0.85}
    assert pp.collateral_in_scenarios is True
    # the in-code method defaults carry the same numbers
    assert profile_from_dict({}, "test").portfolio == pp


def test_default_btc_scenarios() -> None:
    scen = shipped_profiles()["default"].portfolio.scenario_list("BTC")
    assert len(scen) == 31
    grid, tail = scen[:27], scen[27:]
    spots = sorted({s for s, _, _ in grid})
    assert spots == pytest.approx([-0.16, -0.12, -0.08, -0.04, 0.0, 0.04, 0.08, 0.12, 0.16])
    assert 0.0 in spots and spots[0] == -0.16 and spots[-1] == 0.16
    for s in spots:
        assert sorted(v for x, v, d in grid if x == s and d == 1.0) == ["down", "none", "up"]
    assert tail == [
        (-0.66, "up", 0.0545),
        (-0.33, "up", 0.109),
        (0.5, "up", 0.072),
        (1.0, "up", 0.036),
    ]
    # "*" range for anything else
    assert (
        max(s for s, _, _ in shipped_profiles()["default"].portfolio.scenario_list("SOL")[:27])
        == 0.25
    )


@pytest.mark.parametrize("as_of", ["2021-03-18", "2024-09-01", "2025-08-19"])
def test_binance_brackets_are_continuous(as_of: str) -> None:
    p = shipped_profiles(date.fromisoformat(as_of))["binance-usdm"]
    assert p.version == as_of
    for underlying in ("BTC", "ETH", "SOL", "*"):
        tiers = p.tier_for(underlying)
        assert tiers[0].maintenance_amount == 0.0
        for lo, hi in itertools.pairwise(tiers):
            n = lo.max_notional
            left = n * lo.maintenance_rate - lo.maintenance_amount
            right = n * hi.maintenance_rate - hi.maintenance_amount
            assert left == pytest.approx(right, rel=1e-12, abs=1e-6), (underlying, n)
            assert hi.max_notional > lo.max_notional
            assert hi.initial_rate >= lo.initial_rate and hi.maintenance_rate >= lo.maintenance_rate
    btc = p.tier_for("BTC")
    if as_of == "2024-09-01":
        assert btc[0] == Tier(50_000, 1 / 125, 0.004, 0.0)
        assert btc[-1].maintenance_amount == 421_481_450.0  # Binance's published cum
    if as_of == "2021-03-18":  # the FAQ's cum amounts: BTCUSDT 16,300 at 2.5 %, ETHUSDT 135,365 at 10 %
        assert (btc[3].maintenance_rate, btc[3].maintenance_amount) == (0.025, 16_300.0)
        eth = p.tier_for("ETH")
        assert (eth[5].maintenance_rate, eth[5].maintenance_amount) == (0.10, 135_365.0)
    if as_of == "2025-08-19":  # 150x to 300,000, then 100x at 0.5 % with cum 300
        assert btc[0] == Tier(300_000, 1 / 150, 0.004, 0.0)
        assert (btc[1].maintenance_amount, len(btc)) == (300.0, 12)
    assert p.tier_for("DOGE") == p.tiers["*"]


def test_corr_and_range_lookups() -> None:
    pp = shipped_profiles()["default"].portfolio
    assert pp.corr("BTC", "ETH") == pp.corr("ETH", "BTC") == 0.85
    assert pp.corr("BTC", "BTC") == 1.0
    assert pp.corr("BTC", "SOL") == 1.0
    assert pp.range_for("ETH") == 0.16 and pp.range_for("XRP") == 0.25
    no_star = load_profiles({"x": {"portfolio": {"range": {"BTC": 0.1}}}})["x"]
    with pytest.raises(ProfileError) as err:
        no_star.portfolio.range_for("ETH")
    assert err.value.source == "portfolio.profiles.x" and err.value.key == "portfolio.range.ETH"
    # a profile's `tiers` table is taken whole: no brackets inherited for underlyings it omits
    only_star = load_profiles({"y": {"tiers": {"*": [{"max_notional": 1e30, "initial_rate": 0.05,
                                                       "maintenance_rate": 0.025,
                                                       "maintenance_amount": 0.0}]}}})["y"]
    assert only_star.tier_for("BTC") == only_star.tiers["*"]
    assert only_star.tier_for("BTC")[0].initial_rate == 0.05


def test_get_profile() -> None:
    profiles = load_profiles()
    assert get_profile("okx-pm", profiles).name == "okx-pm"
    with pytest.raises(ProfileError) as err:
        get_profile("nope", profiles)
    assert "nope" in str(err.value) and "default" in str(err.value)


# ------------------------------------------------------------------------------ merge rules
def test_new_name_is_built_on_default() -> None:
    p = load_profiles({"mine": {"portfolio": {"im_factor": 1.5}}})["mine"]
    d = shipped_profiles()["default"]
    assert p.name == "mine"
    assert p.portfolio.im_factor == 1.5
    assert (
        p.portfolio.range == d.portfolio.range and p.tiers == d.tiers and p.haircuts == d.haircuts
    )


def test_shipped_name_is_deep_merged() -> None:
    shipped = shipped_profiles()["okx-pm"]
    p = load_profiles({"okx-pm": {"options": {"short_mm": 0.08}, "portfolio": {"vol_floor": 0.2}}})[
        "okx-pm"
    ]
    assert p.options.short_mm == 0.08 and p.options.short_im_base == shipped.options.short_im_base
    assert p.portfolio.vol_floor == 0.2
    assert (
        p.portfolio.range == shipped.portfolio.range and p.portfolio.tail == shipped.portfolio.tail
    )
    assert p.haircuts == shipped.haircuts and p.source == shipped.source
    assert shipped_profiles()["okx-pm"] == shipped  # the cache is untouched


def test_table_valued_keys_replace_whole() -> None:
    base = shipped_profiles()["binance-usdm"]
    p = load_profiles(
        {
            "binance-usdm": {
                "haircuts": {"BTC": 0.1},
                "tiers": {
                    "BTC": [{"max_notional": 1e9, "initial_rate": 0.05, "maintenance_rate": 0.025}]
                },
                "stablecoins": ["USDT"],
                "portfolio": {"range": {"BTC": 0.2}, "correlation": {"BTC/SOL": 0.7}},
            }
        }
    )["binance-usdm"]
    assert dict(p.haircuts) == {"BTC": ((math.inf, 0.1),)}
    assert p.haircut_bands("ETH") == ((math.inf, 0.0),)  # no "*" left: no haircut
    assert p.tier_for("BTC") == (Tier(1e9, 0.05, 0.025, 0.0),)
    assert base.tier_for("ETH")  # the shipped table had ETH brackets ...
    with pytest.raises(ProfileError):  # ... the override's table is taken whole
        p.tier_for("ETH")
    assert p.stablecoins == ("USDT",)
    assert dict(p.portfolio.range) == {"BTC": 0.2}
    assert dict(p.portfolio.correlation) == {("BTC", "SOL"): 0.7}
    assert p.portfolio.corr("BTC", "ETH") == 1.0


def test_scenarios_inherited_or_dropped() -> None:
    scen = [[0.18, "up", 1.0], [0.0, "none", 1.0], [-0.18, "down", 1.0], [-0.3, "up", 0.5]]
    profiles = load_profiles({"derive": {"portfolio": {"scenarios": scen, "vol_floor": 0.3}}})
    d = profiles["derive"].portfolio
    assert d.scenario_list("BTC") == [
        (0.18, "up", 1.0),
        (0.0, "none", 1.0),
        (-0.18, "down", 1.0),
        (-0.3, "up", 0.5),
    ]
    assert d.vol_floor == 0.3

    base = profiles["derive"]
    # lay overrides on a profile that has scenarios, through the same merge as a shipped name
    from workstation.core.profiles import merge_profile_dicts

    raw = merge_profile_dicts(METHOD_DEFAULTS, {"portfolio": {"scenarios": scen}}, "t")
    kept = profile_from_dict({"portfolio": {"im_factor": 1.1}}, "t", raw).portfolio
    assert kept.scenarios == base.portfolio.scenarios
    for key, value in (("range", {"*": 0.1}), ("price_steps", 5), ("tail", [])):
        dropped = profile_from_dict({"portfolio": {key: value}}, "t", raw).portfolio
        assert dropped.scenarios is None, key
    both = profile_from_dict(
        {"portfolio": {"range": {"*": 0.1}, "scenarios": [[0.1, "up", 1.0]]}}, "t", raw
    )
    assert both.portfolio.scenario_list("BTC") == [(0.1, "up", 1.0)]


def test_grid_with_other_steps() -> None:
    p = load_profiles({"g": {"portfolio": {"price_steps": 5, "range": {"*": 0.2}, "tail": []}}})[
        "g"
    ]
    scen = p.portfolio.scenario_list("BTC")
    assert len(scen) == 15
    assert sorted({s for s, _, _ in scen}) == pytest.approx([-0.2, -0.1, 0.0, 0.1, 0.2])


# ------------------------------------------------------------------------------ validation
def _write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BAD_TOML = [
    ('colour = "red"', "colour", "unknown key"),
    ("name = 5", "name", "string"),
    ('as_of = "yesterday"', "as_of", "ISO date"),
    ('stablecoins = "USDT"', "stablecoins", "list"),
    ("[haircuts]\nBTC = 1.5", "haircuts.BTC", "<= 1"),
    ("[haircuts]\nBTC = -0.1", "haircuts.BTC", ">= 0"),
    ("[haircuts]\nBTC = nan", "haircuts.BTC", "finite"),
    ("[haircuts]\nBTC = [[200, 0.0], [100, 0.1]]", "haircuts.BTC[1][0]", "increase"),
    ("[haircuts]\nBTC = [[100, 0.0, 1]]", "haircuts.BTC[0]", "upper_value"),
    ('[haircuts]\nBTC = "a lot"', "haircuts.BTC", "number"),
    (
        "[[tiers.BTC]]\nmax_notional = 100\ninitial_rate = -0.01\nmaintenance_rate = 0.0",
        "tiers.BTC[0].initial_rate",
        "> 0",
    ),
    (
        "[[tiers.BTC]]\nmax_notional = 100\ninitial_rate = inf\nmaintenance_rate = 0.0",
        "tiers.BTC[0].initial_rate",
        "finite",
    ),
    (
        "[[tiers.BTC]]\nmax_notional = 100\ninitial_rate = 0.02\nmaintenance_rate = 0.03",
        "tiers.BTC[0].maintenance_rate",
        "initial_rate",
    ),
    (
        "[[tiers.BTC]]\nmax_notional = 200\ninitial_rate = 0.02\nmaintenance_rate = 0.01\n"
        "[[tiers.BTC]]\nmax_notional = 100\ninitial_rate = 0.05\nmaintenance_rate = 0.02",
        "tiers.BTC[1].max_notional",
        "increase",
    ),
    (
        "[[tiers.BTC]]\nmax_notional = 100\ninitial_rate = 0.02\nmaintenance_rate = 0.01\n"
        "leverage = 50",
        "tiers.BTC[0].leverage",
        "unknown key",
    ),
    (
        "[[tiers.BTC]]\ninitial_rate = 0.02\nmaintenance_rate = 0.01",
        "tiers.BTC[0].max_notional",
        "missing",
    ),
    ("[options]\nshort_mm = -1", "options.short_mm", ">= 0"),
    ("[options]\nlong_mm = 0.1", "options.long_mm", "unknown key"),
    ("[portfolio]\nprice_steps = 8", "portfolio.price_steps", "odd"),
    ("[portfolio]\nprice_steps = 1", "portfolio.price_steps", ">= 3"),
    ("[portfolio]\nprice_steps = 9.5", "portfolio.price_steps", "integer"),
    ('[portfolio]\naggregation = "max"', "portfolio.aggregation", "sum or correlated"),
    ('[portfolio]\ncorrelation = { "BTC/ETH" = 1.2 }', "portfolio.correlation.BTC/ETH", "<= 1"),
    ('[portfolio]\ncorrelation = { "BTC/ETH" = -1.5 }', "portfolio.correlation.BTC/ETH", ">= -1"),
    ('[portfolio]\ncorrelation = { "BTC-ETH" = 0.5 }', "portfolio.correlation.BTC-ETH", "pair"),
    ('[portfolio]\ncorrelation = { "BTC/BTC" = 0.5 }', "portfolio.correlation.BTC/BTC", "pair"),
    (
        '[portfolio]\ncorrelation = { "BTC/ETH" = 0.5, "ETH/BTC" = 0.6 }',
        "portfolio.correlation.ETH/BTC",
        "twice",
    ),
    (
        '[portfolio]\nscenarios = [[0.1, "sideways", 1.0]]',
        "portfolio.scenarios[0][1]",
        "up, none or down",
    ),
    ('[portfolio]\nscenarios = [[0.1, "up"]]', "portfolio.scenarios[0]", "spot_shock"),
    ('[portfolio]\nscenarios = [[-1.5, "up", 1.0]]', "portfolio.scenarios[0][0]", "> -1"),
    ("[portfolio]\nmm_factor = 0", "portfolio.mm_factor", "> 0"),
    ("[portfolio]\nim_factor = -1.3", "portfolio.im_factor", "> 0"),
    ("[portfolio]\nrange = { BTC = 0 }", "portfolio.range.BTC", "> 0"),
    ("[portfolio]\nrange = { BTC = 1.5 }", "portfolio.range.BTC", "<="),
    ("[portfolio]\ntail = [[-0.5]]", "portfolio.tail[0]", "spot_move"),
    ("[portfolio]\ntail = [[-0.5, 2.0]]", "portfolio.tail[0][1]", "<= 1"),
    ("[portfolio]\ndte_floor = 0", "portfolio.dte_floor", "> 0"),
    ("[portfolio]\nvol_shock_up = -0.5", "portfolio.vol_shock_up", ">= 0"),
    ("[portfolio]\nvol_floor = -0.1", "portfolio.vol_floor", ">= 0"),
    (
        '[portfolio]\ncollateral_in_scenarios = "yes"',
        "portfolio.collateral_in_scenarios",
        "true or false",
    ),
    ("[portfolio]\nrisk_free = 0.0", "portfolio.risk_free", "unknown key"),
    ("portfolio = 3", "portfolio", "table"),
    ("name = ", "(file)", "TOML"),
]


@pytest.mark.parametrize(("text", "key", "problem"), BAD_TOML)
def test_bad_file_names_file_and_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ProfileError) as err:
        load_profile_file(path)
    assert err.value.source == str(path)
    assert err.value.key == key
    assert problem in err.value.problem
    assert str(path) in str(err.value) and key in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as err:
        load_profile_file(tmp_path / "absent.toml")
    assert err.value.key == "(file)" and "absent.toml" in err.value.source


def test_good_file_with_unquoted_date(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'name = "mine"\nsource = "me"\nas_of = 2026-11-20\n[portfolio]\nvol_floor = 0.25\n',
    )
    p = load_profile_file(path)
    assert (p.name, p.source, p.as_of, p.portfolio.vol_floor) == ("mine", "me", "2026-11-20", 0.25)


BAD_JSON: list[tuple[dict[str, Any], str, str]] = [
    ({"portfolio": {"aggregation": "max"}}, "portfolio.aggregation", "sum or correlated"),
    ({"haircuts": {"ETH": [[1e6, 0.0], [1e6, 0.1]]}}, "haircuts.ETH[1][0]", "increase"),
    ({"tiers": {"SOL": []}}, "tiers.SOL", "empty"),
    (
        {
            "tiers": {
                "SOL": [
                    {"max_notional": 1e5, "initial_rate": 0.02, "maintenance_rate": float("nan")}
                ]
            }
        },
        "tiers.SOL[0].maintenance_rate",
        "finite",
    ),
    ({"portfolio": {"price_steps": True}}, "portfolio.price_steps", "integer"),
    (
        {"portfolio": {"short_option_contingency": -0.01}},
        "portfolio.short_option_contingency",
        ">= 0",
    ),
    (
        {"portfolio": {"futures_contingency": float("inf")}},
        "portfolio.futures_contingency",
        "finite",
    ),
    ({"name": "other"}, "name", "must match"),
    ({"extra": 1}, "extra", "unknown key"),
    ({"options": [0.15]}, "options", "table"),
]


@pytest.mark.parametrize(("body", "key", "problem"), BAD_JSON)
def test_bad_portfolio_profile_names_profile_and_key(
    body: dict[str, Any], key: str, problem: str
) -> None:
    for name in ("custom", "deribit-pm"):  # a new name and a shipped name
        with pytest.raises(ProfileError) as err:
            load_profiles({name: body})
        assert err.value.source == f"portfolio.profiles.{name}"
        assert err.value.key == key
        assert problem in err.value.problem


def test_profile_body_must_be_an_object() -> None:
    with pytest.raises(ProfileError) as err:
        load_profiles({"x": 3}, source="profiles")
    assert err.value.source == "profiles.x"
