"""web3.py on the project's one JSON-RPC transport.

The keeper's hot path speaks raw JSON-RPC (:class:`keeper.chain.rpc.RpcClient`). Tooling that wants web3.py's
contract objects (the devnet deployer, the market driver, the demo, tests) gets them from :func:`web3_for`,
whose provider sends every request through an ``RpcClient`` too: one keep-alive connection, one timeout and
retry policy, one request counter, whoever is asking.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from eth_typing import ChecksumAddress
from web3 import Web3
from web3._utils.caching import handle_request_caching
from web3.contract import Contract
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from keeper.chain.protocols import art
from keeper.chain.rpc import RpcClient


class RpcProvider(JSONBaseProvider):
    """A web3.py provider over :class:`RpcClient` (thread-safe: one request at a time per connection)."""

    def __init__(self, url: str, *, timeout_s: float = 60.0, cache_allowed_requests: bool = True) -> None:
        super().__init__(cache_allowed_requests=cache_allowed_requests)
        self.client = RpcClient(url, timeout_s=timeout_s)
        self._lock = threading.Lock()

    @property
    def endpoint_uri(self) -> str:
        return self.client.url

    @handle_request_caching
    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        payload = self.encode_rpc_request(method, params)
        with self._lock:
            return cast(RPCResponse, self.client.post_bytes(payload))

    def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            with self._lock:
                self.client.call("eth_chainId")
        except OSError:
            if show_traceback:
                raise
            return False
        return True


def web3_for(url: str, *, timeout_s: float = 60.0) -> Web3:
    """web3.py connected to ``url`` through the project's RPC client."""
    return Web3(RpcProvider(url, timeout_s=timeout_s))


def checksum(address: str) -> ChecksumAddress:
    return Web3.to_checksum_address(address)


def contract_at(w3: Web3, address: str, name: str) -> Contract:
    """A contract object for ``name`` (npm protocol artifact or the project's forge artifact) at ``address``."""
    return w3.eth.contract(address=checksum(address), abi=art(name).abi)
