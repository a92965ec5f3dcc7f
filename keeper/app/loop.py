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

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from keeper.app.metrics import KeeperMetrics
from keeper.config import KeeperSettings
from keeper.model import BookView, Plan
from keeper.model.exceptions import HedgevaultError
from keeper.policy import decide
from keeper.store import KeeperStore

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
    """The risk view of one snapshot. ``blockers`` are conditions under which the vault would refuse any
    rebalance (stale oracle, paused vault): the keeper plans but does not send, and raises an alert."""

    book: BookView
    risk: dict[str, float]
    nav_usd: float
    share_price: float
    blockers: tuple[str, ...] = ()


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

    def resync(self) -> None: ...

    def await_or_cancel(self, tx_hashes: list[str], *, nonce: int, max_fee_wei: int, priority_fee_wei: int) -> str: ...


@dataclass
class TickResult:
    block_number: int
    outcome: str
    plan: Plan | None = None
    execution: Execution | None = None
    risk: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the keeper's jobs did (settlement)


def band_metrics(plan: Plan, book: BookView) -> dict[str, float]:
    """The delta bands the plan's rule used, as risk figures (USD at the book's spots): the one source for every
    "inside band" shown by metrics, status and the dashboard."""
    spot = {u.symbol: u.spot_usd for u in book.underlyings}
    out: dict[str, float] = {}
    for b in plan.bands:
        s = spot.get(b.symbol, float("nan"))
        out[f"delta_band_usd:{b.symbol}"] = b.half_width_units * s
        out[f"delta_target_units:{b.symbol}"] = b.target_units
        out[f"delta_deviation_usd:{b.symbol}"] = b.deviation_units * s
        out[f"delta_inside_band:{b.symbol}"] = 1.0 if b.inside else 0.0
    return out


def tail_metrics(plan: Plan) -> dict[str, float]:
    """The tail-budget rule's figures (USD): the worst stress loss once the plan is done, and the budget."""
    if plan.tail is None:
        return {}
    t = plan.tail
    return {
        "tail_worst_loss_usd": t.worst_loss_after_usd,
        "tail_worst_loss_before_usd": t.worst_loss_usd,
        "tail_budget_usd": t.budget_usd,
        "tail_cost_usd": t.cost_usd,
        "tail_feasible": 1.0 if t.feasible else 0.0,
    }


