# Two commands do everything: `make serve` and `make test`. Each bootstraps .venv and node_modules.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
CONFIG ?=

.PHONY: serve test demo lint typecheck pytest schema bench clean

$(PY_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "balance-graph needs Python >= 3.11 (set PYTHON=python3.12 etc.)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make needs Node.js >= 18 with npm (for anvil and solc)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

serve: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/balance-graph serve $(if $(CONFIG),--config $(CONFIG)) --host $(HOST) --port $(PORT)

demo: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/balance-graph demo --host $(HOST) --port $(PORT)

test: lint typecheck pytest

lint: $(PY_STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(PY_STAMP)
	$(VENV)/bin/mypy

CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

pytest: $(PY_STAMP) $(NODE_STAMP)
	@command -v redis-server >/dev/null || { echo "make test needs redis-server:" \
		"apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS)"; exit 1; }
	@[ -x "$(CHROMIUM)" ] || { echo "make test needs Chromium for the offline GraphiQL test:" \
		"apt-get install chromium (Debian/Ubuntu), or set CHROMIUM=/path/to/chromium"; exit 1; }
	$(VENV)/bin/pytest

schema: $(PY_STAMP)
	$(VENV)/bin/balance-graph export-schema > schema.graphql

bench: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/python -m bench.balances
	$(VENV)/bin/python -m bench.accounts

clean:
	rm -rf $(VENV) node_modules .demo .mypy_cache .ruff_cache .pytest_cache
