"""Where the project's files live: the checkout, forge's build, npm packages, and the devnet's state.

A leaf module (imports nothing of the project), so every package can take these locations from below: the
bot, the devnet tooling that writes ``DEVNET_RECORD_FILE`` and the scripts that read it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORGE_OUT = ROOT / "out"
NODE_MODULES = ROOT / "node_modules"
SCENARIOS_DIR = ROOT / "scenarios"
DEVNET_DIR = ROOT / "var" / "devnet"
DEVNET_RUN_FILE = DEVNET_DIR / "run.json"  # the running devnet: pid, url, snapshot key
DEVNET_RECORD_FILE = DEVNET_DIR / "deployment.json"  # its deployment record (`ape run deploy` adds the vault)
DEVNET_KEEPER_CONFIG = DEVNET_DIR / "keeper.toml"  # a keeper config for that vault, written by `keeper devnet up`
