"""Where `shared/` (spec and example portfolios) lies: beside the checkout (CI lays a copy there),
else the workplace's /work/shared."""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (_ROOT.parent / "shared", Path("/work/shared")) if (p / "examples").is_dir()),
              _ROOT.parent / "shared")
EXAMPLES = SHARED / "examples"
BAD = EXAMPLES / "bad"
