"""The venue's listed series, its vol surfaces and its LP pool's margin, read from the OptionMarket itself.

The VaultLens returns what the vault *holds*; protection the vault does not hold yet (a wing, a put) needs what the
venue *lists*. :class:`ListedSeriesReader` reads it in one JSON-RPC batch pinned at the lens's block
(``liveSeries``, ``poolState`` and ``volSurface`` per live (underlying, expiry)); a series' definition never
changes once listed, so ``series(id)`` is asked once per id (a second batch, only in a block that lists new ones).
Integers stay integers here, as in :mod:`adapters.vault_lens`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache

import numpy as np

from keeper.chain.abi import FunctionAbi, contract_abi, decode_outputs, encode_call
from keeper.chain.rpc import Call, RpcClient


@dataclass(frozen=True, eq=False)
class ListedSeries:
    """Every live listed series of one venue at ``block_number`` (structure of arrays, shape (n,)), the surfaces of
    their (underlying, expiry) pairs and the LP pool's margin (the seller of every option the vault buys)."""

    market: str
    block_number: int
    series_id: np.ndarray  # int64
    underlying_id: np.ndarray  # int64 (the venue's ids)
    expiry_s: np.ndarray  # int64
    strike_usd: np.ndarray
    is_call: np.ndarray  # bool
    surfaces: dict[tuple[int, int], tuple[int, int, int, int]]  # (uid, expiry) → atm, skew, smile WAD, updatedAt
    pool_equity_e6: int
    pool_initial_margin_e6: int
    pool_fresh: bool

    def __len__(self) -> int:
        return int(self.series_id.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ListedSeries):
            return NotImplemented
        return all(
            np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
            for a, b in ((getattr(self, f.name), getattr(other, f.name)) for f in fields(self))
        )

    __hash__ = None  # type: ignore[assignment]


@cache
def _abi() -> tuple[FunctionAbi, ...]:
    return contract_abi("IOptionMarket")


def _call(market: str, data: bytes, block: str) -> Call:
    return Call("eth_call", [{"to": market, "data": "0x" + data.hex()}, block])


def _raw(reply: str) -> bytes:
    return bytes.fromhex(reply[2:])


class ListedSeriesReader:
    """Reads :class:`ListedSeries` for one venue; caches series definitions (immutable once listed)."""

    def __init__(self, client: RpcClient, market: str) -> None:
        self.client = client
        self.market = market
        self._defs: dict[int, tuple[int, int, float, bool]] = {}  # id → (uid, expiry, strike USD, is_call)
        abi = _abi()
        self._live = encode_call(abi, "liveSeries", [])
        self._pool = encode_call(abi, "poolState", [])

    def read(self, block_number: int) -> ListedSeries:
        block = hex(block_number)
        abi = _abi()
        pairs = sorted({(d[0], d[1]) for d in self._defs.values()})
        calls = [_call(self.market, self._live, block), _call(self.market, self._pool, block)]
        calls += [_call(self.market, encode_call(abi, "volSurface", [u, e]), block) for u, e in pairs]
        replies = self.client.batch(calls)
        (ids,) = decode_outputs(abi, "liveSeries", _raw(replies[0]))
        (pool,) = decode_outputs(abi, "poolState", _raw(replies[1]))
        surfaces = {p: _surface(abi, r) for p, r in zip(pairs, replies[2:], strict=True)}
        new = [int(i) for i in ids if int(i) not in self._defs]
        if new:  # a block that listed series: their definitions, then any surface not read yet
            got = self.client.batch([_call(self.market, encode_call(abi, "series", [i]), block) for i in new])
            for i, reply in zip(new, got, strict=True):
                (s,) = decode_outputs(abi, "series", _raw(reply))
                self._defs[i] = (
                    int(s["underlyingId"]),
                    int(s["expiry"]),
                    int(s["strikeWad"]) / 10**18,
                    bool(s["isCall"]),
                )
            missing = sorted({(self._defs[i][0], self._defs[i][1]) for i in new} - set(surfaces))
            got = self.client.batch(
                [_call(self.market, encode_call(abi, "volSurface", [u, e]), block) for u, e in missing]
            )
            surfaces.update({p: _surface(abi, r) for p, r in zip(missing, got, strict=True)})
        defs = [self._defs[int(i)] for i in ids]
        return ListedSeries(
            market=self.market,
            block_number=block_number,
            series_id=np.array([int(i) for i in ids], dtype=np.int64),
            underlying_id=np.array([d[0] for d in defs], dtype=np.int64),
            expiry_s=np.array([d[1] for d in defs], dtype=np.int64),
            strike_usd=np.array([d[2] for d in defs], dtype=np.float64),
            is_call=np.array([d[3] for d in defs], dtype=bool),
            surfaces={p: surfaces[p] for p in sorted({(d[0], d[1]) for d in defs})},
            pool_equity_e6=int(pool["equityE6"]),
            pool_initial_margin_e6=int(pool["initialMarginE6"]),
            pool_fresh=bool(pool["fresh"]),
        )


def _surface(abi: tuple[FunctionAbi, ...], reply: str) -> tuple[int, int, int, int]:
    (s,) = decode_outputs(abi, "volSurface", _raw(reply))
    return int(s["atmVolWad"]), int(s["skewWad"]), int(s["smileWad"]), int(s["updatedAt"])
