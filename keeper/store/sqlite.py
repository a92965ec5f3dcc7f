"""SQLite store: ticks, risk summaries, plans, transactions, receipts, NAV/PnL series, restart state.

The chain is the truth; this is the keeper's memory, so a restarted keeper neither repeats nor forgets
an action:
- a plan is recorded (status ``recorded``) *before* its transaction is sent, keyed by a content hash
  that is unique, so the same rebalance can never be recorded, and so never sent, twice;
- every transaction version (replacements included) is recorded with its nonce before broadcast;
- on restart, ``pending_plans()`` lists plans whose transactions must be reconciled with the chain.
Every write is one SQLite transaction: a failed tick leaves the store as it was.
The schema is versioned with ``PRAGMA user_version``; migrations run in order on open.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from keeper.model.exceptions import HedgevaultError

PlanStatus = Literal["recorded", "sent", "confirmed", "reverted", "failed", "abandoned"]
TxStatus = Literal["sent", "mined", "reverted", "replaced", "dropped"]

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE ticks (
        id INTEGER PRIMARY KEY,
        block_number INTEGER NOT NULL,
        block_timestamp INTEGER NOT NULL,
        started_at REAL NOT NULL,
        latency_ms REAL NOT NULL,
        rpc_requests INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        risk_json TEXT NOT NULL
    );
    CREATE INDEX ticks_block ON ticks(block_number);
    CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        plan_hash TEXT NOT NULL UNIQUE,
        tick_id INTEGER REFERENCES ticks(id),
        block_number INTEGER NOT NULL,
        created_at REAL NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        plan_json TEXT NOT NULL,
        outcome TEXT
    );
    CREATE TABLE txs (
        tx_hash TEXT PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES plans(id),
        nonce INTEGER NOT NULL,
        max_fee_wei TEXT NOT NULL,
        priority_fee_wei TEXT NOT NULL,
        sent_at REAL NOT NULL,
        status TEXT NOT NULL,
        block_number INTEGER,
        gas_used INTEGER,
        effective_gas_price_wei TEXT,
        revert_reason TEXT
    );
    CREATE INDEX txs_plan ON txs(plan_id);
    CREATE TABLE nav (
        block_number INTEGER PRIMARY KEY,
        block_timestamp INTEGER NOT NULL,
        nav_usd REAL NOT NULL,
        share_price REAL NOT NULL,
        pnl_usd REAL NOT NULL
    );
    CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
)


class StoreError(HedgevaultError):
    """Raised when the store cannot be opened or a write would break its rules."""


@dataclass(frozen=True)
class PlanRecord:
    id: int
    plan_hash: str
    block_number: int
    status: PlanStatus
    reason: str
    plan: dict[str, Any]


@dataclass(frozen=True)
class TxRecord:
    tx_hash: str
    plan_id: int
    nonce: int
    status: TxStatus
    gas_used: int | None
    revert_reason: str | None
    max_fee_wei: int = 0
    priority_fee_wei: int = 0


def plan_hash(plan: dict[str, Any]) -> str:
    """Content hash of a plan (canonical JSON): equal plans hash equal."""
    canonical = json.dumps(plan, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Store:
    """One SQLite file (``":memory:"`` for tests). Not shared between processes that write."""

    SCHEMA_VERSION = len(_MIGRATIONS)

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # One keeper thread writes at a time (the tick); the runner and tests may hand the store to another
            # thread, which sqlite3's serialized mode allows.
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            raise StoreError(f"store.path={path!s}: cannot open SQLite database ({err})") from err
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate(path)

    def _migrate(self, path: str | Path) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > self.SCHEMA_VERSION:
            raise StoreError(
                f"store.path={path!s} has schema v{version}, newer than this keeper's "
                f"v{self.SCHEMA_VERSION}; upgrade the keeper or point store.path at another file"
            )
        for number, sql in enumerate(_MIGRATIONS[version:], start=version + 1):
            # One script, one transaction: a failed migration leaves the previous version intact.
            try:
                self._db.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"store.path={path!s}: migration to v{number} failed ({err})") from err

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside commit together or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

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
        """Record a processed block in one transaction: the tick, its NAV point (nav_usd, share_price,
        pnl_usd) when given, and ``last_block`` so a restart resumes after it."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO ticks (block_number, block_timestamp, started_at, latency_ms, rpc_requests, "
                "outcome, risk_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    block_number,
                    block_timestamp,
                    started_at,
                    latency_ms,
                    rpc_requests,
                    outcome,
                    json.dumps(risk, default=float, sort_keys=True),
                ),
            )
            if nav is not None:
                db.execute("INSERT OR REPLACE INTO nav VALUES (?, ?, ?, ?, ?)", (block_number, block_timestamp, *nav))
            db.execute("INSERT OR REPLACE INTO state VALUES ('last_block', ?)", (str(block_number),))
            return int(cur.lastrowid or 0)

    def record_nav(
        self, block_number: int, block_timestamp: int, nav_usd: float, share_price: float, pnl_usd: float
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO nav VALUES (?, ?, ?, ?, ?)",
                (block_number, block_timestamp, nav_usd, share_price, pnl_usd),
            )

    def nav_series(self) -> list[tuple[int, int, float, float, float]]:
        rows = self._db.execute("SELECT * FROM nav ORDER BY block_number").fetchall()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def last_ticks(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM ticks ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
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
        """Record a plan before sending it. Returns None when the same plan was already recorded."""
        digest = plan_hash(plan)
        with self.transaction() as db:
            exists = db.execute("SELECT id, status FROM plans WHERE plan_hash = ?", (digest,)).fetchone()
            if exists:
                sent = db.execute("SELECT 1 FROM txs WHERE plan_id = ?", (exists["id"],)).fetchone()
                if exists["status"] != "failed" or sent is not None:
                    return None
                # Failed before anything was signed (e.g. the node was unreachable): the same plan may go again.
                db.execute("UPDATE plans SET status = 'recorded', outcome = NULL WHERE id = ?", (exists["id"],))
                return PlanRecord(int(exists["id"]), digest, block_number, "recorded", reason, plan)
            cur = db.execute(
                "INSERT INTO plans (plan_hash, tick_id, block_number, created_at, status, reason, plan_json) "
                "VALUES (?, ?, ?, ?, 'recorded', ?, ?)",
                (
                    digest,
                    tick_id,
                    block_number,
                    created_at,
                    reason,
                    json.dumps(plan, sort_keys=True, default=str),
                ),
            )
        return PlanRecord(int(cur.lastrowid or 0), digest, block_number, "recorded", reason, plan)

    def set_plan_status(self, plan_id: int, status: PlanStatus, outcome: str | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE plans SET status = ?, outcome = ? WHERE id = ?", (status, outcome, plan_id))

    def record_tx(
        self, plan_id: int, tx_hash: str, nonce: int, max_fee_wei: int, priority_fee_wei: int, sent_at: float
    ) -> None:
        """Record one transaction version; earlier versions of the same nonce become ``replaced``."""
        with self.transaction() as db:
            db.execute(
                "UPDATE txs SET status = 'replaced' WHERE plan_id = ? AND nonce = ? AND status = 'sent'",
                (plan_id, nonce),
            )
            db.execute(
                "INSERT INTO txs (tx_hash, plan_id, nonce, max_fee_wei, priority_fee_wei, sent_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, 'sent')",
                (tx_hash, plan_id, nonce, str(max_fee_wei), str(priority_fee_wei), sent_at),
            )
            db.execute("UPDATE plans SET status = 'sent' WHERE id = ? AND status = 'recorded'", (plan_id,))

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
            row = db.execute("SELECT plan_id FROM txs WHERE tx_hash = ?", (tx_hash,)).fetchone()
            if row is None:
                raise StoreError(f"receipt for unknown transaction {tx_hash}: record_tx must come first")
            db.execute(
                "UPDATE txs SET status = ?, block_number = ?, gas_used = ?, effective_gas_price_wei = ?, "
                "revert_reason = ? WHERE tx_hash = ?",
                (
                    status,
                    block_number,
                    gas_used,
                    None if effective_gas_price_wei is None else str(effective_gas_price_wei),
                    revert_reason,
                    tx_hash,
                ),
            )
            plan_status = {"mined": "confirmed", "reverted": "reverted"}.get(status)
            if plan_status is not None:
                db.execute(
                    "UPDATE plans SET status = ?, outcome = ? WHERE id = ?",
                    (plan_status, revert_reason, row["plan_id"]),
                )

    def pending_plans(self) -> list[PlanRecord]:
        """Plans recorded or sent but not settled: reconcile these with the chain on restart."""
        rows = self._db.execute("SELECT * FROM plans WHERE status IN ('recorded', 'sent') ORDER BY id").fetchall()
        return [_plan(r) for r in rows]

    def plan(self, plan_id: int) -> PlanRecord:
        row = self._db.execute("SELECT * FROM plans WHERE id = ?", (plan_id,)).fetchone()
        if row is None:
            raise StoreError(f"no plan with id {plan_id}")
        return _plan(row)

    def txs_for_plan(self, plan_id: int) -> list[TxRecord]:
        rows = self._db.execute("SELECT * FROM txs WHERE plan_id = ? ORDER BY sent_at", (plan_id,)).fetchall()
        return [
            TxRecord(
                r["tx_hash"],
                r["plan_id"],
                r["nonce"],
                r["status"],
                r["gas_used"],
                r["revert_reason"],
                int(r["max_fee_wei"]),
                int(r["priority_fee_wei"]),
            )
            for r in rows
        ]

    def recent_plans(self, limit: int = 20) -> list[PlanRecord]:
        rows = self._db.execute("SELECT * FROM plans ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_plan(r) for r in rows]

    # --- restart state ---

    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row["value"])

    def set_state(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))


def _plan(row: sqlite3.Row) -> PlanRecord:
    return PlanRecord(
        row["id"],
        row["plan_hash"],
        row["block_number"],
        row["status"],
        row["reason"],
        json.loads(row["plan_json"]),
    )
