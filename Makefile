# Every target bootstraps .venv, so a fresh clone needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The suite waits more than it computes (servers starting, runs polled): three workers on two
# cores; a test file stays on one worker, so its module and package fixtures start once, and
# files go out in collection order, so the long end-to-end and flow files start first.
TEST_WORKERS ?= 3

.PHONY: up down test bench lint format

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/serviceops up

down:
	@if [ -x $(BIN)/serviceops ]; then $(BIN)/serviceops down; else echo "nothing to stop"; fi

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
