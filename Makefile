# One command runs every check: `make all` (the same steps as .ci/run, on an existing venv).
PY ?= .venv/bin/python

.PHONY: all lint types imports test bench

all: lint types imports test

lint:
	$(PY) -m ruff check .

types:
	$(PY) -m mypy

imports:
	.venv/bin/lint-imports

test:
	$(PY) -m pytest -q -n 4

bench:
	$(PY) benchmarks/run.py
