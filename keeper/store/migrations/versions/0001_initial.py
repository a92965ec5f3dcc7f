"""v1: ticks, plans, transactions, NAV series, restart state (the SQLite store's schema)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "ticks",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_timestamp", sa.BigInteger, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("rpc_requests", sa.Integer, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("risk_json", sa.Text, nullable=False),
    )
    op.create_index("ticks_block", "ticks", ["block_number"])
    op.create_table(
        "plans",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("plan_hash", sa.Text, nullable=False, unique=True),
        sa.Column("tick_id", sa.BigInteger, sa.ForeignKey("ticks.id")),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("plan_json", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text),
    )
    op.create_table(
        "txs",
        sa.Column("tx_hash", sa.Text, primary_key=True),
        sa.Column("plan_id", sa.BigInteger, sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("nonce", sa.BigInteger, nullable=False),
        sa.Column("max_fee_wei", sa.Text, nullable=False),
        sa.Column("priority_fee_wei", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Float, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("block_number", sa.BigInteger),
        sa.Column("gas_used", sa.BigInteger),
        sa.Column("effective_gas_price_wei", sa.Text),
        sa.Column("revert_reason", sa.Text),
    )
    op.create_index("txs_plan", "txs", ["plan_id"])
    op.create_table(
        "nav",
        sa.Column("block_number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("block_timestamp", sa.BigInteger, nullable=False),
        sa.Column("nav_usd", sa.Float, nullable=False),
        sa.Column("share_price", sa.Float, nullable=False),
        sa.Column("pnl_usd", sa.Float, nullable=False),
    )
    op.create_table("state", sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text, nullable=False))
