"""Uniswap v3 pool state for the exact swap maths (:mod:`keeper.execution.uniswap_v3`), in two batched rounds.

Round one reads slot0, liquidity, fee, tick spacing and the tick bitmap words around the price of every pool;
round two reads ``liquidityNet`` of every initialized tick those words hold. Both rounds are pinned to one block
number so the state is one block's, whatever the node does in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from keeper.chain.abi import FunctionAbi, decode_outputs, encode_call
from keeper.chain.protocols import art
from keeper.chain.rpc import Call, RpcClient
from keeper.execution.uniswap_v3 import PoolState

_HEADER = ("slot0", "liquidity", "fee", "tickSpacing")


@cache
def _pool_abi() -> tuple[FunctionAbi, ...]:
    return tuple(art("UniswapV3Pool").abi)


def _call(to: str, name: str, args: Sequence[Any], block: str) -> Call:
    return Call("eth_call", [{"to": to, "data": "0x" + encode_call(_pool_abi(), name, args).hex()}, block])


def _decode(name: str, raw: str) -> tuple[Any, ...]:
    return decode_outputs(_pool_abi(), name, bytes.fromhex(raw[2:]))


def _word_positions(tick: int, spacing: int, each_side: int) -> range:
    centre = (tick // spacing) >> 8
    return range(centre - each_side, centre + each_side + 1)


def read_pool_states(
    rpc: RpcClient, pools: Sequence[str], words_each_side: int = 2, block: int | None = None
) -> dict[str, PoolState]:
    """Every pool's :class:`PoolState` at ``block`` (latest when None), with ``words_each_side`` bitmap words
    on each side of the current tick's word (one word spans 256 tick spacings)."""
    if words_each_side < 0:
        raise ValueError(f"words_each_side must be ≥ 0, got {words_each_side}")
    number = block if block is not None else int(rpc.call("eth_blockNumber"), 16)
    tag = hex(number)
    header = rpc.batch([_call(p, name, (), tag) for p in pools for name in _HEADER])
    heads: dict[str, tuple[int, int, int, int, int]] = {}
    word_calls: list[tuple[str, int]] = []
    for i, pool in enumerate(pools):
        slot0, liquidity, fee, spacing = (
            _decode(n, r) for n, r in zip(_HEADER, header[4 * i : 4 * i + 4], strict=True)
        )
        sqrt_price, tick = int(slot0[0]), int(slot0[1])
        heads[pool] = (sqrt_price, tick, int(liquidity[0]), int(fee[0]), int(spacing[0]))
        word_calls += [(pool, w) for w in _word_positions(tick, int(spacing[0]), words_each_side)]
    word_raw = rpc.batch([_call(p, "tickBitmap", (w,), tag) for p, w in word_calls])
    words: dict[str, dict[int, int]] = {p: {} for p in pools}
    tick_calls: list[tuple[str, int]] = []
    for (pool, position), raw in zip(word_calls, word_raw, strict=True):
        word = int(_decode("tickBitmap", raw)[0])
        words[pool][position] = word
        step = heads[pool][4]
        tick_calls += [(pool, ((position << 8) + bit) * step) for bit in range(256) if word >> bit & 1]
    tick_raw = rpc.batch([_call(p, "ticks", (t,), tag) for p, t in tick_calls])
    nets: dict[str, dict[int, int]] = {p: {} for p in pools}
    for (pool, tick), raw in zip(tick_calls, tick_raw, strict=True):
        nets[pool][tick] = int(_decode("ticks", raw)[1])  # (liquidityGross, liquidityNet, …)
    return {p: PoolState(h[0], h[1], h[2], h[3], h[4], words[p], nets[p]) for p, h in heads.items()}
