"""The model world: Aave's liquidation rule, the keeper's policy deciding, the vault refusing what it would refuse."""

from __future__ import annotations

import math

import pytest
from numpy.testing import assert_allclose

from keeper.config import KeeperSettings
from keeper.model import AaveBorrow, AaveSupply, MarginDeposit, OptionTrade, Swap
from sim.montecarlo.books import from_positions, levered_long
from sim.montecarlo.job import settings_for
from sim.montecarlo.market import devnet_market
from sim.montecarlo.world import VaultModel, World

PRICES = [1.0, 3000.0, 60_000.0]


@pytest.fixture
def market():  # type: ignore[no-untyped-def]
    return devnet_market()


def _world(market, wallet, collateral, debt):  # type: ignore[no-untyped-def]
    book = from_positions(wallet, collateral, debt, dict(zip(("USDC", "WETH", "WBTC"), PRICES, strict=True)))
    return World(market, settings_for(book), book.vault())


def test_liquidate__hf_between_095_and_1__half_the_debt_with_the_bonus(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {}, {"WETH": 1000.0}, {"USDC": 2_500_000.0})
    prices = [1.0, 3000.0, 60_000.0]  # HF = 1000·3000·0.83 / 2.5M = 0.996
    assert w.liquidate(prices)
    assert_allclose(w.vault.debt[0], 1_250_000.0)
    assert_allclose(w.vault.collateral[1], 1000.0 - 1_250_000.0 * 1.05 / 3000.0)


def test_liquidate__hf_below_095__all_the_debt_capped_by_collateral(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {}, {"WETH": 1000.0}, {"USDC": 2_900_000.0})  # HF 0.859
    assert w.liquidate(PRICES)
    seized_all = 2_900_000.0 * 1.05 / 3000.0  # 1015 > 1000: all collateral goes, less debt covered
    assert seized_all > 1000
    assert_allclose(w.vault.collateral[1], 0.0, atol=1e-9)
    assert_allclose(w.vault.debt[0], 2_900_000.0 - 1000.0 * 3000.0 / 1.05)


def test_liquidate__healthy__nothing(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {}, {"WETH": 1000.0}, {"USDC": 1_000_000.0})
    assert not w.liquidate(PRICES)


def test_keeper_step__hf_below_trigger__policy_deleverages_to_target(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {"USDC": 10_000.0}, {"WETH": 1000.0}, {"USDC": 1_900_000.0})  # HF 1.31 < 1.35
    out = w.keeper_step(PRICES, 3600, 300)
    assert out.acted
    assert not out.refused
    hf = w.vault.health_factor(PRICES, w.lt)
    assert hf == pytest.approx(w.settings.policy.health_factor_target, rel=0.02)
    assert w.last_action_block["aave_health"] == 300
    assert 0 < out.swap_cost_usd < 0.002 * 1_900_000


def test_execute__slippage_above_the_vault_cap__refused_state_unchanged(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {"USDC": 100_000_000.0}, {}, {})
    before = w.vault.copy()
    # $100M through the $2B pool: ~5 % impact, over the vault's 1 % cap (the plan's own minimum is lax)
    assert w.execute((Swap("USDC", "WETH", 100_000_000.0, 1.0),), PRICES, 0) is None
    assert w.vault == before


def test_execute__borrow_over_ltv__refused(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {"WETH": 100.0}, {}, {})
    assert w.execute((AaveSupply("WETH", 100.0), AaveBorrow("USDC", 100 * 3000 * 0.81)), PRICES, 0) is None
    assert w.execute((AaveSupply("WETH", 100.0), AaveBorrow("USDC", 100 * 3000 * 0.5)), PRICES, 0) is not None


def test_execute__hf_after_below_the_vault_floor__refused(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {"WETH": 100.0}, {}, {})
    # LTV allows 0.805, but HF = 0.83 / 0.7 = 1.19 < floor 1.3
    assert w.execute((AaveSupply("WETH", 100.0), AaveBorrow("USDC", 100 * 3000 * 0.7)), PRICES, 0) is None


