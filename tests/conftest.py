"""Shared fixtures. Chain fixtures start their own anvil on a free loopback port and always stop it.

Roles (named as in the field): ``deployer`` is anvil account 0; more roles arrive with the vault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from web3 import Web3

from keeper.chain.anvil import AnvilProcess, isolated
from keeper.chain.connect import web3_for


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilProcess]:
    """A fresh anvil for the whole session, stopped at the end whatever happens."""
    with AnvilProcess() as process:
        yield process


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL 16 (pgserver's binaries) on a free loopback port for the session, always stopped."""
    from devnet.postgres import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def w3(anvil: AnvilProcess) -> Web3:
    """web3.py connected to the session anvil (chain id cached: one request per call)."""
    return web3_for(anvil.url)


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
    from devnet.devnet import Devnet

    with Devnet.start() as running:
        yield running


@pytest.fixture
def dn(devnet: Any) -> Iterator[Any]:
    """The session devnet, with everything the test does reverted afterwards."""
    with isolated(devnet.url):
        yield devnet


@pytest.fixture
def driver(dn: Any) -> Any:
    from devnet.driver import MarketDriver

    return MarketDriver(dn.w3, dn.url, dn.record)


@pytest.fixture
def fork(devnet: Any) -> Iterator[tuple[AnvilProcess, int]]:
    """A second anvil forking the devnet at its current block (no on-disk fork cache)."""
    from keeper.chain.anvil import rpc

    block = int(rpc(devnet.url, "eth_blockNumber"), 16)
    with AnvilProcess(fork_url=devnet.url, fork_block_number=block) as node:
        yield node, block


# --- one devnet per test area, one deployed stack per session, each test isolated ------------------------------

T = TypeVar("T")


def stack_fixtures(area: str, build: Callable[[Any], T], name: str = "stack") -> tuple[Any, Any, Any]:
    """The three fixtures a devnet test area needs, made once here instead of copied into each conftest:

    - ``<area>_devnet`` (session): a devnet of the area's own, so what its stack does to pools and time never
      reaches another area's tests;
    - ``<area>_session`` (session): ``build(devnet)``, the area's deployed stack, built once;
    - ``stack`` (per test; or ``name``): that stack inside evm_snapshot / evm_revert; afterwards the market
      driver (when the stack has one) forgets its approvals and funding, which the revert undid.

    Use: ``area_devnet, area_session, stack = stack_fixtures("area", build)`` at the top of the conftest.
    """

    @pytest.fixture(scope="session", name=f"{area}_devnet")
    def devnet_fixture() -> Iterator[Any]:
        from devnet.devnet import Devnet

        with Devnet.start() as running:
            yield running

    @pytest.fixture(scope="session", name=f"{area}_session")
    def session_fixture(request: pytest.FixtureRequest) -> T:
        return build(request.getfixturevalue(f"{area}_devnet"))

    @pytest.fixture(name=name)
    def stack_fixture(request: pytest.FixtureRequest) -> Iterator[T]:
        session = request.getfixturevalue(f"{area}_session")
        with isolated(request.getfixturevalue(f"{area}_devnet").url):
            yield session
        driver = getattr(session, "driver", None)
        if driver is not None:
            driver.forget()

    return devnet_fixture, session_fixture, stack_fixture
