# make run   - start the whole system offline (functions host, Direct Line stand-in, bot, terminal chat)
# make test  - lint, type-check and run every test but the slow ones (CI runs it, then make pytest-slow)
# make pytest-slow - whole-system benchmark runs, headless Chromium, several bot processes
# make bench - benchmarks
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest pytest-slow pytest-py313 bench venv node-deps webchat chromium haproxy clean

NODE_DIR := tests/conformance

# requirements-dev.txt includes the function app's, the bot's and the test runner's files: a change to any reinstalls.
$(STAMP): requirements.txt bot/requirements.txt requirements-test.txt requirements-dev.txt
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

# HAProxy for `devhost up --bots N` (the load balancer in front of several bot instances) and its tests.
haproxy:
	PATH="$$PATH:/usr/sbin:/sbin" command -v haproxy >/dev/null || (apt-get update && apt-get install -y haproxy)

node-deps: $(NODE_DIR)/node_modules/.installed $(AZURITE_DIR)/node_modules/.installed webchat \
	$(BROWSER_TEST_DIR)/node_modules/.installed chromium

# The slow tests (marker `slow`: whole-system benchmark runs, headless Chromium, several bot processes) run in their
# own target so `make test` stays under 15 minutes on 2 cores; CI (.ci/run) runs both.
pytest: venv node-deps haproxy
	$(PY) -m pytest -m "not slow"

pytest-slow: venv node-deps haproxy
	$(PY) -m pytest -m slow

# The function app also runs on Python 3.13 (azure-functions 2.x, README "Python 3.11 or 3.13"): its tests run there
# too, in a virtualenv of requirements.txt and the test runner only, when this machine has a 3.13 interpreter
# (python3.13 on PATH, or pyenv's). Without one this says so, and the rest of `make test` still counts. Tests marked
# bot_framework (a botbuilder bot behind the Direct Line stand-in) need bot/requirements.txt: pytest reports them
# deselected.
PYTHON313 ?= $(firstword $(shell for p in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && echo "$$p" && break; done))
VENV313 := .venv-py313
$(VENV313)/.installed: requirements.txt requirements-test.txt
	rm -rf $(VENV313)
	$(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-test.txt
	touch $@

pytest-py313:
ifeq ($(PYTHON313),)
	@echo "NOTICE: no Python 3.13 interpreter here (python3.13 on PATH or pyenv's 3.13.x); the function app's tests ran on $$($(PY) -V) only."
else
	$(MAKE) --no-print-directory $(VENV313)/.installed PYTHON313=$(PYTHON313)
	$(VENV313)/bin/python -m pytest tests/orchestrator -m "not bot_framework"
endif

test: lint typecheck pytest pytest-py313

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(VENV313) .venv-functionapp .devhost $(NODE_DIR)/node_modules $(AZURITE_DIR)/node_modules devhost/webchat/dist \
		$(BROWSER_TEST_DIR)/node_modules
