# Set-up-and-go targets: each creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m glassnet demo

test: $(STAMP)
	$(PY) -m pytest src tests README.md

bench: $(STAMP)
	$(PY) benchmarks/bench_cost_gradient.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
