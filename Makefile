# The two quick-start commands, each working on a fresh clone: `make demo` and `make test`.
# Both create (or reuse) .venv from pyproject.toml by themselves.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test install bench docs clean

# Two stamps: the program (what `make demo` needs) and the test extras on top (what `make test`
# adds: playwright, schemathesis, hypothesis...), so a first demo does not wait for the test tools.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(TEST_STAMP)

install: $(TEST_STAMP)

demo: $(STAMP)
	@$(BIN)/digest demo

# The whole suite twice, side by side: on SQLite and on the PostgreSQL server at 127.0.0.1:5432
# (TEST_DATABASE=postgresql: a scratch database per run, see tests/conftest.py).
test: $(TEST_STAMP)
	@PYTHON=$(BIN)/python tests/run_both.sh

bench: $(TEST_STAMP)
	@$(BIN)/python bench/poll.py
	@$(BIN)/python bench/render.py
	@$(BIN)/python bench/send.py
	@$(BIN)/python bench/web.py
	@$(BIN)/python bench/suggest.py
	@$(BIN)/python bench/launches.py
	@$(BIN)/python bench/cli.py

docs: $(STAMP)
	@$(BIN)/python -m digest.clidoc

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
