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

.PHONY: install demo test lint services messages clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

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

test: install services
	DJANGO_SETTINGS_MODULE=config.test_settings $(PY) manage.py check --fail-level WARNING
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install
	@bash scripts/demo.sh

clean:
	rm -rf $(VENV) db.sqlite3 .demo staticfiles
