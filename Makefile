# Flow Review: `make run` serves the app with demo data; `make test` runs the whole suite.
# Needs only Python 3.11+ and make: everything else goes into .venv, the database into var/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test screenshots lint format install install-dev db clean-db

run: install db
	@$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Flow Review is starting on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	@$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The README's screenshots, from the browser test that walks the demo queue (tests themselves never write them).
screenshots: install-dev
	FLOW_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q approvals/tests/test_browser.py \
		-k test_a_reviewer_works_through_the_demo_queue --screenshots docs/screenshots

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Start the database if embedded, apply the SQL schema, then Django's own tables.
db: install
	$(BIN)/python manage.py apply_sql --wait 30
	$(BIN)/python manage.py migrate --noinput

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Flow Review needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(VENV)/.installed $@
