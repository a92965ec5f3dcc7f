"""Uniswap v3 swap maths in exact integers: what a pool's ``swap`` returns for an exact-input order, to the wei.

The semantics follow v3-core's libraries (TickMath, SqrtPriceMath, SwapMath, TickBitmap) and the pool's swap
loop; every rounding direction and overflow branch is kept, because a quote that differs by one wei from the
chain cannot be used as a slippage bound. Python integers are unbounded, so the overflow branches the
Solidity code takes are reproduced by testing the same 256-bit bounds explicitly.

A :class:`PoolState` is what one block's read of a pool gives (slot0, in-range liquidity, the tick bitmap
words around the price and the initialized ticks' ``liquidityNet``). A swap that would walk past the words
read raises :class:`OutsideWindowError` instead of guessing: the caller reads more words or sizes down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, getcontext

MIN_TICK, MAX_TICK = -887272, 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
U256 = 1 << 256
U160 = 1 << 160
FEE_DENOMINATOR = 1_000_000


def _tick_factors() -> tuple[int, ...]:
    """TickMath's twenty multipliers, derived: 2^128 / sqrt(1.0001)^(2^i), rounded to nearest.

    The test suite checks them equal to the constants in v3-core's TickMath.sol."""
    getcontext().prec = 120
    root = Decimal("1.0001").sqrt()
    return tuple(int((Decimal(2**128) / root ** (2**i)).to_integral_value()) for i in range(20))


TICK_FACTORS = _tick_factors()
_LOG2_TICK = math.log2(1.0001)


class OutsideWindowError(ValueError):
    """The swap reaches a tick bitmap word the state was not read with."""


def mul_div(a: int, b: int, d: int) -> int:
    return a * b // d


