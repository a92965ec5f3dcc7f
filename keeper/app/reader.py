"""The keeper's read: one JSON-RPC batch per tick (head block, gas price, VaultLens snapshot) over one HTTP
round trip, whatever the number of positions (with the Aave pool given, its reserves' current rates ride in the
same batch: ``Pool.getReserveData`` per reserve, for the policy's carry costs); with the tail rule on, one more
batch per venue for its listed series (``adapters.venue_series``), pinned at the lens's block."""

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
        self,
        client: RpcClient,
        lens: str,
        vault: str,
        *,
        valued: bool = True,
        listed_series: bool = False,
        aave_pool: str | None = None,
        aave_reserves: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.listed_series = listed_series  # also read each venue's listed series (the tail rule's wings)
        self._listed: dict[str, ListedSeriesReader] = {}
        self._calls = [
            Call("eth_blockNumber"),
            Call("eth_gasPrice"),
            Call("eth_call", [{"to": lens, "data": snapshot_calldata(vault, valued)}, "latest"]),
        ]
        self._reserves = list((aave_reserves or {}).items()) if aave_pool else []
        for _, asset in self._reserves:
            data = _GET_RESERVE_DATA + bytes(12).hex() + asset.lower().removeprefix("0x")
            self._calls.append(Call("eth_call", [{"to": aave_pool, "data": data}, "latest"]))
        self.timings: dict[str, float] = {}  # of the last read: the round trip (node time) and the decode

    def read(self) -> Snapshot:
        before = self.client.requests_sent
        t0 = time.perf_counter()
        head, gas_price, raw, *reserves = self.client.batch(self._calls)
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
            data=(state, int(gas_price, 16), listed, _rates(self._reserves, reserves)),
        )


# getReserveData(address): Aave v3's ReserveData, a static struct of one word per field; words 2 and 4 are
# currentLiquidityRate and currentVariableBorrowRate, APRs in ray (1e27).
_GET_RESERVE_DATA = "0x35ea6a75"
_RAY = 1e27


def _rates(reserves: list[tuple[str, str]], raws: list[str]) -> dict[str, dict[str, float]]:
    """{"supply": {symbol: APR}, "borrow": {symbol: APR}} from the batch's getReserveData answers."""
    supply, borrow = {}, {}
    for (symbol, _), raw in zip(reserves, raws, strict=True):
        words = bytes.fromhex(raw[2:])
        if len(words) < 5 * 32:
            raise ValueError(f"Aave getReserveData for {symbol} returned {len(words)} bytes, expected ≥ 160")
        supply[symbol] = int.from_bytes(words[64:96], "big") / _RAY
        borrow[symbol] = int.from_bytes(words[128:160], "big") / _RAY
    return {"supply": supply, "borrow": borrow}
