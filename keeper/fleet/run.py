"""``keeper fleet run``: one supervised worker per vault of the fleet file, in one process.

A worker is a thread running the ordinary keeper :class:`~keeper.app.runner.Runner` for its vault, with a
:class:`~keeper.fleet.rpc.FailoverRpcClient` over the entry's RPC URLs and — when the fleet has a PostgreSQL
``store_url`` — a :class:`~keeper.store.lease.Lease` on the vault, so the same fleet file run on two hosts gives
each vault one leader and one hot follower. A worker that raises (the circuit breaker, a node that cannot be
built against, a bug) is rebuilt after a backoff that doubles up to ``restart_backoff_max_s`` and resets once it
has stayed up ``healthy_after_s``; every crash raises the ``worker_crashed`` alert. A worker whose circuit
breaker opens (``loop.max_consecutive_failures`` failed ticks in a row) is *not* restarted: it stays ``down``
with the ``circuit_breaker_open`` alert, as a single keeper exits for an operator to look first. One vault's
failures never touch another's worker: each has its own runtime, store connection, RPC client and nonce.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from prometheus_client import CollectorRegistry

from keeper.app.loop import CircuitBreakerOpenError, TickResult
from keeper.app.runner import Runner
from keeper.app.runtime import KeeperRuntime
from keeper.fleet.config import Fleet, FleetVault
from keeper.fleet.rpc import FailoverRpcClient
from keeper.fleet.view import FleetView, VaultView, aggregate, vault_view
from keeper.store.lease import Lease
from keeper.store.postgres import PostgresStore

log = logging.getLogger("hedgevault.fleet")


class Worker:
    """One vault's supervised keeper. ``state`` is one of :data:`keeper.fleet.metrics.STATES`."""

    def __init__(
        self,
        fleet: Fleet,
        vault: FleetVault,
        replica: str,
        *,
        account: LocalAccount | None = None,
        sleep: Callable[[float], None] | None = None,
        on_tick: Callable[[Worker, TickResult], None] | None = None,
    ) -> None:
        self.fleet, self.vault, self.replica = fleet, vault, replica
        self.name, self.chain = vault.entry.name, vault.entry.chain or str(vault.entry.chain_id)
        self.account = account
        self.stop = threading.Event()
        self._state = "starting"
        self.restarts = 0
        self.rpc_switches = 0
        self.last_error: str | None = None
        self.last: TickResult | None = None
        self.last_view: VaultView | None = None
        self.runtime: KeeperRuntime | None = None
        self.lease: Lease | None = None
        self._sleep = sleep
        self._on_tick = on_tick
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> str:
        """starting, leading, following (a replica whose lease another one holds), restarting, stopped."""
        lease = self.lease
        if self._state == "running":
            return "leading" if lease is None or lease.held else "following"
        return self._state

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self._supervise, name=f"fleet-{self.name}", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def registry(self) -> CollectorRegistry | None:
        rt = self.runtime
        return rt.metrics.registry if rt is not None else None

    def _build(self) -> KeeperRuntime:
        entry, section = self.vault.entry, self.fleet.section

        def switched(old: str, new: str) -> None:
            self.rpc_switches += 1
            if self.runtime is not None:
                self.runtime.metrics.alerts.labels(kind="rpc_failover").inc()

        client = FailoverRpcClient(
            entry.rpc_urls,
            entry.chain_id,
            health_every_s=section.rpc_health_every_s,
            max_lag_blocks=section.rpc_max_lag_blocks,
            timeout_s=section.rpc_timeout_s,
            on_switch=switched,
        )
        client.check_health()
        try:
            runtime = KeeperRuntime.build(self.vault.settings, self.vault.record, account=self.account, client=client)
        except BaseException:
            client.close()
            raise
        self.lease = None
        if isinstance(runtime.store, PostgresStore):
            self.lease = Lease(
                runtime.store,
                self.vault.lease_name,
                f"{self.replica}/{self.name}",
                ttl_s=section.lease_ttl_s,
                margin_s=section.lease_margin_s,
            )
        return runtime

    def _supervise(self) -> None:
        section = self.fleet.section
        backoff = section.restart_backoff_s
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.runtime = self._build()
                runner = Runner(
                    self.runtime,
                    stop=self.stop,
                    lease=self.lease,
                    on_tick=self._ticked,
                    **({"sleep": self._sleep} if self._sleep else {}),
                )
                self._state = "running"
                runner.run()
                self._state = "stopped"
            except CircuitBreakerOpenError as err:
                self.last_error = f"circuit breaker open: {err}"
                self._state = "down"
                if self.runtime is not None:
                    self.runtime.metrics.alerts.labels(kind="circuit_breaker_open").inc()
                log.error("worker %s stopped, not restarted (an operator must look first): %s", self.name, err)
                break
            except Exception as err:  # supervised: any crash is logged, alerted and restarted
                self.last_error = f"{type(err).__name__}: {err}"
                self.restarts += 1
                self._state = "restarting"
                if self.runtime is not None:
                    self.runtime.metrics.alerts.labels(kind="worker_crashed").inc()
                if time.monotonic() - started >= section.healthy_after_s:
                    backoff = section.restart_backoff_s
                log.error("worker %s crashed (restart %d in %.1f s): %s", self.name, self.restarts, backoff, err)
                self._close()
                if self.stop.wait(backoff):
                    break
                backoff = min(backoff * 2, section.restart_backoff_max_s)
                continue
            finally:
                if self._state != "restarting":
                    self._close()
        if self._state != "down":
            self._state = "stopped"

    def _ticked(self, result: TickResult) -> None:
        self.last = result
        rt = self.runtime
        assessor = rt.keeper.assessor if rt is not None else None
        self.last_view = vault_view(
            self.name,
            self.chain,
            self.vault.entry.chain_id,
            "leading",
            result.block_number,
            result.risk,
            getattr(assessor, "last_stress", None),
            getattr(assessor, "last_stress_pnl_usd", None),
        )
        if self._on_tick is not None:
            self._on_tick(self, result)

    def view(self) -> VaultView:
        """The last figures this worker computed, with its current state (a follower shows the figures of its
        last term, or none)."""
        state = self.state
        if self.last_view is None:
            return VaultView(self.name, self.chain, self.vault.entry.chain_id, state, note=self.last_error or "")
        view = VaultView(**{**self.last_view.__dict__, "status": state, "restarts": self.restarts})
        if state == "restarting" and self.last_error:
            view.note = self.last_error
        return view

    def _close(self) -> None:
        rt, self.runtime = self.runtime, None
        if rt is not None:
            try:
                rt.close()
            except Exception as err:  # closing a broken runtime must not mask why it broke
                log.warning("worker %s: close failed: %s", self.name, err)


class FleetRunner:
    """All workers of one fleet file on this host (one replica)."""

    def __init__(self, fleet: Fleet, replica: str, *, accounts: dict[str, Any] | None = None, **worker_kw: Any):
        self.fleet, self.replica = fleet, replica
        accounts = accounts or {}
        self.workers = [
            Worker(fleet, v, replica, account=accounts.get(v.entry.name), **worker_kw) for v in fleet.vaults
        ]
        self._server: Any = None

    def start(self, metrics_port: int | None = None) -> FleetRunner:
        port = metrics_port if metrics_port is not None else self.fleet.section.metrics_port
        if port:
            from keeper.fleet.metrics import FleetCollector, serve

            collector = FleetCollector(lambda: self.workers, self.view)
            self._server = serve(collector, self.fleet.section.metrics_host, port)
        for w in self.workers:
            w.start()
        return self

    def view(self) -> FleetView:
        return aggregate([w.view() for w in self.workers])

    def stop(self, timeout: float = 30.0) -> None:
        for w in self.workers:
            w.stop.set()
        deadline = time.monotonic() + timeout
        for w in self.workers:
            w.join(max(0.0, deadline - time.monotonic()))
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
