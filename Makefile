# The README's two commands: `make demo` (set up .venv from scratch if needed, then run the main
# job on its built-in default) and `make test`. Everything installs from constraints.txt, which
# pins the exact versions of the dev environment (mujoco included: its version changes physics;
# torch pinned to the CPU build).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint docs bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/morl demo

# Two parts: most tests on two workers (pytest-xdist; the slow ones handed out first, see
# tests/conftest.py), then the few marked serial alone (local Ray instances, a frame-rate check).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist load --maxschedchunk 1 -m "not serial" --durations=15
	$(BIN)/python -m pytest -q -m serial --durations=5

# The edit-test loop: every module's behaviour, without learning tests, real training runs and
# subprocess kill tests (marked slow; `make test` runs them too).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist load --maxschedchunk 1 -m "not slow and not serial" --durations=10
	$(BIN)/python -m pytest -q -m "serial and not slow" --durations=5 || [ $$? -eq 5 ]  # 5: only browser tests, skipped without Chromium

lint: $(STAMP)
	$(BIN)/ruff check morl tests benchmarks
	$(BIN)/ruff format --check morl tests benchmarks
	$(BIN)/mypy

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

bench: $(STAMP)
	$(BIN)/python benchmarks/env_throughput.py --out benchmarks/results/env_throughput.json | tee benchmarks/results/env_throughput.txt
	$(BIN)/python benchmarks/train_throughput.py --out benchmarks/results/train_throughput.json | tee benchmarks/results/train_throughput.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
