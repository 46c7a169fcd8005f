# The commands of the README: `make run`, `make test` and `make bench`.
# Each does all set-up on a fresh machine: Debian libraries Qt needs, .venv, editable install.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PySide6's support files on disk (scripts/pyside-support-files.sh): written again after an
# install and after any upgrade of shiboken6, even one by pip outside make (a stale copy stays)
SUPPORT := $(VENV)/.pyside-support
SHIBOKEN := $(wildcard $(VENV)/lib/python*/site-packages/shiboken6/__init__.py)
QT_DEBS := libegl1 libgl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3 libx11-6 fonts-dejavu-core
XVFB_DEBS := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxkbcommon-x11-0

.PHONY: run test explore setup system-deps clean bench

setup: system-deps $(STAMP) $(SUPPORT)

system-deps:
	@bash scripts/ensure-debs.sh $(QT_DEBS)

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

$(SUPPORT): $(STAMP) $(SHIBOKEN) scripts/pyside-support-files.sh
	@bash scripts/pyside-support-files.sh $(BIN)/python  # 15 ms of every window start
	@touch $(SUPPORT)

run: setup
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ] && [ -z "$$QT_QPA_PLATFORM" ]; then \
		bash scripts/ensure-debs.sh $(XVFB_DEBS) && \
		echo "No display: starting the window under xvfb-run" && \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/margin-workstation $(ARGS); \
	else $(BIN)/margin-workstation $(ARGS); fi

test: setup
	$(BIN)/ruff check workstation tests benchmarks
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# the suite with hypothesis drawing new examples (`make test` draws the same ones every run)
explore: setup
	HYPOTHESIS_PROFILE=explore QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# every benchmark of the README's "Speed" section, one after the other (about 7 minutes)
BENCHES := bench_margin bench_whatif bench_cli bench_window bench_drag bench_stress bench_import
bench: setup
	@for b in $(BENCHES); do echo "== benchmarks/$$b.py"; $(BIN)/python benchmarks/$$b.py || exit 1; echo; done

clean:
	rm -rf $(VENV) build *.egg-info
