"""Leader lease and fencing token on a real PostgreSQL: one leader, terms, fenced writes, partitions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from keeper.chain.anvil import free_port
from keeper.store.lease import Lease, LeaseLostError
from keeper.store.postgres import PostgresStore

PLAN = {"actions": [{"adapter": "aave_v3", "op": "repay", "amount": 5}]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pair(postgres: Any, pg_schema: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    a = PostgresStore(postgres.url(), schema=pg_schema)
    b = PostgresStore(postgres.url(), schema=pg_schema)
    yield a, b
    a.close()
    b.close()


def _expire(store: PostgresStore, name: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE leases SET expires_at = clock_timestamp() - interval '1 second' WHERE name = :n"),
            {"n": name},
        )


def test_renew__two_replicas__exactly_one_leads_and_renewal_keeps_the_token(pair: Any) -> None:
    a, b = (Lease(s, "vault-1", holder) for s, holder in zip(pair, ("host-a", "host-b"), strict=True))
    assert a.renew()
    assert a.token == 1
    assert not b.renew()
    assert b.token is None
    assert a.renew()
    assert a.token == 1
    assert a.terms == 1


def test_renew__after_expiry__follower_takes_over_with_a_higher_token_and_old_leader_is_fenced(pair: Any) -> None:
    a, b = Lease(pair[0], "v", "host-a"), Lease(pair[1], "v", "host-b")
    assert a.renew()
    plan = pair[0].record_plan(PLAN, block_number=1, reason="deleverage", created_at=0.0)
    assert plan is not None
    _expire(pair[0], "v")  # host-a paused past its lease
    assert b.renew()
    assert b.token == 2
    # host-a wakes up still believing (locally) that it leads: the server refuses its token.
    assert a.held
    with pytest.raises(LeaseLostError, match="token 1 of host-a is no longer current"):
        pair[0].record_tx(plan.id, "0xaa", nonce=3, max_fee_wei=1, priority_fee_wei=1, sent_at=0.0)
    assert not a.held
    assert pair[0].txs_for_plan(plan.id) == []  # nothing recorded, so nothing was broadcast
    pair[1].record_tx(plan.id, "0xbb", nonce=3, max_fee_wei=1, priority_fee_wei=1, sent_at=0.0)
    assert [t.tx_hash for t in pair[1].txs_for_plan(plan.id)] == ["0xbb"]


def test_record_plan__follower__refused_before_anything_is_written(pair: Any) -> None:
    a, b = Lease(pair[0], "v", "host-a"), Lease(pair[1], "v", "host-b")
    assert a.renew()
    assert not b.renew()
    with pytest.raises(LeaseLostError, match="host-b is not leader"):
        pair[1].record_plan(PLAN, block_number=1, reason="hedge", created_at=0.0)
    assert pair[0].pending_plans() == []


def test_held__database_unreachable__leader_stops_margin_before_its_server_side_expiry(
    postgres: Any, pg_schema: str
) -> None:
    clock = Clock()
    store = PostgresStore(postgres.url(), schema=pg_schema, connect_timeout_s=1)
    lease = Lease(store, "v", "host-a", ttl_s=10, margin_s=3, clock=clock)
    assert lease.renew()
    # The partition: the replica's connections now go nowhere (a closed loopback port).
    store.engine.dispose()
    store.engine = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres", connect_args={"connect_timeout": 1}
    )
    clock.now += 6.0
    assert lease.renew()  # renewal failed, but the lease secured 6 s ago is still good locally (10 - 3 - 6 > 0)
    clock.now += 1.5  # 7.5 s after the renewal was sent: within the margin of the server's 10 s expiry
    assert not lease.renew()
    assert not lease.held
    with pytest.raises(LeaseLostError, match="not leader"):
        store.record_plan(PLAN, block_number=1, reason="hedge", created_at=0.0)
    store.close()


def test_release__clean_shutdown__follower_leads_at_its_next_renewal(pair: Any) -> None:
    a, b = Lease(pair[0], "v", "host-a"), Lease(pair[1], "v", "host-b")
    assert a.renew()
    assert not b.renew()
    a.release()
    assert b.renew()
    assert b.token == 2


def test_lease__margin_not_below_ttl__refused(pair: Any) -> None:
    with pytest.raises(Exception, match=r"need 0 < margin_s \(5\) < ttl_s \(5\)"):
        Lease(pair[0], "v", "h", ttl_s=5, margin_s=5)


def test_extend__keeps_the_held_term__never_starts_one(pair: Any) -> None:
    a, b = pair
    clock = Clock()
    lease_a = Lease(a, "vault", "a", ttl_s=10.0, margin_s=2.0, clock=clock)
    lease_b = Lease(b, "vault", "b", ttl_s=10.0, margin_s=2.0)
    assert not lease_a.extend()  # not leader: nothing to extend, and no term taken
    assert lease_b.renew()
    assert not lease_a.extend()
    lease_b.release()
    assert lease_a.renew()
    clock.now += 7.0  # 1 s before the local stand-down
    assert lease_a.extend()
    clock.now += 7.0  # past the first term's local validity: still held, extended
    assert lease_a.held
    assert (lease_a.token, lease_a.terms) == (2, 1)
    _expire(a, "vault")
    assert not lease_a.extend()  # expired on the server: extend never revives it
    assert lease_a.token is None
    assert lease_b.renew()  # a follower takes it with a new token
    assert lease_b.token == 3