def mul_div_up(a: int, b: int, d: int) -> int:
    return -(-(a * b) // d)


def div_up(a: int, d: int) -> int:
    return -(-a // d)


def sqrt_ratio_at_tick(tick: int) -> int:
    """TickMath.getSqrtRatioAtTick: sqrt(1.0001^tick) · 2^96, rounded up."""
    t = abs(tick)
    if t > MAX_TICK:
        raise ValueError(f"tick {tick} outside [{MIN_TICK}, {MAX_TICK}]")
    ratio = TICK_FACTORS[0] if t & 1 else 1 << 128
    for i in range(1, 20):
        if t & (1 << i):
            ratio = (ratio * TICK_FACTORS[i]) >> 128
    if tick > 0:
        ratio = (U256 - 1) // ratio
    return (ratio >> 32) + (1 if ratio & 0xFFFFFFFF else 0)


def tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """TickMath.getTickAtSqrtRatio: the greatest tick whose sqrt ratio is ≤ the given one."""
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise ValueError(f"sqrt price {sqrt_price_x96} outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO)")
    # log_1.0001(p) from the bit length is within a few ticks; a short exact search settles it.
    guess = round(2 * (math.log2(sqrt_price_x96) - 96) / _LOG2_TICK)
    lo, hi = max(MIN_TICK, guess - 2), min(MAX_TICK, guess + 2)
    while lo > MIN_TICK and sqrt_ratio_at_tick(lo) > sqrt_price_x96:
        lo -= 1
    while hi < MAX_TICK and sqrt_ratio_at_tick(hi) <= sqrt_price_x96:
        hi += 1
    while lo < hi:  # invariant: sqrt(lo) ≤ p (or lo = MIN_TICK), sqrt(hi) > p
        mid = (lo + hi + 1) // 2
        if sqrt_ratio_at_tick(mid) <= sqrt_price_x96:
            lo = mid
        else:
            hi = mid - 1
    return lo


def amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """SqrtPriceMath.getAmount0Delta (unsigned)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    numerator1, numerator2 = liquidity << 96, sqrt_b - sqrt_a
    if round_up:
        return div_up(mul_div_up(numerator1, numerator2, sqrt_b), sqrt_a)
    return mul_div(numerator1, numerator2, sqrt_b) // sqrt_a


def amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """SqrtPriceMath.getAmount1Delta (unsigned)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return mul_div_up(liquidity, sqrt_b - sqrt_a, Q96)
    return mul_div(liquidity, sqrt_b - sqrt_a, Q96)


def next_sqrt_price_from_input(sqrt_price: int, liquidity: int, amount_in: int, zero_for_one: bool) -> int:
    """SqrtPriceMath.getNextSqrtPriceFromInput, with the Solidity overflow branch of the amount0 case."""
    if sqrt_price <= 0 or liquidity <= 0:
        raise ValueError("sqrt price and liquidity must be positive")
    if amount_in == 0:
        return sqrt_price
    if zero_for_one:  # getNextSqrtPriceFromAmount0RoundingUp(add = true)
        numerator1 = liquidity << 96
        product = amount_in * sqrt_price
        if product < U256 and numerator1 + product < U256:
            return mul_div_up(numerator1, sqrt_price, numerator1 + product)
        return div_up(numerator1, numerator1 // sqrt_price + amount_in)
    result = sqrt_price + amount_in * Q96 // liquidity  # getNextSqrtPriceFromAmount1RoundingDown(add = true)
    if result >= U160:
        raise ValueError("next sqrt price overflows uint160")
    return result


@dataclass(frozen=True)
class SwapStep:
    sqrt_next: int
    amount_in: int
    amount_out: int
    fee: int


def compute_swap_step(sqrt_current: int, sqrt_target: int, liquidity: int, remaining: int, fee_pips: int) -> SwapStep:
    """SwapMath.computeSwapStep for an exact-input remainder (``remaining`` ≥ 0)."""
    zero_for_one = sqrt_current >= sqrt_target
    remaining_less_fee = mul_div(remaining, FEE_DENOMINATOR - fee_pips, FEE_DENOMINATOR)
    if zero_for_one:
        amount_in = amount0_delta(sqrt_target, sqrt_current, liquidity, True)
    else:
        amount_in = amount1_delta(sqrt_current, sqrt_target, liquidity, True)
    if remaining_less_fee >= amount_in:
        sqrt_next = sqrt_target
    else:
        sqrt_next = next_sqrt_price_from_input(sqrt_current, liquidity, remaining_less_fee, zero_for_one)
    reached = sqrt_next == sqrt_target
    if zero_for_one:
        if not reached:
            amount_in = amount0_delta(sqrt_next, sqrt_current, liquidity, True)
        amount_out = amount1_delta(sqrt_next, sqrt_current, liquidity, False)
    else:
        if not reached:
            amount_in = amount1_delta(sqrt_current, sqrt_next, liquidity, True)
        amount_out = amount0_delta(sqrt_current, sqrt_next, liquidity, False)
    fee = remaining - amount_in if not reached else mul_div_up(amount_in, fee_pips, FEE_DENOMINATOR - fee_pips)
    return SwapStep(sqrt_next, amount_in, amount_out, fee)


def _msb(x: int) -> int:
    return x.bit_length() - 1


def _lsb(x: int) -> int:
    return (x & -x).bit_length() - 1


@dataclass(frozen=True)
class PoolState:
    """One block's view of a pool: enough to replay any swap that stays inside the bitmap words read."""

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee: int  # pips (1e-6)
    tick_spacing: int
    words: dict[int, int]  # tick bitmap word position → word
    liquidity_net: dict[int, int] = field(default_factory=dict)  # initialized tick → liquidityNet

    def next_initialized_tick(self, tick: int, lte: bool) -> tuple[int, bool]:
        """TickBitmap.nextInitializedTickWithinOneWord."""
        spacing = self.tick_spacing
        compressed = tick // spacing
        if lte:
            word_pos, bit_pos = compressed >> 8, compressed & 0xFF
            masked = self._word(word_pos) & ((1 << bit_pos) - 1 + (1 << bit_pos))
            if masked:
                return (compressed - (bit_pos - _msb(masked))) * spacing, True
            return (compressed - bit_pos) * spacing, False
        word_pos, bit_pos = (compressed + 1) >> 8, (compressed + 1) & 0xFF
        masked = self._word(word_pos) & ~((1 << bit_pos) - 1) & (U256 - 1)
        if masked:
            return (compressed + 1 + (_lsb(masked) - bit_pos)) * spacing, True
        return (compressed + 1 + (255 - bit_pos)) * spacing, False

    def _word(self, position: int) -> int:
        if position not in self.words:
            raise OutsideWindowError(f"tick bitmap word {position} was not read")
        return self.words[position]


@dataclass(frozen=True)
class SwapResult:
    amount_in: int  # consumed, fee included (less than asked only when the price limit is reached)
    amount_out: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    ticks_crossed: int

    def state_after(self, before: PoolState) -> PoolState:
        return PoolState(
            self.sqrt_price_x96,
            self.tick,
            self.liquidity,
            before.fee,
            before.tick_spacing,
            before.words,
            before.liquidity_net,
        )


def swap_exact_input(state: PoolState, amount_in: int, zero_for_one: bool, sqrt_price_limit: int = 0) -> SwapResult:
    """The pool's ``swap`` loop for an exact input (protocol fee off, as on every pool the keeper trades)."""
    if amount_in <= 0:
        raise ValueError(f"amount_in must be positive, got {amount_in}")
    limit = sqrt_price_limit or (MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1)
    if zero_for_one and not MIN_SQRT_RATIO < limit < state.sqrt_price_x96:
        raise ValueError("price limit must lie below the current price for a zero-for-one swap")
    if not zero_for_one and not state.sqrt_price_x96 < limit < MAX_SQRT_RATIO:
        raise ValueError("price limit must lie above the current price for a one-for-zero swap")
    remaining, out = amount_in, 0
    sqrt_price, tick, liquidity, crossed = state.sqrt_price_x96, state.tick, state.liquidity, 0
    while remaining != 0 and sqrt_price != limit:
        start = sqrt_price
        tick_next, initialized = state.next_initialized_tick(tick, zero_for_one)
        tick_next = min(max(tick_next, MIN_TICK), MAX_TICK)
        sqrt_next = sqrt_ratio_at_tick(tick_next)
        beyond = sqrt_next < limit if zero_for_one else sqrt_next > limit
        step = compute_swap_step(sqrt_price, limit if beyond else sqrt_next, liquidity, remaining, state.fee)
        sqrt_price = step.sqrt_next
        remaining -= step.amount_in + step.fee
        out += step.amount_out
        if sqrt_price == sqrt_next:
            if initialized:
                net = state.liquidity_net.get(tick_next)
                if net is None:
                    raise OutsideWindowError(f"liquidityNet of initialized tick {tick_next} was not read")
                liquidity += -net if zero_for_one else net
                crossed += 1
            tick = tick_next - 1 if zero_for_one else tick_next
        elif sqrt_price != start:
            tick = tick_at_sqrt_ratio(sqrt_price)
    return SwapResult(amount_in - remaining, out, sqrt_price, tick, liquidity, crossed)
