"""Qt item models of the window: checked by pytest-qt's modeltester on real engine output."""

from __future__ import annotations

from pathlib import Path

import pytest

from workstation.core import details
from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report
from workstation.ui.collateral import COLLATERAL_COLUMNS, collateral_rows
from workstation.ui.liquidation import LIQUIDATION_COLUMNS, liquidation_rows
from workstation.ui.position_table import position_table
from workstation.ui.positions import POSITION_COLUMNS
from workstation.ui.positions_model import PositionsModel
from workstation.ui.scope_tree import ScopeTreeModel
from workstation.ui.table_model import RECORD_ROLE, Column, RecordTableModel

DEMO = Path(__file__).parents[1] / "resources" / "demo" / "demo-portfolio.json"


@pytest.fixture(scope="module")
def book():
    return read_portfolio(DEMO)


@pytest.fixture(scope="module")
def pool_report(book):
    scope = f"pool:{book.pools[0].id}" if book.pools else f"account:{book.accounts[0].id}"
    return build_report(book, scope)


def test_positions_model_passes_modeltester(qtmodeltester, book, pool_report) -> None:
    model = PositionsModel(POSITION_COLUMNS)
    labels = details.position_labels(book, pool_report["scope"])
    model.set_table(position_table(pool_report, book, labels))
    assert model.rowCount() == len(pool_report["positions"])
    qtmodeltester.check(model, force_py=True)
    model.set_filter(book.accounts[0].positions[0].underlying, None)
    assert 0 < model.rowCount() < len(pool_report["positions"])
    qtmodeltester.check(model, force_py=True)


def test_same_positions_refresh_without_reset(qtbot, book, pool_report) -> None:
    model = PositionsModel(POSITION_COLUMNS)
    table = position_table(pool_report, book, {})
    model.set_table(table)
    with qtbot.assertNotEmitted(model.modelReset), qtbot.waitSignal(model.dataChanged):
        model.set_table(position_table(pool_report, book, {}))
    with qtbot.waitSignal(model.modelReset):  # a position gone: one reset, whatever the size
        model.set_table(position_table({**pool_report, "positions": pool_report["positions"][1:]}, book, {}))
    assert model.rowCount() == len(pool_report["positions"]) - 1


def test_share_column_is_component_over_initial_margin(book, pool_report) -> None:
    table = position_table(pool_report, book, {})
    im = pool_report["initial_margin"]
    for i in range(len(table)):
        row = table.record(i)
        assert row["share"] == pytest.approx(row["component_margin"] / im, rel=1e-12)


def test_collateral_and_liquidation_models(qtmodeltester, book, pool_report) -> None:
    model = RecordTableModel(COLLATERAL_COLUMNS, key_field="key")
    model.set_records(collateral_rows(details.collateral_lines(book, pool_report["scope"])))
    qtmodeltester.check(model, force_py=True)
    liq = RecordTableModel(LIQUIDATION_COLUMNS, key_field="key")
    liq.set_records(liquidation_rows(pool_report["liquidation"]))
    qtmodeltester.check(liq, force_py=True)
    assert liq.record(liq.rowCount() - 1)["key"] == "all"


def test_tree_model_passes_modeltester(qtmodeltester, book) -> None:
    from workstation.core.report import build_reports

    model = ScopeTreeModel()
    model.set_portfolio(book)
    model.set_reports(build_reports(book))
    qtmodeltester.check(model, force_py=True)
    scopes = {n.scope for n in model.nodes()}
    assert {f"account:{a.id}" for a in book.accounts} <= scopes
    assert {f"pool:{p.id}" for p in book.pools} <= scopes


def test_tree_refresh_does_not_reset(qtbot, book) -> None:
    model = ScopeTreeModel()
    model.set_portfolio(book)
    with qtbot.assertNotEmitted(model.modelReset):
        model.set_portfolio(book)
        model.set_reports([{"scope": f"account:{book.accounts[0].id}", "equity": 1.0, "margin_usage": 0.9}])
    node = next(n for n in model.nodes() if n.scope == f"account:{book.accounts[0].id}")
    assert (node.equity, node.usage) == (1.0, 0.9)


def test_distance_and_sign_colours(qtbot) -> None:
    from PySide6.QtCore import Qt

    from workstation.ui.theme import LIGHT

    model = RecordTableModel(LIQUIDATION_COLUMNS, key_field="key")
    model.set_records(liquidation_rows({
        "BTC": {"down_pct": -12.0, "down_price": 1.0, "up_pct": 25.0, "up_price": 2.0},
        "ETH": {"down_pct": -45.0, "down_price": 1.0, "up_pct": None, "up_price": None},
        "all": {"down_pct": -10.0, "up_pct": None},
    }))
    fg = Qt.ItemDataRole.ForegroundRole
    assert model.index(0, 1).data(fg).name() == LIGHT.red
    assert model.index(0, 3).data(fg).name() == LIGHT.amber
    assert model.index(1, 1).data(fg) is None
    assert model.index(1, 3).data() == "none"
    assert model.index(2, 0).data() == "All together"
    assert model.index(2, 0).data(RECORD_ROLE)["key"] == "all"


def test_columns_are_declared_as_data() -> None:
    keys = [c.key for c in POSITION_COLUMNS]
    for key in ("instrument", "quantity", "mark_price", "market_value", "unrealized_pnl", "delta",
                "gamma", "vega", "theta", "standalone_margin", "marginal_margin",
                "component_margin", "share"):
        assert key in keys
    assert all(isinstance(c, Column) and c.header for c in POSITION_COLUMNS)


