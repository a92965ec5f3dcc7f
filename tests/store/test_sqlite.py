from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from keeper.store import KeeperStore, Store, StoreError
from keeper.store.sqlite import plan_hash

PLAN = {"actions": [{"adapter": "uniswap_v3", "op": "swap", "amount_in": 10**18}], "target_delta": 0.0}


def test_open__new_file__creates_schema_at_current_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "keeper.sqlite")
    version = store._db.execute("PRAGMA user_version").fetchone()[0]
    assert version == Store.SCHEMA_VERSION
    store.close()
    reopened = Store(tmp_path / "keeper.sqlite")  # migrations are not re-run
    assert reopened.pending_plans() == []


def test_open__newer_schema__refused_with_fix(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite"
    sqlite3.connect(path).execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer than this keeper's v1; upgrade the keeper"):
        Store(path)


def test_record_plan__same_plan_twice__second_is_refused(store: KeeperStore) -> None:
    first = store.record_plan(PLAN, block_number=10, reason="delta out of band", created_at=1.0)
    assert first is not None
    assert first.status == "recorded"
    assert store.record_plan(dict(PLAN), block_number=11, reason="again", created_at=2.0) is None
    assert [p.id for p in store.pending_plans()] == [first.id]


def test_plan_hash__key_order__does_not_matter() -> None:
    assert plan_hash({"a": 1, "b": [1, 2]}) == plan_hash({"b": [1, 2], "a": 1})
    assert plan_hash({"a": 1}) != plan_hash({"a": 2})


def test_tx_lifecycle__replacement_then_mined__plan_confirmed_and_versions_kept(store: KeeperStore) -> None:
    plan = store.record_plan(PLAN, block_number=10, reason="hedge", created_at=1.0)
    assert plan is not None
    store.record_tx(plan.id, "0xaa", nonce=5, max_fee_wei=10, priority_fee_wei=1, sent_at=1.0)
    assert store.plan(plan.id).status == "sent"
    store.record_tx(plan.id, "0xbb", nonce=5, max_fee_wei=12, priority_fee_wei=2, sent_at=2.0)
    store.record_receipt("0xbb", status="mined", block_number=11, gas_used=21000, effective_gas_price_wei=11)
    assert [(t.tx_hash, t.status) for t in store.txs_for_plan(plan.id)] == [
        ("0xaa", "replaced"),
        ("0xbb", "mined"),
    ]
    assert store.plan(plan.id).status == "confirmed"
    assert store.pending_plans() == []


def test_record_receipt__reverted__plan_reverted_with_reason(store: KeeperStore) -> None:
    plan = store.record_plan(PLAN, block_number=10, reason="hedge", created_at=1.0)
    assert plan is not None
    store.record_tx(plan.id, "0xaa", nonce=1, max_fee_wei=10, priority_fee_wei=1, sent_at=1.0)
    store.record_receipt(
        "0xaa",
        status="reverted",
        block_number=11,
        gas_used=50_000,
        effective_gas_price_wei=9,
        revert_reason="MaxLossExceeded(lossBps=80, maxLossBps=50)",
    )
    record = store.plan(plan.id)
    assert record.status == "reverted"


def test_record_receipt__unknown_tx__refused_and_nothing_written(store: KeeperStore) -> None:
    with pytest.raises(StoreError, match="record_tx must come first"):
        store.record_receipt("0xdead", status="mined", block_number=1, gas_used=1, effective_gas_price_wei=1)


def test_transaction__error_inside__rolls_back_everything() -> None:
    store = Store(":memory:")

    def failing_write() -> None:
        with store.transaction() as db:
            db.execute("INSERT INTO state VALUES ('last_block', '7')")
            raise RuntimeError("tick failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        failing_write()
    assert store.get_state("last_block") is None


def test_state_and_series__round_trip(store: KeeperStore) -> None:
    store.set_state("last_block", "42")
    store.record_nav(42, 1_700_000_000, nav_usd=1_000_000.0, share_price=1.01, pnl_usd=10_000.0)
    tick = store.record_tick(
        block_number=42,
        block_timestamp=1_700_000_000,
        started_at=0.0,
        latency_ms=12.5,
        rpc_requests=2,
        outcome="no action",
        risk={"net_delta": 0.1},
    )
    assert store.get_state("last_block") == "42"
    assert store.nav_series() == [(42, 1_700_000_000, 1_000_000.0, 1.01, 10_000.0)]
    assert store.last_ticks(1)[0]["id"] == tick
    assert store.last_ticks(1)[0]["risk"] == {"net_delta": 0.1}
