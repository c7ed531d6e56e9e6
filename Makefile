# cobrowse: the two commands a newcomer needs are `make demo` and `make test`.
# Each installs what it needs on a fresh machine (Python packages, npm packages,
# Chromium for the browser tests) and skips what is already there.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: demo test check unit integration e2e bench build deps chromium postgres redis clean

demo: build
	$(BIN)/cobrowse demo

test: build chromium postgres redis check
	$(BIN)/pytest -q -p no:cacheprovider

check: build
	$(BIN)/ruff check src tests bench hatch_build.py
	$(BIN)/ruff format --check src tests bench hatch_build.py
	$(BIN)/mypy
	cd client && npx --no-install tsc --noEmit -p .

unit: build
	$(BIN)/pytest -q tests/unit
integration: build
	$(BIN)/pytest -q tests/integration
e2e: build chromium
	$(BIN)/pytest -q tests/e2e

bench: build chromium
	$(BIN)/python -m bench.run

build: deps
	cd client && node build.mjs

deps: $(VENV)/.installed client/node_modules/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "cobrowse needs Python 3.11 or newer"'
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

client/node_modules/.installed: client/package-lock.json
	@command -v npm >/dev/null || { echo "cobrowse needs Node.js 18+ and npm to build its client"; exit 1; }
	cd client && npm ci --no-audit --no-fund
	touch $@

# The store tests also run against PostgreSQL (127.0.0.1:5432, database test); start
# the local cluster when it is installed but not running.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  [ -d /etc/postgresql ] && echo "Starting PostgreSQL..." && \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; } || \
	  echo "PostgreSQL is not reachable on 127.0.0.1:5432: its store tests will fail and say how to start it."

# The cluster tests need Redis (127.0.0.1:6379). Start the installed server when
# nothing answers; without redis-server the tests start none and say how to get it.
redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
	  command -v redis-server >/dev/null && echo "Starting Redis..." && \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' >/dev/null; } || \
	  echo "Redis is not reachable on 127.0.0.1:6379: the cluster tests will fail and say how to start it."

chromium:
	@[ -x "$(CHROMIUM)" ] || { echo "Installing Chromium for the browser tests..."; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

clean:
	rm -rf $(VENV) client/node_modules src/cobrowse/web/static/dist