class Keeper:
    """Runs ticks; holds no chain state of its own beyond what the store remembers."""

    def __init__(
        self,
        settings: KeeperSettings,
        reader: Reader,
        assessor: Assessor,
        executor: Executor,
        store: KeeperStore,
        metrics: KeeperMetrics | None = None,
        *,
        dry_run: bool = False,
        clock: Callable[[], float] = time.time,
        jobs: list[Callable[[Snapshot], list[str]]] | None = None,
        pre_jobs: list[Callable[[Snapshot], list[str]]] | None = None,
        router: Callable[[Plan, BookView], Plan] | None = None,
    ) -> None:
        self.settings = settings
        self.reader, self.assessor, self.executor = reader, assessor, executor
        self.store = store
        self.metrics = metrics or KeeperMetrics()
        self.dry_run = dry_run
        self._clock = clock
        self.consecutive_failures = 0
        self.router = router  # where the plan's swaps trade (keeper.app.routing), before it is recorded
        self.jobs = jobs or []  # after each recorded tick (e.g. venue settlement); a failing job never stops the loop
        # Before the tick decides, on its snapshot (e.g. fixing an expired series' price, without which the vault
        # refuses every rebalance); when one acts, the tick re-reads the chain and plans on the block after it.
        self.pre_jobs = pre_jobs or []
        self._action_blocks: dict[str, int] | None = None
        self._last_hedge_at: float | None = None

    # --- restart ---

    def reconcile(self) -> list[str]:
        """Settle plans a previous run left open, from the chain: never resend them.

        A plan whose transaction is neither mined nor known to have failed is made final before anything
        else happens: the keeper waits for it and, if it is still not mined, cancels its nonce with a
        self-transfer at higher fees, so the old transaction can never land after a new plan."""
        notes = []
        for plan in self.store.pending_plans():
            txs = self.store.txs_for_plan(plan.id)
            settled = self._settled(txs)
            if settled is None and txs:
                outcome = self.executor.await_or_cancel(
                    [t.tx_hash for t in txs],
                    nonce=txs[-1].nonce,
                    max_fee_wei=max(t.max_fee_wei for t in txs),
                    priority_fee_wei=max(t.priority_fee_wei for t in txs),
                )
                settled = self._settled(txs) if outcome == "mined" else None
                if settled is None:
                    self.store.set_plan_status(plan.id, "abandoned", outcome)
                    settled = f"abandoned ({outcome})"
            if settled is None:
                self.store.set_plan_status(plan.id, "abandoned", "not mined before restart; re-planned from chain")
                settled = "abandoned"
            notes.append(f"plan {plan.id} ({plan.reason}): {settled}")
        return notes

    def _settled(self, txs: list[Any]) -> str | None:
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
                return status.status
        return None

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

    def take_over(self) -> list[str]:
        """Another replica may have acted since this one last did: forget the local nonce and cached memory,
        then reconcile the plans it left in flight."""
        self.executor.resync()
        self._action_blocks, self._last_hedge_at = None, None
        notes = self.reconcile()
        for note in notes:
            log.warning("reconciled after take-over: %s", note)
        return notes

    def _tick(self, started: float) -> TickResult:
        snapshot = self.reader.read()
        self.metrics.blocks_behind.set(snapshot.head_block - snapshot.block_number)
        last = self.store.get_state("last_block")
        if last is not None and int(last) >= snapshot.block_number:
            if int(last) - snapshot.block_number <= self.settings.loop.max_reorg_depth:
                return TickResult(snapshot.block_number, "already processed")
            # The node's head is far behind what we processed: a restarted or replaced node. The chain is the
            # truth: forget the local nonce and carry on from its head.
            log.warning(
                "chain head %d is %d blocks behind the last processed block %s: node reset; resyncing",
                snapshot.block_number,
                int(last) - snapshot.block_number,
                last,
            )
            self.metrics.rpc_errors.labels(kind="head_went_back").inc()
            self.executor.resync()
        early = [] if self.dry_run else self._run_jobs(self.pre_jobs, snapshot)
        if early:
            snapshot = self.reader.read()
        assessment = self.assessor.assess(snapshot)
        book = replace(assessment.book, last_action_block=dict(self._last_action_blocks()))
        plan = decide(book, self.settings.policy)
        measure = getattr(self.router, "measure", None)
        if measure is not None and self.settings.policy.delta_via_venue and not plan.empty:
            # the instrument choice on the router's exact quote for the hedge, not the configured estimate
            costs = measure(plan, book)
            if costs:
                book = replace(book, spot_cost_bps=costs)
                plan = decide(book, self.settings.policy)
        # Back-off identity: the policy's actions, not the legs (their amounts follow the pools block by block).
        failed_key = _failed_key(plan)
        if self.router is not None and not plan.empty:
            plan = self.router(plan, book)
        assessment = replace(assessment, risk={**assessment.risk, **band_metrics(plan, book), **tail_metrics(plan)})
        self.metrics.observe_risk(assessment.risk)
        if plan.tail is not None and not plan.tail.feasible:
            self.metrics.alerts.labels(kind="tail_infeasible").inc()
            log.warning(
                "tail budget cannot be met: %s", next(d.reason for d in plan.decisions if d.rule == "tail_budget")
            )
        result = TickResult(snapshot.block_number, "no action", plan, risk=assessment.risk, notes=early)
        if plan.empty:
            pass
        elif assessment.blockers:
            result.outcome = "blocked: " + "; ".join(assessment.blockers)
            self.metrics.alerts.labels(kind="rebalance_blocked").inc()
            log.warning("plan not sent, the vault would refuse it: %s", "; ".join(assessment.blockers))
        elif self.dry_run:
            result.outcome = "dry run: plan not sent"
        elif (previous := self._failed_before(failed_key, snapshot.block_number)) is not None:
            result.outcome = f"skipped: the same actions failed at block {previous}; backing off"
        else:
            result.execution, result.outcome = self._act(plan, started, failed_key)
            urgent = plan.most_urgent()
            if result.outcome.startswith("plan rejected") and urgent is not None:
                # The whole plan was refused: the most urgent rule's actions (deleverage, margin top-up) alone
                # may still pass; they must not wait on a hedge the vault will not take.
                log.warning(
                    "retrying the most urgent part of plan alone (%d of %d actions)",
                    len(urgent.actions),
                    len(plan.actions),
                )
                execution, outcome = self._act(urgent, started)
                result.plan, result.execution = urgent, execution
                result.outcome = f"urgent part only: {outcome} (full plan rejected)"
        deep = getattr(self.assessor, "deep", None)
        if deep is not None:  # stress and venue liquidation distance: after acting, off the latency path
            result.risk = {**assessment.risk, **deep()}
            self.metrics.observe_risk(result.risk)
        self.store.record_tick(
            block_number=snapshot.block_number,
            block_timestamp=snapshot.block_timestamp,
            started_at=started,
            latency_ms=(self._clock() - started) * 1000,
            rpc_requests=snapshot.rpc_requests,
            outcome=result.outcome,
            risk=result.risk,
            nav=(assessment.nav_usd, assessment.share_price, 0.0),
        )
        self.metrics.nav_usd.set(assessment.nav_usd)
        self.metrics.share_price.set(assessment.share_price)
        if not self.dry_run:
            result.notes += self._run_jobs(self.jobs, snapshot)
        if self._last_hedge_at is not None:
            self.metrics.seconds_since_hedge.set(self._clock() - self._last_hedge_at)
        return result

    def _run_jobs(self, jobs: list[Callable[[Snapshot], list[str]]], snapshot: Snapshot) -> list[str]:
        notes: list[str] = []
        for job in jobs:
            try:
                notes += job(snapshot)
            except HedgevaultError as err:
                self.metrics.alerts.labels(kind="job_failed").inc()
                log.error("keeper job failed (retried next block): %s", err)
        return notes

    # --- memory of past actions ---

    def _last_action_blocks(self) -> dict[str, int]:
        """Block of the last confirmed plan per acting rule (the policy's cooldown), loaded once from the store."""
        if self._action_blocks is None:
            self._action_blocks = {}
            for record in reversed(self.store.recent_plans(200)):
                if record.status == "confirmed":
                    self._remember_actions(record.plan, record.block_number)
        return self._action_blocks

    def _remember_actions(self, plan: dict[str, Any], block_number: int) -> None:
        blocks = self._last_action_blocks() if self._action_blocks is not None else {}
        for decision in plan.get("decisions", []):
            if decision.get("acted"):
                blocks[decision["rule"]] = block_number
        self._action_blocks = blocks

    def _failed_before(self, key: str, block_number: int) -> int | None:
        """The block where exactly these actions (``_failed_key``) last failed, if within the back-off window."""
        failed = self.store.get_state(key)
        if failed is None or block_number - int(failed) > self.settings.loop.failed_plan_backoff_blocks:
            return None
        return int(failed)

    def _act(self, plan: Plan, started: float, failed_key: str | None = None) -> tuple[Execution | None, str]:
        failed_key = failed_key or _failed_key(plan)
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
        except PlanRejectedError as err:
            # Deterministic: the vault's guards refuse these actions now. Recorded, not retried blindly.
            self.store.set_plan_status(record.id, "failed", str(err))
            self.store.set_state(failed_key, str(plan.block_number))
            self.metrics.txs.labels(state="rejected").inc()
            self.metrics.alerts.labels(kind="plan_rejected").inc()
            log.error("plan %d rejected in simulation: %s", record.id, err)
            return None, f"plan rejected: {err}"
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
        if execution.status == "mined":
            self._remember_actions(plan.to_dict(), plan.block_number)
            self._last_hedge_at = self._clock()
        else:
            self.store.set_state(failed_key, str(plan.block_number))
            self.metrics.alerts.labels(kind="tx_reverted").inc()
        return execution, f"rebalance {execution.status}"


class PlanRejectedError(HedgevaultError):
    """Raised by an executor when the vault refuses a plan in simulation (nothing was signed or sent)."""


def _failed_key(plan: Plan) -> str:
    """Identity of a plan's actions, whatever block it was made at."""
    digest = hashlib.sha256(json.dumps([asdict(a) for a in plan.actions], sort_keys=True).encode()).hexdigest()
    return f"failed_actions:{digest[:32]}"
