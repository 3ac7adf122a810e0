# netdiag: two commands on a fresh machine.
#   make demo   create .venv, install netdiag, run the main job on sample_data/
#   make test   create .venv, install netdiag with the test extra, run the whole suite
#   make bench-store   the ticket store's load test on a new SQLite file (STORE=postgresql://... SCHEMA=NAME: a server)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out/demo

.PHONY: demo test bench bench-store sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# pip's and setuptools' chatter goes to .venv/install.log, shown only when the install fails
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	@echo "installing netdiag into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install -q -e . > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "installing the test extra"
	@$(BIN)/python -m pip install -q -e '.[test]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/netdiag demo --data sample_data --out $(OUT) --overwrite

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py

bench-store: $(VENV)/.installed-test
	rm -f out/store-load.db out/store-load.db-wal out/store-load.db-shm
	$(BIN)/python benchmarks/store_load.py --db $(or $(STORE),out/store-load.db) $(if $(SCHEMA),--schema $(SCHEMA)) \
		--out out/store-load.json

sample: $(VENV)/.installed
	$(BIN)/netdiag sample sample_data --sites 300 --seed 7 --overwrite

clean:
	rm -rf $(VENV) out .pytest_cache
