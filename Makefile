# Everything a fresh clone needs, installed by the project's own files. `make test` is the test command
# the README gives and .ci/run calls; `make check` is the linters.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Go-built binaries (etcd, kube-apiserver) are cached here, outside the clone, keyed by version.
export CHARGEOPS_CACHE_DIR ?= $(HOME)/.cache/chargeops
export GOFLAGS ?= -mod=mod

.PHONY: help install binaries test test-unit test-integration check crds cluster clean

help:  ## Show the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed  ## Create .venv with chargeops and its development tools.

binaries: install  ## Build (first run) or find (cached) etcd and kube-apiserver.
	$(BIN)/chargeops dev build

test: binaries  ## Run the whole test suite against a real control plane.
	$(BIN)/pytest

test-unit: install  ## Run the tests that need no cluster.
	$(BIN)/pytest tests/unit

check: install  ## ruff, mypy (strict), import contracts, and crds/ up to date.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/chargeops crds --check

crds: install  ## Regenerate crds/ from the API types.
	$(BIN)/chargeops crds

cluster: binaries  ## Run a local kube-apiserver + etcd with the CRDs until Ctrl-C; kubeconfig in ./kubeconfig.
	$(BIN)/chargeops dev cluster --kubeconfig kubeconfig

clean:  ## Remove the virtualenv and caches inside the clone (not the binary cache).
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
