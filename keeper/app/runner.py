"""The keeper process: wait for each new block, run one tick, repeat until told to stop.

SIGTERM and SIGINT set a flag; the current tick finishes (a plan in flight is confirmed or recorded) and the
loop exits cleanly. Before the first tick the runner logs the start-up banner and reconciles whatever a
previous run left open. The keeper's ETH balance is checked every ``loop.balance_check_every_ticks`` ticks
and an alert is raised when it is below ``tx.min_keeper_balance_eth``.

With a :class:`~keeper.store.lease.Lease` (replicas on a shared PostgreSQL store) the runner renews the lease on
every poll and ticks only while it leads. Winning a new term resyncs the nonce, reloads the keeper's memory
from the store and reconciles what the previous leader left in flight; a clean stop releases the lease. While a
tick runs (a receipt wait can outlast the lease), a heartbeat thread extends the term every ttl/3, for at most
``tx.receipt_timeout_s`` of one tick: a hung tick lets the lease lapse so a follower takes over.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from keeper.app.loop import TickResult
from keeper.app.runtime import KeeperRuntime
from keeper.model.exceptions import HedgevaultError
from keeper.store.lease import Lease

log = logging.getLogger("hedgevault.keeper")


@dataclass
class RunSummary:
    ticks: int
    acted: int
    failed: int
    stopped_by: str


class Runner:
    """Drive ``runtime.keeper`` block by block. ``stop`` may be set from another thread or a signal."""

    def __init__(
        self,
        runtime: KeeperRuntime,
        *,
        stop: threading.Event | None = None,
        on_tick: Callable[[TickResult], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        lease: Lease | None = None,
    ) -> None:
        self.runtime = runtime
        self.lease = lease
        self.stop = stop or threading.Event()
        self.on_tick = on_tick
        self._sleep = sleep
        self._last_head: int | None = None
        self._tick_started: float | None = None

    def install_signal_handlers(self) -> Callable[[], None]:
        """SIGTERM/SIGINT end the loop after the current tick (main thread only). Returns a function that
        puts the previous handlers back."""

        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: finishing the current tick, then stopping", signal.Signals(signum).name)
            self.stop.set()

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def start(self) -> list[str]:
        """Banner, balance check and restart reconciliation; returns the reconciliation notes."""
        rt = self.runtime
        log.info("keeper starting", extra={"banner": rt.banner()})
        if rt.settings.metrics.enabled:
            rt.metrics.serve(rt.settings.metrics.host, rt.settings.metrics.port)
        self.check_balance()
        if self.lease is not None:
            return []  # a replica reconciles when it wins a term, never while another one may be sending
        notes = rt.keeper.reconcile()
        for note in notes:
            log.warning("reconciled: %s", note)
        return notes

    def run(self, max_ticks: int | None = None) -> RunSummary:
        """Tick on every new block until stopped (or ``max_ticks`` ticks ran)."""
        self.start()
        beat: threading.Thread | None = None
        done = threading.Event()
        if self.lease is not None:
            beat = threading.Thread(target=self._heartbeat, args=(self.lease, done), daemon=True)
            beat.start()
        try:
            return self._loop(max_ticks)
        finally:
            done.set()
            if beat is not None:
                beat.join(5)
            if self.lease is not None:
                self.lease.release()
                self.runtime.metrics.leader.set(0.0)

    def _heartbeat(self, lease: Lease, done: threading.Event) -> None:
        """Extend the held term while a tick is in progress (between ticks the loop renews)."""
        limit = self.runtime.settings.tx.receipt_timeout_s
        while not done.wait(lease.ttl_s / 3):
            started = self._tick_started
            if started is not None and time.monotonic() - started < limit:
                lease.extend()

    def _loop(self, max_ticks: int | None) -> RunSummary:
        ticks = acted = failed = 0
        poll = self.runtime.settings.network.poll_interval_s
        every = self.runtime.settings.loop.balance_check_every_ticks
        stopped_by = "signal"
        while not self.stop.is_set():
            if max_ticks is not None and ticks >= max_ticks:
                stopped_by = "max_ticks"
                break
            if self.lease is not None and not self._lead():
                self._sleep(poll)
                continue
            if not self._new_block():
                self._sleep(poll)
                continue
            self._tick_started = time.monotonic()
            try:
                result = self.runtime.keeper.tick()  # raises CircuitBreakerOpenError when the budget is spent
            finally:
                self._tick_started = None
            ticks += 1
            acted += result.execution is not None
            failed += result.outcome.startswith("failed")
            log.info(
                "tick",
                extra={"block": result.block_number, "outcome": result.outcome, "risk": result.risk},
            )
            if self.on_tick is not None:
                self.on_tick(result)
            if ticks % every == 0:
                self.check_balance()
        log.info("keeper stopped", extra={"ticks": ticks, "acted": acted, "failed": failed})
        return RunSummary(ticks, acted, failed, stopped_by)

    def _lead(self) -> bool:
        """Renew the lease; on a new term take over what the previous leader left. True while leading."""
        assert self.lease is not None
        term = self.lease.terms
        leading = self.lease.renew()
        self.runtime.metrics.leader.set(1.0 if leading else 0.0)
        if leading and self.lease.terms != term:
            log.warning("leader of %s (token %s): taking over", self.lease.name, self.lease.token)
            self.runtime.metrics.alerts.labels(kind="leader_changed").inc()
            self.runtime.keeper.take_over()
            self._last_head = None
        return leading

    def _new_block(self) -> bool:
        try:
            head = int(self.runtime.client.call("eth_blockNumber"), 16)
        except HedgevaultError as err:
            self.runtime.metrics.rpc_errors.labels(kind="transport").inc()
            log.error("node unreachable: %s", err)
            return False
        new = self._last_head is None or head != self._last_head
        self._last_head = head
        return new

    def check_balance(self) -> float | None:
        """The keeper's ETH balance; sets the balance gauges and warns when it is low."""
        txm = self.runtime.txm
        if txm is None:
            return None
        try:
            eth = txm.balance_wei() / 1e18
        except HedgevaultError as err:
            log.error("could not read the keeper balance: %s", err)
            return None
        floor = self.runtime.settings.tx.min_keeper_balance_eth
        self.runtime.metrics.keeper_balance_eth.set(eth)
        self.runtime.metrics.keeper_balance_low.set(1.0 if eth < floor else 0.0)
        if eth < floor:
            self.runtime.metrics.alerts.labels(kind="keeper_balance_low").inc()
            log.warning(
                "keeper balance %.4f ETH is below tx.min_keeper_balance_eth=%.4f: top up %s", eth, floor, txm.address
            )
        return eth
