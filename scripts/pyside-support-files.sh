#!/usr/bin/env bash
# PySide6 keeps its support modules (the signature loader) inside libshiboken6 and compiles them
# at every start unless they are on disk, where Python caches their bytecode: about 15 ms of
# every window's start. shiboken6's own switch writes them: SBK_EMBED=0 extracts the installed
# version's files into shiboken6/files.dir, which every later import then loads.
#
# Optional: it fails `make` only when PySide6 cannot start. It must never leave a copy that
# breaks or misleads PySide6: shiboken6 loads files.dir whenever it exists, and aborts the
# process ("could not initialize part 2") when the loader is missing there (a partial copy:
# disk full). So the old copy is removed first (a stale one of an older version after an
# upgrade: pip leaves files.dir behind), and a copy that does not import is removed. The
# user's own SBK_EMBED (which makes every start remove or rewrite the copy) is ignored here.
set -uo pipefail
python="$1"
warn() { echo "PySide6 support files: $* (no loss but speed)" >&2; }
quiet() { ("$@"; exit $?) >/dev/null 2>&1; }  # the subshell also keeps bash's "Aborted" notice
imports() { quiet env -u SBK_EMBED "$python" -c "import shiboken6"; }

# the path without importing shiboken6 (its import loads files.dir, and aborts on a broken one)
dir="$(env -u SBK_EMBED "$python" -c 'import importlib.util, pathlib
spec = importlib.util.find_spec("shiboken6")
print(pathlib.Path(spec.origin).resolve().parent / "files.dir")' 2>/dev/null)" || { warn "shiboken6 not found"; exit 0; }

if [ -e "$dir" ] && ! quiet rm -rf "$dir"; then
    if ! imports; then
        echo "PySide6 support files: $dir is broken (PySide6 cannot start) and cannot be removed: remove it by hand" >&2
        exit 1
    fi
    echo "PySide6 support files: cannot remove $dir, which PySide6 loads at every start:" \
         "remove it by hand if shiboken6 was upgraded since it was written" >&2
    exit 0
fi
if ! quiet env SBK_EMBED=0 "$python" -c "import shiboken6" || ! imports; then
    quiet rm -rf "$dir"
    warn "not written to $dir; PySide6 compiles its embedded copy"
    exit 0
fi
if [ -d "$dir" ]; then
    "$python" -m compileall -q "$dir" >/dev/null || warn "bytecode not written in $dir"
else
    warn "$dir not writable; PySide6 compiles its embedded copy"
fi
exit 0
