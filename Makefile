# Everything a fresh clone needs, installed by the project's own files. `make test` is the test command
# the README gives and .ci/run calls; `make check` is the linters.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Go-built binaries (etcd, kube-apiserver, stripe-mock, helm) are cached here, outside the clone, keyed by version.
export CHARGEOPS_CACHE_DIR ?= $(HOME)/.cache/chargeops
export GOFLAGS ?= -mod=mod

.PHONY: help install binaries system-deps node-deps demo test test-unit test-integration check crds cluster clean

help:  ## Show the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed  ## Create .venv with chargeops and its development tools.

binaries: install  ## Build (first run) or find (cached) etcd, kube-apiserver, stripe-mock and helm.
	$(BIN)/chargeops dev build

# What pip cannot install: Debian's PostgreSQL server, which the store's tests start on loopback
# (chargeops/devcluster/postgres.py), and Debian's Chromium, which the portal's browser tests drive through
# Playwright (launched by path: Playwright's own browser downloads are never used). CI runs as root with no
# terminal; elsewhere sudo asks. Nothing is fetched when both are already installed.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

system-deps:  ## Install Debian packages the tests need (PostgreSQL, Chromium) unless already there.
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "PostgreSQL found: $$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"; \
	else \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; \
	fi
	@if [ -x /usr/bin/chromium ]; then \
	  echo "Chromium found: /usr/bin/chromium"; \
	else \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	fi

# The independent charger (tests/independent_charger) is a Node script on ocpp-rpc; `npm ci` installs exactly
# the committed package-lock.json, from npm's cache when it has the packages.
NODE_CHARGER := tests/independent_charger

$(NODE_CHARGER)/node_modules/.installed: $(NODE_CHARGER)/package.json $(NODE_CHARGER)/package-lock.json
	cd $(NODE_CHARGER) && npm ci --no-audit --no-fund --prefer-offline
	touch $@

node-deps: $(NODE_CHARGER)/node_modules/.installed  ## Install the independent OCPP charger's npm packages.

demo: binaries  ## The main job on embedded defaults: control plane, gateway, operator, simulated chargers, a month billed.
	$(BIN)/chargeops demo

test: binaries system-deps node-deps  ## Run the whole test suite against a real control plane and PostgreSQL.
	$(BIN)/pytest

test-unit: install system-deps  ## Run the tests that need no cluster.
	$(BIN)/pytest tests/unit

check: install  ## ruff, mypy (strict), import contracts, crds/, docs/api/ and the Argo CD snippet up to date.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/chargeops crds --check
	$(BIN)/chargeops crds --check -o charts/chargeops/crds
	$(BIN)/chargeops docs --check
	$(BIN)/chargeops argocd-health --check

crds: install  ## Regenerate crds/ (and the Helm chart's copy) and docs/api/ from the API types.
	$(BIN)/chargeops crds
	$(BIN)/chargeops crds -o charts/chargeops/crds
	$(BIN)/chargeops docs

cluster: binaries  ## Run a local kube-apiserver + etcd with the CRDs until Ctrl-C; kubeconfig in ./kubeconfig.
	$(BIN)/chargeops dev cluster --kubeconfig kubeconfig

clean:  ## Remove the virtualenv and caches inside the clone (not the binary cache).
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
