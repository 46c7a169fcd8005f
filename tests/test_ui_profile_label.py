"""The dashboard names the margin profile and the version in force on the book's date."""

from __future__ import annotations

from shared_paths import EXAMPLES

from workstation.core.portfolio_io import read_portfolio
from workstation.core.report import build_report
from workstation.ui.dashboard import Dashboard, profile_text


def test_profile_label_shows_profile_and_version(qtbot) -> None:
    p = read_portfolio(EXAMPLES / "venues" / "binance-usdm-faq-cross.portfolio.json")
    report = build_report(p, "account:bn", with_liquidation=False)
    board = Dashboard()
    qtbot.addWidget(board)
    board.set_report(report)
    assert board.profile.text() == "profile binance-usdm · 2021-03-18"
    board.set_report({**report, "profile": "mine", "profile_version": None})
    assert board.profile.text() == "profile mine · undated"
    board.set_report(None)
    assert board.profile.text() == ""
    assert profile_text({"scope": "account:x"}) == ""
