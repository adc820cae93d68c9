# make run   - start the whole system offline (functions host, Direct Line stand-in, bot, terminal chat)
# make test  - lint, type-check and run every test (what CI runs)
# make bench - benchmarks
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench venv node-deps webchat chromium clean

NODE_DIR := tests/conformance

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# The terminal chat needs nothing but Python. The Web Chat page is opt-in (`make webchat`, ~500 MB of npm
# packages): until it is installed, /webchat says how to install it.
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

# The official Web Chat page served by the Direct Line stand-in at /webchat (botframework-webchat), and
# playwright-core (dev; no browser download) that drives Debian's chromium in its test. About 500 MB, ~35 s.
WEBCHAT_DIR := devhost/webchat
$(WEBCHAT_DIR)/node_modules/.installed: $(WEBCHAT_DIR)/package.json $(WEBCHAT_DIR)/package-lock.json
	cd $(WEBCHAT_DIR) && npm ci --no-audit --no-fund --silent
	touch $@

webchat: $(WEBCHAT_DIR)/node_modules/.installed

# Headless Chromium for the Web Chat browser test (run as root in CI).
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

node-deps: $(NODE_DIR)/node_modules/.installed $(AZURITE_DIR)/node_modules/.installed webchat chromium

pytest: venv node-deps
	$(PY) -m pytest

test: lint typecheck pytest

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) .devhost $(NODE_DIR)/node_modules $(AZURITE_DIR)/node_modules $(WEBCHAT_DIR)/node_modules
