"""Light and dark themes: a palette, the QSS in `resources/styles/`, and colours for charts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("light", "dark")


@dataclass(frozen=True)
class Theme:
    """Colours of one theme; `calm`/`amber`/`red` are the usage and liquidation bands."""

    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    border: str
    highlight: str
    highlight_text: str
    calm: str
    amber: str
    red: str
    accent: str
    hedge: str
    equity: str
    margin: str
    pnl: str

    def level(self, level: str) -> QColor:
        """QColor of a band ('calm', 'amber', 'red'; 'past' liquidation is red); muted otherwise."""
        colours = {"calm": self.calm, "amber": self.amber, "red": self.red, "past": self.red}
        return QColor(colours.get(level, self.muted))


LIGHT = Theme(
    name="light", window="#f3f4f6", base="#ffffff", alt_base="#f8f9fb", text="#1d232b",
    muted="#6a737d", border="#d5dae0", highlight="#2f6fdb", highlight_text="#ffffff",
    calm="#23865a", amber="#b86e00", red="#c62828", accent="#3b6fc4", hedge="#23865a",
    equity="#3b6fc4", margin="#c62828", pnl="#6a737d",
)
DARK = Theme(
    name="dark", window="#1e2126", base="#16181c", alt_base="#1b1e23", text="#e3e6ea",
    muted="#9aa3ad", border="#353a42", highlight="#3d7be0", highlight_text="#ffffff",
    calm="#4cc38a", amber="#f0a431", red="#ff6b6b", accent="#6c9ef0", hedge="#4cc38a",
    equity="#6c9ef0", margin="#ff6b6b", pnl="#9aa3ad",
)


def theme_named(name: str) -> Theme:
    return DARK if name == "dark" else LIGHT


def resources_dir() -> Path:
    """The repository's `resources/` folder (the package is installed editable)."""
    return Path(__file__).resolve().parents[2] / "resources"


def stylesheet(theme: Theme) -> str:
    """The theme's QSS from `resources/styles/NAME.qss` (empty if the file is missing); `@ICONS@`
    in it is the icons folder (QSS resolves relative urls against the working directory)."""
    path = resources_dir() / "styles" / f"{theme.name}.qss"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    return text.replace("@ICONS@", (resources_dir() / "icons").as_posix())


def palette(theme: Theme) -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base,
        QPalette.ColorRole.AlternateBase: theme.alt_base,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.window,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.ToolTipBase: theme.base,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.Highlight: theme.highlight,
        QPalette.ColorRole.HighlightedText: theme.highlight_text,
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Mid: theme.border,
        QPalette.ColorRole.Midlight: theme.border,
        QPalette.ColorRole.Light: theme.base,
        QPalette.ColorRole.Dark: theme.border,
        QPalette.ColorRole.BrightText: theme.red,
        QPalette.ColorRole.Link: theme.accent,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
    return pal


FUSION_STYLE = "workstationFusion"  # an application property: its style is Fusion, set once


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Fusion style, the theme's palette and QSS on the whole application.

    The style is set once, and the application marked (`FUSION_STYLE`): `setStyle` destroys the
    old style object, which widgets with style sheets of their own may still refer to while they
    are being re-polished (a crash seen when a window is built while another one is being
    deleted). The mark, not the style's name, says so: with a style sheet set, the application's
    style is Qt's style sheet style, whose name is empty. An application started in Fusion
    (`app.make_application`) is marked from its start, so the style is not even asked for (the
    first QStyle handed to Python makes its type and enums: 8-11 ms of every start)."""
    if app.property(FUSION_STYLE) is not True:
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setProperty(FUSION_STYLE, True)
    app.setPalette(palette(theme))
    sheet = stylesheet(theme)
    if app.styleSheet() != sheet:
        app.setStyleSheet(sheet)


def numeric_font(base: QFont | None = None, point_size: float | None = None) -> QFont:
    """The UI font with tabular (equal-width) digits so columns of numbers line up."""
    font = QFont(base) if base is not None else QFont()
    font.setFeature(QFont.Tag("tnum"), 1)
    if point_size:
        font.setPointSizeF(point_size)
    return font


TABLE_POINT_SIZE = 9.0  # tables and the tree: dense, like a trading screen
