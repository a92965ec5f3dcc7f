from __future__ import annotations

import math
from dataclasses import replace

import pytest

from keeper.config import PolicyConfig
from keeper.model import (
    AaveBorrow,
    AaveRepay,
    AaveSupply,
    AaveWithdraw,
    BookView,
    MarginDeposit,
    OptionTrade,
    ShortOption,
    Swap,
    UnderlyingView,
)
from keeper.policy import decide
from keeper.policy.hedging import delta_band_units, gamma_usd_per_pct

CONFIG = PolicyConfig()
USDC_LT = 0.78


def weth(**kw: float) -> UnderlyingView:
    base = dict(
        symbol="WETH",
        spot_usd=3000.0,
        sigma_annual=0.6,
        net_delta_units=0.0,
        net_gamma_units_per_usd=0.0,
        net_vega_usd_per_vol_pt=0.0,
        held_units=0.0,
        debt_units=0.0,
        collateral_units=0.0,
        liquidation_threshold=0.83,
    )
    return UnderlyingView(**(base | kw))  # type: ignore[arg-type]


def book(u: UnderlyingView | None = None, **kw: object) -> BookView:
    u = u or weth()
    debt_usd = u.debt_units * u.spot_usd
    base: dict[str, object] = dict(
        block_number=100,
        underlyings=(u,),
        idle_usdc=1_000_000.0,
        aave_collateral_usd=500_000.0,
        aave_debt_usd=debt_usd,
        aave_weighted_lt=USDC_LT,
        usdc_liquidation_threshold=USDC_LT,
        health_factor=math.inf if debt_usd == 0 else 500_000 * USDC_LT / debt_usd,
        usdc_collateral_units=500_000.0,
        venue_collateral_usd=200_000.0,
        venue_maintenance_margin_usd=100_000.0,
        gas_cost_usd=5.0,
    )
    return BookView(**(base | kw))  # type: ignore[arg-type]


def hf_path(b: BookView, actions: tuple[object, ...]) -> list[float]:
    """The Aave health factor after each action of a plan (independent of the policy's own bookkeeping)."""
    coll_lt, debt = b.aave_collateral_usd * b.aave_weighted_lt, b.aave_debt_usd
    u = b.underlyings[0]

    def usd(asset: str, amount: float) -> float:
        return amount if asset == "USDC" else amount * u.spot_usd

    def lt(asset: str) -> float:
        return USDC_LT if asset == "USDC" else u.liquidation_threshold

    path = []
    for a in actions:
        if isinstance(a, AaveRepay):
            debt -= usd(a.asset, a.amount)
        elif isinstance(a, AaveBorrow):
            debt += usd(a.asset, a.amount)
        elif isinstance(a, AaveSupply):
            coll_lt += usd(a.asset, a.amount) * lt(a.asset)
        elif isinstance(a, AaveWithdraw):
            coll_lt -= usd(a.asset, a.amount) * lt(a.asset)
        path.append(math.inf if debt <= 1e-9 else coll_lt / debt)
    return path


def hf_after(b: BookView, actions: tuple[object, ...]) -> float:
    path = hf_path(b, actions)
    return path[-1] if path else b.health_factor


def assert_chunked_deleverage(b: BookView, actions: tuple[object, ...]) -> None:
    """Withdraw → swap → repay chunks; after every withdrawal (before its repay) HF stays ≥ the interim floor."""
    from keeper.policy.aave import INTERIM_HEALTH_FACTOR

    path = hf_path(b, actions)
    for a, hf in zip(actions, path, strict=True):
        if isinstance(a, AaveWithdraw):
            assert hf >= INTERIM_HEALTH_FACTOR * (1 - 1e-9)
    kinds = [a.kind for a in actions]  # type: ignore[attr-defined]
    assert kinds[-1] == "aave_repay"
    assert kinds.count("aave_withdraw") == kinds.count("aave_repay")


def test_decide__delta_inside_band__no_action_with_reason() -> None:
    plan = decide(book(weth(net_delta_units=0.5)), CONFIG)
    assert plan.empty
    assert any(d.rule == "delta:WETH" and "within band" in d.reason for d in plan.decisions)


