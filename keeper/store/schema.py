"""The store's tables as SQLAlchemy Core metadata: the one description the PostgreSQL backend and its alembic
migrations share. Column for column the same as the SQLite schema in :mod:`keeper.store.sqlite`, plus the
``leases`` table that only a shared store needs. Wei amounts are text (they pass 2**63)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

ticks = Table(
    "ticks",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("block_number", BigInteger, nullable=False),
    Column("block_timestamp", BigInteger, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("rpc_requests", Integer, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("risk_json", Text, nullable=False),
    Index("ticks_block", "block_number"),
)

plans = Table(
    "plans",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("plan_hash", Text, nullable=False, unique=True),
    Column("tick_id", BigInteger, ForeignKey("ticks.id")),
    Column("block_number", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("plan_json", Text, nullable=False),
    Column("outcome", Text),
    Column("lease_token", BigInteger),  # the fencing token of the replica that recorded it
)

txs = Table(
    "txs",
    metadata,
    Column("tx_hash", Text, primary_key=True),
    Column("plan_id", BigInteger, ForeignKey("plans.id"), nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("max_fee_wei", Text, nullable=False),
    Column("priority_fee_wei", Text, nullable=False),
    Column("sent_at", Float, nullable=False),
    Column("status", Text, nullable=False),
    Column("block_number", BigInteger),
    Column("gas_used", BigInteger),
    Column("effective_gas_price_wei", Text),
    Column("revert_reason", Text),
    Column("lease_token", BigInteger),
    Index("txs_plan", "plan_id"),
)

nav = Table(
    "nav",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("block_timestamp", BigInteger, nullable=False),
    Column("nav_usd", Float, nullable=False),
    Column("share_price", Float, nullable=False),
    Column("pnl_usd", Float, nullable=False),
)

state = Table("state", metadata, Column("key", Text, primary_key=True), Column("value", Text, nullable=False))

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("token", BigInteger, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
)
