"""Faults the keeper must survive without crashing, without sending a rebalance twice, and visibly (metrics,
store): RPC outage mid-tick, node restart, a transaction dropped from the mempool, nonce gaps, a plan the vault
refuses, a stale oracle, and the process killed between broadcast and receipt."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devnet.devnet import Devnet
from governance.deploy import RiskParams
from keeper.chain.anvil import rpc
from keeper.model import Swap

from ..vault.conftest import Stack, deploy_stack
from .conftest import FlakyProxy, runtime_for, settings_for
from .test_keeper_devnet import keeper_rebalance

pytestmark = pytest.mark.chain


def long_weth(stack: Stack) -> None:
    """The vault holds ~100 WETH: far outside the delta band, so the keeper will want to sell it."""
    keeper_rebalance(stack, Swap("USDC", "WETH", 300_000.0, 99.0))


def counter(runtime: Any, name: str, **labels: str) -> float:
    value = runtime.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else float(value)


@pytest.fixture
def proxy(stack: Stack) -> Iterator[FlakyProxy]:
    p = FlakyProxy(stack.devnet.url)
    yield p
    p.close()


def test_rpc_down_mid_tick__tick_fails_cleanly__next_tick_hedges(
    stack: Stack, tmp_path: Path, proxy: FlakyProxy
) -> None:
    long_weth(stack)
    settings = settings_for(
        stack,
        tmp_path,
        network={"rpc_url": proxy.url, "poll_interval_s": 0.05},
        execution={"routing": False, "slicing": False},
    )
    runtime = runtime_for(stack, settings)
    proxy.fail_after = 1  # the read batch passes; the simulation of the plan finds the node gone
    failed = runtime.keeper.tick()
    assert failed.outcome.startswith("failed:")
    assert "unreachable" in failed.outcome
    assert runtime.keeper.consecutive_failures == 1
    (plan,) = runtime.store.recent_plans()
    assert plan.status == "failed"  # recorded before sending, nothing signed
    proxy.down, proxy.fail_after = False, None
    retried = runtime.keeper.tick()  # same block: the same plan may go again since nothing was sent
    assert retried.outcome == "rebalance mined", retried.outcome
    assert runtime.keeper.consecutive_failures == 0
    assert len(runtime.store.recent_plans()) == 1


def test_rpc_down_while_routing__nothing_recorded__next_tick_routes_and_hedges(
    stack: Stack, tmp_path: Path, proxy: FlakyProxy
) -> None:
    long_weth(stack)
    runtime = runtime_for(stack, settings_for(stack, tmp_path, network={"rpc_url": proxy.url, "poll_interval_s": 0.05}))
    proxy.fail_after = 1  # the read batch passes; the router's pool reads find the node gone
    failed = runtime.keeper.tick()
    assert failed.outcome.startswith("failed:")
    assert "unreachable" in failed.outcome
    assert runtime.store.recent_plans() == []  # routing precedes the record: no plan, nothing signed
    proxy.down, proxy.fail_after = False, None
    retried = runtime.keeper.tick()
    assert retried.outcome == "rebalance mined", retried.outcome
    assert retried.plan is not None
    assert any(d.rule == "routing" for d in retried.plan.decisions)
    assert len(runtime.store.recent_plans()) == 1


def test_node_restarted__keeper_reconnects_and_continues(tmp_path: Path) -> None:
    with Devnet.start() as devnet:
        stack = deploy_stack(devnet)
        runtime = runtime_for(stack, settings_for(stack, tmp_path))
        assert runtime.keeper.tick().outcome == "no action"
        import gzip

        dumped = tmp_path / "state.json"  # the node's state at the moment it goes down
        dumped.write_bytes(gzip.decompress(bytes.fromhex(rpc(devnet.url, "anvil_dumpState")[2:])))
        port = devnet.anvil.port
        devnet.anvil.stop()
        down = runtime.keeper.tick()
        assert down.outcome.startswith("failed:")
        from devnet.snapshot import anvil_args, prepare_time
        from keeper.chain.anvil import AnvilProcess

        with AnvilProcess(port, load_state=dumped, extra_args=anvil_args()) as restarted:
            prepare_time(restarted.url)
            long_weth(stack)  # a new block on the restarted node, with work to do
            result = runtime.keeper.tick()
            assert result.outcome == "rebalance mined", result.outcome
            assert runtime.keeper.consecutive_failures == 0


def test_tx_dropped_from_mempool__replaced_with_higher_fees_and_mined(stack: Stack, tmp_path: Path) -> None:
    long_weth(stack)
    runtime = runtime_for(stack, settings_for(stack, tmp_path, tx={"stuck_after_s": 1.0}))
    url = stack.devnet.url
    rpc(url, "evm_setAutomine", [False])
    try:
        outcome: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: outcome.update(result=runtime.keeper.tick()))
        worker.start()
        first = _wait_for_pending(url, stack.keeper)
        rpc(url, "anvil_dropTransaction", [first])
        second = _wait_for_pending(url, stack.keeper, other_than=first)
        rpc(url, "evm_mine")
        worker.join(30)
    finally:
        rpc(url, "evm_setAutomine", [True])
    assert outcome["result"].outcome == "rebalance mined"
    (plan,) = runtime.store.recent_plans()
    statuses = {t.tx_hash: t.status for t in runtime.store.txs_for_plan(plan.id)}
    assert statuses == {first: "replaced", second: "mined"}


def _wait_for_pending(url: str, sender: str, other_than: str | None = None, timeout_s: float = 20.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pending = rpc(url, "txpool_content")["pending"]
        for by_sender, txs in pending.items():
            if by_sender.lower() == sender.lower():
                for tx in txs.values():
                    if tx["hash"] != other_than:
                        return str(tx["hash"])
        time.sleep(0.05)
    raise AssertionError("no pending transaction from the keeper appeared")


def test_nonce_used_outside_keeper__rejected_then_resynced(stack: Stack, tmp_path: Path) -> None:
    long_weth(stack)
    runtime = runtime_for(stack, settings_for(stack, tmp_path))
    assert runtime.txm is not None
    runtime.txm.next_nonce()  # the keeper has read its nonce ...
    w3 = stack.w3  # ... then someone else uses the key (an operator's manual transaction)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": stack.keeper, "to": stack.keeper}))
    failed = runtime.keeper.tick()
    assert failed.outcome.startswith("failed:")
    assert "nonce" in failed.outcome
    stack.driver.mine()
    assert runtime.keeper.tick().outcome == "rebalance mined"


def test_nonce_gap__missing_nonce_filled__rebalance_mined(stack: Stack, tmp_path: Path) -> None:
    long_weth(stack)
    runtime = runtime_for(stack, settings_for(stack, tmp_path, tx={"stuck_after_s": 1.0}))
    assert runtime.txm is not None
    runtime.txm._nonce = runtime.txm.next_nonce() + 1  # a lost transaction left the local count one ahead
    result = runtime.keeper.tick()
    assert result.outcome == "rebalance mined", result.outcome
    assert runtime.txm.mined_nonce() == runtime.txm.next_nonce()


def test_plan_refused_by_vault__recorded_not_retried_blindly(stack: Stack, tmp_path: Path) -> None:
    long_weth(stack)
    tight = RiskParams(turnover_budget_bps=1)  # 0.01 % of NAV per period: any hedge is over budget
    stack.send(stack.vault.functions.tightenRiskParams(tight.as_tuple()), stack.guardian)
    runtime = runtime_for(stack, settings_for(stack, tmp_path))
    refused = runtime.keeper.tick()
    assert refused.outcome.startswith("plan rejected: TurnoverBudgetExceeded"), refused.outcome
    stack.driver.mine()
    again = runtime.keeper.tick()
    assert again.outcome.startswith("skipped: the same actions failed at block")
    assert counter(runtime, "hv_alerts_total", kind="plan_rejected") == 1
    assert counter(runtime, "hv_transactions_total", state="rejected") == 1
    assert runtime.keeper.consecutive_failures == 0


def test_stale_oracle__no_rebalance_and_alert(stack: Stack, tmp_path: Path) -> None:
    long_weth(stack)
    stack.driver.advance(2 * 3600)  # the feeds' last rounds are now older than the 1 h heartbeat
    runtime = runtime_for(stack, settings_for(stack, tmp_path))
    result = runtime.keeper.tick()
    assert result.outcome.startswith("blocked: oracle USDC stale"), result.outcome
    assert result.plan is not None
    assert not result.plan.empty  # it knows what it would do ...
    assert runtime.store.recent_plans() == []  # ... and sends nothing
    assert counter(runtime, "hv_alerts_total", kind="rebalance_blocked") == 1
    assert result.risk["oracle_age_seconds:WETH"] >= 7200


def test_killed_between_send_and_receipt__restart_settles_it__no_duplicate(stack: Stack, tmp_path: Path) -> None:
    long_weth(stack)
    settings = settings_for(stack, tmp_path)
    url = stack.devnet.url
    rpc(url, "evm_setAutomine", [False])
    try:
        runtime = runtime_for(stack, settings)
        assert runtime.txm is not None

        def die(*_: object, **__: object) -> Any:
            raise KeyboardInterrupt  # the process is killed while waiting for the receipt

        runtime.txm.wait = die  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            runtime.keeper.tick()
        runtime.store.close()
        (pending,) = runtime_for(stack, settings).store.pending_plans()
        assert pending.status == "sent"
        rpc(url, "evm_mine")  # the transaction lands while the keeper is down
        restarted = runtime_for(stack, settings)
        notes = restarted.keeper.reconcile()
    finally:
        rpc(url, "evm_setAutomine", [True])
    assert notes == [f"plan {pending.id} ({pending.reason}): mined"]
    stack.driver.mine()
    after = restarted.keeper.tick()
    assert after.outcome == "no action"  # hedged once: within band, nothing sent again
    assert len(restarted.store.recent_plans()) == 1


def test_killed_and_tx_lost__restart_cancels_its_nonce__old_tx_can_never_land(stack: Stack, tmp_path: Path) -> None:
    long_weth(stack)
    settings = settings_for(stack, tmp_path, tx={"stuck_after_s": 1.0})
    url = stack.devnet.url
    rpc(url, "evm_setAutomine", [False])
    try:
        runtime = runtime_for(stack, settings)
        assert runtime.txm is not None
        runtime.txm.wait = lambda *_, **__: (_ for _ in ()).throw(KeyboardInterrupt)  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            runtime.keeper.tick()
        lost = _wait_for_pending(url, stack.keeper)
        rpc(url, "anvil_dropTransaction", [lost])  # the node lost it (it could still be in others' pools)
        rpc(url, "evm_setIntervalMining", [1])
        restarted = runtime_for(stack, settings)
        (note,) = restarted.keeper.reconcile()
    finally:
        rpc(url, "evm_setIntervalMining", [0])
        rpc(url, "evm_setAutomine", [True])
    assert "cancelled: nonce" in note, note
    plans = restarted.store.recent_plans()
    assert plans[0].status == "abandoned"
    assert rpc(url, "eth_getTransactionReceipt", [lost]) is None
