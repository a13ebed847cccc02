# Lantern: `make demo` (zero-setup demo) and `make test` (the whole suite on PostgreSQL + Redis).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_APP_PASSWORD ?= lantern_app_dev
PG_OWNER_PASSWORD ?= lantern_owner_dev
PG_ENV := DATABASE_URL=postgres://lantern_app:$(PG_APP_PASSWORD)@127.0.0.1:5432/lantern \
          DATABASE_OWNER_URL=postgres://lantern_owner:$(PG_OWNER_PASSWORD)@127.0.0.1:5432/lantern
PYTEST_ARGS ?=

LOCK := requirements.lock

.PHONY: install lock demo test test-pgbouncer lint services messages clean check-upgrade

install: $(VENV)/.installed

# Exactly the versions in the lock, each checked against its hash, so a fresh machine gets
# what CI tested; then the project itself, whose dependencies the lock already holds.
$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# Re-resolve the lock after editing pyproject.toml's dependencies. Versions already in the
# lock are kept where they still fit; `make lock LOCK_ARGS=--upgrade` moves everything to the
# newest allowed release (or LOCK_ARGS='--upgrade-package NAME' for one package).
LOCK_ARGS ?=
lock:
	test -x $(VENV)/bin/uv || $(MAKE) install
	$(VENV)/bin/uv pip compile --quiet pyproject.toml --extra dev --generate-hashes \
	  --universal --python-version 3.11 --custom-compile-command 'make lock' \
	  -o $(LOCK) $(LOCK_ARGS)

services:
	@bash scripts/services.sh
	@$(PG_ENV) $(PY) manage.py db_bootstrap

messages: install
	cd accounts && ../$(PY) ../manage.py compilemessages --ignore=.venv
	$(PY) manage.py compilemessages --ignore=.venv

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: install services
	DJANGO_SETTINGS_MODULE=config.test_settings $(PY) manage.py check --fail-level WARNING
	$(PY) -m pytest $(PYTEST_ARGS)

# The same code behind PgBouncer in transaction mode (docs/scaling.md): tenancy and RLS, the
# pipeline with real workers, the fault suite (RabbitMQ's scenario left out: the broker is not
# what changes here). tests/pgbouncer.py starts a private PgBouncer per test process (Debian's package).
# Serial: under -n 2 the xdist workers inherit one REDIS_URL and take each other's tasks.
PGBOUNCER_TESTS ?= tests/test_pgbouncer.py tests/test_tenant_isolation.py \
  tests/accounts/test_tenancy.py tests/accounts/test_operations.py \
  tests/tutoring/test_pipeline.py tests/api/test_pipeline.py tests/safety/test_worker.py \
  tests/tutoring/test_budgets_cache_keys.py \
  tests/tutoring/test_outbound_pipeline.py tests/faults
test-pgbouncer: install services
	LANTERN_PGBOUNCER=1 $(PY) -m pytest $(PGBOUNCER_TESTS) -k "not rabbitmq" $(PYTEST_ARGS)

# Issue #20's upgrade check: a database migrated and seeded by the baseline commit's code
# migrates with today's code, every row intact (scripts/check_layout_migration.py).
check-upgrade: install services
	@$(PG_ENV) $(PY) scripts/check_layout_migration.py

demo: install
	@bash scripts/demo.sh

clean:
	rm -rf $(VENV) db.sqlite3 .demo staticfiles

# --- Benchmarks (bench/*.py print JSON; docs/performance.md explains the figures) ---------
# Each creates its own database (lantern_bench_<name>) and Redis database and starts and
# stops its own fake OpenAI server, workers and web servers. BENCH_ARGS passes options.
BENCH_ARGS ?=
.PHONY: bench bench-pipeline bench-stream bench-api bench-scale bench-cost

bench: bench-cost bench-pipeline bench-stream bench-api bench-scale

bench-pipeline: install services
	$(PY) bench/pipeline.py $(BENCH_ARGS)

bench-stream: install services
	$(PY) bench/stream.py $(BENCH_ARGS)

bench-api: install services
	$(PY) bench/api.py $(BENCH_ARGS)

bench-scale: install services
	$(PY) bench/scale.py $(BENCH_ARGS)

bench-cost: install services
	$(PY) bench/cost.py $(BENCH_ARGS)
