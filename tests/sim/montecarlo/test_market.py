"""The modelled devnet market: pool swaps are Uniswap v3's full-range maths; parameters are the deployed ones."""

from __future__ import annotations

import math

from numpy.testing import assert_allclose

from devnet.params import POOLS, WETH
from sim.montecarlo.market import devnet_market


def test_pool__liquidity__matches_the_minted_tvl() -> None:
    pool = devnet_market().pools["WETH"]
    tvl = POOLS["WETH"][1]
    # at the initial price the virtual reserves are the minted amounts: y = tvl/2 USDC, x = tvl/2/P WETH
    root = math.sqrt(WETH.price_usd)
    assert_allclose(pool.liquidity * root, tvl / 2, rtol=1e-12)
    assert_allclose(pool.liquidity / root, tvl / 2 / WETH.price_usd, rtol=1e-12)


def test_swap__usdc_in__sqrt_price_moves_by_net_input_over_liquidity() -> None:
    pool = devnet_market().pools["WETH"]
    out, after = pool.swap_out(3000.0, 1_000_000.0, risky_in=False)
    net = 1_000_000.0 * (1 - 0.0005)
    # Uniswap v3 in one range: Δ√P = Δy / L, Δx = L (1/√P₀ − 1/√P₁)
    root1 = math.sqrt(3000.0) + net / pool.liquidity
    assert_allclose(after, root1**2, rtol=1e-12)
    assert_allclose(out, pool.liquidity * (1 / math.sqrt(3000.0) - 1 / root1), rtol=1e-10)
    assert out * 3000.0 < 1_000_000.0  # fee + impact cost something


def test_swap__round_trip__loses_the_two_fees_and_gets_the_impact_back() -> None:
    # v3 keeps fees outside the reserves (fee growth), so a round trip in one range returns the impact: only the
    # two fees are lost (a little less, the second leg's input being smaller)
    pool = devnet_market().pools["WBTC"]
    units, mid = pool.swap_out(60_000.0, 600_000.0, risky_in=False)
    assert mid > 60_000.0
    back, end = pool.swap_out(mid, units, risky_in=True)
    assert_allclose(back, 600_000.0 * (1 - 0.003) ** 2, rtol=1e-5)
    assert back > 600_000.0 * (1 - 0.003) ** 2
    assert 60_000.0 < end < mid  # the sold units are fewer than those bought (the fee): the price stays a bit up


def test_guards__from_the_deployed_risk_params() -> None:
    g = devnet_market().guards
    assert (g.health_factor_floor, g.max_loss, g.max_slippage) == (1.3, 0.005, 0.01)


def _exact_v3_out(price_usd: float, amount_in: float, usdc_in: bool, tvl_usd: int, fee_pips: int) -> float:
    """keeper.execution.uniswap_v3 (issue 17's exact integer maths) on the devnet's full-range WETH/USDC pool."""
    from keeper.execution.uniswap_v3 import MAX_TICK, MIN_TICK, Q96, PoolState, swap_exact_input, tick_at_sqrt_ratio

    spacing = 10
    liquidity = math.isqrt(int(tvl_usd / 2 / WETH.price_usd * 1e18) * (tvl_usd // 2 * 10**6))
    sqrt_x96 = int(math.sqrt(1e12 / price_usd) * Q96)  # USDC is token0: raw price = WETH wei per USDC unit
    tick = tick_at_sqrt_ratio(sqrt_x96)
    lower, upper = -(-MIN_TICK // spacing) * spacing, (MAX_TICK // spacing) * spacing
    words = {p: 0 for p in range((tick // spacing >> 8) - 64, (tick // spacing >> 8) + 65)}
    for t in (lower, upper):
        words[t // spacing >> 8] = words.get(t // spacing >> 8, 0) | (1 << (t // spacing & 0xFF))
    state = PoolState(sqrt_x96, tick, liquidity, fee_pips, spacing, words, {lower: liquidity, upper: -liquidity})
    raw_in = int(amount_in * (10**6 if usdc_in else 10**18))
    return swap_exact_input(state, raw_in, zero_for_one=usdc_in).amount_out / (10**18 if usdc_in else 10**6)


def test_swap__devnet_weth_pool__equals_the_exact_v3_integer_maths() -> None:
    pool = devnet_market().pools["WETH"]
    fee_pips, tvl = POOLS["WETH"]
    for price, amount, usdc_in in ((3000.0, 1e6, True), (3100.0, 300.0, False), (2500.0, 5e7, True)):
        model, _ = pool.swap_out(price, amount, risky_in=not usdc_in)
        assert_allclose(model, _exact_v3_out(price, amount, usdc_in, tvl, fee_pips), rtol=1e-9)
