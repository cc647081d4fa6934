# Flow Review: `make run` serves the app with demo data; `make test` runs the whole suite (`make test-fast`: most of it).
# Needs only Python 3.11+ and make: everything else goes into .venv, the database into var/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
VAR_DIR ?= $(or $(FLOW_VAR_DIR),var)

.PHONY: run test test-fast screenshots lint format install install-dev db clean-db stop demo-reset

# The login banner prints once the server answers, below Django's startup lines; a taken port stops here first.
run: install db
	@$(BIN)/python manage.py dev_banner --check $(HOST):$(PORT)
	@$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py dev_banner --when-up $(HOST):$(PORT) & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Stop the embedded PostgreSQL (it keeps running after Ctrl+C, for the next command); it starts again on first use.
stop:
	@$(BIN)/python -m approvals.plumbing.embedded_postgres.stop $(VAR_DIR)/pgdata

# Put the demo back as new: its three projects, their rows and files are replaced; other data stays.
demo-reset: install db
	$(BIN)/python manage.py seed_demo --reset

# On TEST_WORKERS pytest-xdist workers (one per core here), each with a database of its own.
# Compiled modules are kept (__pycache__, ignored by git) even where PYTHONDONTWRITEBYTECODE is set:
# the suite starts about a hundred Python processes, and each would compile the app again.
TEST_WORKERS ?= 2
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal
test: install-dev
	$(PYTEST) $(PYTEST_ARGS)

# The same run without the browser tests and the benchmarks' smoke runs (about half the suite's work): for
# the edit-test loop; `make test`, which CI runs, still runs everything.
test-fast: install-dev
	$(PYTEST) -m "not browser and not bench" $(PYTEST_ARGS)

# The README's screenshots, from the browser test that walks the demo queue (tests themselves never write them).
screenshots: install-dev
	FLOW_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q approvals/tests/browser/test_browser.py \
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
