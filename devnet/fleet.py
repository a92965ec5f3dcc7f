"""A multi-chain devnet for the fleet: an Ethereum-like L1 (12 s blocks) and an L2-like chain (2 s blocks).

Each chain is an anvil of its own with a distinct chain id, started from the devnet snapshot (the same real
Aave v3 + Uniswap v3 + venue + feeds), with ``vaults`` funded and hedged vaults deployed by the devnet's own code
(:func:`devnet.fixtures.hedged_vault`), each with a keeper key of its own (anvil account 10 + k: vaults on one
chain must not share a nonce). The deployed state is dumped once per (snapshot, chain, vault count) under
``var/devnet/fleet/`` and later starts load it, like the single devnet. Blocks are then produced by anvil's
interval mining: ``speed`` divides the wall-clock interval (chain time still advances the chain's block time
per block), so a demo can run a 12 s chain at 1.2 s per block.

:func:`write_fleet_file` writes the fleet file (``keeper fleet run -f …``) for the running chains.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from devnet.driver import MarketDriver
from devnet.fixtures import hedged_vault
from devnet.snapshot import STATE_DIR, _atomic_write, anvil_args, ensure_snapshot
from governance.deploy import CORE_CONTRACTS, VENUE_CONTRACTS
from keeper.chain.anvil import AnvilProcess, rpc
from keeper.chain.artifacts import forge_artifact
from keeper.chain.connect import web3_for
from keeper.paths import ROOT

FLEET_DIR = STATE_DIR / "fleet"
ACCOUNTS = 40  # anvil dev accounts: the roles use 0–9, vault k's keeper is 10 + k
KEEPER_BASE = 10
MAX_VAULTS_PER_CHAIN = ACCOUNTS - KEEPER_BASE


@dataclass(frozen=True)
class ChainSpec:
    name: str
    chain_id: int
    block_time_s: float


L1 = ChainSpec("l1", 31337, 12.0)
L2 = ChainSpec("l2", 31338, 2.0)
CHAINS = (L1, L2)


@dataclass
class FleetChain:
    spec: ChainSpec
    anvil: AnvilProcess
    records: list[dict[str, Any]]  # one deployment record (with its vault section) per vault
    keepers: list[int]  # anvil account index of each vault's keeper

    @property
    def url(self) -> str:
        return self.anvil.url


def _key(spec: ChainSpec, vaults: int) -> str:
    h = hashlib.sha256(ensure_snapshot().key.encode())
    h.update(f"{spec.chain_id}:{spec.block_time_s}:{vaults}".encode())
    for name in ("devnet/fleet.py", "devnet/fixtures.py", "governance/deploy.py"):
        h.update((ROOT / name).read_bytes())
    # The saved chains hold deployed vaults: a contract change must rebuild them, not load old bytecode.
    for contract in CORE_CONTRACTS + VENUE_CONTRACTS:
        h.update(forge_artifact(contract).bytecode.encode())
    return h.hexdigest()[:16]


def _prepare_time(url: str, block_time_s: float) -> None:
    latest = rpc(url, "eth_getBlockByNumber", ["latest", False])
    step = max(1, round(block_time_s))
    rpc(url, "evm_setNextBlockTimestamp", [int(latest["timestamp"], 16) + step])
    rpc(url, "anvil_setBlockTimestampInterval", [step])


def chain_state(spec: ChainSpec, vaults: int, state_dir: Path = FLEET_DIR) -> tuple[Path, list[dict[str, Any]]]:
    """The chain's state file and its vault records: built (deploy + dump) when missing. ``vaults=0``: the
    devnet snapshot itself (a caller deploys its own vaults)."""
    if not 0 <= vaults <= MAX_VAULTS_PER_CHAIN:
        raise ValueError(f"vaults={vaults}: 0 to {MAX_VAULTS_PER_CHAIN} per chain (one keeper account each)")
    if vaults == 0:
        return ensure_snapshot().state_path, []
    key = _key(spec, vaults)
    state, records = state_dir / f"{spec.name}-{key}.state.json", state_dir / f"{spec.name}-{key}.records.json"
    if state.is_file() and records.is_file():
        return state, json.loads(records.read_text())
    snap = ensure_snapshot()
    args = [*anvil_args(), "--accounts", str(ACCOUNTS)]
    with AnvilProcess(chain_id=spec.chain_id, load_state=snap.state_path, extra_args=args) as node:
        _prepare_time(node.url, spec.block_time_s)
        w3 = web3_for(node.url)
        base = snap.record | {"chain_id": spec.chain_id, "network": f"devnet-{spec.name}"}
        driver = MarketDriver(w3, node.url, base)
        out = []
        for k in range(vaults):
            out.append(hedged_vault(w3, node.url, base, keeper_index=KEEPER_BASE + k).record)
            # Each vault's set-up hedge sells 200 WETH into the pools: arbitrage them back to the oracle before
            # the next one, or the tenth swap fails its slippage guard.
            driver.move_pool("WETH", driver.oracle_price("WETH"))
        dumped = rpc(node.url, "anvil_dumpState", timeout=120)
    import gzip

    state_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(state, gzip.decompress(bytes.fromhex(dumped[2:])).decode())
    _atomic_write(records, json.dumps(out, indent=1))
    return state, out


class FleetDevnet:
    """``with FleetDevnet.start() as fleet:`` — ``fleet.chains[i].url`` / ``.records`` / ``.keepers``."""

    def __init__(self, chains: list[FleetChain]) -> None:
        self.chains = chains

    @classmethod
    def start(
        cls, specs: tuple[ChainSpec, ...] = CHAINS, *, vaults: int = 1, speed: float = 1.0, mining: bool = True
    ) -> FleetDevnet:
        """Start every chain. ``mining``: interval mining at ``block_time_s / speed`` wall seconds (False:
        automine, for set-ups that mine by hand)."""
        chains: list[FleetChain] = []
        try:
            for spec in specs:
                state, records = chain_state(spec, vaults)
                args = [*anvil_args(), "--accounts", str(ACCOUNTS)]
                if mining:
                    args += ["--block-time", f"{spec.block_time_s / speed:g}"]
                node = AnvilProcess(chain_id=spec.chain_id, load_state=state, extra_args=args).start()
                chains.append(FleetChain(spec, node, records, [KEEPER_BASE + k for k in range(vaults)]))
                _prepare_time(node.url, spec.block_time_s)
        except BaseException:
            for c in chains:
                c.anvil.stop()
            raise
        return cls(chains)

    def stop(self) -> None:
        for c in self.chains:
            c.anvil.stop()

    def __enter__(self) -> FleetDevnet:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def key_env(vault: str) -> str:
    """The environment variable the fleet devnet's file names for ``vault``'s keeper key."""
    return "HV_KEEPER_KEY_" + vault.upper().replace("-", "_")


def write_fleet_file(
    chains: list[FleetChain],
    directory: Path,
    *,
    store_url: str | None = None,
    keeper_config: str = "",
    fleet: dict[str, Any] | None = None,
    rpc_urls: dict[str, list[str]] | None = None,
    configs: dict[str, str] | None = None,
) -> Path:
    """Write each vault's record, a keeper config (``keeper_config``: extra TOML for it) and ``fleet.toml`` in
    ``directory``; returns the fleet file. ``rpc_urls`` (chain name → URLs) replaces a chain's single URL;
    ``configs`` (vault name → TOML) gives a vault a keeper config of its own (its book's policy)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "keeper.toml").write_text(
        "# Keeper settings shared by the fleet's vaults (network, store and metrics are set by the fleet file).\n"
        '[signer]\nprivate_key_env = "HV_KEEPER_KEY"\n' + keeper_config
    )
    lines = ["# Written for the fleet devnet: one vault per entry. `keeper fleet run -f` this file.", "[fleet]"]
    section = {"store_url": store_url, **(fleet or {})}
    lines += [f"{k} = {json.dumps(v)}" for k, v in section.items() if v is not None]
    for c in chains:
        for k, record in enumerate(c.records):
            name = f"{c.spec.name}-v{k}"
            (directory / f"{name}.json").write_text(json.dumps(record, indent=1))
            urls = (rpc_urls or {}).get(c.spec.name, [c.url])
            config = "keeper.toml"
            if configs and name in configs:
                config = f"keeper-{name}.toml"
                (directory / config).write_text(
                    '[signer]\nprivate_key_env = "HV_KEEPER_KEY"\n' + keeper_config + configs[name]
                )
            lines += [
                "",
                "[[vault]]",
                f'name = "{name}"',
                f'chain = "{c.spec.name}"',
                f"chain_id = {c.spec.chain_id}",
                f"rpc_urls = {json.dumps(urls)}",
                f'deployment = "{name}.json"',
                f'config = "{config}"',
                f'key_env = "{key_env(name)}"',
            ]
    path = directory / "fleet.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
