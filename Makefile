# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two are made of.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8000
DATA   ?= .data

.PHONY: run test venv check lint format sync docs test-platform test-sdk bench clean

run: $(STAMP)
	$(PY) scripts/run_demo.py --port $(PORT) --data-dir $(DATA)

test: $(STAMP) check test-platform test-sdk

$(STAMP): sdk/pyproject.toml platform/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e "sdk[dev]" -e "platform[dev]"
	touch $(STAMP)

venv: $(STAMP)

# Static checks: lint, types, and that the generated sync SDK matches its async source.
check: $(STAMP)
	$(VENV)/bin/ruff check sdk platform examples benchmarks scripts
	$(VENV)/bin/ruff format --check sdk platform examples benchmarks scripts
	cd sdk && ../$(VENV)/bin/mypy
	cd platform && ../$(VENV)/bin/mypy
	$(PY) sdk/scripts/unasync.py --check

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix sdk platform examples benchmarks scripts
	$(VENV)/bin/ruff format sdk platform examples benchmarks scripts
	$(PY) sdk/scripts/unasync.py

# Regenerate the sync SDK (and its tests) from the async source.
sync: $(STAMP)
	$(PY) sdk/scripts/unasync.py

# Regenerate the API and block reference in docs/reference/ from the code (a test fails when stale).
docs: $(STAMP)
	$(PY) scripts/gen_docs.py

test-platform: $(STAMP)
	cd platform && ../$(PY) -m pytest -q

test-sdk: $(STAMP)
	cd sdk && ../$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache .mypy_cache .ruff_cache
