from __future__ import annotations

import pytest
from web3 import Web3

from devnet.devnet import Devnet
from devnet.snapshot import ensure_snapshot, snapshot_key
from keeper.chain.anvil import AnvilProcess, rpc
from keeper.chain.connect import web3_for

from .conftest import contract

pytestmark = pytest.mark.chain


def test_fork__reads_at_fork_block__equal_origin(devnet: Devnet, fork: tuple[AnvilProcess, int]) -> None:
    node, block = fork
    origin, forked = devnet.w3, web3_for(node.url)
    borrower = devnet.record["accounts"]["background_borrower"]
    pool_address = devnet.record["aave"]["Pool"]
    on_origin = (
        contract(origin, pool_address, "Pool").functions.getUserAccountData(borrower).call(block_identifier=block)
    )
    on_fork = contract(forked, pool_address, "Pool").functions.getUserAccountData(borrower).call(block_identifier=block)
    assert on_fork == on_origin
    assert forked.eth.chain_id == origin.eth.chain_id


def test_fork__writes__leave_origin_unchanged(devnet: Devnet, fork: tuple[AnvilProcess, int]) -> None:
    node, _ = fork
    forked = web3_for(node.url)
    feed_address = devnet.record["feeds"]["WETH"]
    admin = devnet.record["accounts"]["admin"]
    origin_block = devnet.w3.eth.block_number
    before = contract(devnet.w3, feed_address, "PriceFeed").functions.latestAnswer().call()
    tx = contract(forked, feed_address, "PriceFeed").functions.submit(1234 * 10**8).transact({"from": admin})
    assert forked.eth.wait_for_transaction_receipt(tx)["status"] == 1
    assert contract(forked, feed_address, "PriceFeed").functions.latestAnswer().call() == 1234 * 10**8
    assert contract(devnet.w3, feed_address, "PriceFeed").functions.latestAnswer().call() == before
    assert devnet.w3.eth.block_number == origin_block


def test_snapshot__second_start__reuses_state_under_two_seconds(devnet: Devnet) -> None:
    snap = ensure_snapshot()
    assert snap.key == snapshot_key() == devnet.record["snapshot_key"]
    mtime = snap.state_path.stat().st_mtime
    with Devnet.start() as second:
        assert second.ready_seconds < 2.0
        assert second.record == devnet.record
        assert second.w3.eth.get_code(Web3.to_checksum_address(second.record["aave"]["Pool"]))
    assert snap.state_path.stat().st_mtime == mtime  # not rebuilt


def test_snapshot__after_load__chain_time_continues_in_12s_steps(devnet: Devnet) -> None:
    latest = int(rpc(devnet.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    rpc(devnet.url, "evm_mine")
    mined = int(rpc(devnet.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert mined - latest == 12
