# Hedgevault. The two commands a user needs:
#   make demo   set everything up and run the main job on the embedded devnet
#   make test   set everything up and run every check: lint, forge test, pytest
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := . tools/env.sh &&
PYTEST_ARGS ?=
FORGE_ARGS ?=

.PHONY: setup build lint fmt test forge-test pytest demo bench clean venue-vectors

setup:
	@tools/setup.sh

build: setup
	@$(ENV) forge build --quiet

lint: setup
	@$(ENV) ruff check . && ruff format --check . && forge fmt --check && mypy
	@echo "lint: ruff, ruff format, forge fmt, mypy clean"

fmt: setup
	@$(ENV) ruff check --fix . && ruff format . && forge fmt

forge-test: build
	@$(ENV) if [ "$${HV_SLOW:-0}" = 1 ]; then export FOUNDRY_PROFILE=slow; fi; forge test $(FORGE_ARGS)

# pytest exits 5 when it collected nothing: that is a failure here, never a silent pass.
pytest: build
	@$(ENV) rc=0; pytest $(PYTEST_ARGS) || rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test: lint forge-test pytest

# The main job on the embedded devnet: the crash scenario with the keeper live vs unhedged, a live dashboard,
# and report/report.html (+ PNGs, summary.json). SCENARIO=squeeze make demo runs another one.
SCENARIO ?= crash
demo: build
	@$(ENV) keeper simulate --scenario $(SCENARIO) --out report

# Peers (py_vollib_vectorized needs old pins) live in their own venv, bench/.venv.
bench: build
	@test -x bench/.venv/bin/python || { .tools/uv/bin/uv venv -q -p python3.11 bench/.venv && \
	  VIRTUAL_ENV=bench/.venv .tools/uv/bin/uv pip install -q -r bench/requirements-peers.txt; }
	@$(ENV) OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m bench
	@$(ENV) python -m keeper.devnet.figures

# The option venue's differential test vectors (contracts/test/vectors/), from keeper.venue.vectors.
venue-vectors: setup
	@$(ENV) python -m keeper.venue.vectors

clean:
	rm -rf out cache .build contracts/.cache .pytest_cache .ruff_cache .mypy_cache
