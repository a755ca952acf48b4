# `make run` and `make test` do all set-up on a fresh machine (Python 3.11 + venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= demo.db
PYTEST_ARGS ?=

.PHONY: run test lint browser bench bench-recovery install clean audit

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	CONTINUITY_DATABASE_URL=sqlite:///$(DEMO_DB) bash scripts/seed-004.sh

# the gates first (seconds): ruff (lint and format), the layers (import-linter, pyproject [tool.importlinter]), mypy (strict on the domain and the services, pyproject [tool.mypy])
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy -p continuity

# --dist loadfile: a file's tests run on one worker, in order (a browser module's last test reads what its
# earlier tests left on their server; xdist_group has no effect with pytest 9)
# the browser tests' Chromium: CONTINUITY_CHROMIUM, else `chromium` on the PATH, else Debian's package (as root), else Playwright's own
browser: $(STAMP)
	bash scripts/ensure-chromium.sh $(BIN)/python

test: lint browser
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

bench-recovery: $(STAMP)
	$(BIN)/python -m bench.recovery

# Known vulnerabilities in the installed packages (needs the internet: the advisory database; not in `make test`).
audit: $(STAMP)
	$(BIN)/pip-audit --local --skip-editable --progress-spinner off

clean:
	rm -rf $(VENV) *.db *.db-wal *.db-shm
