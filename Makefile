# One command to install and run the demo (`make demo`), one to run every test (`make test`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: setup demo serve test lint catalogs browser

setup: $(VENV)/.installed catalogs

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

# Debian's Chromium, driven by Playwright in the page tests (Playwright's own browser
# download cannot work offline).
browser:
	{ command -v chromium && command -v wrk && test -d /usr/share/fonts/truetype/noto; } >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core wrk >/dev/null; }

demo: setup
	$(BIN)/localise demo --port $(PORT)

serve: setup
	$(BIN)/localise serve --port $(PORT)

lint: setup
	$(BIN)/ruff check .

test: setup browser lint
	$(BIN)/pytest
