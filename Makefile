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

# The terminal chat needs nothing but Python. The Web Chat page is opt-in (`make webchat`, a 4 MB bundle from
# npm): until it is fetched, /webchat says how.
run: venv
	$(PY) -m devhost up --chat

lint: venv
	$(PY) -m ruff check .

typecheck: venv
	$(PY) -m mypy contract operations orchestrator bot devhost bench function_app.py

# Official Direct Line client (botframework-directlinejs) used by the conformance tests.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json
	cd $(NODE_DIR) && (test -f package-lock.json && npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent)
	touch $@

# Azurite (Azure Storage emulator) that the bot's blob state store tests start on loopback.
AZURITE_DIR := tests/azurite
$(AZURITE_DIR)/node_modules/.installed: $(AZURITE_DIR)/package.json
	cd $(AZURITE_DIR) && (test -f package-lock.json && npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent)
	touch $@

# The official Web Chat page served by the Direct Line stand-in at /webchat needs one file, the pinned
# botframework-webchat bundle: `npm pack` fetches the package's own 7 MB tarball, checked against its pinned sha512
# (devhost/webchat/fetch.py). playwright-core (test-only, 14 MB, no browser download) drives Debian's chromium in
# the browser test.
WEBCHAT_BUNDLE := devhost/webchat/dist/webchat.js
$(WEBCHAT_BUNDLE): devhost/webchat/fetch.py
	python3 devhost/webchat/fetch.py

webchat: $(WEBCHAT_BUNDLE)

BROWSER_TEST_DIR := tests/devhost/webchat
$(BROWSER_TEST_DIR)/node_modules/.installed: $(BROWSER_TEST_DIR)/package.json $(BROWSER_TEST_DIR)/package-lock.json
	cd $(BROWSER_TEST_DIR) && npm ci --no-audit --no-fund --silent
	touch $@

# Headless Chromium for the Web Chat browser test (run as root in CI).
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

node-deps: $(NODE_DIR)/node_modules/.installed $(AZURITE_DIR)/node_modules/.installed webchat \
	$(BROWSER_TEST_DIR)/node_modules/.installed chromium

pytest: venv node-deps
	$(PY) -m pytest

test: lint typecheck pytest

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) .devhost $(NODE_DIR)/node_modules $(AZURITE_DIR)/node_modules devhost/webchat/dist \
		$(BROWSER_TEST_DIR)/node_modules
