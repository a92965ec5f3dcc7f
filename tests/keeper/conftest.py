"""A devnet with a funded vault and a keeper runtime wired to it (real reader, assessor, executor, tx manager)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keeper.chain.anvil import dev_account, isolated
from keeper.config import KeeperSettings
from keeper.devnet.devnet import Devnet
from keeper.runtime import KeeperRuntime

from ..vault.conftest import Stack, deploy_stack

KEEPER_INDEX = 6  # deploy_stack gives KEEPER_ROLE to anvil account 6


@pytest.fixture(scope="session")
def keeper_devnet() -> Iterator[Devnet]:
    with Devnet.start() as running:
        yield running


@pytest.fixture(scope="session")
def keeper_stack(keeper_devnet: Devnet) -> Stack:
    return deploy_stack(keeper_devnet)


@pytest.fixture
def stack(keeper_stack: Stack) -> Iterator[Stack]:
    with isolated(keeper_stack.devnet.url):
        yield keeper_stack


def record_of(stack: Stack) -> dict[str, Any]:
    return {**stack.devnet.record, "vault": stack.section}


def settings_for(stack: Stack, tmp_path: Path, **sections: Any) -> KeeperSettings:
    """Keeper settings for the devnet: loopback RPC, a fresh store, quick transaction patience."""
    base: dict[str, Any] = {
        "network": {"rpc_url": stack.devnet.url, "poll_interval_s": 0.05},
        "store": {"path": str(tmp_path / "keeper.sqlite")},
        "metrics": {"enabled": False},
        "tx": {"stuck_after_s": 2.0, "receipt_timeout_s": 30.0},
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return KeeperSettings(**base)


def runtime_for(stack: Stack, settings: KeeperSettings, **kw: Any) -> KeeperRuntime:
    return KeeperRuntime.build(settings, record_of(stack), account=dev_account(KEEPER_INDEX), **kw)
