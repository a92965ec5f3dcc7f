"""scripts/feed.py run as `ape run feed …` against the session anvil (a real ape process)."""

from __future__ import annotations

import os
import re
import subprocess

import click
import pytest
from web3 import Web3

from keeper.chain.anvil import AnvilProcess
from keeper.paths import ROOT

pytestmark = pytest.mark.chain


def ape_run(anvil: AnvilProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APE_FOUNDRY_HOST": anvil.url}
    return subprocess.run(
        ["ape", "run", "feed", *args, "--network", "ethereum:local:foundry"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def test_feed_script__deploy_then_submit__chain_holds_new_round(anvil: AnvilProcess, w3: Web3, isolate: None) -> None:
    deployed = ape_run(anvil, "deploy", "--description", "ETH / USD", "--answer", "3000.5", "--account", "TEST::0")
    assert deployed.returncode == 0, deployed.stderr
    address = re.search(r"deployed at (0x[0-9a-fA-F]{40})", deployed.stdout)
    assert address, deployed.stdout
    submitted = ape_run(anvil, "submit", address.group(1), "3100", "--account", "TEST::0")
    assert submitted.returncode == 0, submitted.stderr
    feed = w3.eth.contract(
        address=Web3.to_checksum_address(address.group(1)),
        abi=[
            {
                "name": "latestAnswer",
                "type": "function",
                "stateMutability": "view",
                "inputs": [],
                "outputs": [{"type": "int256", "name": ""}],
            }
        ],
    )
    assert feed.functions.latestAnswer().call() == 3100 * 10**8


def test_scaled_answer__too_many_decimals__names_field_and_precision() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("feed_script", ROOT / "scripts" / "feed.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.scaled_answer("3000.12345678", 8) == 300012345678
    with pytest.raises(click.BadParameter, match=r"answer=1\.123 must be > 0 with at most 2 decimals"):
        module.scaled_answer("1.123", 2)
    with pytest.raises(click.BadParameter, match="is not a number"):
        module.scaled_answer("abc", 8)
