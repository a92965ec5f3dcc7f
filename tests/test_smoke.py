"""Foundation smoke tests: a contract compiled by the solc-js shim deploys and works through web3.py
(the keeper's path) and through ape (the scripts' path), both from forge's one build."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from keeper.chain.artifacts import forge_artifact

pytestmark = pytest.mark.chain


def test_deploy__web3_forge_build__feed_answers_and_accepts_rounds(w3: Web3, deployer: str, isolate: None) -> None:
    art = forge_artifact("PriceFeed")
    factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(8, "ETH / USD", 3000 * 10**8, deployer).transact({"from": deployer})
    )
    feed = w3.eth.contract(address=receipt.contractAddress, abi=art.abi)
    assert feed.functions.latestAnswer().call() == 3000 * 10**8
    w3.eth.wait_for_transaction_receipt(feed.functions.submit(3100 * 10**8).transact({"from": deployer}))
    round_id, answer, _, updated_at, _ = feed.functions.latestRoundData().call()
    assert (round_id, answer) == (2, 3100 * 10**8)
    assert updated_at == w3.eth.get_block("latest")["timestamp"]


def test_deploy__ape_from_forge_artifact__deploys_and_answers(ape_provider: Any, isolate: None) -> None:
    import ape

    from scripts._ape_support import forge_contract

    admin = ape.accounts.test_accounts[0]
    feed = admin.deploy(forge_contract("PriceFeed"), 8, "BTC / USD", 60_000 * 10**8, admin)
    assert feed.latestAnswer() == 60_000 * 10**8
    assert feed.decimals() == 8
    # forge's runtime code, immutables (decimals) filled in at deployment: same length, same bytes elsewhere
    assert (
        len(bytes(ape_provider.get_code(feed.address))) == len(forge_artifact("PriceFeed").deployed_bytecode) // 2 - 1
    )
    again = forge_contract("PriceFeed").at(feed.address)
    assert again.description() == "BTC / USD"


def test_isolated__write_inside__reverted_after(w3: Web3, anvil: Any) -> None:
    from keeper.chain.anvil import isolated

    account = w3.eth.accounts[3]
    before = w3.eth.get_transaction_count(account)
    with isolated(anvil.url):
        w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": account, "to": account, "value": 1}))
        assert w3.eth.get_transaction_count(account) == before + 1
    assert w3.eth.get_transaction_count(account) == before
