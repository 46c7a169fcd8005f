#!/usr/bin/env bash
# PySide6 keeps its support modules (the signature loader) inside libshiboken6 and compiles them
# at every start unless they are on disk, where Python caches their bytecode: about 15 ms of
# every window's start. shiboken6's own switch does it: SBK_EMBED=1 removes the copy on disk (a
# stale one of an older version after an upgrade), SBK_EMBED=0 writes the installed version's.
# Optional: when the copy cannot be written, PySide6 goes on compiling the embedded sources.
set -euo pipefail
python="$1"
SBK_EMBED=1 "$python" -c "import shiboken6"
SBK_EMBED=0 "$python" -c "import shiboken6"
dir="$("$python" -c 'import pathlib, shiboken6; print(pathlib.Path(shiboken6.__file__).parent / "files.dir")')"
if [ -d "$dir" ]; then
    "$python" -m compileall -q "$dir" >/dev/null || echo "PySide6 support files: bytecode not written (no loss but speed)"
fi
