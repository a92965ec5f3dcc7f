"""PostgreSQL store: the SQLite store's interface and rules on a server that several keeper replicas share.

SQLAlchemy Core over psycopg 3; the schema is migrated by alembic on open (``keeper/store/migrations``), inside
one PostgreSQL schema per vault (``store.schema``), so one database can hold a whole fleet. Every write is one
transaction, as in SQLite. With a :class:`~keeper.store.lease.Lease` attached the store is *fenced*: recording
a plan and recording each transaction version (which the transaction manager does *before* the broadcast) first
checks, in the same transaction and on the server's clock, that this replica still holds the vault's lease
with the same token and at least ``lease.margin_s`` of it left. A replica that lost the lease, or lost the
database, cannot record, and so cannot send.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine

from keeper.store import schema as t
from keeper.store.sqlite import PlanRecord, PlanStatus, StoreError, TxRecord, TxStatus, plan_hash

if TYPE_CHECKING:
    from keeper.store.lease import Lease

_MIGRATIONS = Path(__file__).with_name("migrations")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# alembic's migration context is module-global: one upgrade at a time per process (a fleet opens a store per
# vault from its worker threads at once); across processes the advisory lock below serialises them per schema.
_MIGRATE_LOCK = threading.Lock()


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def engine_url(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://`` (SQLAlchemy's default driver would be psycopg2)."""
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


