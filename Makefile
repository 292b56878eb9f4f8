# Two commands do all the set-up on a fresh machine with Python 3.11 and pip:
#   make demo   runs the main job (a monitored vs unmonitored comparison, with a report)
#   make test   installs the test extras and runs lint and the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
STAMP_ASSETS := $(VENV)/.solara-assets
STAMP_FAST := $(VENV)/.installed-fast

.PHONY: demo test lint format bench app clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_BASE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -c "from sim.model import kernels; kernels.warm()"
	touch $@ $(STAMP_BASE) $(STAMP_FAST)

# numba for the classroom page's workers (the compiled day), compiled once here.
$(STAMP_FAST): $(STAMP_BASE)
	$(BIN)/python -m pip install --quiet -e ".[fast]"
	$(BIN)/python -c "from sim.model import kernels; kernels.warm()"
	touch $@

demo: $(STAMP_BASE)
	$(BIN)/truce compare scenarios/monitoring.yaml

# Solara's page assets, cached from the npm registry so the live demo works offline.
$(STAMP_ASSETS): $(STAMP_BASE)
	tools/fetch-solara-assets $(VENV)
	touch $@

app: $(STAMP_ASSETS) $(STAMP_FAST)
	$(BIN)/truce app

lint: $(STAMP_TEST)
	$(BIN)/ruff check sim tests benchmarks tools
	$(BIN)/ruff format --check sim tests benchmarks tools
	$(BIN)/lint-imports
	$(BIN)/mypy

# The kernels warmed again (~1 s when numba's cache holds them): after a change to their
# source the tests of what auto decides find them cached, as an install leaves them.
test: $(STAMP_TEST) $(STAMP_ASSETS) lint
	$(BIN)/python -c "from sim.model import kernels; kernels.warm()"
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

format: $(STAMP_TEST)
	$(BIN)/ruff format sim tests benchmarks tools
	$(BIN)/ruff check --fix sim tests benchmarks tools

bench: $(STAMP_BASE)
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
