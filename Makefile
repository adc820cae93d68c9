# make run   - start the whole system offline (functions host, Direct Line stand-in, bot, terminal chat)
# make test  - lint, type-check and run every test (what CI runs)
# make bench - benchmarks
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench venv node-deps clean

NODE_DIR := tests/conformance

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(PY) -m devhost up --chat

lint: venv
	$(PY) -m ruff check .

typecheck: venv
	$(PY) -m mypy contract orchestrator bot devhost function_app.py

# Official Direct Line client (botframework-directlinejs) used by the conformance tests.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json
	cd $(NODE_DIR) && (test -f package-lock.json && npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent)
	touch $@

# Azurite (Azure Storage emulator) that the bot's blob state store tests start on loopback.
AZURITE_DIR := tests/azurite
$(AZURITE_DIR)/node_modules/.installed: $(AZURITE_DIR)/package.json
	cd $(AZURITE_DIR) && (test -f package-lock.json && npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent)
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed $(AZURITE_DIR)/node_modules/.installed

pytest: venv node-deps
	$(PY) -m pytest

test: lint typecheck pytest

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) .devhost node_modules
