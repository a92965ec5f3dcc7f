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
from keeper.store.lease import Lease, LeaseLostError
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
        # The leader's heartbeat, as its Runner keeps it while a tick runs: on a loaded machine the tick alone can
        # outlast the 3 s ttl, and the store then (rightly) fences it before it sends anything.
        alive = threading.Event()
        beat = threading.Thread(target=lambda: [lease_a.extend() for _ in iter(lambda: alive.wait(0.5), True)])
        beat.start()
        try:
            with pytest.raises(KeyboardInterrupt):  # killed after the broadcast, before the receipt; lease kept
                a.keeper.tick()
        finally:
            alive.set()
            beat.join(5)
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


def test_both_replicas_started_at_once__one_leads__one_rebalance(stack: Stack, tmp_path: Path, postgres: Any) -> None:
    long_weth(stack)
    start = head(stack) + 1  # after the set-up rebalance
    pairs = replicas(stack, tmp_path, postgres)
    runners = [Runner(rt, lease=lease, sleep=lambda s: time.sleep(min(s, 0.05))) for rt, lease in pairs]
    threads = [run_in_thread(r) for r in runners]
    deadline = time.monotonic() + 30
    while rebalances_on_chain(stack, start) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    for _ in range(5):
        stack.driver.mine()
        time.sleep(0.3)
    for r in runners:
        r.stop.set()
    for th in threads:
        th.join(10)
    leaders = [lease.terms for _, lease in pairs]
    assert sorted(leaders) == [0, 1]
    assert rebalances_on_chain(stack, start) == 1
    assert confirmed(pairs[0][0].store) == 1
    for rt, _ in pairs:
        rt.close()


def test_paused_leader__resumes_after_takeover__its_send_is_fenced(stack: Stack, tmp_path: Path, postgres: Any) -> None:
    long_weth(stack)
    start = head(stack) + 1  # after the set-up rebalance
    (a, lease_a), (b, lease_b) = replicas(stack, tmp_path, postgres, ttl_s=2.0, margin_s=0.5)
    assert lease_a.renew()
    # A reads and plans, then stalls (GC pause, SIGSTOP) for longer than its lease before it records the plan.
    real_record = a.store.record_plan

    def paused(*args: Any, **kw: Any) -> Any:
        time.sleep(2.2)
        assert lease_b.renew()  # meanwhile B took the lease
        return real_record(*args, **kw)

    a.store.record_plan = paused  # type: ignore[method-assign]
    result = a.keeper.tick()
    assert result.outcome.startswith("failed"), result.outcome
    assert "not leader" in result.outcome or "no longer current" in result.outcome
    assert rebalances_on_chain(stack, start) == 0
    hedged = b.keeper.tick()  # B acts on the same block's need: once
    assert hedged.outcome == "rebalance mined", hedged.outcome
    assert rebalances_on_chain(stack, start) == 1
    a.close()
    b.close()


def test_leader_partitioned_from_postgres__stops_sending_before_lease_expiry(
    stack: Stack, tmp_path: Path, postgres: Any
) -> None:
    import sqlalchemy as sa

    from keeper.chain.anvil import free_port

    long_weth(stack)
    start = head(stack) + 1  # after the set-up rebalance
    (a, lease_a), (b, lease_b) = replicas(stack, tmp_path, postgres, ttl_s=3.0, margin_s=1.0)
    assert lease_a.renew()
    a.store.engine.dispose()  # the partition: A's connections go nowhere from now on
    a.store.engine = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres", connect_args={"connect_timeout": 1}
    )
    result = a.keeper.tick()  # while the lease is still valid on the server: the write fails, nothing is sent
    assert result.outcome.startswith("failed"), result.outcome
    time.sleep(2.1)
    assert not lease_a.renew()  # 2 s after its last renewal: inside the 1 s margin, A stands down locally
    with pytest.raises(LeaseLostError):
        a.store.record_plan({"x": 1}, block_number=1, reason="r", created_at=0.0)
    assert not lease_b.renew()  # the server lease has not expired yet: nobody may act (no overlap)
    time.sleep(1.0)
    assert lease_b.renew()
    assert b.keeper.tick().outcome == "rebalance mined"
    assert rebalances_on_chain(stack, start) == 1
    a.close()
    b.close()


def test_postgres_restarted__leader_keeps_its_term_and_hedges_after(
    stack: Stack, tmp_path: Path, postgres: Any
) -> None:
    long_weth(stack)
    start = head(stack) + 1  # after the set-up rebalance
    (a, lease_a), (_b, _) = replicas(stack, tmp_path, postgres, ttl_s=10.0, margin_s=2.0)
    assert lease_a.renew()
    postgres.stop()
    down = a.keeper.tick()
    assert down.outcome.startswith("failed"), down.outcome
    postgres.start()
    assert lease_a.renew()
    assert lease_a.token == 1  # same term: nobody else could take it while the server was down
    assert a.keeper.tick().outcome == "rebalance mined"
    assert rebalances_on_chain(stack, start) == 1
    assert confirmed(a.store) == 1
    a.close()
    _b.close()


def test_tick_longer_than_the_lease__heartbeat_keeps_the_term__no_takeover_mid_tick(
    stack: Stack, tmp_path: Path, postgres: Any
) -> None:
    long_weth(stack)
    start = head(stack) + 1  # after the set-up rebalance
    (a, lease_a), (b, lease_b) = replicas(stack, tmp_path, postgres, ttl_s=2.0, margin_s=0.5)
    real_tick = a.keeper.tick
    stolen: list[bool] = []

    def slow_tick() -> Any:  # a tick that waits on a slow node for twice the lease before it plans
        for _ in range(8):
            time.sleep(0.5)
            stolen.append(lease_b.renew())
        return real_tick()

    a.keeper.tick = slow_tick  # type: ignore[method-assign]
    runner = Runner(a, lease=lease_a, sleep=lambda s: time.sleep(min(s, 0.05)), on_tick=lambda _: runner.stop.set())
    thread = run_in_thread(runner)
    thread.join(60)
    assert not any(stolen)  # the follower never won while the leader was mid-tick
    assert lease_a.terms == 1
    assert rebalances_on_chain(stack, start) == 1
    assert confirmed(a.store) == 1
    a.close()
    b.close()
