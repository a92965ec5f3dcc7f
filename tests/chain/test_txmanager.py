from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector as selector

from keeper.chain.anvil import AnvilProcess, rpc
from keeper.chain.artifacts import forge_artifact
from keeper.chain.connect import web3_for
from keeper.chain.revert import RevertDecoder
from keeper.chain.rpc import RpcClient, RpcError
from keeper.chain.txmanager import (
    GWEI,
    FeeCapExceededError,
    FeePolicy,
    TxManager,
    TxRevertedError,
    TxSimulationError,
    TxTimeoutError,
)

pytestmark = pytest.mark.chain
# anvil's well-known development key for account 0 (never a real key).
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def submit_data(answer: int) -> str:
    return "0x" + (selector("submit(int256)") + answer.to_bytes(32, "big", signed=True)).hex()


def deploy_feed(url: str) -> str:
    w3 = web3_for(url)
    art = forge_artifact("PriceFeed")
    admin = w3.eth.accounts[0]
    tx = w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(8, "ETH / USD", 3000 * 10**8, admin)
    return str(w3.eth.wait_for_transaction_receipt(tx.transact({"from": admin})).contractAddress)


def manager(url: str, fees: FeePolicy | None = None, **kw: object) -> TxManager:
    decoder = RevertDecoder([forge_artifact("PriceFeed").abi])
    return TxManager(RpcClient(url), Account.from_key(DEV_KEY), 31337, fees or FeePolicy(), decoder, **kw)  # type: ignore[arg-type]


@pytest.fixture
def feed(anvil: AnvilProcess, isolate: None) -> str:
    return deploy_feed(anvil.url)


def test_send__valid_call__mined_and_nonce_counted_locally(anvil: AnvilProcess, feed: str) -> None:
    txm = manager(anvil.url)
    first = txm.send(feed, submit_data(3100 * 10**8))
    second = txm.send(feed, submit_data(3200 * 10**8))
    assert second.nonce == first.nonce + 1
    assert int(txm.wait(first)["status"], 16) == 1
    assert int(txm.wait(second)["status"], 16) == 1
    answer = RpcClient(anvil.url).eth_call(feed, "0x" + selector("latestAnswer()").hex())
    assert int.from_bytes(answer, "big") == 3200 * 10**8


def test_send__reverting_call__raises_reason_sends_nothing(anvil: AnvilProcess, feed: str) -> None:
    txm = manager(anvil.url)
    nonce_before = txm.next_nonce()
    with pytest.raises(TxSimulationError, match=r"NonPositiveAnswer\(answer=-1\)"):
        txm.send(feed, submit_data(-1))
    assert txm.resync_nonce() == nonce_before


class CountingClient(RpcClient):
    """Counts the methods it is asked for; optionally lacks eth_createAccessList or under-reports its gas."""

    def __init__(self, url: str, *, lacks_access_list: bool = False, gas_used_scale: float = 1.0) -> None:
        super().__init__(url)
        self.methods: list[str] = []
        self.lacks_access_list = lacks_access_list
        self.gas_used_scale = gas_used_scale

    def call(self, method: str, params: object = ()) -> object:
        self.methods.append(method)
        return super().call(method, params)  # type: ignore[arg-type]

    def batch(self, calls: object) -> list[object]:
        calls = list(calls)  # type: ignore[call-overload]
        self.methods += [c.method for c in calls]
        if self.lacks_access_list and calls[0].method == "eth_createAccessList":
            raise RpcError("eth_createAccessList", -32601, "the method eth_createAccessList does not exist")
        replies = super().batch(calls)
        if calls[0].method == "eth_createAccessList":
            replies[0] = {**replies[0], "gasUsed": hex(int(int(replies[0]["gasUsed"], 16) * self.gas_used_scale))}
        return replies


def counting_manager(client: CountingClient) -> TxManager:
    decoder = RevertDecoder([forge_artifact("PriceFeed").abi])
    return TxManager(client, Account.from_key(DEV_KEY), 31337, FeePolicy(), decoder)


def test_send__access_list_simulation__one_batch_then_exact_call_no_estimate(anvil: AnvilProcess, feed: str) -> None:
    client = CountingClient(anvil.url)
    txm = counting_manager(client)
    sent = txm.send(feed, submit_data(3100 * 10**8))
    receipt = txm.wait(sent)
    assert int(receipt["status"], 16) == 1
    assert client.methods[:4] == ["eth_createAccessList", "eth_getBlockByNumber", "eth_getTransactionCount", "eth_call"]
    assert "eth_estimateGas" not in client.methods
    assert sent.access_list
    assert any(e["storageKeys"] for e in sent.access_list)
    on_chain = rpc(anvil.url, "eth_getTransactionByHash", [sent.tx_hash])
    assert [e["address"].lower() for e in on_chain["accessList"]] == [e["address"].lower() for e in sent.access_list]
    assert int(receipt["gasUsed"], 16) <= sent.gas


def test_send__node_without_create_access_list__falls_back_to_estimate_gas(anvil: AnvilProcess, feed: str) -> None:
    client = CountingClient(anvil.url, lacks_access_list=True)
    txm = counting_manager(client)
    sent = txm.send(feed, submit_data(3100 * 10**8))
    assert int(txm.wait(sent)["status"], 16) == 1
    assert "eth_estimateGas" in client.methods
    assert not sent.access_list
    assert txm.access_lists is False  # remembered: the next send goes straight to eth_estimateGas
    client.methods.clear()
    txm.wait(txm.send(feed, submit_data(3200 * 10**8)))
    assert "eth_createAccessList" not in client.methods


