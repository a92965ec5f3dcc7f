"""Turn the devnet snapshot (real Aave v3 + Uniswap v3, anvil state dump) into what forge tests load in-process.

``python contracts/test/utils/devnet_allocs.py`` (run by ``make forge-test`` before ``forge test``) builds the
snapshot if it is missing or stale (``devnet.snapshot.ensure_snapshot``) and writes, under
``var/devnet/forge/``:

- ``allocs.json``: every account of the dump in genesis-alloc form, for ``vm.loadAllocs``;
- ``deployment.json``: the devnet's deployment record plus ``forge.timestamp`` / ``forge.block_number`` (the
  dump's head block), for ``vm.readFile`` + ``vm.parseJson``.

Both are rewritten only when the snapshot key changes, so a second run costs the key hash.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from devnet.snapshot import STATE_DIR, ensure_snapshot  # noqa: E402

OUT_DIR = STATE_DIR / "forge"


def to_allocs(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """anvil ``dumpState`` accounts → genesis allocs (hex nonce, balance, code, storage)."""
    allocs: dict[str, dict[str, Any]] = {}
    for address, account in state["accounts"].items():
        entry: dict[str, Any] = {"nonce": hex(int(account["nonce"])), "balance": account["balance"]}
        if account["code"] not in ("", "0x"):
            entry["code"] = account["code"]
        if account["storage"]:
            entry["storage"] = dict(account["storage"])
        allocs[address] = entry
    return allocs


def main() -> int:
    snap = ensure_snapshot()
    record_path, allocs_path = OUT_DIR / "deployment.json", OUT_DIR / "allocs.json"
    fresh = record_path.is_file() and allocs_path.is_file()
    if fresh and json.loads(record_path.read_text()).get("snapshot_key") == snap.key:
        return 0
    state = json.loads(snap.state_path.read_text())
    record = snap.record
    record["forge"] = {
        "timestamp": int(state["block"]["timestamp"], 16),
        "block_number": int(state["block"]["number"], 16),
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    allocs_path.write_text(json.dumps(to_allocs(state)))
    record_path.write_text(json.dumps(record, indent=2))
    print(f"devnet allocs for forge: {allocs_path} ({len(state['accounts'])} accounts, snapshot {snap.key})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
