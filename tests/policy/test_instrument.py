"""Choice of instrument for the delta rule: spot vs listed venue options by all-in cost (keeper.policy.instrument)."""

from __future__ import annotations

import math

import pytest

from keeper.config import PolicyConfig
from keeper.model import (
    AaveBorrow,
    BookView,
    ListedOption,
    MarginDeposit,
    OptionTrade,
    Swap,
    UnderlyingView,
)
from keeper.policy import decide

SPOT, VOL, DAYS = 3000.0, 0.6, 30.0


def put_delta(strike: float, t: float) -> float:
    """Black–Scholes put delta at zero rate, independently of keeper.risk."""
    d1 = (math.log(SPOT / strike) + 0.5 * VOL**2 * t) / (VOL * math.sqrt(t))
    return 0.5 * (1 + math.erf(d1 / math.sqrt(2))) - 1


def short_put(held: float, spread: float) -> ListedOption:
    t = DAYS / 365
    mark = 200.0
    return ListedOption(
        7, "WETH", 10**9, 3000.0, t, VOL, False, mark, mark * (1 - spread), mark * (1 + spread), held, 1, 300.0
    )


def book(net_delta: float, held_units: float, listed: tuple[ListedOption, ...], **kw: object) -> BookView:
    weth = UnderlyingView("WETH", SPOT, VOL, net_delta, 0.0, 0.0, held_units, 0.0, 0.0, 0.83, 0.8)
    base: dict[str, object] = dict(
        block_number=100,
        underlyings=(weth,),
        idle_usdc=1_000_000.0,
        aave_collateral_usd=0.0,
        aave_debt_usd=0.0,
        aave_weighted_lt=0.78,
        usdc_liquidation_threshold=0.78,
        health_factor=math.inf,
        usdc_collateral_units=0.0,
        venue_collateral_usd=100_000.0,
        venue_maintenance_margin_usd=0.0,
        gas_cost_usd=5.0,
        leg_gas_usd=2.0,
        listed=listed,
        usdc_ltv=0.75,
    )
    return BookView(**(base | kw))  # type: ignore[arg-type]


def instrument_reason(plan: object) -> str:
    return next(d.reason for d in plan.decisions if d.rule == "instrument:WETH")  # type: ignore[attr-defined]


def test_cheap_spot__spot_chosen_and_the_venue_quote_reported() -> None:
    b = book(100.0, 100.0, (short_put(-300.0, 0.05),))
    plan = decide(b, PolicyConfig(hedge_cost_bps=5.0, delta_via_venue=True))
    assert any(isinstance(a, Swap) and a.token_in == "WETH" for a in plan.actions)
    assert not any(isinstance(a, OptionTrade) for a in plan.actions)
    reason = instrument_reason(plan)
    assert "spot chosen" in reason
    assert "buy back WETH-3,000-P" in reason


def test_costly_spot__buys_back_short_puts_for_the_same_delta() -> None:
    b = book(100.0, 100.0, (short_put(-300.0, 0.01),))
    plan = decide(b, PolicyConfig(hedge_cost_bps=100.0, delta_via_venue=True))
    trades = [a for a in plan.actions if isinstance(a, OptionTrade)]
    assert len(trades) == 1
    assert not any(isinstance(a, Swap) for a in plan.actions)
    contracts = trades[0].size
    assert contracts * put_delta(3000.0, DAYS / 365) == pytest.approx(-100.0, rel=1e-9)
    deposit = next(a for a in plan.actions if isinstance(a, MarginDeposit))
    assert deposit.amount_usdc == pytest.approx(trades[0].max_cost_usd)
    # the venue's all-in cost: the spread on the contracts + two legs' gas, against spot's 100 bp on $300k + gas
    assert "venue chosen" in instrument_reason(plan)
    spread_cost = contracts * 200.0 * 0.01
    assert f"spread ${spread_cost:,.0f}" in instrument_reason(plan)


def test_venue_cheaper_but_off__spot_and_says_so() -> None:
    b = book(100.0, 100.0, (short_put(-300.0, 0.01),))
    plan = decide(b, PolicyConfig(hedge_cost_bps=100.0))
    assert not any(isinstance(a, OptionTrade) for a in plan.actions)
    assert "policy.delta_via_venue is off" in instrument_reason(plan)


def test_short_held_too_small__venue_covers_part_only__spot() -> None:
    b = book(100.0, 100.0, (short_put(-20.0, 0.01),))
    plan = decide(b, PolicyConfig(hedge_cost_bps=100.0, delta_via_venue=True))
    assert not any(isinstance(a, OptionTrade) for a in plan.actions)
    assert "covers only" in instrument_reason(plan)


def test_carry__borrowing_to_sell_is_charged_the_borrow_apr_over_the_horizon() -> None:
    """No held units: selling delta borrows WETH (supplying USDC first); the spot cost includes the borrow's
    interest at Aave's rate less what the USDC supplied earns, over the policy's horizon."""
    rates = {"WETH": 0.05, "USDC": 0.08}
    supply = {"WETH": 0.01, "USDC": 0.04}
    b = book(50.0, 0.0, (), aave_borrow_apr=rates, aave_supply_apr=supply, horizon_years=7 / 365)
    plan = decide(b, PolicyConfig(hedge_cost_bps=5.0))
    borrowed = sum(a.amount for a in plan.actions if isinstance(a, AaveBorrow) and a.asset == "WETH")
    assert borrowed > 0
    reason = instrument_reason(plan)
    assert "no listed series" in reason
    carry = float(reason.split("carry $")[1].split(")")[0].replace(",", ""))
    supplied = [a for a in plan.actions if type(a).__name__ == "AaveSupply"]
    expected = borrowed * SPOT * rates["WETH"] * 7 / 365
    expected -= sum(a.amount * (SPOT if a.asset == "WETH" else 1.0) * supply[a.asset] for a in supplied) * 7 / 365
    assert carry == round(expected)


def test_quoted_spot_cost__replaces_the_configured_estimate() -> None:
    """The keeper's router quote for the hedge (BookView.spot_cost_bps) is what spot is charged, not hedge_cost_bps:
    at a 5 bp estimate spot would win; quoted at 80 bp (a thin pool in a crash) the buyback is cheaper."""
    listed = (short_put(-300.0, 0.01),)
    config = PolicyConfig(hedge_cost_bps=5.0, delta_via_venue=True)
    assert "spot chosen" in instrument_reason(decide(book(100.0, 100.0, listed), config))
    plan = decide(book(100.0, 100.0, listed, spot_cost_bps={"WETH": 80.0}), config)
    reason = instrument_reason(plan)
    assert "fees+impact (quoted) $2,400" in reason  # 100 WETH × $3,000 × 80 bp
    assert "venue chosen" in reason
    assert any(isinstance(a, OptionTrade) for a in plan.actions)
