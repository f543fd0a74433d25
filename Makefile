# FloodManager: `make run` sets up and serves with sample data; `make test` runs the test suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WEB_WORKERS ?= 2
PYTEST_ARGS ?=
export FLASK_APP := geoapp

# Without DATABASE_URL, a private PostgreSQL cluster of the project's own is used.
ifeq ($(origin DATABASE_URL),undefined)
PRIVATE_DB := 1
export DATABASE_URL := $(shell bash scripts/postgres.sh url)
endif

.PHONY: help setup run test db db-stop migrate sample clean-db lint bench browser

help:
	@echo "make run    set up everything (venv, assets, PostgreSQL+PostGIS, schema, sample data) and serve on http://$(HOST):$(PORT)"
	@echo "make test   run the test suite against a real PostGIS"
	@echo "make db-stop / clean-db   stop / delete the private database cluster"

$(VENV)/.installed: pyproject.toml
	@bash scripts/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@bash scripts/system-deps.sh
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

setup: $(VENV)/.installed node_modules/.installed

db:
ifdef PRIVATE_DB
	@bash scripts/postgres.sh start
endif

db-stop:
	@bash scripts/postgres.sh stop

clean-db: db-stop
	rm -rf "$$(bash scripts/postgres.sh datadir)"

migrate: setup db
	$(BIN)/flask db upgrade

sample: migrate
	$(BIN)/flask zones load-sample

# `make run` serves plain http on loopback: sign-in cookies without the Secure flag there
# (docs/security/sessions.md). Set GEOAPP_SECURE_COOKIES=true behind HTTPS.
run: export GEOAPP_SECURE_COOKIES ?= false
run: sample
	@echo "FloodManager on http://$(HOST):$(PORT)  (map: /, lookup: /api/lookup?lon=..&lat=.., health: /healthz)"
	@# The import worker runs beside the web server and stops with it.
	@$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask --app geoapp serve --host $(HOST) --port $(PORT) --workers $(WEB_WORKERS)

browser:
	@bash scripts/browser.sh >/dev/null

test: setup db browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check geoapp tests migrations data bench