def test_decide__short_delta_outside_band__buys_back_to_zero() -> None:
    plan = decide(book(weth(net_delta_units=-20.0)), CONFIG)
    (swap,) = plan.actions
    assert isinstance(swap, Swap)
    assert (swap.token_in, swap.token_out) == ("USDC", "WETH")
    assert swap.min_amount_out == pytest.approx(20.0)
    assert swap.amount_in == pytest.approx(20.0 * 3000 * (1 + CONFIG.max_slippage_bps / 1e4))


def test_decide__short_delta_with_weth_debt__repays_debt_first() -> None:
    plan = decide(book(weth(net_delta_units=-20.0, debt_units=5.0)), CONFIG)
    swap, repay = plan.actions
    assert isinstance(swap, Swap)
    assert isinstance(repay, AaveRepay)
    assert repay.amount == pytest.approx(5.0)


def test_decide__short_delta_with_dust_weth_debt__no_dust_repay() -> None:
    """A wei of debt left by interest must not become a repay: Aave refuses an amount that encodes to 0
    (error 26, INVALID_AMOUNT), and with it the whole batch (the calm month lost 36 batches to it)."""
    plan = decide(book(weth(net_delta_units=-20.0, debt_units=1e-18)), CONFIG)
    (swap,) = plan.actions
    assert isinstance(swap, Swap)
    assert swap.min_amount_out == pytest.approx(20.0)


def test_decide__long_delta__sells_held_then_borrows_and_supplies_proceeds() -> None:
    b = book(weth(net_delta_units=20.0, held_units=3.0))
    plan = decide(b, CONFIG)
    kinds = [a.kind for a in plan.actions]
    assert kinds == ["swap", "aave_borrow", "swap", "aave_supply"]
    sell_held, borrow = plan.actions[0], plan.actions[1]
    assert isinstance(sell_held, Swap)
    assert sell_held.amount_in == pytest.approx(3.0)
    assert isinstance(borrow, AaveBorrow)
    assert borrow.amount == pytest.approx(17.0)
    assert hf_after(b, plan.actions) >= CONFIG.health_factor_target


def test_decide__long_delta_beyond_borrow_headroom__stops_at_hf_target() -> None:
    b = book(weth(net_delta_units=400.0), aave_collateral_usd=300_000.0, usdc_collateral_units=300_000.0, idle_usdc=0.0)
    plan = decide(b, CONFIG)
    borrow = next(a for a in plan.actions if isinstance(a, AaveBorrow))
    assert borrow.amount < 400.0
    assert hf_after(b, plan.actions) == pytest.approx(CONFIG.health_factor_target, rel=1e-9)


def test_decide__health_factor_below_trigger__repays_exactly_to_target() -> None:
    # 500k USDC collateral (LT 0.78 → 390k), 100 WETH debt at 3000 = 300k → HF 1.30 < 1.35.
    b = book(weth(debt_units=100.0, net_delta_units=0.0))
    plan = decide(b, CONFIG)
    assert isinstance(plan.actions[0], Swap)
    assert isinstance(plan.actions[1], AaveRepay)
    assert hf_after(b, plan.actions[:2]) == pytest.approx(CONFIG.health_factor_target, rel=1e-9)
    assert plan.decisions[0].acted


def test_decide__health_low_and_no_idle_usdc__withdraws_collateral_to_fund_repay() -> None:
    b = book(weth(debt_units=100.0), idle_usdc=0.0)
    plan = decide(b, CONFIG)
    withdraw, swap, repay = plan.actions[:3]
    assert isinstance(withdraw, AaveWithdraw)
    assert isinstance(swap, Swap)
    assert isinstance(repay, AaveRepay)
    assert hf_after(b, plan.actions) == pytest.approx(CONFIG.health_factor_target, rel=1e-9)
    assert_chunked_deleverage(b, plan.actions)


def test_decide__venue_margin_below_trigger__deposits_to_target() -> None:
    plan = decide(book(venue_collateral_usd=110_000.0), CONFIG)
    (deposit,) = plan.actions
    assert isinstance(deposit, MarginDeposit)
    assert deposit.amount_usdc == pytest.approx(CONFIG.venue_margin_target_ratio * 100_000 - 110_000)


