# Two commands for a fresh machine: `make demo` and `make test`. Both run `make setup` first,
# which is idempotent: a rerun reuses the virtualenv, the built Pulumi CLI and the plugin.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The checkout's path is part of the stamp: a copied .venv's editable install still points at
# the checkout it was made in, so a moved or copied checkout installs itself again.
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml; pwd) | sha256sum | cut -c1-16)

.PHONY: setup venv toolchain actionlint postgres stacks test lint unit demo bench clean

setup: venv toolchain actionlint postgres stacks

venv: $(STAMP)

$(STAMP): pyproject.toml
	@echo "==> python virtualenv ($(VENV)) with pinned dependencies"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

toolchain: venv
	@bash toolchain/setup.sh
	@bash toolchain/langhost.sh

actionlint:
	@bash toolchain/actionlint.sh

postgres:
	@bash toolchain/postgres.sh

stacks: toolchain
	@echo "==> example stacks in the local backend (.state/)"
	@$(PY) -m envparity.stack.config

lint: venv
	@echo "==> ruff"
	@$(VENV)/bin/ruff check .
	@echo "==> mypy --strict"
	@$(VENV)/bin/mypy
	@echo "==> import-linter (layers)"
	@$(VENV)/bin/lint-imports --no-cache

# Bytecode, and pytest's rewritten test modules, are cached in __pycache__ (ignored by git);
# where PYTHONDONTWRITEBYTECODE is set globally, every test process and every `python -m
# envparity` it starts would compile the whole package again (a third of the fast lane).
unit test bench: export PYTHONDONTWRITEBYTECODE :=

# The fast lane while working: no engine, no PostgreSQL, no actionlint (see the markers
# in pyproject.toml). `make test` runs everything and is what CI runs. Four workers on two
# cores: many of these tests wait on a socket, a subprocess or a deploy poll, not the CPU.
unit: venv
	@echo "==> pytest (fast lane)"
	@$(VENV)/bin/pytest -q -n 4 --hypothesis-profile=fast \
		-m "not engine and not postgres and not actionlint"

test: setup lint
	@echo "==> pytest"
	@$(VENV)/bin/pytest -q

demo: setup
	@$(VENV)/bin/envparity demo

# Not part of `make test`: about 30 minutes on 2 cores. Options go through BENCH_ARGS, e.g.
# `make bench BENCH_ARGS="--services 2,10 --runs 5"` (see `python -m bench.suite --help`).
bench: toolchain
	@echo "==> benchmark (writes docs/benchmarks.md, .json and .png)"
	@$(PY) -m bench.suite $(BENCH_ARGS)
	@$(PY) -m bench.report

clean:
	rm -rf .state .pulumi-home .tools $(VENV)
