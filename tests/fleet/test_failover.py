"""Faults of a replicated keeper: the leader killed mid-tick, both replicas started at once, a paused leader,
the leader partitioned from PostgreSQL, PostgreSQL restarted. Every case counts the vault's ``Rebalanced``
events on chain against the plans in the shared store: 0 duplicate rebalances, 0 lost plans."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from keeper.app.runner import Runner
from keeper.app.runtime import KeeperRuntime
from keeper.chain.anvil import rpc
from keeper.store.lease import Lease
from keeper.store.postgres import PostgresStore

from ..keeper.conftest import runtime_for, settings_for
from ..keeper.test_faults import long_weth
from ..vault.conftest import Stack

pytestmark = pytest.mark.chain

_schemas = itertools.count()


def replicas(
    stack: Stack, tmp_path: Path, postgres: Any, *, n: int = 2, ttl_s: float = 3.0, margin_s: float = 1.0
) -> list[tuple[KeeperRuntime, Lease]]:
    """``n`` runtimes of the same vault and key, one PostgreSQL schema between them, a lease each."""
    schema = f"fleet{next(_schemas)}"
    out = []
    for i in range(n):
        settings = settings_for(stack, tmp_path, store={"url": postgres.url(), "pg_schema": schema})
        runtime = runtime_for(stack, settings)
        assert isinstance(runtime.store, PostgresStore)
        out.append((runtime, Lease(runtime.store, "vault", f"replica-{i}", ttl_s=ttl_s, margin_s=margin_s)))
    return out


def rebalances_on_chain(stack: Stack, from_block: int) -> int:
    if head(stack) < from_block:
        return 0
    return len(stack.vault.events.Rebalanced().get_logs(from_block=from_block))


def head(stack: Stack) -> int:
    return int(rpc(stack.devnet.url, "eth_blockNumber"), 16)


def confirmed(store: Any) -> int:
    return sum(p.status == "confirmed" for p in store.recent_plans(100))


def run_in_thread(runner: Runner) -> threading.Thread:
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    return thread


def test_leader_killed_mid_tick__follower_takes_over_and_settles__no_duplicate(
    stack: Stack, tmp_path: Path, postgres: Any
) -> None:
    long_weth(stack)
    start = head(stack) + 1  # after the set-up rebalance
    (a, lease_a), (b, lease_b) = replicas(stack, tmp_path, postgres)
    url = stack.devnet.url
    rpc(url, "evm_setAutomine", [False])
    rpc(url, "evm_setIntervalMining", [1])  # 1 s blocks: failover is counted in blocks
    try:
        assert lease_a.renew()
        assert not lease_b.renew()
        assert a.txm is not None
        a.txm.wait = lambda *_, **__: (_ for _ in ()).throw(KeyboardInterrupt)  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):  # killed after the broadcast, before the receipt; lease kept
            a.keeper.tick()
        killed_at = head(stack)
        runner = Runner(b, lease=lease_b, sleep=lambda s: time.sleep(min(s, 0.05)))
        thread = run_in_thread(runner)
        deadline = time.monotonic() + 30
        while lease_b.token is None and time.monotonic() < deadline:
            time.sleep(0.05)
        took_over_at, token = head(stack), lease_b.token
        while b.store.pending_plans() and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(3):  # the follower keeps hedging: the book is back in band, nothing more to send
            time.sleep(1.0)
        runner.stop.set()
        thread.join(10)
    finally:
        rpc(url, "evm_setIntervalMining", [0])
        rpc(url, "evm_setAutomine", [True])
    assert token == 2
    assert lease_b.token is None  # released on the clean stop
    assert took_over_at - killed_at <= 4  # ttl 3 s at 1 s blocks
    plans = b.store.recent_plans(100)
    assert [p.status for p in plans] == ["confirmed"], [(p.status, p.reason) for p in plans]
    assert rebalances_on_chain(stack, start) == 1  # one plan, one rebalance: none lost, none twice
    assert b.metrics.registry.get_sample_value("hv_leader") == 0.0  # released on the clean stop
    a.close()
    b.close()
