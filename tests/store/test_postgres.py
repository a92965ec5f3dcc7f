"""PostgreSQL backend specifics: alembic migrations, refusals that name the fix, rollback, racing replicas."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from keeper.chain.anvil import free_port
from keeper.store import StoreError
from keeper.store.postgres import PostgresStore

PLAN = {"actions": [{"adapter": "uniswap_v3", "op": "swap", "amount_in": 10**18}], "target_delta": 0.0}


def test_open__new_schema__migrated_to_head_and_reopen_is_a_no_op(postgres: Any, pg_schema: str) -> None:
    store = PostgresStore(postgres.url(), schema=pg_schema)
    assert store.version() == PostgresStore.SCHEMA_VERSION == 2
    store.set_state("last_block", "7")
    store.close()
    again = PostgresStore(postgres.url(), schema=pg_schema)
    assert again.get_state("last_block") == "7"
    again.close()


def test_open__newer_schema__refused_with_fix(postgres: Any, pg_schema: str) -> None:
    PostgresStore(postgres.url(), schema=pg_schema).close()
    engine = sa.create_engine(postgres.url())
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {pg_schema}.alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(StoreError, match="has schema v99, newer than this keeper's v2; upgrade the keeper"):
        PostgresStore(postgres.url(), schema=pg_schema)


def test_open__unreachable_server__refused_naming_the_url_without_password() -> None:
    url = f"postgresql://keeper:s3cret@127.0.0.1:{free_port()}/hv"
    with pytest.raises(
        StoreError, match=r"store.url=postgresql\+psycopg://keeper:\*\*\*@127.0.0.1:\d+/hv: cannot reach"
    ) as err:
        PostgresStore(url, connect_timeout_s=1)
    assert "s3cret" not in str(err.value)


def test_open__bad_schema_name__refused_naming_the_field(postgres: Any) -> None:
    with pytest.raises(StoreError, match=r"store\.schema='Vault-1'"):
        PostgresStore(postgres.url(), schema="Vault-1")


def test_transaction__error_inside__rolls_back_everything(postgres: Any, pg_schema: str) -> None:
    store = PostgresStore(postgres.url(), schema=pg_schema)

    def failing_write() -> None:
        with store.transaction() as db:
            db.execute(sa.text("INSERT INTO state VALUES ('last_block', '7')"))
            raise RuntimeError("tick failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        failing_write()
    assert store.get_state("last_block") is None
    store.close()


def test_record_plan__two_replicas_race_on_the_same_plan__exactly_one_records(postgres: Any, pg_schema: str) -> None:
    stores = [PostgresStore(postgres.url(), schema=pg_schema) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results: list[object] = []

    def record(store: PostgresStore) -> None:
        barrier.wait()
        results.append(store.record_plan(PLAN, block_number=10, reason="hedge", created_at=1.0))

    threads = [threading.Thread(target=record, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(r is not None for r in results) == 1
    assert len(stores[0].pending_plans()) == 1
    for s in stores:
        s.close()


def test_schemas__two_vaults_in_one_database__do_not_see_each_other(postgres: Any, pg_schema: str) -> None:
    a = PostgresStore(postgres.url(), schema=pg_schema + "_a")
    b = PostgresStore(postgres.url(), schema=pg_schema + "_b")
    a.record_plan(PLAN, block_number=1, reason="hedge", created_at=0.0)
    assert b.pending_plans() == []
    assert b.record_plan(PLAN, block_number=1, reason="hedge", created_at=0.0) is not None
    a.close()
    b.close()


def test_open__many_schemas_from_threads_of_one_process__all_migrate(postgres: Any, pg_schema: str) -> None:
    """A fleet opens one store per vault from its worker threads at once; alembic's migration context is
    process-global, so unserialised upgrades ran on each other's connections (found by the fleet test)."""
    errors: list[BaseException] = []
    stores: list[PostgresStore] = []

    def open_one(i: int) -> None:
        try:
            stores.append(PostgresStore(postgres.url(), schema=f"{pg_schema}_t{i}"))
        except BaseException as err:  # collected, asserted below
            errors.append(err)

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    assert sorted(s.version() for s in stores) == [PostgresStore.SCHEMA_VERSION] * 6
    for s in stores:
        s.close()
