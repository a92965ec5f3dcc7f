"""The keeper's tick: read → assess → decide → act → record, once per new block.

Each stage is a small object so the same loop runs on the devnet, a fork or mainnet:
- ``Reader.read()`` returns the block and every position in O(1) RPC round trips (VaultLens);
- ``Assessor.assess(snapshot)`` turns it into the policy's ``BookView`` and a risk summary (pure);
- ``decide(book, policy)`` returns a ``Plan`` (pure);
- ``Executor`` encodes a plan into one vault ``rebalance`` transaction, sends and confirms it.
The store records the plan *before* sending (a duplicate plan is refused), every transaction version, and
the receipt. A failed tick changes nothing on-chain; after ``max_consecutive_failures`` failures in a row
the circuit breaker opens and the loop stops with :class:`CircuitBreakerOpenError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from keeper.config import KeeperSettings
from keeper.exceptions import HedgevaultError
from keeper.metrics import KeeperMetrics
from keeper.policy import BookView, Plan, decide
from keeper.store import Store

log = logging.getLogger("hedgevault.keeper")


class CircuitBreakerOpenError(HedgevaultError):
    """Raised when too many consecutive ticks failed; the keeper stops instead of acting blind."""


@dataclass(frozen=True)
class Snapshot:
    """One block's view of the vault, as read in O(1) RPC round trips."""

    block_number: int
    block_timestamp: int
    head_block: int
    rpc_requests: int
    data: Any


@dataclass(frozen=True)
class Assessment:
    book: BookView
    risk: dict[str, float]
    nav_usd: float
    share_price: float


@dataclass(frozen=True)
class Execution:
    """What happened to a plan's transaction."""

    tx_hashes: tuple[str, ...]
    status: str  # "mined" | "reverted"
    block_number: int | None
    gas_used: int | None
    effective_gas_price_wei: int | None
    revert_reason: str | None


class Reader(Protocol):
    def read(self) -> Snapshot: ...


class Assessor(Protocol):
    def assess(self, snapshot: Snapshot) -> Assessment: ...


class Executor(Protocol):
    def execute(self, plan: Plan, on_sent: Callable[[str, int, int, int], None]) -> Execution: ...

    def receipt_status(self, tx_hash: str) -> Execution | None: ...


@dataclass
class TickResult:
    block_number: int
    outcome: str
    plan: Plan | None = None
    execution: Execution | None = None
    risk: dict[str, float] = field(default_factory=dict)


class Keeper:
    """Runs ticks; holds no chain state of its own beyond what the store remembers."""

    def __init__(
        self,
        settings: KeeperSettings,
        reader: Reader,
        assessor: Assessor,
        executor: Executor,
        store: Store,
        metrics: KeeperMetrics | None = None,
        *,
        dry_run: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.reader, self.assessor, self.executor = reader, assessor, executor
        self.store = store
        self.metrics = metrics or KeeperMetrics()
        self.dry_run = dry_run
        self._clock = clock
        self.consecutive_failures = 0

    # --- restart ---

    def reconcile(self) -> list[str]:
        """Settle plans a previous run left open, from the chain: never resend them."""
        notes = []
        for plan in self.store.pending_plans():
            txs = self.store.txs_for_plan(plan.id)
            settled = None
            for tx in txs:
                status = self.executor.receipt_status(tx.tx_hash)
                if status is not None:
                    self.store.record_receipt(
                        tx.tx_hash,
                        status=status.status,  # type: ignore[arg-type]
                        block_number=status.block_number,
                        gas_used=status.gas_used,
                        effective_gas_price_wei=status.effective_gas_price_wei,
                        revert_reason=status.revert_reason,
                    )
                    settled = status.status
                    break
            if settled is None:
                self.store.set_plan_status(plan.id, "abandoned", "not mined before restart; re-planned from chain")
                settled = "abandoned"
            notes.append(f"plan {plan.id} ({plan.reason}): {settled}")
        return notes

    # --- one tick ---

    def tick(self) -> TickResult:
        started = self._clock()
        t0 = time.perf_counter()
        try:
            result = self._tick(started)
        except HedgevaultError as err:
            self.consecutive_failures += 1
            self.metrics.consecutive_failures.set(self.consecutive_failures)
            log.error("tick failed (%d in a row): %s", self.consecutive_failures, err)
            if self.consecutive_failures >= self.settings.loop.max_consecutive_failures:
                raise CircuitBreakerOpenError(
                    f"{self.consecutive_failures} consecutive failed ticks (limit "
                    f"loop.max_consecutive_failures={self.settings.loop.max_consecutive_failures}); "
                    f"last: {err}"
                ) from err
            return TickResult(block_number=-1, outcome=f"failed: {err}")
        self.consecutive_failures = 0
        self.metrics.consecutive_failures.set(0)
        self.metrics.tick_seconds.observe(time.perf_counter() - t0)
        return result

    def _tick(self, started: float) -> TickResult:
        snapshot = self.reader.read()
        self.metrics.blocks_behind.set(snapshot.head_block - snapshot.block_number)
        last = self.store.get_state("last_block")
        if last is not None and int(last) >= snapshot.block_number:
            return TickResult(snapshot.block_number, "already processed")
        assessment = self.assessor.assess(snapshot)
        plan = decide(assessment.book, self.settings.policy)
        result = TickResult(snapshot.block_number, "no action", plan, risk=assessment.risk)
        if not plan.empty and not self.dry_run:
            result.execution, result.outcome = self._act(plan, started)
        elif not plan.empty:
            result.outcome = "dry run: plan not sent"
        self.store.record_tick(
            block_number=snapshot.block_number,
            block_timestamp=snapshot.block_timestamp,
            started_at=started,
            latency_ms=(self._clock() - started) * 1000,
            rpc_requests=snapshot.rpc_requests,
            outcome=result.outcome,
            risk=assessment.risk,
            nav=(assessment.nav_usd, assessment.share_price, 0.0),
        )
        self.metrics.nav_usd.set(assessment.nav_usd)
        self.metrics.share_price.set(assessment.share_price)
        return result

    def _act(self, plan: Plan, started: float) -> tuple[Execution | None, str]:
        reasons = "; ".join(d.reason for d in plan.decisions if d.acted)
        record = self.store.record_plan(
            plan.to_dict(), block_number=plan.block_number, reason=reasons, created_at=started
        )
        if record is None:
            return None, "duplicate plan refused"

        def on_sent(tx_hash: str, nonce: int, max_fee_wei: int, priority_fee_wei: int) -> None:
            self.store.record_tx(record.id, tx_hash, nonce, max_fee_wei, priority_fee_wei, self._clock())

        try:
            execution = self.executor.execute(plan, on_sent)
        except HedgevaultError as err:
            self.store.set_plan_status(record.id, "failed", str(err))
            self.metrics.txs.labels(state="failed").inc()
            raise
        last_hash = execution.tx_hashes[-1]
        self.store.record_receipt(
            last_hash,
            status=execution.status,  # type: ignore[arg-type]
            block_number=execution.block_number,
            gas_used=execution.gas_used,
            effective_gas_price_wei=execution.effective_gas_price_wei,
            revert_reason=execution.revert_reason,
        )
        self.metrics.txs.labels(state=execution.status).inc()
        return execution, f"rebalance {execution.status}"
