# netdiag: two commands on a fresh machine.
#   make demo   create .venv, install netdiag, run the main job on sample_data/
#   make test   create .venv, install netdiag with the test extra, run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out/demo

.PHONY: demo test bench sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/netdiag --tz Asia/Shanghai demo sample_data --out $(OUT) --overwrite

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py

sample: $(VENV)/.installed
	$(BIN)/netdiag sample sample_data --sites 300 --seed 7 --overwrite

clean:
	rm -rf $(VENV) out .pytest_cache
