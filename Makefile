# Painel SVA: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint bench browser clean

# The virtualenv, (re)installed whenever pyproject.toml changes.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

## make run: migrate, seed the demo data, start panel + worker + scheduler; prints URL and logins.
run: install
	$(BIN)/python -m panel.stack

## make test: the layers (import-linter) and the style (ruff) first, then the whole suite
## (SQLite always; PostgreSQL too when TEST_DATABASE_URL is set).
test: install browser lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make lint: the layers' contracts (pyproject.toml) and ruff's checks and formatting.
lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make bench: every benchmark under bench/ (each prints ratios against a baseline of its run).
bench: install
	@found=0; for script in bench/[!_]*.py; do \
		[ -e "$$script" ] || continue; found=1; echo "== $$script"; $(BIN)/python "$$script" || exit $$?; \
	done; [ $$found = 1 ] || echo "Nenhum benchmark ainda (bench/ está vazio)."

# The browser tests drive Debian's Chromium; install it when we may (root), else say how.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's chromium for the browser tests..."; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "chromium not found: browser tests will be skipped (sudo apt-get install chromium)"; \
		fi; }

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-artifacts