def test_send__gas_limit_short_in_exact_call__estimate_gas_decides(anvil: AnvilProcess, feed: str) -> None:
    # The node under-reports gas used (as refunds and the 63/64 rule can make the need exceed it): the exact
    # eth_call at the planned limit runs out of gas, and eth_estimateGas sets the limit instead.
    client = CountingClient(anvil.url, gas_used_scale=0.3)
    txm = counting_manager(client)
    sent = txm.send(feed, submit_data(3100 * 10**8))
    assert int(txm.wait(sent)["status"], 16) == 1
    assert "eth_estimateGas" in client.methods


def test_wait__mined_with_status_zero__raises_decoded_reason(anvil: AnvilProcess, feed: str) -> None:
    txm = manager(anvil.url, access_lists=False)
    # Force a revert past simulation by giving an explicit gas limit and skipping estimateGas.
    txm.simulate = lambda *a, **k: 100_000  # type: ignore[method-assign]
    sent = txm.send(feed, submit_data(0), gas=100_000)
    with pytest.raises(TxRevertedError, match=r"NonPositiveAnswer\(answer=0\)"):
        txm.wait(sent)


def test_quote_fees__base_fee_above_cap__raises_naming_config_field() -> None:
    with AnvilProcess(extra_args=["--block-base-fee-per-gas", str(500 * GWEI)]) as node:
        txm = manager(node.url, FeePolicy(max_fee_cap_wei=100 * GWEI))
        with pytest.raises(FeeCapExceededError, match=r"tx\.max_fee_cap_gwei"):
            txm.quote_fees()


@pytest.fixture
def no_mining_node() -> Iterator[AnvilProcess]:
    with AnvilProcess(extra_args=["--no-mining"]) as node:
        yield node


def test_wait__stuck_transaction__replaced_with_bumped_fees_and_mined(no_mining_node: AnvilProcess) -> None:
    rpc(no_mining_node.url, "evm_mine")
    feed_url = no_mining_node.url
    rpc(feed_url, "evm_setAutomine", [True])
    feed = deploy_feed(feed_url)
    rpc(feed_url, "evm_setAutomine", [False])
    now = [0.0]

    def sleep(dt: float) -> None:  # a fake clock: each poll advances 10 s; mine after the 1st bump
        now[0] += 10.0
        if len(sent.hashes) == 2:
            rpc(feed_url, "evm_mine")

    txm = manager(feed_url, clock=lambda: now[0], sleep=sleep)
    sent = txm.send(feed, submit_data(3300 * 10**8))
    first_fee = sent.max_fee_wei
    receipt = txm.wait(sent, stuck_after_s=15.0, timeout_s=100.0)
    assert len(sent.hashes) == 2
    assert receipt["transactionHash"] == sent.hashes[1]
    assert sent.max_fee_wei >= first_fee * 1125 // 1000
    assert int(rpc(feed_url, "eth_getTransactionCount", [txm.address, "latest"]), 16) == sent.nonce + 1


def test_wait__never_mined__times_out_keeping_nonce(no_mining_node: AnvilProcess) -> None:
    rpc(no_mining_node.url, "evm_setAutomine", [True])
    feed = deploy_feed(no_mining_node.url)
    rpc(no_mining_node.url, "evm_setAutomine", [False])
    now = [0.0]
    txm = manager(no_mining_node.url, clock=lambda: now[0], sleep=lambda dt: now.__setitem__(0, now[0] + dt))
    sent = txm.send(feed, submit_data(3300 * 10**8))
    with pytest.raises(TxTimeoutError, match="not mined within 5"):
        txm.wait(sent, timeout_s=5.0, stuck_after_s=100.0)
    assert txm.next_nonce() == sent.nonce + 1


def test_fee_policy__bump_below_node_minimum__rejected_with_fix() -> None:
    with pytest.raises(ValueError, match="replacement_bump_bps=500 is below 1000"):
        FeePolicy(replacement_bump_bps=500)
    with pytest.raises(ValueError, match=r"priority_fee_wei=.* exceeds max_fee_cap_wei"):
        FeePolicy(max_fee_cap_wei=1, priority_fee_wei=2)


def test_send__refunds_through_a_delegatecall__starved_inner_call_is_not_taken_for_a_revert(
    anvil: AnvilProcess, isolate: None
) -> None:
    """Storage cleared through a delegatecall (as the venue's facets settle an expiry): gas used after refunds is
    below what execution needs, so the exact call at used + margin starves the inner call, which the proxy
    bubbles as a revert without data. The manager checks the call at the node's cap before calling it a revert,
    lets eth_estimateGas set the limit, and the transaction is sent and mined (the keeper's settleExpiry of a
    WBTC expiry failed its simulation 'reverted without data' for ticks on end)."""
    w3 = web3_for(anvil.url)
    admin = w3.eth.accounts[0]
    art = forge_artifact("RefundingProxy")
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor().transact({"from": admin})
    )
    proxy = w3.eth.contract(address=receipt.contractAddress, abi=art.abi)
    assert w3.eth.wait_for_transaction_receipt(proxy.functions.fill(150).transact({"from": admin}))["status"] == 1
    client = CountingClient(anvil.url)
    txm = counting_manager(client)
    sent = txm.send(proxy.address, proxy.functions.clear(150)._encode_transaction_data())
    assert int(txm.wait(sent)["status"], 16) == 1
    assert proxy.functions.slot(149).call() == 0
    assert "eth_estimateGas" in client.methods
