# Flowbuilder: `make run` serves the whole product (embedded mode), `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

# The test suite talks to real services: local PostgreSQL and Redis unless told otherwise.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/flowbuilder)
TEST_REDIS_URL    ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: run test lint bench install clean clients-install clients-generate test-clients

# The TypeScript client's tools (its build, its types' generator, its test runner), from its lockfile.
CLIENTS_TS := clients/typescript

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

$(CLIENTS_TS)/node_modules/.installed: $(CLIENTS_TS)/package-lock.json
	cd $(CLIENTS_TS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clients-install: $(VENV)/.installed $(CLIENTS_TS)/node_modules/.installed

# Regenerate the SDKs' schema, models, sync client and types after an API change (the tests fail until you do).
clients-generate: clients-install
	$(PY) clients/generate.py

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py create_demo_user
	$(PY) manage.py seed_templates
	$(PY) manage.py script_isolation
	@echo "Serving on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/docs, admin: http://$(HOST):$(PORT)/admin/)"
	$(PY) -m uvicorn flowbuilder.asgi:application --host $(HOST) --port $(PORT) --lifespan on

lint: clients-install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	cd clients/python && ../../$(PY) -m mypy
	cd $(CLIENTS_TS) && npx tsc --noEmit

test: $(VENV)/.installed lint
	$(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

# Only the SDKs' suites (also part of `make test`): each against a live server the test starts.
test-clients: clients-install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest tests/sdks $(PYTEST_ARGS)

# The benchmarks use their own database (flowbuilder_bench) and Redis DB (9) unless
# BENCH_DATABASE_URL / BENCH_REDIS_URL say otherwise; BENCH_ARGS e.g. "engine --quick".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/flowbuilder_bench
BENCH_REDIS_URL    ?= redis://127.0.0.1:6379/9

bench: $(VENV)/.installed
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(CLIENTS_TS)/node_modules $(CLIENTS_TS)/dist
