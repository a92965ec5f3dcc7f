"""Shared fixtures. Chain fixtures start their own anvil on a free loopback port and always stop it.

Roles (named as in the field): ``deployer`` is anvil account 0; more roles arrive with the vault.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3

from keeper.chain.anvil import AnvilProcess, isolated


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilProcess]:
    """A fresh anvil for the whole session, stopped at the end whatever happens."""
    with AnvilProcess() as process:
        yield process


@pytest.fixture(scope="session")
def w3(anvil: AnvilProcess) -> Web3:
    """web3.py connected to the session anvil (chain id cached: one request per call)."""
    return Web3(Web3.HTTPProvider(anvil.url, cache_allowed_requests=True))


@pytest.fixture(scope="session")
def ape_provider(anvil: AnvilProcess) -> Iterator[Any]:
    """An ape network context (ethereum:local:foundry) attached to the session anvil, not a new one."""
    import ape

    with ape.networks.parse_network_choice("ethereum:local:foundry", provider_settings={"host": anvil.url}) as provider:
        yield provider


@pytest.fixture
def isolate(anvil: AnvilProcess) -> Iterator[None]:
    """Run the test inside evm_snapshot / evm_revert, so chain state never leaks between tests."""
    with isolated(anvil.url):
        yield


@pytest.fixture(scope="session")
def deployer(w3: Web3) -> str:
    """anvil account 0 (unlocked on anvil; the devnet's admin)."""
    return str(w3.eth.accounts[0])


# --- devnet (real Aave v3 + Uniswap v3) -------------------------------------------------------------------


@pytest.fixture(scope="session")
def devnet() -> Iterator[Any]:
    """One devnet per session, started from the snapshot (built on first use)."""
    from keeper.devnet.devnet import Devnet

    with Devnet.start() as running:
        yield running


@pytest.fixture
def dn(devnet: Any) -> Iterator[Any]:
    """The session devnet, with everything the test does reverted afterwards."""
    with isolated(devnet.url):
        yield devnet


@pytest.fixture
def driver(dn: Any) -> Any:
    from keeper.devnet.driver import MarketDriver

    return MarketDriver(dn.w3, dn.url, dn.record)


@pytest.fixture
def fork(devnet: Any) -> Iterator[tuple[AnvilProcess, int]]:
    """A second anvil forking the devnet at its current block (no on-disk fork cache)."""
    from keeper.chain.anvil import rpc

    block = int(rpc(devnet.url, "eth_blockNumber"), 16)
    with AnvilProcess(fork_url=devnet.url, fork_block_number=block) as node:
        yield node, block