def test_decide__gamma_above_limit__buys_back_largest_gamma_short() -> None:
    gamma_each = 1e-4  # units per USD per contract → $9 per 1% per contract at 3000
    shorts = (
        ShortOption(1, "WETH", -10_000.0, gamma_each, 5.0, 120.0),
        ShortOption(2, "WETH", -10_000.0, gamma_each / 10, 1.0, 20.0),
    )
    u = weth(net_gamma_units_per_usd=-20_000 * gamma_each * 0.55, net_delta_units=0.0)
    plan = decide(book(u, options=shorts), CONFIG)
    trade = next(a for a in plan.actions if isinstance(a, OptionTrade))
    assert trade.series_id == 1
    target = CONFIG.greek_limit_target_ratio * CONFIG.max_net_gamma_usd_per_pct  # hysteresis: below the limit
    excess = abs(gamma_usd_per_pct(u.net_gamma_units_per_usd, 3000)) - target
    assert trade.size == pytest.approx(excess / gamma_usd_per_pct(gamma_each, 3000))


def test_decide__gamma_just_under_limit__no_buyback() -> None:
    shorts = (ShortOption(1, "WETH", -10_000.0, 1e-4, 5.0, 120.0),)
    limit_units = CONFIG.max_net_gamma_usd_per_pct / gamma_usd_per_pct(1.0, 3000)
    u = weth(net_gamma_units_per_usd=-limit_units * 0.99, net_delta_units=0.0)
    assert not [a for a in decide(book(u, options=shorts), CONFIG).actions if isinstance(a, OptionTrade)]


def test_decide__hedge_costs_more_than_risk_cut__skipped() -> None:
    config = CONFIG.model_copy(update={"delta_band_min_usd": 0.0, "min_trade_usd": 0.0})
    u = weth(net_delta_units=-1.0, sigma_annual=0.0001)
    plan = decide(book(u, gas_cost_usd=50.0), config)
    assert plan.empty
    assert any("skipped" in d.reason for d in plan.decisions)


def test_decide__within_cooldown__no_hedge() -> None:
    plan = decide(book(weth(net_delta_units=-20.0), last_action_block={"delta:WETH": 99}), CONFIG)
    assert plan.empty
    assert any("cooldown" in d.reason for d in plan.decisions)


def test_delta_band__ww_width_grows_with_cost_and_shrinks_with_risk_aversion() -> None:
    u = weth(net_gamma_units_per_usd=0.05)
    config = CONFIG.model_copy(update={"delta_band_min_usd": 0.0, "delta_risk_budget_usd": 1e12})
    base = delta_band_units(u, config, 1 / 365)
    assert base == pytest.approx((1.5 * 0.001 * 3000 * 0.05**2 / 1e-6) ** (1 / 3))
    assert delta_band_units(u, config.model_copy(update={"hedge_cost_bps": 40.0}), 1 / 365) > base
    assert delta_band_units(u, config.model_copy(update={"risk_aversion": 1e-4}), 1 / 365) < base


def test_delta_band__high_forecast_vol__capped_by_risk_budget() -> None:
    u = weth(net_gamma_units_per_usd=0.5, sigma_annual=2.0)
    band = delta_band_units(u, CONFIG, 1 / 365)
    assert band < delta_band_units(u, CONFIG.model_copy(update={"delta_risk_budget_usd": 1e12}), 1 / 365)
    assert band * 3000 * 2.0 * math.sqrt(1 / 365) == pytest.approx(CONFIG.delta_risk_budget_usd)


def test_plan_to_dict__same_inputs__identical_data() -> None:
    b = book(weth(net_delta_units=-20.0))
    assert decide(b, CONFIG).to_dict() == decide(replace(b), CONFIG).to_dict()


def test_decide__long_delta_collateral_short__supplies_idle_usdc_first_keeping_reserve() -> None:
    config = CONFIG.model_copy(update={"idle_reserve_usdc": 100_000.0})
    b = book(weth(net_delta_units=400.0), aave_collateral_usd=0.0, usdc_collateral_units=0.0, idle_usdc=600_000.0)
    plan = decide(b, config)
    supply = plan.actions[0]
    assert isinstance(supply, AaveSupply)
    assert supply.amount <= 500_000.0  # never below the 100k reserve
    assert hf_after(b, plan.actions) >= config.health_factor_target * (1 - 1e-12)


