"""Devnet state snapshots: deploy once, dump anvil's state, start later devnets from the dump.

The snapshot is keyed by a hash of everything that shapes it (the npm lock file, the project's feed
bytecode, the deployer's sources), so a change to any of them rebuilds it; a fresh clone builds it on first
use (a few seconds). Files live under ``var/devnet/`` (not committed):
``state-<key>.json`` (anvil ``--load-state`` format) and ``deployment-<key>.json`` (the record).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devnet.deploy import DeployReport, deploy_devnet
from devnet.params import BLOCK_TIME_S, GENESIS_TIMESTAMP
from keeper.chain.anvil import AnvilProcess, rpc
from keeper.chain.artifacts import forge_artifact
from keeper.chain.connect import web3_for
from keeper.paths import DEVNET_DIR, ROOT

STATE_DIR = DEVNET_DIR
# The sources that shape the snapshot: the devnet deployer, the venue deploy, the protocol artifact paths, and
# the venue model (series and surfaces are derived with it).
_SOURCES = (
    "devnet/deploy.py",
    "devnet/params.py",
    "devnet/deployer.py",
    "devnet/snapshot.py",
    "devnet/venue.py",
    "devnet/venue_reads.py",
    "keeper/chain/protocols.py",
    "keeper/venue/model.py",
)
_CONTRACTS = ("PriceFeed", "OptionMarket", "OptionMarketViews", "OptionMarketGovernance")


def snapshot_key() -> str:
    """Hash of the npm lock, the project's deployed bytecode (feeds, venue) and the deployer sources (16 hex)."""
    h = hashlib.sha256()
    h.update((ROOT / "package-lock.json").read_bytes())
    for contract in _CONTRACTS:
        h.update(forge_artifact(contract).bytecode.encode())
    for name in _SOURCES:
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Snapshot:
    key: str
    state_path: Path
    record_path: Path

    @property
    def record(self) -> dict[str, Any]:
        return json.loads(self.record_path.read_text())  # type: ignore[no-any-return]


def anvil_args() -> list[str]:
    """Arguments every devnet anvil runs with (also when started from a snapshot). EIP-170's 24,576-byte code
    limit is enforced, as on every real network; the block gas limit is raised so 1,000-position lens reads and
    the venue's deployment fit (eth_call gas is capped by it)."""
    return ["--timestamp", str(GENESIS_TIMESTAMP), *NODE_ARGS]


#: The execution flags of the devnet's node, also recorded in its deployment record (``node_args``) so a fork of
#: it (governance's fork simulation) runs with the same limits without knowing about the devnet.
NODE_ARGS = ("--gas-limit", "100000000")


def build_snapshot(state_dir: Path = STATE_DIR) -> tuple[Snapshot, DeployReport]:
    """Deploy on a fresh anvil and dump its state; replaces any snapshot with the same key."""
    key = snapshot_key()
    state_dir.mkdir(parents=True, exist_ok=True)
    with AnvilProcess(extra_args=anvil_args()) as node:
        rpc(node.url, "anvil_setBlockTimestampInterval", [BLOCK_TIME_S])
        report = deploy_devnet(web3_for(node.url))
        dumped = rpc(node.url, "anvil_dumpState", timeout=120)
    state = json.loads(gzip.decompress(bytes.fromhex(dumped[2:])))
    snap = Snapshot(key, state_dir / f"state-{key}.json", state_dir / f"deployment-{key}.json")
    _atomic_write(snap.state_path, json.dumps(state))
    _atomic_write(
        snap.record_path, json.dumps(report.record | {"snapshot_key": key, "node_args": list(NODE_ARGS)}, indent=2)
    )
    return snap, report


def ensure_snapshot(state_dir: Path = STATE_DIR) -> Snapshot:
    """The current snapshot, built first if missing or stale."""
    key = snapshot_key()
    snap = Snapshot(key, state_dir / f"state-{key}.json", state_dir / f"deployment-{key}.json")
    if snap.state_path.is_file() and snap.record_path.is_file():
        return snap
    return build_snapshot(state_dir)[0]


def prepare_time(url: str) -> None:
    """After ``--load-state``: anvil would stamp the next block from the wall clock (earlier or later than the
    dump). Pin chain time instead: next block = latest + 12 s, and 12 s per block from then on."""
    latest = rpc(url, "eth_getBlockByNumber", ["latest", False])
    rpc(url, "evm_setNextBlockTimestamp", [int(latest["timestamp"], 16) + BLOCK_TIME_S])
    rpc(url, "anvil_setBlockTimestampInterval", [BLOCK_TIME_S])


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)
