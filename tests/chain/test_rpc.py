from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from keeper.chain.anvil import AnvilProcess
from keeper.chain.artifacts import forge_artifact
from keeper.chain.revert import RevertDecoder
from keeper.chain.rpc import Call, RpcClient, RpcError, RpcTransportError

pytestmark = pytest.mark.chain


@pytest.fixture
def feed(w3: Web3, deployer: str, isolate: None) -> str:
    art = forge_artifact("PriceFeed")
    tx = w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(8, "ETH / USD", 3000 * 10**8, deployer)
    return str(w3.eth.wait_for_transaction_receipt(tx.transact({"from": deployer})).contractAddress)


def test_eth_call__pre_encoded__decodes_same_as_web3(anvil: AnvilProcess, feed: str) -> None:
    client = RpcClient(anvil.url)
    raw = client.eth_call(feed, "0x" + selector("latestAnswer()").hex())
    assert decode(["int256"], raw) == (3000 * 10**8,)
    assert client.requests_sent == 1


def test_batch__twenty_calls__one_round_trip_results_in_order(anvil: AnvilProcess, feed: str) -> None:
    client = RpcClient(anvil.url)
    calls = [Call("eth_chainId")] + [
        Call(
            "eth_call",
            [
                {
                    "to": feed,
                    "data": "0x" + (selector("getRoundData(uint80)") + encode(["uint80"], [1])).hex(),
                },
                "latest",
            ],
        )
        for _ in range(19)
    ]
    results = client.batch(calls)
    assert client.requests_sent == 1
    assert int(results[0], 16) == 31337
    assert all(
        decode(["uint80", "int256", "uint256", "uint256", "uint80"], bytes.fromhex(r[2:]))[1] == 3000 * 10**8
        for r in results[1:]
    )


def test_call__reverting_eth_call__raises_with_revert_data_decodable(anvil: AnvilProcess, feed: str) -> None:
    client = RpcClient(anvil.url)
    data = "0x" + (selector("getRoundData(uint80)") + encode(["uint80"], [7])).hex()
    with pytest.raises(RpcError, match="eth_call") as info:
        client.eth_call(feed, data)
    assert RevertDecoder([forge_artifact("PriceFeed").abi]).decode(info.value.data) == "RoundNotFound(roundId=7)"


def test_batch__one_call_fails__raises_naming_method(anvil: AnvilProcess) -> None:
    client = RpcClient(anvil.url)
    with pytest.raises(RpcError, match="no_such_method"):
        client.batch([Call("eth_chainId"), Call("no_such_method")])


def test_call__node_down__raises_transport_error_after_retries() -> None:
    with AnvilProcess() as process:
        url = process.url
    client = RpcClient(url, retries=1, timeout_s=0.5)
    with pytest.raises(RpcTransportError, match="unreachable after 2 attempts"):
        client.call("eth_chainId")


def test_client__not_http_url__rejected_naming_field() -> None:
    with pytest.raises(ValueError, match="rpc_url='ws://x' is not an http"):
        RpcClient("ws://x")
