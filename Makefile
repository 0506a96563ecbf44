# The two commands of the README. Each creates .venv with the project's own files, so a fresh
# machine with Python 3.11+ needs nothing else.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/earful demo

test: $(BIN)/python chromium
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python bench/ingest_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache earful-demo.duckdb

# The web app's browser tests drive Debian's chromium through Playwright (Playwright's own
# browser download does not work here). Installed with apt when missing and run as root;
# otherwise say what to do. EARFUL_CHROMIUM points the tests at another Chromium.
chromium:
	@if [ -n "$$EARFUL_CHROMIUM" ] || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "The browser tests need Chromium: sudo apt-get install chromium (or set EARFUL_CHROMIUM)"; \
		exit 1; \
	fi
