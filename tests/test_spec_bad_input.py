"""Reading portfolio files: every rule of portfolio-format.md "Rules for bad input".

An unknown field, a missing required field, a non-finite or negative price, a zero or negative
strike, an option without expiry, an asset with no market price, a duplicate id or a pool naming
an unknown account is an error that names the JSON path; NaN / Infinity literals are read, then
refused by their path; an option past its expiry is an error unless `"expired": true` with a
`settlement_price`. `isolated_margin` is required in an isolated account, refused elsewhere.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest
from shared_paths import EXAMPLES as _SHARED_EXAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_spec_common as C

EXAMPLES = _SHARED_EXAMPLES
BAD = EXAMPLES / "bad"
PAST = "2025-12-01T00:00:00Z"  # before AS_OF (2026-01-01)


def _base() -> dict:
    return C.portfolio(
        [
            C.account(
                "a",
                "cross",
                {"USDT": 10_000.0, "BTC": 0.5},
                [
                    C.perp("p0", "BTC", 1.0, 50_000.0),
                    C.option("o1", "BTC", "call", 55_000.0, C.expiry_in(30), -1.0, 0.02,
                             "inverse", 0.6),
                    C.spot("s2", "ETH", 2.0, 2_900.0),
                ],
            ),
            C.account("b", "portfolio", {"USDC": 5_000.0},
                      [C.future("f0", "ETH", 1.0, 3_000.0, C.expiry_in(60))]),
        ],
        C.market(BTC=(50_000.0, 0.5), ETH=(3_000.0, 0.6)),
        pools=[{"id": "P", "accounts": ["a", "b"]}],
    )


def _errors():
    from workstation.core.errors import PortfolioError

    return PortfolioError


def _refused(doc: dict, path: str):
    """portfolio_from_dict refuses `doc` naming exactly `path`, also in str(err)."""
    from workstation.core.portfolio_io import portfolio_from_dict

    with pytest.raises(_errors()) as ei:
        portfolio_from_dict(doc)
    assert ei.value.path == path, str(ei.value)
    assert path in str(ei.value)
    return ei.value


def _pos(doc, a, i):
    return doc["accounts"][a]["positions"][i]


def _set(obj, key, value):
    obj[key] = value


def _drop(obj, key):
    del obj[key]


CASES = [
    # ---- unknown fields
    ("unknown-top", lambda d: _set(d, "colour", "blue"), "colour"),
    ("unknown-account", lambda d: _set(d["accounts"][0], "leverage", 10), "accounts[0].leverage"),
    ("unknown-position", lambda d: _set(_pos(d, 0, 1), "side", "sell"),
     "accounts[0].positions[1].side"),
    ("unknown-market", lambda d: _set(d["market"]["BTC"], "bid", 1.0), "market.BTC.bid"),
    ("unknown-pool", lambda d: _set(d["pools"][0], "weight", 1), "pools[0].weight"),
    # ---- missing required fields
    ("missing-format", lambda d: _drop(d, "format"), "format"),
    ("missing-as_of", lambda d: _drop(d, "as_of"), "as_of"),
    ("missing-market", lambda d: _drop(d, "market"), "market"),
    ("missing-accounts", lambda d: _drop(d, "accounts"), "accounts"),
    ("missing-account-id", lambda d: _drop(d["accounts"][1], "id"), "accounts[1].id"),
    ("missing-margin_mode", lambda d: _drop(d["accounts"][0], "margin_mode"),
     "accounts[0].margin_mode"),
    ("missing-collateral", lambda d: _drop(d["accounts"][0], "collateral"),
     "accounts[0].collateral"),
    ("missing-positions", lambda d: _drop(d["accounts"][1], "positions"),
     "accounts[1].positions"),
    ("missing-position-id", lambda d: _drop(_pos(d, 0, 0), "id"), "accounts[0].positions[0].id"),
    ("missing-kind", lambda d: _drop(_pos(d, 0, 0), "kind"), "accounts[0].positions[0].kind"),
    ("missing-underlying", lambda d: _drop(_pos(d, 0, 1), "underlying"),
     "accounts[0].positions[1].underlying"),
    ("missing-quantity", lambda d: _drop(_pos(d, 1, 0), "quantity"),
     "accounts[1].positions[0].quantity"),
    ("missing-entry_price", lambda d: _drop(_pos(d, 0, 2), "entry_price"),
     "accounts[0].positions[2].entry_price"),
    ("missing-settlement-perp", lambda d: _drop(_pos(d, 0, 0), "settlement"),
     "accounts[0].positions[0].settlement"),
    ("missing-right", lambda d: _drop(_pos(d, 0, 1), "right"), "accounts[0].positions[1].right"),
    ("missing-strike", lambda d: _drop(_pos(d, 0, 1), "strike"),
     "accounts[0].positions[1].strike"),
    ("missing-market-price", lambda d: _drop(d["market"]["ETH"], "price"), "market.ETH.price"),
    # ---- wrong types / values
    ("quantity-string", lambda d: _set(_pos(d, 0, 0), "quantity", "forty"),
     "accounts[0].positions[0].quantity"),
    ("kind-unknown", lambda d: _set(_pos(d, 0, 0), "kind", "swap"),
     "accounts[0].positions[0].kind"),
    ("settlement-unknown", lambda d: _set(_pos(d, 0, 0), "settlement", "quanto"),
     "accounts[0].positions[0].settlement"),
    ("right-unknown", lambda d: _set(_pos(d, 0, 1), "right", "straddle"),
     "accounts[0].positions[1].right"),
    ("margin_mode-unknown", lambda d: _set(d["accounts"][0], "margin_mode", "yolo"),
     "accounts[0].margin_mode"),
    ("as_of-garbage", lambda d: _set(d, "as_of", "yesterday"), "as_of"),
    ("expiry-garbage", lambda d: _set(_pos(d, 0, 1), "expiry", "soon"),
     "accounts[0].positions[1].expiry"),
    # ---- negative prices
    ("negative-market-price", lambda d: _set(d["market"]["BTC"], "price", -1.0),
     "market.BTC.price"),
    ("negative-entry-price", lambda d: _set(_pos(d, 0, 0), "entry_price", -50_000.0),
     "accounts[0].positions[0].entry_price"),
    # ---- strikes
    ("zero-strike", lambda d: _set(_pos(d, 0, 1), "strike", 0), "accounts[0].positions[1].strike"),
    ("negative-strike", lambda d: _set(_pos(d, 0, 1), "strike", -55_000.0),
     "accounts[0].positions[1].strike"),
    # ---- expiries
    ("option-without-expiry", lambda d: _drop(_pos(d, 0, 1), "expiry"),
     "accounts[0].positions[1].expiry"),
    ("future-without-expiry", lambda d: _drop(_pos(d, 1, 0), "expiry"),
     "accounts[1].positions[0].expiry"),
    ("option-past-expiry", lambda d: _set(_pos(d, 0, 1), "expiry", PAST),
     "accounts[0].positions[1].expiry"),
    ("expired-without-settlement", lambda d: _pos(d, 0, 1).update(expiry=PAST, expired=True),
     "accounts[0].positions[1].settlement_price"),
    # ---- assets without a market price
    ("collateral-unpriced", lambda d: _set(d["accounts"][0]["collateral"], "DOGE", 1_000.0),
     "accounts[0].collateral.DOGE"),
    ("underlying-unpriced", lambda d: _set(_pos(d, 0, 0), "underlying", "XRP"),
     "accounts[0].positions[0].underlying"),
    # ---- duplicate ids
    ("duplicate-position-id", lambda d: _set(_pos(d, 0, 2), "id", "p0"),
     "accounts[0].positions[2].id"),
    ("duplicate-account-id", lambda d: _set(d["accounts"][1], "id", "a"), "accounts[1].id"),
    ("duplicate-pool-id", lambda d: d["pools"].append({"id": "P", "accounts": ["a"]}),
     "pools[1].id"),
    # ---- pools
    ("pool-unknown-account", lambda d: d["pools"][0]["accounts"].append("nope"),
     "pools[0].accounts[2]"),
    # ---- isolated margin
    ("isolated_margin-in-cross", lambda d: _set(_pos(d, 0, 0), "isolated_margin", 1_000.0),
     "accounts[0].positions[0].isolated_margin"),
    ("isolated_margin-in-portfolio", lambda d: _set(_pos(d, 1, 0), "isolated_margin", 500.0),
     "accounts[1].positions[0].isolated_margin"),
    ("isolated-without-isolated_margin", lambda d: _set(d["accounts"][0], "margin_mode",
                                                        "isolated"),
     "accounts[0].positions[0].isolated_margin"),
]


def test_base_document_is_valid():
    from workstation.core.portfolio_io import portfolio_from_dict

    p = portfolio_from_dict(_base())
    assert [a.id for a in p.accounts] == ["a", "b"]
    assert len(p.accounts[0].positions) == 3


@pytest.mark.parametrize(("mutate", "path"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_document_names_the_path(mutate, path):
    doc = _base()
    mutate(doc)
    _refused(doc, path)


@pytest.mark.parametrize(
    ("where", "literal"),
    [
        (("market", "BTC", "price"), "NaN"),
        (("market", "ETH", "vol"), "NaN"),
        (("accounts", 0, "positions", 0, "entry_price"), "Infinity"),
        (("accounts", 0, "positions", 1, "quantity"), "-Infinity"),
        (("accounts", 0, "collateral", "USDT"), "NaN"),
        (("accounts", 0, "positions", 1, "strike"), "Infinity"),
        (("accounts", 0, "positions", 1, "vol"), "NaN"),
    ],
)
def test_nan_and_infinity_literals_are_read_then_refused_by_path(where, literal):
    from workstation.core.portfolio_io import loads_portfolio

    doc = _base()
    obj = doc
    for k in where[:-1]:
        obj = obj[k]
    obj[where[-1]] = float(literal)
    path = ""
    for k in where:
        path += f"[{k}]" if isinstance(k, int) else (f".{k}" if path else k)
    text = json.dumps(doc)
    assert literal in text  # the JSON text really carries the literal
    with pytest.raises(_errors()) as ei:
        loads_portfolio(text)
    assert ei.value.path == path, str(ei.value)
    assert path in str(ei.value)
    _refused(copy.deepcopy(doc), path)


def test_reading_never_half_succeeds_on_json_syntax_errors():
    from workstation.core.portfolio_io import loads_portfolio

    with pytest.raises(_errors()):
        loads_portfolio('{"format": "margin-workstation/portfolio@1", "as_of": ')


# --------------------------------------------------------------------------- accepted documents
def test_expired_option_with_settlement_price_is_accepted():
    from workstation.core.portfolio_io import portfolio_from_dict

    doc = _base()
    _pos(doc, 0, 1).update(expiry=PAST, expired=True, settlement_price=52_000.0)
    p = portfolio_from_dict(doc)
    o = p.accounts[0].positions[1]
    assert o.expired is True and o.settlement_price == 52_000.0


def test_spot_needs_no_settlement_and_isolated_account_takes_isolated_margin():
    from workstation.core.portfolio_io import portfolio_from_dict

    doc = _base()
    assert "settlement" not in _pos(doc, 0, 2)
    acc = C.account("iso", "isolated", {"USDT": 1_000.0},
                    [dict(C.perp("ip", "BTC", 0.1, 50_000.0), isolated_margin=600.0)])
    doc["accounts"].append(acc)
    p = portfolio_from_dict(doc)
    assert p.accounts[2].positions[0].isolated_margin == 600.0


def test_negative_collateral_and_short_quantities_are_not_prices():
    from workstation.core.portfolio_io import portfolio_from_dict

    doc = _base()
    doc["accounts"][0]["collateral"]["USDT"] = -5_000.0
    p = portfolio_from_dict(doc)
    assert p.accounts[0].collateral["USDT"] == -5_000.0
    assert p.accounts[0].positions[1].quantity == -1.0


# --------------------------------------------------------------------------- shared bad examples
def _expected_table() -> dict[str, str]:
    rows = re.findall(r"^\|\s*([\w.-]+\.json)\s*\|\s*([^|]+?)\s*\|\s*$",
                      (BAD / "EXPECTED.md").read_text(), flags=re.M)
    return dict(rows)


def test_expected_table_lists_every_bad_example():
    table = _expected_table()
    assert set(table) == {f.name for f in BAD.glob("*.json")}


@pytest.mark.parametrize("name", sorted(f.name for f in BAD.glob("*.json")))
def test_bad_example_files_are_refused_with_their_path(name):
    from workstation.core.portfolio_io import read_portfolio

    path = _expected_table()[name]
    with pytest.raises(_errors()) as ei:
        read_portfolio(BAD / name)
    assert ei.value.path == path, str(ei.value)
    assert path in str(ei.value)


# --------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("name", sorted(f.name for f in EXAMPLES.glob("*.json")))
def test_examples_round_trip_losslessly(name):
    from workstation.core.portfolio_io import loads_portfolio, read_portfolio
    from workstation.core.portfolio_write import dumps_portfolio

    p = read_portfolio(EXAMPLES / name)
    text = dumps_portfolio(p)
    assert loads_portfolio(text) == p
    assert dumps_portfolio(loads_portfolio(text)) == text


def test_own_profiles_round_trip():
    from workstation.core.portfolio_io import loads_portfolio, portfolio_from_dict
    from workstation.core.portfolio_write import dumps_portfolio

    p = portfolio_from_dict(_base())
    q = loads_portfolio(dumps_portfolio(p))
    assert q == p
    assert q.profiles["t-pm"]["portfolio"]["im_factor"] == 1.3
