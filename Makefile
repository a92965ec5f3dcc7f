# Hedgevault. The two commands a user needs:
#   make demo   set everything up and run the main job on the embedded devnet
#   make test   set everything up and run every check: lint, forge test, pytest, slither
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := . tools/env.sh &&
PYTEST_ARGS ?=
FORGE_ARGS ?=

.PHONY: setup build lint fmt test forge-test devnet-allocs slither pytest demo fleet-demo bench bench-cost clean venue-vectors

setup:
	@tools/setup.sh

build: setup
	@$(ENV) forge build --quiet

lint: setup
	@$(ENV) ruff check . && ruff format --check . && forge fmt --check && mypy && lint-imports --no-cache --no-logo | tail -n 1
	@echo "lint: ruff, ruff format, forge fmt, mypy, import contracts clean"

fmt: setup
	@$(ENV) ruff check --fix . && ruff format . && forge fmt

# The forge tests run against the devnet's real Aave v3 + Uniswap v3, loaded in-process with vm.loadAllocs from
# var/devnet/forge/ (built from the devnet snapshot, itself built on first use).
devnet-allocs: build
	@$(ENV) python contracts/test/utils/devnet_allocs.py

forge-test: build devnet-allocs
	@$(ENV) if [ "$${HV_SLOW:-0}" = 1 ]; then export FOUNDRY_PROFILE=slow; fi; forge test $(FORGE_ARGS)

# Slither on everything outside contracts/test (slither.config.json; triage in slither-triage.md): a full forge
# build with build-info in its own directory, so stale build-info never mixes in and out/ is untouched.
slither: build
	@$(ENV) rm -rf cache/slither-out && forge build --build-info --force --skip 'contracts/test/**' \
	  --skip 'contracts/script/**' --out cache/slither-out --cache-path cache/slither-forge --quiet && \
	  slither . && echo "slither: no untriaged high/medium finding (see slither-triage.md)"

# pytest exits 5 when it collected nothing: that is a failure here, never a silent pass.
pytest: build
	@$(ENV) rc=0; pytest $(PYTEST_ARGS) || rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test: lint forge-test pytest slither

# The main job on the embedded devnet: the 30-day crash month, three books (predictive, reactive, unhedged), a live dashboard,
# and report/report.html (+ PNGs, summary.json). SCENARIO=squeeze make demo runs another one.
SCENARIO ?= crash_month
demo: build
	@$(ENV) keeper simulate --scenario $(SCENARIO) --out report

# Two chains (L1-like 12 s, L2-like 2 s blocks), two `keeper fleet run` replicas on a local PostgreSQL, the crash
# replayed on both chains with the leading replica SIGKILLed a third of the way in; prints the failover in L1
# blocks, on-chain rebalances vs stored plans, and `keeper fleet status` (var/fleet-demo/).
fleet-demo: build
	@$(ENV) python -m bench.fleet_demo

# Peers (py_vollib_vectorized needs old pins) live in their own venv, bench/.venv.
bench: build
	@test -x bench/.venv/bin/python || { .tools/uv/bin/uv venv -q -p python3.11 bench/.venv && \
	  VIRTUAL_ENV=bench/.venv .tools/uv/bin/uv pip install -q -r bench/requirements-peers.txt; }
	@$(ENV) OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m bench
	@$(ENV) python -m bench.devnet_figures
	@$(ENV) python -m bench.routing_figures
	@$(ENV) python -m bench.leg_gas
	@$(ENV) python -m bench.slicing_figures
	@$(ENV) python -m bench.tick
	@$(ENV) python -m bench.tail
	@$(ENV) python -m bench.montecarlo
	@$(ENV) python -m bench.fleet

# Issue 15's cost target over many paths (not in `make bench`: ~10 min a family on one core): the demo's strangle
# unhedged / reactive / predictive on the same Monte Carlo paths of the calm and vol-crush families.
bench-cost: build
	@$(ENV) python -m bench.premium_kept --family calm
	@$(ENV) python -m bench.premium_kept --family vol_crush

# The option venue's differential test vectors (contracts/test/vectors/), from tests/venue/vectors.py.
venue-vectors: setup
	@$(ENV) python tests/venue/vectors.py

clean:
	rm -rf out cache .build contracts/.cache .pytest_cache .ruff_cache .mypy_cache
