"""The main window's menu bar: File, Edit, View, Help."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence


def build_menus(window: Any) -> None:
    """Fill `window`'s menu bar; sets `import_action`, `edit_actions` and `theme_actions` on it."""
    editor = window.editor
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction("&Open portfolio…", QKeySequence.StandardKey.Open, editor.open_portfolio)
    file_menu.addAction("Open &database…", editor.open_database)
    window.import_action = file_menu.addAction("&Import…", QKeySequence("Ctrl+I"), editor.import_file)
    file_menu.addAction("&Export…", QKeySequence("Ctrl+E"), editor.export_file)
    file_menu.addSeparator()
    file_menu.addAction("&Quit", QKeySequence.StandardKey.Quit, window.close)

    edit = bar.addMenu("&Edit")
    edit.addAction(editor.safety.undo_action)
    edit.addSeparator()
    window.edit_actions = [
        edit.addAction("&Add position…", QKeySequence("Ctrl+N"), editor.add_position),
        edit.addAction("&Edit position…", editor.edit_current_position),
        edit.addAction("&Delete position", editor.delete_current_position),
    ]
    edit.addSeparator()
    window.edit_actions += [
        edit.addAction("Add &collateral…", editor.add_collateral),
        edit.addAction("Edit c&ollateral…", editor.edit_current_collateral),
        edit.addAction("Delete co&llateral", editor.delete_current_collateral),
    ]
    edit.addSeparator()
    window.edit_actions += [
        edit.addAction("&Market price and vol…", QKeySequence("Ctrl+M"), editor.edit_quote),
        edit.addAction("&Forwards per expiry…", editor.edit_forwards),
        edit.addAction("Confidence, moves with, pe&g…", editor.edit_quote_details),
        edit.addAction("Account mode and &profile…", editor.edit_account_mode),
    ]
    edit.addSeparator()
    edit.addAction("&Settings…", QKeySequence("Ctrl+,"), editor.open_settings)

    view = bar.addMenu("&View")
    theme_menu = view.addMenu("&Theme")
    group = QActionGroup(window)
    window.theme_actions: dict[str, QAction] = {}
    for name in ("light", "dark"):
        action = theme_menu.addAction(name.capitalize())
        action.setCheckable(True)
        action.triggered.connect(lambda _c=False, n=name: window.set_theme(n))
        group.addAction(action)
        window.theme_actions[name] = action
    view.addAction(window.tree_dock.toggleViewAction())
    view.addAction("&Book", QKeySequence("Ctrl+Shift+B"), lambda: window.tabs.setCurrentWidget(window.main_split))
    view.addAction("&What-if / hedge", QKeySequence("Ctrl+Shift+W"), window.show_whatif)
    view.addAction("&Accounts overview", QKeySequence("Ctrl+Shift+A"),
                   lambda: window.tabs.setCurrentWidget(window.overview))
    view.addAction("Margin &history", QKeySequence("Ctrl+Shift+H"),
                   lambda: window.tabs.setCurrentWidget(window.history))
    view.addAction("&Stress tests", QKeySequence("Ctrl+Shift+S"),
                   lambda: window.tabs.setCurrentIndex(window.stress_tab.index()))
    view.addSeparator()
    view.addAction("&Reset chart views", window.reset_chart_views)
    view.addAction("&Recompute", QKeySequence.StandardKey.Refresh, lambda: window.workspace.load(record=True))

    help_menu = bar.addMenu("&Help")
    help_menu.addAction("&About", window.about)
