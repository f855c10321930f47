# The two README commands are `make run` and `make test`; both do all set-up first (idempotent).
VENV ?= .venv
ARGS ?=

.PHONY: setup run test lint bench gpu-check clean

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/bin/intern-s1-studio $(ARGS)

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest $(ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	$(VENV)/bin/python -m benchmarks $(ARGS)

gpu-check: setup
	$(VENV)/bin/python scripts/gpu_check.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