def test_levered_long__opened_in_the_model__hf_about_one_and_a_half(market) -> None:  # type: ignore[no-untyped-def]
    book = levered_long(market, KeeperSettings())
    v = book.vault()
    assert 1.4 < v.health_factor(list(book.prices_usd), market.liquidation_threshold) < 1.55
    # $6.6M of WETH bought in three legs: the 5 bp fee and ~0.1 % impact per leg on the $2B pool
    nav = v.nav_usd(list(book.prices_usd))
    assert 0.99 * 3_000_000.0 < nav < 0.997 * 3_000_000.0


def test_from_positions__unknown_symbol__names_it() -> None:
    with pytest.raises(ValueError, match="unknown symbols \\['DAI'\\]"):
        from_positions({"DAI": 1.0}, {}, {}, {})


def test_vault_model__copy__independent() -> None:
    v = VaultModel([1.0, 0.0, 0.0], [0.0] * 3, [0.0] * 3)
    c = v.copy()
    c.wallet[0] = 2.0
    assert v.wallet[0] == 1.0


def test_keeper_step__oracle_moved_past_the_twap_band__batch_refused(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {"USDC": 10_000.0}, {"WETH": 1000.0}, {"USDC": 1_900_000.0})  # HF 1.31: wants to deleverage
    before = w.vault.copy()
    out = w.keeper_step(PRICES, 3600, 300, previous=[1.0, 3000.0 * 1.03, 60_000.0])  # 3 % move > 200 ticks
    assert out.refused
    assert not out.acted
    assert w.vault == before
    assert w.keeper_step(PRICES, 3600, 300, previous=[1.0, 3000.0 * 1.01, 60_000.0]).acted


def test_keeper_step__only_an_untouched_token_past_the_twap_band__batch_accepted(market) -> None:  # type: ignore[no-untyped-def]
    """As the vault checks since issue 19 item 8: the TWAP is observed for the tokens a batch judges at their price
    (swapped, or moved on Aave), so a WBTC move the pool has not caught up with does not refuse a WETH deleverage."""
    w = _world(market, {"USDC": 10_000.0}, {"WETH": 1000.0}, {"USDC": 1_900_000.0})
    out = w.keeper_step(PRICES, 3600, 300, previous=[1.0, 3000.0, 60_000.0 * 1.03])
    assert out.acted
    assert not out.refused


def test_twap_agrees__judges_only_swapped_or_aave_tokens(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {"USDC": 10_000.0}, {}, {})
    moved = [1.0, 3000.0 * 1.03, 60_000.0 * 1.03]  # both pools lag the oracle by 3 %
    assert not w.twap_agrees(PRICES, moved)  # every token (no actions given)
    assert w.twap_agrees(PRICES, moved, (OptionTrade(1, 1.0, 100.0, 1), MarginDeposit(1_000.0, 1)))  # USDC only
    assert not w.twap_agrees(PRICES, moved, (Swap("USDC", "WETH", 1_000.0, 0.3),))
    assert not w.twap_agrees(PRICES, moved, (AaveBorrow("WBTC", 0.1),))
    assert w.twap_agrees(PRICES, [1.0, 3000.0 * 1.03, 60_000.0], (AaveSupply("WBTC", 0.1),))


def test_liquidate__no_collateral_left__nothing_to_seize_no_liquidation(market) -> None:  # type: ignore[no-untyped-def]
    # A path that wiped the collateral out leaves bad debt: Aave has nothing to seize and refuses (the model used
    # to count a liquidation every step after it)
    w = _world(market, {}, {}, {"USDC": 100_000.0})
    assert not w.liquidate(PRICES)


