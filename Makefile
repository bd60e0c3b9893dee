# The two commands of the README: `make run` and `make test`. Each sets itself up in .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-deps lint unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser libraries casework serves (bpmn-js, dmn-js), from the lockfile.
VENDOR := workflows/web/node_modules/.package-lock.json
$(VENDOR): workflows/web/package-lock.json $(wildcard workflows/web/src/*)
	cd workflows/web && npm ci --no-audit --no-fund --ignore-scripts && npm run --silent build
	touch $(VENDOR)

# The browser tests drive Debian's Chromium; browsers are never downloaded.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
		($(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

# WeasyPrint prints court reports with Pango and HarfBuzz, in DejaVu: Debian's packages.
PRINTING := /usr/share/doc/libpangoft2-1.0-0 /usr/share/doc/libharfbuzz-subset0 /usr/share/doc/fonts-dejavu-core
PRINTING_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
$(PRINTING):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(PRINTING_PACKAGES) || \
		($(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(PRINTING_PACKAGES))

# `make run PORT=8301` serves on another port (the same as CASEWORK_PORT=8301 make run).
run: $(STAMP) $(VENDOR) $(PRINTING)
	$(if $(PORT),CASEWORK_PORT=$(PORT) )$(BIN)/casework run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint test-deps
	$(BIN)/pytest

# What the tests need besides the Python packages: the browser libraries, Chromium, printing.
test-deps: $(STAMP) $(VENDOR) $(CHROMIUM) $(PRINTING)

bench: $(STAMP)
	$(BIN)/python bench/engine_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache workflows/web/node_modules test-artifacts
