"""The keeper's read: one JSON-RPC batch per tick (head block, gas price, VaultLens snapshot) over one HTTP
round trip, whatever the number of positions (with the Aave pool given, its reserves' current rates ride in the
same batch: ``Pool.getReserveData`` per reserve, for the policy's carry costs; with the venue given, its pool's
haircut on what it owes longs, ``poolHaircutWad``, non-zero only while the pool is insolvent); with the tail rule
on, one more batch per venue for its listed series (``adapters.venue_series``), pinned at the lens's block."""

from __future__ import annotations

import time

from web3 import Web3

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
        venue_markets: tuple[str, ...] = (),
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
        self._markets = [m.lower() for m in venue_markets]
        for market in self._markets:
            self._calls.append(Call("eth_call", [{"to": market, "data": _POOL_HAIRCUT_WAD}, "latest"]))
        self.timings: dict[str, float] = {}  # of the last read: the round trip (node time) and the decode

    def read(self) -> Snapshot:
        before = self.client.requests_sent
        t0 = time.perf_counter()
        head, gas_price, raw, *extra = self.client.batch(self._calls)
        reserves, haircuts = extra[: len(self._reserves)], extra[len(self._reserves) :]
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
            data=(
                state,
                int(gas_price, 16),
                listed,
                _rates(self._reserves, reserves),
                _haircuts(self._markets, haircuts),
            ),
        )


# getReserveData(address): Aave v3's ReserveData, a static struct of one word per field; words 2 and 4 are
# currentLiquidityRate and currentVariableBorrowRate, APRs in ray (1e27).
_GET_RESERVE_DATA = "0x35ea6a75"
_RAY = 1e27
# poolHaircutWad(): the share (WAD) of what the venue's pool owes longs that it cannot pay (0 while solvent).
_POOL_HAIRCUT_WAD = "0x" + Web3.keccak(text="poolHaircutWad()")[:4].hex().removeprefix("0x")
_WAD = 1e18


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


def _haircuts(markets: list[str], raws: list[str]) -> dict[str, float]:
    """{venue market (lower case): haircut as a fraction} from the batch's poolHaircutWad answers."""
    out = {}
    for market, raw in zip(markets, raws, strict=True):
        words = bytes.fromhex(raw[2:])
        if len(words) != 32:
            raise ValueError(f"poolHaircutWad of venue {market} returned {len(words)} bytes, expected 32")
        out[market] = int.from_bytes(words, "big") / _WAD
    return out
