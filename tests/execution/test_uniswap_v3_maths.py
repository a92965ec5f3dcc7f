"""Pure checks of the tick maths: TickMath's constants, its bounds, and tick ↔ sqrt-price round trips."""

from __future__ import annotations

import random
import re

import pytest

from keeper.execution.uniswap_v3 import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    TICK_FACTORS,
    PoolState,
    sqrt_ratio_at_tick,
    swap_exact_input,
    tick_at_sqrt_ratio,
)
from keeper.paths import NODE_MODULES


def test_tick_factors__derived__equal_tickmath_constants() -> None:
    source = (NODE_MODULES / "@uniswap/v3-core/contracts/libraries/TickMath.sol").read_text()
    body = source[source.index("function getSqrtRatioAtTick") : source.index("function getTickAtSqrtRatio")]
    first = re.findall(r"0x([0-9a-f]+) : 0x", body)
    rest = re.findall(r"ratio \* 0x([0-9a-f]+)\)", body)
    assert [int(h, 16) for h in first + rest] == list(TICK_FACTORS)


def test_sqrt_ratio__bounds__equal_tickmath() -> None:
    assert sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    with pytest.raises(ValueError, match="tick"):
        sqrt_ratio_at_tick(MAX_TICK + 1)


def test_tick_at_sqrt_ratio__random_ticks__greatest_tick_at_or_below() -> None:
    rng = random.Random(7)
    for tick in rng.sample(range(MIN_TICK + 1, MAX_TICK), 2000):
        ratio = sqrt_ratio_at_tick(tick)
        assert tick_at_sqrt_ratio(ratio) == tick
        assert tick_at_sqrt_ratio(ratio - 1) == tick - 1


def test_swap__bad_inputs__named_errors() -> None:
    state = PoolState(sqrt_ratio_at_tick(0), 0, 10**18, 3000, 60, {-1: 0, 0: 0})
    with pytest.raises(ValueError, match="amount_in"):
        swap_exact_input(state, 0, zero_for_one=True)
    with pytest.raises(ValueError, match="price limit"):
        swap_exact_input(state, 10, zero_for_one=True, sqrt_price_limit=sqrt_ratio_at_tick(10))
