# Every target bootstraps .venv, so a fresh clone needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make up` needs what serviceops runs on; tests, benchmarks and the linters need the dev
# extras too (pytest, hypothesis, schemathesis, Playwright, ruff, aiosmtpd), installed once.
DEV_STAMP := $(VENV)/.installed-dev
# The suite waits more than it computes (servers starting, runs polled; a run keeps about one
# core of two busy): four workers on two cores, a test file on one worker so its module
# fixtures start once. The end-to-end tests run
# the whole stack as a user does (its serve process starts a process per run) and go after,
# alone, as they would on a user's machine.
TEST_WORKERS ?= 4

.PHONY: up down test bench lint format

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(DEV_STAMP)

up: $(STAMP)
	$(BIN)/serviceops up

down:
	@if [ -x $(BIN)/serviceops ]; then $(BIN)/serviceops down; else echo "nothing to stop"; fi

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --ignore=tests/e2e
	$(BIN)/python -m pytest tests/e2e

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
