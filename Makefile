# One command to install and run the demo (`make demo`), one to run every test (`make test`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: setup demo serve test lint catalogs browser fonts audit-tools faketime

setup: $(VENV)/.installed catalogs fonts

# torch first, pinned: argostranslate pulls it in through stanza, and the pinned version is
# the CPU build on local disk (an unpinned one downloads several GB of CUDA wheels).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "installing localiser into $(VENV) (a few minutes the first time)"
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[dev]'
	touch $@

catalogs: $(VENV)/.installed
	$(BIN)/pybabel -q compile --use-fuzzy -d translations

# Noto web fonts for the reader pages (@fontsource packages, woff2, OFL) from the npm
# registry into web-fonts/node_modules (ignored by git); the app serves them under /fonts/.
fonts: web-fonts/node_modules/.installed

web-fonts/node_modules/.installed: web-fonts/package.json web-fonts/package-lock.json
	command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	cd web-fonts && npm ci --no-audit --no-fund
	touch $@

# Lighthouse (bench/lighthouse.py) and axe-core (the page tests inject it) from the npm
# registry into audit-tools/node_modules (ignored by git).
audit-tools: audit-tools/node_modules/.installed

audit-tools/node_modules/.installed: audit-tools/package.json audit-tools/package-lock.json
	command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	cd audit-tools && npm ci --no-audit --no-fund
	touch $@

# Debian's Chromium, driven by Playwright in the page tests (Playwright's own browser
# download cannot work offline).
browser:
	{ command -v chromium && command -v wrk && test -d /usr/share/fonts/truetype/noto; } >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core wrk >/dev/null; }

# Debian's libfaketime: the clock-skew test (tests/jobs/test_clock_skew.py) runs workers and
# beat five minutes off with it.
faketime:
	test -e /usr/lib/$$(uname -m)-linux-gnu/faketime/libfaketimeMT.so.1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; }

demo: setup
	$(BIN)/localise demo --port $(PORT)

serve: setup
	$(BIN)/localise serve --port $(PORT)

# ruff, then the layer contracts of pyproject.toml's [tool.importlinter] (docs/architecture.md).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Two processes (pytest-xdist), a test file each at a time (--dist loadfile keeps a module's
# shared fixtures in one process); each has its own Redis database (tests/conftest.py).
test: setup browser audit-tools faketime lint
	$(BIN)/pytest -n 2 --dist loadfile