def levered(usdc_debt: float = 380_000.0, **kw: float) -> BookView:
    """A covered-call style book: WETH supplied as collateral, USDC borrowed against it."""
    u = weth(collateral_units=200.0, **kw)
    coll_usd = 200 * 3000.0
    return book(
        u,
        idle_usdc=0.0,
        aave_collateral_usd=coll_usd,
        aave_weighted_lt=0.83,
        usdc_collateral_units=0.0,
        aave_debt_usd=usdc_debt,
        usdc_debt_units=usdc_debt,
        health_factor=coll_usd * 0.83 / usdc_debt,
    )


def test_decide__usdc_debt_hf_below_trigger__sells_weth_collateral_to_exact_target() -> None:
    b = levered()  # HF = 498k / 380k = 1.31 < 1.35: one withdrawal to the target would dip under 1.05 first
    plan = decide(b, CONFIG.model_copy(update={"delta_band_min_usd": 1e9}))
    kinds = [a.kind for a in plan.actions]
    assert kinds == ["aave_withdraw", "swap", "aave_repay"] * 2
    assert hf_after(b, plan.actions) == pytest.approx(CONFIG.health_factor_target, rel=1e-9)
    assert_chunked_deleverage(b, plan.actions)


def test_decide__short_delta_levered__borrows_usdc_buys_and_supplies_within_hf_target() -> None:
    config = CONFIG.model_copy(update={"lever_with_usdc_debt": True})
    b = book(
        weth(net_delta_units=-100.0, collateral_units=200.0),
        idle_usdc=0.0,
        aave_collateral_usd=600_000.0,
        aave_weighted_lt=0.83,
        usdc_collateral_units=0.0,
    )
    plan = decide(b, config)
    assert [a.kind for a in plan.actions] == ["aave_borrow", "swap", "aave_supply"]
    borrow = plan.actions[0]
    assert isinstance(borrow, AaveBorrow)
    assert borrow.asset == "USDC"
    assert hf_after(b, plan.actions) >= config.health_factor_target * (1 - 1e-12)


def test_decide__long_delta_levered__unwinds_collateral_against_usdc_debt_first() -> None:
    b = levered(net_delta_units=50.0, usdc_debt=200_000.0)
    plan = decide(b, CONFIG)
    withdraw, swap, repay = plan.actions[:3]
    assert isinstance(withdraw, AaveWithdraw)
    assert withdraw.asset == "WETH"
    assert withdraw.amount == pytest.approx(50.0)
    assert isinstance(swap, Swap)
    assert isinstance(repay, AaveRepay)
    assert repay.asset == "USDC"
    assert hf_after(b, plan.actions) > b.health_factor


def test_decide__long_delta_no_collateral__supply_covers_aave_ltv_at_borrow_time() -> None:
    """Aave checks LTV when the borrow executes, before the sold proceeds are supplied: the USDC supplied first
    must carry the whole borrow (capacity + supply × LTV ≥ borrow)."""
    from keeper.policy.aave import CAPACITY_USE

    b = book(
        weth(net_delta_units=300.0),
        aave_collateral_usd=0.0,
        usdc_collateral_units=0.0,
        idle_usdc=2_000_000.0,
        aave_borrow_capacity_usd=0.0,
        usdc_ltv=0.77,
    )
    plan = decide(b, CONFIG)
    supply, borrow = plan.actions[0], plan.actions[1]
    assert isinstance(supply, AaveSupply)
    assert isinstance(borrow, AaveBorrow)
    assert supply.amount * 0.77 * CAPACITY_USE >= borrow.amount * 3000 * (1 - 1e-9)
    assert borrow.amount == pytest.approx(300.0)


