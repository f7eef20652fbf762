# Two commands get a new user going: `make run` (the service) and `make test` (the suite).
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install install-bench test test-fast run demo bench bench-quick lint

# tf-keras is installed only to build a Keras 2 SavedModel in the tests, with --no-deps (it would
# pull the full tensorflow wheel on top of tensorflow-cpu; see pyproject's bench extra).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[worker,embedded,dev]'
	$(PY) -m pip install --quiet --no-deps 'tf-keras~=2.21.0'
	@touch $@

install: $(STAMP)

$(VENV)/.installed-bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[worker,embedded,dev,bench]'
	$(PY) -m pip install --quiet --no-deps 'tf-keras~=2.21.0' 'tensorflow-model-optimization~=0.8.1'
	@touch $@

install-bench: $(VENV)/.installed-bench

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

run: install
	$(PY) -m app.devserver.launcher

# A first real result: needs `make run` running in another terminal.
demo: install
	$(PY) examples/quickstart.py

bench: install-bench
	$(PY) -m bench.run_all

bench-quick: install-bench
	$(PY) -m bench.run_all --quick

lint: install
	$(VENV)/bin/ruff check app worker shears_client tests bench examples