def test_accrue__30_days__debt_compounds_at_the_borrow_rate_supply_grows_at_the_liquidity_rate(market) -> None:  # type: ignore[no-untyped-def]
    w = _world(market, {}, {"WETH": 1000.0}, {"USDC": 1_500_000.0})
    usdc, weth = market.reserves[0], market.reserves[1]
    # The devnet's rate strategies and background market: USDC 120M borrowed of 600M supplied (+ the vault's 1.5M).
    u_usdc = (120e6 + 1.5e6) / 600e6
    assert usdc.usage(0.0, 1_500_000.0) == pytest.approx(u_usdc)
    borrow = 0.04 * u_usdc / 0.90  # slope1 · U / U* (base 0), below the optimal usage
    assert usdc.borrow_rate(u_usdc) == pytest.approx(borrow)
    u_weth = 12_000 / (120_000 + 1000)
    supply = 0.033 * u_weth / 0.80 * u_weth * (1 - 0.15)  # borrow rate · U · (1 − reserve factor)
    assert weth.liquidity_rate(u_weth) == pytest.approx(supply)
    for _ in range(30 * 24):
        w.accrue(3600)
    days = 30 / 365
    assert w.vault.debt[0] == pytest.approx(1_500_000 * math.exp(borrow * days), rel=1e-5)  # rates move a hair
    assert w.vault.collateral[1] == pytest.approx(1000 * (1 + supply * days), rel=1e-6)
    assert 1_500_000 * 0.0007 < w.vault.debt[0] - 1_500_000 < 1_500_000 * 0.0008  # ≈ 0.074 % a month


def test_accrue__interest_off__balances_unchanged(market) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    w = _world(replace(market, interest=False), {}, {"WETH": 1000.0}, {"USDC": 1_500_000.0})
    w.accrue(86_400 * 30)
    assert w.vault.debt[0] == 1_500_000.0
    assert w.vault.collateral[1] == 1000.0


def test_execute__rolling_turnover_budget_at_the_batchs_nav_before__as_the_vault_checks(market) -> None:  # type: ignore[no-untyped-def]
    # VaultLogic.chargeBudgets: capacity = navBefore of this batch × turnoverBudgetBps / 2, the level drains at
    # capacity / period. A book liquidated down to $100k may hold 2.5 × $100k of turnover, whatever it was worth
    # before (path 7 of the validation: the chain refused the re-hedge with TurnoverBudgetExceeded).
    from sim.montecarlo.world import Budget

    w = _world(market, {"USDC": 10_000.0, "WETH": 30.0}, {}, {})  # NAV $100k
    w.vault.turnover = Budget(200_000.0, 0.0, 0.0)  # $200k charged earlier, not draining (capacity 0 then)
    sell = Swap("WETH", "USDC", 30.0, 30.0 * 3000 * 0.99)  # $90k more: 290k > 250k capacity
    assert w.execute((sell,), PRICES, 3600) is None
    w.vault.turnover = Budget(200_000.0, 250_000.0 / 86_400, -36_000.0)  # charged 11 h ago, draining since
    assert w.execute((sell,), PRICES, 3600) is not None  # 200k − 114.6k drained + 90k = 175.4k ≤ 250k
    assert w.vault.turnover.used_usd == pytest.approx(200_000 - 39_600 * 250_000 / 86_400 + 30 * 3000)
    assert w.vault.turnover.at_s == 3600


def test_levered_long__the_opening_legs_turnover_counts_in_the_first_period(market) -> None:  # type: ignore[no-untyped-def]
    # On chain the last opening leg's $1.65M swap is in the period's turnover when the run starts (path 7 of the
    # validation: after a liquidation to $119k NAV the chain refused the re-hedge, TurnoverBudgetExceeded).
    book = levered_long(market, KeeperSettings())
    turnover, _ = book.budgets
    assert turnover.at_s == -900
    assert turnover.used_usd == pytest.approx(0.55 * 3_000_000, rel=1e-9)  # the last leg; the earlier ones drained
    w = book.world(market, settings_for(book))
    assert w.vault.turnover.used_now(0) == pytest.approx(turnover.used_now(0))
    assert w.vault.turnover.used_now(0) < turnover.used_usd  # 900 s of drain
