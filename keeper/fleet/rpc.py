"""RPC failover: one client over several URLs of the same chain, health-checked.

Every ``health_every_s`` (and after a transport error) each URL is asked ``eth_chainId`` and ``eth_blockNumber``:
a URL is healthy when it answers with the expected chain id and is at most ``max_lag_blocks`` behind the best
head seen. Requests go to the first healthy URL in the listed order (the operator's preference); a transport
error moves the request to the next healthy one at once. When none is healthy the request fails with
:class:`~keeper.chain.rpc.RpcTransportError`, as a single node down would, and the runner waits for the next
block. JSON-RPC errors (reverts) are answers, never a reason to switch.

It is a :class:`~keeper.chain.rpc.RpcClient`, so the keeper, its transaction manager and web3.py (through
``post_bytes``) all fail over together. Not thread-safe, like the client: one per worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from keeper.chain.rpc import RpcClient, RpcTransportError
from keeper.model.exceptions import HedgevaultError

log = logging.getLogger("hedgevault.fleet")


@dataclass
class Endpoint:
    url: str
    client: RpcClient
    healthy: bool = True
    head: int | None = None
    reason: str = "not checked yet"


class FailoverRpcClient(RpcClient):
    def __init__(
        self,
        urls: Sequence[str],
        chain_id: int,
        *,
        health_every_s: float = 5.0,
        max_lag_blocks: int = 3,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        on_switch: Callable[[str, str], None] | None = None,
    ) -> None:
        if not urls:
            raise ValueError("rpc_urls: give at least one URL")
        super().__init__(urls[0], timeout_s=timeout_s, retries=0)
        self.chain_id = chain_id
        self.endpoints = [Endpoint(u, RpcClient(u, timeout_s=timeout_s, retries=1)) for u in urls]
        self.health_every_s, self.max_lag_blocks = health_every_s, max_lag_blocks
        self._clock = clock
        self._checked_at = float("-inf")
        self._on_switch = on_switch
        self.switches = 0

    @property
    def active(self) -> Endpoint | None:
        return next((e for e in self.endpoints if e.healthy), None)

    def check_health(self) -> list[Endpoint]:
        """Probe every URL now; returns the endpoints, ``healthy`` and ``reason`` updated."""
        for e in self.endpoints:
            try:
                got = int(e.client.call("eth_chainId"), 16)
                e.head = int(e.client.call("eth_blockNumber"), 16)
            except HedgevaultError as err:
                e.healthy, e.head, e.reason = False, None, f"unreachable: {str(err)[:120]}"
                continue
            if got != self.chain_id:
                e.healthy, e.reason = False, f"chain {got}, expected {self.chain_id}"
            else:
                e.healthy, e.reason = True, "ok"
        best = max((e.head for e in self.endpoints if e.healthy and e.head is not None), default=None)
        for e in self.endpoints:
            if e.healthy and best is not None and e.head is not None and best - e.head > self.max_lag_blocks:
                e.healthy, e.reason = False, f"{best - e.head} blocks behind the best head {best}"
        self._checked_at = self._clock()
        return self.endpoints

    def post_bytes(self, payload: bytes) -> object:
        if self._clock() - self._checked_at >= self.health_every_s:
            self._probe()
        tried: list[str] = []
        for e in self.endpoints:
            if not e.healthy:
                continue
            try:
                reply = e.client.post_bytes(payload)
            except RpcTransportError as err:
                e.healthy, e.reason = False, f"transport error: {str(err)[:120]}"
                tried.append(e.url)
                continue
            if tried:
                self._switched(tried[-1], e.url)
            self.url = e.url
            self.requests_sent += 1
            return reply
        self._checked_at = float("-inf")  # probe again on the next request: a node may be back
        down = "; ".join(f"{e.url}: {e.reason}" for e in self.endpoints)
        raise RpcTransportError(f"no healthy RPC URL for chain {self.chain_id} ({down})")

    def _probe(self) -> None:
        before = self.active
        self.check_health()
        after = self.active
        if before is not None and after is not None and before is not after:
            self._switched(before.url, after.url)

    def _switched(self, old: str, new: str) -> None:
        self.switches += 1
        log.warning("rpc failover on chain %d: %s → %s", self.chain_id, old, new)
        if self._on_switch is not None:
            self._on_switch(old, new)

    def close(self) -> None:
        for e in self.endpoints:
            e.client.close()
        super().close()
