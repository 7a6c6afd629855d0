# Threadline: `make run` runs the product, `make test` runs every check. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest system-packages clean-var openapi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else "Threadline needs Python 3.12 (found " + sys.version.split()[0] + "); set PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m threadline.run

# Debian packages the tests drive for real: Chromium (browser tests) and docker-compose
# (compose file check). Installed when missing and we may; otherwise those tests say why they skip.
system-packages:
	@bin/ensure-debian-packages chromium docker-compose dovecot-imapd

lint: $(STAMP)
	$(BIN)/ruff check . bin/smoke-embedded
	$(BIN)/ruff format --check . bin/smoke-embedded

typecheck: $(STAMP)
	DEBUG=true $(BIN)/mypy .

# Unset DATABASE_URL / REDIS_URL: the tests get their own embedded servers under var/test.
pytest: $(STAMP) system-packages
	@if [ -z "$$DATABASE_URL" ] || [ -z "$$REDIS_URL" ]; then export THREADLINE_VAR_DIR=$${THREADLINE_VAR_DIR:-$(CURDIR)/var/test}; fi; \
	$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ -z "$$DATABASE_URL" ] || [ -z "$$REDIS_URL" ]; then $(BIN)/python -m threadline.embedded stop; fi; \
	exit $$status

test: lint typecheck pytest

# The API schema checked in at docs/openapi.yaml (a test fails when it is out of date).
openapi: $(STAMP)
	DEBUG=true $(BIN)/python manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn

clean-var:
	rm -rf var
