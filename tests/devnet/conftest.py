"""Devnet fixtures: one devnet per session (from the snapshot), each test isolated by evm_snapshot/revert."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3

from keeper.chain.anvil import AnvilProcess, isolated, rpc
from keeper.devnet.artifacts import art
from keeper.devnet.devnet import Devnet
from keeper.devnet.driver import MarketDriver


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    with Devnet.start() as running:
        yield running


@pytest.fixture
def dn(devnet: Devnet) -> Iterator[Devnet]:
    """The session devnet, with everything the test does reverted afterwards."""
    with isolated(devnet.url):
        yield devnet


@pytest.fixture
def driver(dn: Devnet) -> MarketDriver:
    return MarketDriver(dn.w3, dn.url, dn.record)


@pytest.fixture
def fork(devnet: Devnet) -> Iterator[tuple[AnvilProcess, int]]:
    """A second anvil forking the devnet at its current block (no on-disk fork cache)."""
    block = int(rpc(devnet.url, "eth_blockNumber"), 16)
    with AnvilProcess(fork_url=devnet.url, fork_block_number=block) as node:
        yield node, block


def contract(w3: Web3, address: str, name: str) -> Any:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=art(name).abi)
