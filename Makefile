# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes (pytest-xdist): most of the suite waits on servers, so two share two cores well.
TEST_WORKERS ?= 2

.PHONY: run demo test lint check chromium screenshots bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: set up, migrate, seed and serve the UI and API with a worker, on the embedded database
run: $(STAMP)
	$(BIN)/modeldesk serve --host $(HOST) --port $(PORT)

## demo: as run, plus the built-in provider simulator as provider simlab (no API key needed)
demo: $(STAMP)
	$(BIN)/modeldesk serve --demo --host $(HOST) --port $(PORT)

## chromium: the browser the UI tests drive (Debian's package; Playwright never downloads one)
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

## test: set up and run the whole suite with coverage (>= 80 %)
test: $(STAMP) chromium
	$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) --cov=modeldesk --cov-report=term \
		--cov-fail-under=80 $(PYTEST_ARGS)

## lint: ruff, mypy (strict) and the layer contracts (import-linter, in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check modeldesk tests bench
	$(BIN)/ruff format --check modeldesk tests bench
	$(BIN)/mypy modeldesk
	$(BIN)/lint-imports

## screenshots: retake docs/screenshots/ from the real pages in Chromium
screenshots: $(STAMP) chromium
	MODELDESK_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -p no:cacheprovider -q \
		tests/web/test_web_screenshots.py tests/web/test_web_browser_runs.py

check: lint test

## bench: every benchmark, one after another (bench/_*.py are their shared helpers)
bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache
