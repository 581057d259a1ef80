# The two commands of the README: `make lab` (lessons) and `make test` (every test).
# Both set up a local virtual environment first; nothing is installed system-wide.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmviz-installed

.PHONY: lab test setup bench slides clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/mmviz lab

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	status=0; for b in benchmarks/bench_*.py; do $(PY) $$b || status=1; done; exit $$status

slides: $(STAMP)
	$(VENV)/bin/mmviz slides -o build/slides

clean:
	rm -rf build .pytest_cache
