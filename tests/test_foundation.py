"""The ground rules: layering, entry points, the CLI's help."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": ("PySide6", "pyqtgraph", "sqlite_utils", "sqlite3", "workstation.store", "workstation.ui"),
    "store": ("PySide6", "pyqtgraph", "workstation.ui"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_forbidden(layer):
    files = sorted((ROOT / "workstation" / layer).rglob("*.py"))
    assert files
    bad = [(f.name, name) for f in files for name in _imports(f)
           if any(name == x or name.startswith(x + ".") for x in FORBIDDEN[layer])]
    assert bad == []


def test_the_layer_check_catches_a_qt_import(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from PySide6.QtCore import QObject\nimport numpy\n")
    assert "PySide6.QtCore" in _imports(f)


def test_cli_help_exits_zero():
    out = subprocess.run([sys.executable, "-m", "workstation", "--help"], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0
    assert "margin" in out.stdout and "whatif" in out.stdout and "db" in out.stdout


def test_entry_points_and_ci():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["gui-scripts"]["margin-workstation"] == "workstation.ui.app:main"
    assert meta["scripts"]["margin-workstation-cli"] == "workstation.cli:run"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "make test" in (ROOT / "README.md").read_text()
