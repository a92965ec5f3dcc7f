from __future__ import annotations

import pytest

from keeper.chain.artifacts import forge_artifact, link_bytecode, npm_artifact
from keeper.model.exceptions import ArtifactNotFoundError, LinkError

POOL = "@aave/core-v3/artifacts/contracts/protocol/pool/Pool.sol/Pool.json"
POOL_LIBRARIES = (
    "BorrowLogic",
    "BridgeLogic",
    "EModeLogic",
    "FlashLoanLogic",
    "LiquidationLogic",
    "PoolLogic",
    "SupplyLogic",
)


def test_forge_artifact__built_contract__has_abi_and_creation_code() -> None:
    feed = forge_artifact("PriceFeed")
    assert {"submit", "latestRoundData", "latestAnswer"} <= {e.get("name") for e in feed.abi}
    assert feed.bytecode.startswith("0x60")
    assert not feed.needs_linking


def test_forge_artifact__unknown_contract__tells_to_build() -> None:
    with pytest.raises(ArtifactNotFoundError, match="make build"):
        forge_artifact("NoSuchContract")


def test_npm_artifact__missing_path__tells_to_install() -> None:
    with pytest.raises(ArtifactNotFoundError, match="npm ci"):
        npm_artifact("@aave/core-v3/artifacts/Nope.json")


def test_linked__aave_pool_all_libraries__no_placeholder_left() -> None:
    pool = npm_artifact(POOL)
    assert pool.needs_linking
    addresses = {name: f"0x{i + 1:040x}" for i, name in enumerate(POOL_LIBRARIES)}
    code = pool.linked(addresses)
    assert "__$" not in code
    assert len(code) == len(pool.bytecode)
    for address in addresses.values():
        assert address[2:] in code


def test_linked__library_missing__names_it() -> None:
    pool = npm_artifact(POOL)
    with pytest.raises(LinkError, match="has no address"):
        pool.linked({"BorrowLogic": "0x" + "11" * 20})


def test_link_bytecode__malformed_address__rejected() -> None:
    refs = {"a.sol": {"Lib": [{"start": 0, "length": 20}]}}
    with pytest.raises(LinkError, match="not 20 bytes"):
        link_bytecode("0x" + "00" * 20, refs, {"Lib": "0x1234"})
