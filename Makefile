# Atelier: `make run` starts the app, `make test` runs the whole test suite.
# Both create ./.venv on first use (Python 3.11, pip) and install what they need into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: run test test-sqlite test-postgres test-cluster lint bench install install-test browser clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Atelier needs Python 3.11 (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: install it with 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/atelier serve --host $(HOST) --port $(PORT)

# ruff (its checks, and the Python's formatting; the docs' examples are laid out by hand),
# then the import contracts (pyproject.toml's [tool.importlinter]): provenance and
# generation stay pure, the marketplace never reaches up into the pages or the settings
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --exclude "*.md" .
	$(BIN)/lint-imports

# the browser tests (tests/browser) drive Debian's Chromium; install it if it is missing
browser:
	scripts/chromium.sh >/dev/null

test-sqlite: install-test browser
	$(BIN)/python -m pytest -q --ignore=tests/cluster

# the services and the app against PostgreSQL, with every blob in a real S3 store (SeaweedFS)
test-postgres: install-test
	set -a && eval "$$(scripts/seaweedfs.sh start)" && set +a && \
	ATELIER_TEST_BLOB_URL="$$ATELIER_BLOB_URL" ATELIER_BLOB_URL= \
	DATABASE_URL="$$(scripts/postgres.sh start)" $(BIN)/python -m pytest -q tests/integration tests/e2e

# the cluster (scripts/cluster.sh: PostgreSQL, SeaweedFS, 3 replicas, 2 workers, HAProxy),
# started and stopped by the test itself, all on 127.0.0.1
test-cluster: install-test
	$(BIN)/python -m pytest -q tests/cluster

test: lint test-sqlite test-postgres test-cluster

bench: install-test
	$(BIN)/python bench/marketplace_bench.py --postgres "$$(ATELIER_PG_DB=atelier_bench scripts/postgres.sh start)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