class PostgresStore:
    """The keeper's memory in PostgreSQL. Safe to share between processes and hosts."""

    SCHEMA_VERSION = int(head_revision())

    def __init__(self, url: str, *, schema: str = "hedgevault", connect_timeout_s: float = 5.0) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise StoreError(
                f"store.schema={schema!r}: use lower-case letters, digits and _ (a PostgreSQL schema name, "
                "one per vault)"
            )
        url = engine_url(url)
        self.url, self.schema = url, schema
        self.lease: Lease | None = None
        self.engine: Engine = sa.create_engine(
            url,
            pool_pre_ping=True,
            pool_size=2,
            max_overflow=2,
            connect_args={
                "connect_timeout": max(1, int(connect_timeout_s)),
                "options": f"-c search_path={schema} -c statement_timeout={int(connect_timeout_s * 1000)}",
            },
        )
        try:
            self._migrate()
        except sa.exc.OperationalError as err:
            self.engine.dispose()
            raise StoreError(
                f"store.url={redact(url)}: cannot reach PostgreSQL ({_first_line(err)}); start the server or fix "
                "the URL"
            ) from err

    def _migrate(self) -> None:
        with _MIGRATE_LOCK, self.engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            # One migration at a time per schema, whichever replica opens first.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": "hv-migrate:" + self.schema})
            current = conn.execute(
                sa.text(
                    "SELECT to_regclass(:t) IS NOT NULL",
                ),
                {"t": f"{self.schema}.alembic_version"},
            ).scalar()
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() if current else None
            if version is not None and int(version) > self.SCHEMA_VERSION:
                raise StoreError(
                    f"store.schema={self.schema!r} has schema v{int(version)}, newer than this keeper's "
                    f"v{self.SCHEMA_VERSION}; upgrade the keeper or point store.schema elsewhere"
                )
            cfg = Config()
            cfg.set_main_option("script_location", str(_MIGRATIONS))
            cfg.attributes["connection"] = conn
            cfg.attributes["schema"] = self.schema
            command.upgrade(cfg, "head")

    def version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All writes inside commit together or not at all."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as err:
            raise StoreError(f"store.url={redact(self.url)}: PostgreSQL unreachable ({_first_line(err)})") from err

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as err:
            raise StoreError(f"store.url={redact(self.url)}: PostgreSQL unreachable ({_first_line(err)})") from err

    @contextmanager
    def _fenced(self) -> Iterator[tuple[Connection, int | None]]:
        """A write transaction that first proves the lease (locally, then on the server)."""
        if self.lease is None:
            with self.transaction() as db:
                yield db, None
            return
        self.lease.check_local()  # no connection attempt at all once the local lease ran out
        with self.transaction() as db:
            yield db, self.lease.check(db)

    def close(self) -> None:
        self.engine.dispose()

    # --- ticks and series ---

    def record_tick(
        self,
        *,
        block_number: int,
        block_timestamp: int,
        started_at: float,
        latency_ms: float,
        rpc_requests: int,
        outcome: str,
        risk: dict[str, Any],
        nav: tuple[float, float, float] | None = None,
    ) -> int:
        with self.transaction() as db:
            tick_id = db.execute(
                t.ticks.insert()
                .values(
                    block_number=block_number,
                    block_timestamp=block_timestamp,
                    started_at=started_at,
                    latency_ms=latency_ms,
                    rpc_requests=rpc_requests,
                    outcome=outcome,
                    risk_json=json.dumps(risk, default=float, sort_keys=True),
                )
                .returning(t.ticks.c.id)
            ).scalar_one()
            if nav is not None:
                _upsert_nav(db, block_number, block_timestamp, *nav)
            _upsert_state(db, "last_block", str(block_number))
            return int(tick_id)

    def record_nav(
        self, block_number: int, block_timestamp: int, nav_usd: float, share_price: float, pnl_usd: float
    ) -> None:
        with self.transaction() as db:
            _upsert_nav(db, block_number, block_timestamp, nav_usd, share_price, pnl_usd)

    def nav_series(self) -> list[tuple[int, int, float, float, float]]:
        with self._read() as db:
            rows = db.execute(sa.select(t.nav).order_by(t.nav.c.block_number)).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def last_ticks(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._read() as db:
            rows = db.execute(sa.select(t.ticks).order_by(t.ticks.c.id.desc()).limit(limit)).mappings().all()
        return [dict(r) | {"risk": json.loads(r["risk_json"])} for r in rows]

    # --- plans and transactions ---

    def record_plan(
        self,
        plan: dict[str, Any],
        *,
        block_number: int,
        reason: str,
        created_at: float,
        tick_id: int | None = None,
    ) -> PlanRecord | None:
        """Record a plan before sending it. Returns None when the same plan was already recorded (by any
        replica). Fenced: raises :class:`~keeper.store.lease.LeaseLostError` when this replica is not leader."""
        digest = plan_hash(plan)
        with self._fenced() as (db, token):
            exists = db.execute(
                sa.select(t.plans.c.id, t.plans.c.status).where(t.plans.c.plan_hash == digest).with_for_update()
            ).first()
            if exists is not None:
                sent = db.execute(sa.select(t.txs.c.tx_hash).where(t.txs.c.plan_id == exists.id).limit(1)).first()
                if exists.status != "failed" or sent is not None:
                    return None
                db.execute(
                    t.plans.update()
                    .where(t.plans.c.id == exists.id)
                    .values(status="recorded", outcome=None, lease_token=token)
                )
                return PlanRecord(int(exists.id), digest, block_number, "recorded", reason, plan)
            # ON CONFLICT: a replica racing on the same plan gets None, never an error.
            plan_id = db.execute(
                pg_insert(t.plans)
                .values(
                    plan_hash=digest,
                    tick_id=tick_id,
                    block_number=block_number,
                    created_at=created_at,
                    status="recorded",
                    reason=reason,
                    plan_json=json.dumps(plan, sort_keys=True, default=str),
                    lease_token=token,
                )
                .on_conflict_do_nothing(index_elements=["plan_hash"])
                .returning(t.plans.c.id)
            ).scalar()
        if plan_id is None:
            return None
        return PlanRecord(int(plan_id), digest, block_number, "recorded", reason, plan)

    def set_plan_status(self, plan_id: int, status: PlanStatus, outcome: str | None = None) -> None:
        with self.transaction() as db:
            db.execute(t.plans.update().where(t.plans.c.id == plan_id).values(status=status, outcome=outcome))

    def record_tx(
        self, plan_id: int, tx_hash: str, nonce: int, max_fee_wei: int, priority_fee_wei: int, sent_at: float
    ) -> None:
        """Record one transaction version before it is broadcast (fenced like :meth:`record_plan`)."""
        with self._fenced() as (db, token):
            db.execute(
                t.txs.update()
                .where(t.txs.c.plan_id == plan_id, t.txs.c.nonce == nonce, t.txs.c.status == "sent")
                .values(status="replaced")
            )
            db.execute(
                t.txs.insert().values(
                    tx_hash=tx_hash,
                    plan_id=plan_id,
                    nonce=nonce,
                    max_fee_wei=str(max_fee_wei),
                    priority_fee_wei=str(priority_fee_wei),
                    sent_at=sent_at,
                    status="sent",
                    lease_token=token,
                )
            )
            db.execute(
                t.plans.update().where(t.plans.c.id == plan_id, t.plans.c.status == "recorded").values(status="sent")
            )

    def record_receipt(
        self,
        tx_hash: str,
        *,
        status: TxStatus,
        block_number: int | None,
        gas_used: int | None,
        effective_gas_price_wei: int | None,
        revert_reason: str | None = None,
    ) -> None:
        with self.transaction() as db:
            plan_id = db.execute(sa.select(t.txs.c.plan_id).where(t.txs.c.tx_hash == tx_hash)).scalar()
            if plan_id is None:
                raise StoreError(f"receipt for unknown transaction {tx_hash}: record_tx must come first")
            db.execute(
                t.txs.update()
                .where(t.txs.c.tx_hash == tx_hash)
                .values(
                    status=status,
                    block_number=block_number,
                    gas_used=gas_used,
                    effective_gas_price_wei=None if effective_gas_price_wei is None else str(effective_gas_price_wei),
                    revert_reason=revert_reason,
                )
            )
            plan_status = {"mined": "confirmed", "reverted": "reverted"}.get(status)
            if plan_status is not None:
                db.execute(
                    t.plans.update().where(t.plans.c.id == plan_id).values(status=plan_status, outcome=revert_reason)
                )

    def pending_plans(self) -> list[PlanRecord]:
        with self._read() as db:
            rows = db.execute(
                sa.select(t.plans).where(t.plans.c.status.in_(("recorded", "sent"))).order_by(t.plans.c.id)
            ).mappings()
            return [_plan(r) for r in rows]

    def plan(self, plan_id: int) -> PlanRecord:
        with self._read() as db:
            row = db.execute(sa.select(t.plans).where(t.plans.c.id == plan_id)).mappings().first()
        if row is None:
            raise StoreError(f"no plan with id {plan_id}")
        return _plan(row)

    def txs_for_plan(self, plan_id: int) -> list[TxRecord]:
        with self._read() as db:
            rows = (
                db.execute(sa.select(t.txs).where(t.txs.c.plan_id == plan_id).order_by(t.txs.c.sent_at))
                .mappings()
                .all()
            )
        return [
            TxRecord(
                r["tx_hash"],
                int(r["plan_id"]),
                int(r["nonce"]),
                r["status"],
                r["gas_used"],
                r["revert_reason"],
                int(r["max_fee_wei"]),
                int(r["priority_fee_wei"]),
            )
            for r in rows
        ]

    def recent_plans(self, limit: int = 20) -> list[PlanRecord]:
        with self._read() as db:
            rows = db.execute(sa.select(t.plans).order_by(t.plans.c.id.desc()).limit(limit)).mappings()
            return [_plan(r) for r in rows]

    # --- restart state ---

    def get_state(self, key: str, default: str | None = None) -> str | None:
        with self._read() as db:
            value = db.execute(sa.select(t.state.c.value).where(t.state.c.key == key)).scalar()
        return default if value is None else str(value)

    def set_state(self, key: str, value: str) -> None:
        with self.transaction() as db:
            _upsert_state(db, key, value)


def _upsert_state(db: Connection, key: str, value: str) -> None:
    stmt = pg_insert(t.state).values(key=key, value=value)
    db.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value}))


def _upsert_nav(
    db: Connection, block_number: int, block_timestamp: int, nav_usd: float, share_price: float, pnl_usd: float
) -> None:
    stmt = pg_insert(t.nav).values(
        block_number=block_number,
        block_timestamp=block_timestamp,
        nav_usd=nav_usd,
        share_price=share_price,
        pnl_usd=pnl_usd,
    )
    cols = ("block_timestamp", "nav_usd", "share_price", "pnl_usd")
    db.execute(stmt.on_conflict_do_update(index_elements=["block_number"], set_={c: stmt.excluded[c] for c in cols}))


def _plan(row: Any) -> PlanRecord:
    return PlanRecord(
        int(row["id"]),
        row["plan_hash"],
        int(row["block_number"]),
        row["status"],
        row["reason"],
        json.loads(row["plan_json"]),
    )


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", err)).strip().splitlines()[0] if str(err).strip() else type(err).__name__