def test_decide__held_dust_and_delta_out_of_band__never_swaps_dust() -> None:
    """Residues of earlier trades (1e-12 WETH) swap to 0 on-chain and would fail the vault's slippage check,
    refusing the whole plan: legs under dust_usd are not traded."""
    b = book(weth(net_delta_units=40.0, held_units=1e-12))
    plan = decide(b, CONFIG)
    swaps = [a for a in plan.actions if isinstance(a, Swap)]
    assert swaps
    assert all(a.amount_in * (3000 if a.token_in == "WETH" else 1) >= CONFIG.dust_usd for a in swaps)


def test_decide__margin_call_no_idle_usdc__borrows_usdc_against_held_weth_keeping_delta() -> None:
    """The squeeze case: the short calls' hedge bought WETH with all idle USDC, then the venue calls for margin.
    The keeper supplies the held WETH on Aave and borrows the USDC against it (delta unchanged, HF ≥ target)."""
    from keeper.model import VenueAccountView

    u = weth(held_units=300.0, net_delta_units=0.0, ltv=0.805)
    b = book(
        u,
        idle_usdc=0.0,
        aave_collateral_usd=0.0,
        usdc_collateral_units=0.0,
        aave_borrow_capacity_usd=0.0,
        usdc_ltv=0.77,
        venue_accounts=(VenueAccountView(7, 150_000.0, 100_000.0),),
    )
    plan = decide(b, CONFIG)
    kinds = [a.kind for a in plan.actions]
    assert kinds == ["aave_supply", "aave_borrow", "margin_deposit"]
    supply, borrow, deposit = plan.actions
    assert isinstance(supply, AaveSupply)
    assert supply.asset == "WETH"
    assert isinstance(borrow, AaveBorrow)
    assert borrow.asset == "USDC"
    assert isinstance(deposit, MarginDeposit)
    assert deposit.account_id == 7
    assert deposit.amount_usdc == pytest.approx(CONFIG.venue_margin_target_ratio * 100_000 - 150_000)
    assert borrow.amount <= supply.amount * 3000 * 0.805  # within Aave's LTV at borrow time
    assert hf_after(b, plan.actions) >= CONFIG.health_factor_target * (1 - 1e-9)


def test_decide__health_factor_above_relever__withdraws_surplus_usdc_collateral_to_exact_target() -> None:
    config = PolicyConfig(health_factor_relever=2.5)
    b = book(weth(debt_units=40.0, held_units=0.0, net_delta_units=0.0))  # HF = 500k·0.78 / 120k = 3.25
    plan = decide(b, config)
    withdrawals = [a for a in plan.actions if isinstance(a, AaveWithdraw)]
    assert [w.asset for w in withdrawals] == ["USDC"]
    assert withdrawals[0].amount == pytest.approx(500_000 - 1.6 * 120_000 / USDC_LT, rel=1e-12)
    assert hf_after(b, plan.actions) == pytest.approx(config.health_factor_target, rel=1e-9)
    assert not any(isinstance(a, Swap | AaveBorrow | AaveRepay) for a in plan.actions)  # delta-neutral
    assert next(d for d in plan.decisions if d.rule == "aave_health").acted


def test_decide__health_factor_between_target_and_relever__no_relever() -> None:
    config = PolicyConfig(health_factor_relever=3.5)
    plan = decide(book(weth(debt_units=40.0)), config)  # HF 3.25 < 3.5
    assert not plan.actions
    assert not next(d for d in plan.decisions if d.rule == "aave_health").acted


def test_decide__relever_unset_or_no_debt__never_withdraws() -> None:
    assert not decide(book(weth(debt_units=40.0)), CONFIG).actions  # default: off
    assert not decide(book(weth()), PolicyConfig(health_factor_relever=2.0)).actions  # no debt: nothing to re-lever


def test_decide__relever_surplus_below_min_trade__skipped_with_reason() -> None:
    config = PolicyConfig(health_factor_relever=1.7, min_trade_usd=50_000.0)
    # HF = 500k·0.78 / D = 1.7 → D ≈ 229.4k; surplus above 1.6 = (390k − 1.6·D)/0.78 ≈ 29.4k < 50k
    debt_units = 500_000 * USDC_LT / 1.7 / 3000.0 * (1 - 1e-9)
    plan = decide(book(weth(debt_units=debt_units)), config)
    assert not plan.actions
    assert "minimum trade" in next(d for d in plan.decisions if d.rule == "aave_health").reason