def test_instrument_names_and_coin_delta_per_account(book, pool_report) -> None:
    scope = pool_report["scope"]
    labels = details.position_labels(book, scope)
    coin = details.coin_deltas(book, scope)
    table = position_table(pool_report, book, labels, coin)
    rows = {table.record(i)["key"]: table.record(i) for i in range(len(table))}
    assert set(rows) == {f"{p['account']}/{p['id']}" for p in pool_report["positions"]}
    for acc in book.accounts:
        for pos in acc.positions:
            row = rows[f"{acc.id}/{pos.id}"]
            if pos.kind == "option" and pos.settlement == "inverse":
                # venues' coin delta: q * (N(d1) - price in coin) = base delta - q * mark(coin)
                expected = row["delta"] - pos.quantity * row["mark_price"]
                assert row["coin_delta"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
                assert row["instrument"].endswith(("C (inv)", "P (inv)"))
            else:
                assert row["coin_delta"] == pytest.approx(row["delta"], rel=1e-12)


def test_record_panels_refuse_edits_when_read_only(qtbot, book) -> None:
    from workstation.ui.collateral import CollateralPanel

    panel = CollateralPanel()
    qtbot.addWidget(panel)
    lines = details.collateral_lines(book, f"account:{book.accounts[0].id}")
    panel.set_lines(lines, show_account=False)
    panel.view.selectRow(0)
    assert panel.current_record()["asset"] == lines[0]["asset"]
    assert panel.edit_button.isEnabled() and panel.delete_button.isEnabled()
    with qtbot.waitSignal(panel.delete_requested):
        panel.delete_button.click()
    panel.set_editable(False)  # a portfolio file opened read-only
    assert not (panel.add_button.isEnabled() or panel.edit_button.isEnabled() or panel.delete_button.isEnabled())
    with qtbot.assertNotEmitted(panel.delete_requested), qtbot.assertNotEmitted(panel.edit_requested):
        panel._delete()
        panel._edit()


class _EveryRole:
    """A role set holding every role: the models' answers without their early return."""

    def __contains__(self, role: object) -> bool:
        return True


def _answer(value: object) -> object:
    """A comparable form of a model's answer (Qt objects compare by what they show)."""
    from PySide6.QtGui import QBrush, QColor, QFont, QIcon

    if isinstance(value, QBrush):
        return ("brush", value.color().name())
    if isinstance(value, QColor):
        return ("colour", value.name())
    if isinstance(value, QFont):
        return ("font", value.toString())
    if isinstance(value, QIcon):
        return ("icon", value.cacheKey())
    return value


def _answers(model, parent=None) -> list:
    """Every cell's answer to roles 0-40 and the user roles 256-260, the tree walked too."""
    from PySide6.QtCore import QModelIndex

    parent = parent or QModelIndex()
    out = []
    for r in range(model.rowCount(parent)):
        for c in range(model.columnCount(parent)):
            index = model.index(r, c, parent)
            out += [(r, c, role, _answer(model.data(index, role))) for role in [*range(41), *range(256, 261)]]
        if model.rowCount(model.index(r, 0, parent)):
            out += _answers(model, model.index(r, 0, parent))
    return out


def test_early_return_for_unasked_roles_changes_no_answer(qtbot, book, pool_report, monkeypatch) -> None:
    """Each model returns at once for a role it does not answer (Qt asks each painted cell for
    seven); every cell's answer to every role is the same as without that return. The tree has
    one scope past liquidation (its own font, colour and icon)."""
    from workstation.core.report import build_reports

    positions = PositionsModel(POSITION_COLUMNS)
    positions.set_table(position_table(pool_report, book, details.position_labels(book, pool_report["scope"])))
    collateral = RecordTableModel(COLLATERAL_COLUMNS, key_field="key")
    collateral.set_records(collateral_rows(details.collateral_lines(book, pool_report["scope"])))
    tree = ScopeTreeModel()
    tree.set_portfolio(book)
    reports = build_reports(book)
    reports[0] = {**reports[0], "equity": 10.0, "maintenance_margin": 20.0, "margin_usage": 2.0}
    tree.set_reports(reports)
    assert any(n.state == "past" for n in tree.nodes())
    from dataclasses import replace

    from workstation.ui.whatif_compare import CompareTabs
    from workstation.ui.whatif_compute import Draft, run_whatif

    account = book.accounts[0]
    hedge = replace(account.positions[0], id="draft-1", quantity=-account.positions[0].quantity)
    result = run_whatif(book, account.id, [Draft(key="d1", position=hedge)], scope=f"account:{account.id}")
    tabs = CompareTabs()
    qtbot.addWidget(tabs)
    tabs.show_result(result, book, False, 1.0, tabs.figures._fmt)
    for model in (positions, collateral, tree, tabs.figures):
        filtered = _answers(model)
        assert sum(a is not None for *_, a in filtered) > 0
        monkeypatch.setattr(type(model), "_ANSWERED", _EveryRole())
        assert _answers(model) == filtered


def test_numbers_align_right_and_text_left() -> None:
    from PySide6.QtCore import Qt

    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    assert Column("Equity", "equity", fmt="money").alignment == right.value
    assert Column("Size", "qty", fmt="qty").alignment == right.value
    assert Column("Account", "account").alignment == left.value
    model = RecordTableModel([Column("Account", "account"), Column("Equity", "equity", fmt="money")])
    model.set_records([{"id": "a", "account": "deribit", "equity": 1.5}])
    assert model.data(model.index(0, 0), Qt.ItemDataRole.TextAlignmentRole) == left.value
    assert model.data(model.index(0, 1), Qt.ItemDataRole.TextAlignmentRole) == right.value
