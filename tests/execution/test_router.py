"""The split optimiser on exact pool states: optimal against brute force, never worse than one pool."""

from __future__ import annotations

import random

import pytest

from keeper.execution.router import Hop, Route, best_split, impact_per_value, quote_route
from keeper.execution.uniswap_v3 import PoolState, sqrt_ratio_at_tick

SPACING = {500: 10, 3000: 60}


def _pool(fee: int, liquidity: int, tick: int = 0) -> PoolState:
    """A pool with one full-range position (no initialized tick inside the words read)."""
    words = {w: 0 for w in range(-40, 41)}
    return PoolState(sqrt_ratio_at_tick(tick), tick, liquidity, fee, SPACING[fee], words)


def _concentrated(fee: int, rng: random.Random) -> PoolState:
    """A pool with a base liquidity and random concentrated ranges around the price."""
    spacing = SPACING[fee]
    nets: dict[int, int] = {}
    liquidity = 10**21
    for _ in range(8):
        lower, upper = -rng.randint(1, 30) * spacing, rng.randint(1, 30) * spacing
        amount = rng.randint(10**20, 10**22)
        nets[lower] = nets.get(lower, 0) + amount
        nets[upper] = nets.get(upper, 0) - amount
        liquidity += amount
    words = {w: 0 for w in range(-60, 61)}
    for tick in nets:
        compressed = tick // spacing
        words[compressed >> 8] |= 1 << (compressed & 0xFF)
    return PoolState(sqrt_ratio_at_tick(0), 0, liquidity, fee, spacing, words, nets)


def test_best_split__two_pools__equals_brute_force_on_the_grid() -> None:
    rng = random.Random(3)
    for trial in range(6):
        states = {"a": _concentrated(500, rng), "b": _concentrated(3000, rng)}
        routes = [Route((Hop("a", True),)), Route((Hop("b", True),))]
        pieces = 40
        amount = pieces * rng.randint(10**16, 10**19)
        step = amount // pieces
        brute = max(
            quote_route(states, routes[0], k * step) + quote_route(states, routes[1], (pieces - k) * step)
            for k in range(pieces + 1)
        )
        split = best_split(states, routes, amount, pieces=pieces)
        assert split.amount_out == brute, trial
        assert sum(leg.amount_in for leg in split.legs) == amount


def test_best_split__deep_cheap_pool_and_small_order__one_leg_never_worse() -> None:
    states = {"cheap": _pool(500, 10**24), "dear": _pool(3000, 10**24)}
    routes = [Route((Hop("cheap", False),)), Route((Hop("dear", False),))]
    for amount in (10**12, 10**15, 10**18):
        split = best_split(states, routes, amount, gas_out_per_leg=[10**9, 10**9])
        single = quote_route(states, routes[0], amount) - 10**9
        assert split.net_out >= single
        assert [leg.route for leg in split.legs] == [routes[0]]


def test_best_split__large_order__splits_and_beats_the_single_pool() -> None:
    states = {"cheap": _pool(500, 10**22), "dear": _pool(3000, 10**22)}
    routes = [Route((Hop("cheap", True),)), Route((Hop("dear", True),))]
    amount = 10**21  # ~10 % of the cheap pool's virtual reserve: impact dwarfs the fee difference
    split = best_split(states, routes, amount)
    assert len(split.legs) == 2
    assert split.amount_out > quote_route(states, routes[0], amount)


def test_best_split__bad_inputs__named_errors() -> None:
    states = {"a": _pool(500, 10**22)}
    route = Route((Hop("a", True),))
    with pytest.raises(ValueError, match="pool-disjoint"):
        best_split(states, [route, route], 10**18)
    with pytest.raises(ValueError, match="amount_in"):
        best_split(states, [route], 0)
    with pytest.raises(ValueError, match="gas_out_per_leg"):
        best_split(states, [route], 10**18, gas_out_per_leg=[1, 2])


def test_impact_per_value__full_range_pool__equals_constant_product_impact_net_of_fee() -> None:
    """On one full-range pool at price 1 the exact-input cost is constant product's: 1 − (1−f)·R/(R + (1−f)·x).
    η·X must be that cost less the cost rate of a thousandth of the order (the fee and nothing that grows)."""
    liquidity, fee = 10**22, 3000
    states = {"p": _pool(fee, liquidity)}
    routes = [Route((Hop("p", True),))]
    f, reserve = fee / 1e6, float(liquidity)  # virtual reserves L/√P = L·√P = L at tick 0

    def cost_rate(x: float) -> float:
        return 1 - (1 - f) * reserve / (reserve + (1 - f) * x)

    for amount in (10**19, 10**20, 10**21):
        eta = impact_per_value(states, routes, amount, 1.0, 1.0)
        expected = cost_rate(amount) - cost_rate(amount // 1000)
        assert eta * amount == pytest.approx(expected, rel=1e-6)
        assert eta > 0
    assert impact_per_value(states, routes, 999, 1.0, 1.0) == 0.0  # too small to measure
    assert impact_per_value(states, routes, 10**20, 0.0, 1.0) == 0.0  # unpriced
