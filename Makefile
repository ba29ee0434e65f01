# OneStory: `make demo` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell scripts/find-python)
# uv runs as a module of that interpreter, installed with pip on first use.
UV ?= $(PYTHON) -m uv
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export DJANGO_ALLOW_ASYNC_UNSAFE := true
RUN := $(UV) run --frozen --no-sync
PYTEST_ARGS ?=

.PHONY: help install system-packages python-packages assets demo serve test test-fast lint audit bench bench-packages clean

help:
	@echo "make demo   install everything, build the synthetic city, serve it on http://127.0.0.1:8000"
	@echo "make test   install everything and run every test (unit, access, browser)"
	@echo "make lint   ruff, mypy --strict, import contracts, bandit, pip-audit"
	@echo "make bench  run the benchmarks in bench/ (results in bench/results/)"

install: system-packages python-packages assets

# Debian packages the tests need (a real Chromium for browser tests, poppler for PDFs,
# HarfBuzz subsetting for WeasyPrint). Only as root on Debian; otherwise say what is missing.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing="$$missing libharfbuzz-subset0"; \
	ldconfig -p 2>/dev/null | grep -q libpangoft2 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing (install them, e.g. sudo apt-get install$$missing)"; \
	  fi; \
	fi

python-packages:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
	  || $(PYTHON) -m pip install --quiet --user --break-system-packages uv
	$(UV) sync --frozen --python $(PYTHON)

assets:
	@if [ ! -d node_modules/govuk-frontend ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error; \
	fi

demo: install
	$(RUN) onestory demo

serve: install
	$(RUN) onestory serve

test: install
	$(RUN) pytest $(PYTEST_ARGS)

# The suite without reinstalling (CI's second database run).
test-fast:
	$(RUN) pytest $(PYTEST_ARGS)

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy src tests bench
	$(RUN) lint-imports
	$(RUN) bandit --recursive src --quiet --severity-level high
	$(RUN) python scripts/audit_dependencies.py

# Known vulnerabilities in the locked dependencies (also part of lint).
audit: install
	$(RUN) python scripts/audit_dependencies.py

# The load test (bench/load.py) drives the server with Debian's wrk and needs PostgreSQL.
bench-packages:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages: wrk"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "Missing system packages: wrk (install it, e.g. sudo apt-get install wrk)"; \
	  fi; \
	fi

bench: install bench-packages
	$(RUN) python -m bench

clean:
	rm -rf var .venv node_modules
