"""The keeper's read: one JSON-RPC batch per tick (head block, gas price, VaultLens snapshot) over one HTTP
round trip, whatever the number of positions; with the tail rule on, one more batch per venue for its listed
series (``adapters.venue_series``), pinned at the lens's block."""

from __future__ import annotations

import time

from adapters.vault_lens import decode_snapshot, snapshot_calldata
from adapters.venue_series import ListedSeries, ListedSeriesReader
from keeper.app.loop import Snapshot
from keeper.chain.rpc import Call, RpcClient


class LensReader:
    """``valued``: ``VaultLens.snapshot`` (the vault values itself on-chain) or ``snapshotUnvalued`` (storage reads
    only; the assessor values the book with the venue's formulas)."""

    def __init__(
        self, client: RpcClient, lens: str, vault: str, *, valued: bool = True, listed_series: bool = False
    ) -> None:
        self.client = client
        self.listed_series = listed_series  # also read each venue's listed series (the tail rule's wings)
        self._listed: dict[str, ListedSeriesReader] = {}
        self._calls = [
            Call("eth_blockNumber"),
            Call("eth_gasPrice"),
            Call("eth_call", [{"to": lens, "data": snapshot_calldata(vault, valued)}, "latest"]),
        ]
        self.timings: dict[str, float] = {}  # of the last read: the round trip (node time) and the decode

    def read(self) -> Snapshot:
        before = self.client.requests_sent
        t0 = time.perf_counter()
        head, gas_price, raw = self.client.batch(self._calls)
        t1 = time.perf_counter()
        state = decode_snapshot(bytes.fromhex(raw[2:]))
        t2 = time.perf_counter()
        listed: dict[str, ListedSeries] = {}
        if self.listed_series:  # pinned at the lens's block: one more round trip
            for o in state.options:
                reader = self._listed.setdefault(o.market.lower(), ListedSeriesReader(self.client, o.market))
                listed[o.market.lower()] = reader.read(state.block_number)
        self.timings = {"rpc_s": t1 - t0, "decode_s": t2 - t1, "listed_s": time.perf_counter() - t2}
        return Snapshot(
            block_number=state.block_number,
            block_timestamp=state.block_timestamp,
            head_block=int(head, 16),
            rpc_requests=self.client.requests_sent - before,
            data=(state, int(gas_price, 16), listed),
        )
