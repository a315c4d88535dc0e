# Tri-Council Schools Portal. `make help` lists the targets.
# Everything runs from the project's own virtual environment (.venv) and node_modules: `make run` and
# `make test` create them on a fresh clone.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
PIP_QUIET := --quiet --disable-pip-version-check
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install assets migrate seed run worker beat stripe test test-fast check lint format bench clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

# pip's output goes to a log, shown only when the install fails (pip and setuptools print "... is ignored"
# and editable-build warnings on every install); the recipe fails with pip. flock keeps two make targets
# started together (`make worker` and `make beat`) from running pip in the same .venv at once.
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing Python dependencies (log: $(VENV)/pip.log)"
	@flock $(VENV)/.install.lock sh -c '$(PY) -m pip install $(PIP_QUIET) --upgrade pip > $(VENV)/pip.log 2>&1 \
		&& $(PY) -m pip install $(PIP_QUIET) -e ".[dev]" >> $(VENV)/pip.log 2>&1' \
		|| { grep -v "is ignored" $(VENV)/pip.log | tail -n 40; exit 1; }
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "Installing npm dependencies (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/dist/portal.css: node_modules/.installed frontend/portal.scss frontend/build.mjs
	@node frontend/build.mjs

install: $(VENV)/.installed node_modules/.installed ## Create .venv and install Python and npm dependencies

assets: static/dist/portal.css ## Build GOV.UK Frontend CSS and copy its script into static/dist

migrate: install ## Apply database migrations
	@echo "Applying database migrations"
	@$(MANAGE) migrate --noinput --verbosity 0

seed: migrate ## Load the demo data (idempotent: running it twice changes nothing)
	@$(MANAGE) seed_demo

run: install assets seed ## Start the demo: site, Celery worker and beat, fake Stripe (Ctrl-C stops all)
	@$(MANAGE) demo_logins
	@$(BIN)/honcho --procfile Procfile.dev start

# Without -Q the worker consumes every queue in CELERY_TASK_QUEUES, CELERY_QUEUE_SUFFIX included.
worker: install ## Start a Celery worker on every queue (uses REDIS_URL when set)
	$(BIN)/celery -A portal worker --loglevel=INFO

beat: install ## Start Celery beat (the schedule is in portal/celery.py)
	$(BIN)/celery -A portal beat --loglevel=INFO

stripe: install ## Start the local fake Stripe server on 127.0.0.1 only
	$(PY) -m portal.dev.localstripe_server

test: install assets ## Run the whole test suite (PostgreSQL, Redis and browser tests skip, saying why, when absent)
	$(BIN)/pytest $(PYTEST_ARGS)

check: install ## Lint, migrations up to date, Django system checks, layering contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) check
	$(BIN)/lint-imports

format: install ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install assets ## Run the benchmarks in tests/perf and print their figures
	$(BIN)/pytest tests/perf -p no:randomly -s -q

clean: ## Remove the virtual environment, node_modules, built assets and local data
	rm -rf $(VENV) node_modules static/dist var/*.sqlite3 var/celery-* var/static
