"""Window layout kept between runs: geometry, dock state, splitters, the positions table header."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

POSITIONS_STATE = "layout/positions-v2"  # the columns changed: older saved states do not apply


def _state(widget: Any, save: bool, key: str) -> Any:
    """The save or restore method of `widget` for `key` (a main window has two)."""
    if isinstance(widget, QMainWindow) and key.endswith("geometry"):
        return widget.saveGeometry if save else widget.restoreGeometry
    return widget.saveState if save else widget.restoreState


def restore_layout(settings: QSettings, parts: dict[str, Any]) -> bool:
    """Restore every part that has a saved state; True when the positions header was restored."""
    header = False
    for key, widget in parts.items():
        value = settings.value(key)
        if widget is None or not isinstance(value, QByteArray | bytes):
            continue
        done = _state(widget, False, key)(QByteArray(value))
        header = header or (done and key == POSITIONS_STATE)
    return bool(header)


def save_layout(settings: QSettings, parts: dict[str, Any]) -> None:
    """Save every part that exists (parts still None keep their saved state)."""
    for key, widget in parts.items():
        if widget is not None:
            settings.setValue(key, _state(widget, True, key)())
    settings.sync()
