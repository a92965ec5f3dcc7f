"""The tail-budget rule: budget met (checked by an independent revaluation), infeasible (cheapest partial
reduction, reported), no-op inside, and the MILP against a brute-force search on a small grid."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from keeper.config import PolicyConfig, TailBudgetConfig
from keeper.model import (
    BookView,
    DeltaBand,
    OptionTrade,
    Swap,
    TailCandidate,
    TailInputs,
    TailReport,
    UnderlyingView,
)
from keeper.policy import decide
from keeper.policy.aave import Working
from keeper.policy.tail import (
    PremiumLeg,
    book_pnl,
    leg_pnl,
    legs,
    option_cost,
    size_new_premium,
    solve,
    stress_set,
    tail_rule,
)
from keeper.risk.black import price_reference
from keeper.risk.stress import HISTORICAL_SHOCKS

SPOT, VOL, RATE, NAV = 3000.0, 0.6, 0.0, 1_000_000.0
ON = PolicyConfig(tail=TailBudgetConfig(enabled=True))  # the rule is opt-in (the predictive policy)
T = 14 / 365


def weth(**kw: float) -> UnderlyingView:
    base = dict(
        symbol="WETH",
        spot_usd=SPOT,
        sigma_annual=VOL,
        net_delta_units=0.0,
        net_gamma_units_per_usd=0.0,
        net_vega_usd_per_vol_pt=0.0,
        held_units=0.0,
        debt_units=0.0,
        collateral_units=0.0,
        liquidation_threshold=0.83,
    )
    base.update(kw)
    return UnderlyingView(**base)  # type: ignore[arg-type]


def ask(strike: float, is_call: bool, t: float = T) -> float:
    return float(price_reference(SPOT, strike, t, VOL, RATE, is_call)[0]) * 1.02 + 0.5


def candidate(series: int, strike: float, is_call: bool, max_units: float = 500.0, t: float = T) -> TailCandidate:
    return TailCandidate(series, "WETH", strike, t, VOL, is_call, ask(strike, is_call, t), max_units)


# Short strangle: 120 puts at 2,700 and 120 calls at 3,300, 14 days; wings and buybacks listed.
SHORT_PUT, SHORT_CALL = candidate(1, 2700, False, 120), candidate(2, 3300, True, 120)
WINGS = (candidate(3, 2400, False), candidate(4, 2100, False), candidate(5, 3600, True), candidate(6, 3900, True))


def strangle(
    units: float = 120.0, candidates: tuple[TailCandidate, ...] = (SHORT_PUT, SHORT_CALL, *WINGS)
) -> TailInputs:
    return TailInputs(
        underlying_index=np.zeros(2, dtype=np.int64),
        size=np.array([-units, -units]),
        strike_usd=np.array([2700.0, 3300.0]),
        t_years=np.array([T, T]),
        vol=np.array([VOL, VOL]),
        is_call=np.array([False, True]),
        rate=RATE,
        nav_usd=NAV,
        candidates=candidates,
        leg_gas_usd=2.0,
    )


def book(tail: TailInputs, idle: float = 200_000.0) -> BookView:
    return BookView(
        block_number=100,
        underlyings=(weth(),),
        idle_usdc=idle,
        aave_collateral_usd=0.0,
        aave_debt_usd=0.0,
        aave_weighted_lt=0.0,
        usdc_liquidation_threshold=0.78,
        health_factor=math.inf,
        usdc_collateral_units=0.0,
        venue_collateral_usd=0.0,
        venue_maintenance_margin_usd=0.0,
        tail=tail,
    )


def independent_worst_loss(
    tail: TailInputs, extra: dict[int, float], spot_units: float, cfg: TailBudgetConfig
) -> float:
    """Revalue positions + bought series + spot bought in every scenario with the numpy reference pricer (not the
    kernel): Σ x·(Vₖ − V₀) over everything held, less the premium above mid, the swap cost and the gas."""
    scen = stress_set(["WETH"], np.array([VOL]), cfg)
    by_id = {c.series_id: c for c in tail.candidates}
    rows = [(x, k, t, c) for x, k, t, c in zip(tail.size, tail.strike_usd, tail.t_years, tail.is_call, strict=True)]
    rows += [(x, by_id[i].strike_usd, by_id[i].t_years, by_id[i].is_call) for i, x in extra.items()]

    def value(spot: float, vol: float) -> float:
        return sum(x * float(price_reference(spot, k, t, vol, RATE, c)[0]) for x, k, t, c in rows)

    base = value(SPOT, VOL)
    paid = (
        sum(
            x
            * (
                by_id[i].ask_usd
                - float(price_reference(SPOT, by_id[i].strike_usd, by_id[i].t_years, VOL, RATE, by_id[i].is_call)[0])
            )
            for i, x in extra.items()
        )
        + tail.leg_gas_usd * (len(extra) + (spot_units != 0))
        + abs(spot_units) * SPOT * PolicyConfig().hedge_cost_bps / 1e4
    )
    worst = min(
        value(SPOT * (1 + ds), VOL * (1 + dv)) - base + spot_units * SPOT * ds
        for ds, dv in zip(scen.spot_shock[:, 0], scen.vol_shock[:, 0], strict=True)
    )
    return -min(0.0, worst - paid)


def test_stress_set_scales_moves_by_forecast_vol_and_includes_history() -> None:
    cfg = TailBudgetConfig()
    calm, wild = stress_set(["WETH"], np.array([0.3]), cfg), stress_set(["WETH"], np.array([1.2]), cfg)
    z_max_move = 0.3 * math.sqrt(7 / 365) * cfg.spot_z_max
    assert calm.spot_shock.min() == pytest.approx(
        min(-z_max_move, min(s.spot_return["WETH"] for s in HISTORICAL_SHOCKS))
    )
    assert len(calm.names) == cfg.spot_steps * len(cfg.vol_shocks) + len(HISTORICAL_SHOCKS)
    # Black Thursday as it happened at reference vol, twice as large at twice the reference vol.
    i = calm.names.index("Black Thursday (2020-03-12)")
    assert calm.spot_shock[i, 0] == pytest.approx(-0.43)
    assert wild.spot_shock[i, 0] == pytest.approx(-0.86)
    # A high-vol regime stretches the horizon.
    assert stress_set(["WETH"], np.array([0.3]), cfg, 1.0).horizon_days == pytest.approx(14.0)


def test_budget_met_with_the_cheapest_protection() -> None:
    tail = strangle()
    plan = decide(book(tail), ON)
    report = plan.tail
    assert report is not None
    assert report.worst_loss_usd > report.budget_usd
    trades = [a for a in plan.actions if isinstance(a, OptionTrade)]
    assert trades
    assert all(t.size > 0 for t in trades)
    assert report.feasible
    assert report.within_budget
    decision = next(d for d in plan.decisions if d.rule == "tail_budget")
    assert decision.acted
    assert "> budget" in decision.reason
    assert "buy" in decision.reason
    # An independent revaluation (numpy pricer, scenario by scenario) agrees the budget now holds.
    bought = {t.series_id: t.size for t in trades}
    spot_units = sum(
        a.amount_in / (SPOT * (1 + PolicyConfig().hedge_cost_bps / 1e4)) for a in plan.actions if isinstance(a, Swap)
    )
    check = independent_worst_loss(tail, bought, spot_units, PolicyConfig().tail)
    assert check == pytest.approx(report.worst_loss_after_usd, rel=1e-6)
    assert check <= report.budget_usd * 1.0001
    premium = sum(c.ask_usd * bought.get(c.series_id, 0) for c in tail.candidates)
    swap_cost = spot_units * SPOT * PolicyConfig().hedge_cost_bps / 1e4
    assert report.cost_usd == pytest.approx(premium + swap_cost + 2.0 * (len(bought) + (spot_units > 0)))


def test_no_trade_when_inside_the_budget() -> None:
    plan = decide(book(strangle(units=5.0)), ON)
    assert plan.tail is not None
    assert plan.tail.worst_loss_usd <= plan.tail.budget_usd
    assert not [a for a in plan.actions if isinstance(a, OptionTrade)]
    decision = next(d for d in plan.decisions if d.rule == "tail_budget")
    assert not decision.acted
    assert "within budget" in decision.reason


def test_infeasible_budget_takes_the_cheapest_partial_reduction_and_says_so() -> None:
    # Only a 3,900 call listed and little cash: the downside cannot be covered.
    tail = strangle(candidates=(candidate(6, 3900, True), candidate(3, 2400, False, max_units=40)))
    plan = decide(book(tail, idle=50_000), ON)
    report = plan.tail
    assert report is not None
    assert not report.feasible
    assert not report.within_budget
    assert report.worst_loss_after_usd < report.worst_loss_usd  # the partial reduction helps
    decision = next(d for d in plan.decisions if d.rule == "tail_budget")
    assert "INFEASIBLE" in decision.reason
    assert "partial reduction" in decision.reason
    trades = {a.series_id: a.size for a in plan.actions if isinstance(a, OptionTrade)}
    assert trades.get(3) == pytest.approx(40.0)  # all the put wing there is
    # Calls do nothing for the downside: the worst left is a crash; calls are bought only as far as the rally
    # scenarios (the upside historical shocks) would otherwise be worse than it.
    assert report.worst_scenario_after.startswith(("Black Thursday", "spot -"))


def test_disabled_or_without_inputs_does_nothing() -> None:
    cfg = PolicyConfig(tail=TailBudgetConfig(enabled=False))
    assert decide(book(strangle()), cfg).tail is None
    plain = book(strangle())
    assert decide(BookView(**{**plain.__dict__, "tail": None}), ON).tail is None


@pytest.mark.parametrize("gas", [0.0, 400.0])
def test_milp_matches_brute_force_on_a_small_grid(gas: float) -> None:
    cfg = PolicyConfig(tail=TailBudgetConfig(spot_steps=5, vol_shocks=(0.0, 0.5), historical_shocks=False))
    strangle_ = strangle(
        units=60.0, candidates=(candidate(3, 2400, False, 80), candidate(4, 2100, False, 80), SHORT_PUT)
    )
    tail = replace(strangle_, size=np.array([-60.0, 0.0]))  # short puts only: the worst scenarios are down
    view = book(tail)
    s = Working(view.idle_usdc, 0, 0, 0, 0, 0, {"WETH": weth()})
    scen = stress_set(["WETH"], np.array([VOL]), cfg.tail)
    pnl = book_pnl(tail, np.array([SPOT]), np.zeros(1), scen)
    options = [leg for leg in legs(view, tail, cfg, s, True) if leg.candidate is not None]
    a = leg_pnl(options, np.array([SPOT]), tail, scen)
    budget = 0.6 * -pnl.min()
    solution = solve(pnl, a, options, budget, gas, 1e9, 1e9)
    assert solution.feasible
    cost = np.array([leg.cost_usd for leg in options])

    def total(x: np.ndarray) -> float:
        return float(cost @ x + gas * np.count_nonzero(x))

    after = pnl + a @ solution.units - gas * np.count_nonzero(solution.units > 1e-9)
    assert -after.min() <= budget * (1 + 1e-6)
    step = 2.0
    best = math.inf
    for x in itertools.product(*(np.arange(0, leg.max_units + step, step) for leg in options)):
        xs = np.minimum(np.array(x), [leg.max_units for leg in options])
        if -(pnl + a @ xs - gas * np.count_nonzero(xs)).min() <= budget:
            best = min(best, total(xs))
    assert best < math.inf
    lp = total(np.where(solution.units > 1e-9, solution.units, 0.0))
    assert lp <= best + 1e-6  # the solver is at least as cheap as any grid point
    assert best - lp <= step * cost.sum()  # and within the grid's resolution of the best grid point


@pytest.mark.parametrize("gas", [0.0, 40.0])
def test_many_legs__relaxation_then_lp__meets_the_budget_within_gas_of_the_exact_milp(gas: float) -> None:
    strikes = [1800.0 + 100 * i for i in range(9)] + [3400.0 + 100 * i for i in range(9)]
    many = tuple(candidate(10 + i, k, k > SPOT, 60.0) for i, k in enumerate(strikes))
    tail = strangle(units=120.0, candidates=(SHORT_PUT, SHORT_CALL, *many))
    cfg = ON
    view = book(tail)
    s = Working(view.idle_usdc, 0, 0, 0, 0, 0, {"WETH": weth()})
    scen = stress_set(["WETH"], np.array([VOL]), cfg.tail)
    pnl = book_pnl(tail, np.array([SPOT]), np.zeros(1), scen)
    options = [leg for leg in legs(view, tail, cfg, s, True) if leg.candidate is not None]
    assert len(options) == 20
    a = leg_pnl(options, np.array([SPOT]), tail, scen)
    budget = 0.05 * NAV
    fast = solve(pnl, a, options, budget, gas, 1e9, 1e9, exact_up_to=16)
    exact = solve(pnl, a, options, budget, gas, 1e9, 1e9, exact_up_to=100)
    assert fast.feasible
    assert exact.feasible
    cost = np.array([leg.cost_usd for leg in options])

    def total(x: np.ndarray) -> tuple[float, int]:
        used = int(np.count_nonzero(x > 1e-9))
        return float(cost @ x + gas * used), used

    for x in (fast.units, exact.units):
        used = np.count_nonzero(x > 1e-9)
        assert -(pnl + a @ x - gas * used).min() <= budget * (1 + 1e-6)  # the true gas counted: budget met
    (fast_cost, used), (exact_cost, _) = total(fast.units), total(exact.units)
    assert exact_cost <= fast_cost + 1e-6
    assert fast_cost <= exact_cost + gas * used + 1e-6  # within gas × legs of the optimum (the docstring's bound)


def strangle_legs(put: float = 2700.0, call: float = 3300.0) -> list[PremiumLeg]:
    """One unit: sell one put and one call (30 days), at the mark less a 1 % fee."""
    t = 30 / 365
    return [
        PremiumLeg(
            candidate(90, put, False, t=t), -1.0, float(price_reference(SPOT, put, t, VOL, RATE, False)[0]) * 0.99
        ),
        PremiumLeg(
            candidate(91, call, True, t=t), -1.0, float(price_reference(SPOT, call, t, VOL, RATE, True)[0]) * 0.99
        ),
    ]


def test_sizing__new_strangle__worst_loss_at_the_size_equals_the_budget_by_independent_revaluation() -> None:
    tail = strangle(units=40.0)
    sized = size_new_premium(book(tail), ON, strangle_legs())
    assert 0 < sized.units < math.inf
    assert sized.worst_loss_usd == pytest.approx(ON.tail.tail_budget_pct / 100 * NAV, rel=1e-9)
    legs_ = strangle_legs()
    opened = replace(
        tail,
        size=np.concatenate([tail.size, [-sized.units, -sized.units]]),
        strike_usd=np.concatenate([tail.strike_usd, [2700.0, 3300.0]]),
        t_years=np.concatenate([tail.t_years, [30 / 365, 30 / 365]]),
        vol=np.concatenate([tail.vol, [VOL, VOL]]),
        is_call=np.concatenate([tail.is_call, [False, True]]),
    )
    check = independent_worst_loss(opened, {}, 0.0, ON.tail)  # the book with the new units, revalued from scratch
    marks = sum(float(price_reference(SPOT, k, 30 / 365, VOL, RATE, c)[0]) for k, c in ((2700, False), (3300, True)))
    fee = sized.units * (marks - sum(leg.price_usd for leg in legs_))  # sold at the bid: the vault pays the fee
    assert check + fee == pytest.approx(sized.worst_loss_usd, rel=1e-9)


def test_sizing__higher_forecast_vol_or_high_vol_regime__sells_less() -> None:
    base = strangle(units=40.0)
    calm = size_new_premium(book(base), ON, strangle_legs()).units
    wild = size_new_premium(book(replace(base, sigma_annual=np.array([2 * VOL]))), ON, strangle_legs()).units
    assert wild < 0.7 * calm
    # The regime stretches the grid's horizon; the historical shocks scale with forecast vol only, so the regime
    # shows where the grid binds (here: without them).
    grid_only = PolicyConfig(tail=TailBudgetConfig(enabled=True, historical_shocks=False))
    calm_grid = size_new_premium(book(base), grid_only, strangle_legs()).units
    regime = size_new_premium(book(replace(base, high_vol_probability=1.0)), grid_only, strangle_legs()).units
    assert regime < 0.85 * calm_grid


def test_sizing__condor_wings__allow_more_units_and_over_budget_book__none() -> None:
    tail = strangle(units=40.0)
    t = 30 / 365
    wings = [
        PremiumLeg(
            candidate(92, 2300, False, t=t), 1.0, float(price_reference(SPOT, 2300, t, VOL, RATE, False)[0]) * 1.01
        ),
        PremiumLeg(
            candidate(93, 3700, True, t=t), 1.0, float(price_reference(SPOT, 3700, t, VOL, RATE, True)[0]) * 1.01
        ),
    ]
    naked = size_new_premium(book(tail), ON, strangle_legs()).units
    condor = size_new_premium(book(tail), ON, strangle_legs() + wings).units
    assert condor > 1.5 * naked
    over = size_new_premium(book(strangle(units=400.0)), ON, strangle_legs())
    assert over.units == 0.0
    assert "no new premium" in over.reason


def test_stress_set__short_calls__the_worst_scenario_is_an_upside_historical_shock() -> None:
    """A short-call book's tail is a squeeze: the stress set carries upside shocks (the crashes alone missed it,
    and the squeeze month's predictive drawdown was 10-13 % with the budget "kept")."""
    cfg = PolicyConfig().tail
    ups = [s for s in HISTORICAL_SHOCKS if s.spot_return["WETH"] > 0]
    assert max(s.spot_return["WETH"] for s in ups) >= 0.4
    scen = stress_set(["WETH"], np.array([VOL]), cfg)
    calls = replace(strangle(), size=np.array([0.0, -120.0]))
    pnl = book_pnl(calls, np.array([SPOT]), np.zeros(1), scen)
    assert scen.names[int(np.argmin(pnl))].startswith(tuple(s.name for s in ups))


def test_option_cost__fee_and_decay__spread_plus_horizon_decay_and_longer_tenor_decays_less() -> None:
    short, long_ = candidate(3, 2400, False, t=8 / 365), candidate(7, 2400, False, t=60 / 365)
    assert option_cost(short, SPOT, RATE, 7.0, "premium") == short.ask_usd
    mark = float(price_reference(SPOT, 2400, 8 / 365, VOL, RATE, False)[0])
    later = float(price_reference(SPOT, 2400, 1 / 365, VOL, RATE, False)[0])
    assert option_cost(short, SPOT, RATE, 7.0, "fee_and_decay") == pytest.approx(short.ask_usd - later, rel=1e-9)
    assert short.ask_usd - mark > 0  # the fee is part of it
    # Per unit of premium, the 60-day wing loses far less over the week than the 8-day one.
    assert option_cost(long_, SPOT, RATE, 7.0, "fee_and_decay") / long_.ask_usd < 0.5 * (
        option_cost(short, SPOT, RATE, 7.0, "fee_and_decay") / short.ask_usd
    )


def wbtc_candidate(series: int, strike: float, is_call: bool, units: float = 50.0) -> TailCandidate:
    """A WBTC series (spot 60,000) sold at its reference price + 0.1 %: far cheaper protection than the WETH
    buybacks, if the stress set's co-movement is trusted."""
    btc, t = 60_000.0, T
    mark = float(price_reference(btc, strike, t, VOL, RATE, is_call)[0])
    return TailCandidate(series, "WBTC", strike, t, VOL, is_call, mark * 1.001 + 0.01, units)


def two_underlying_book(cfg_tail: TailInputs) -> BookView:
    wbtc = weth(symbol="WBTC", spot_usd=60_000.0)  # type: ignore[arg-type]
    view = book(cfg_tail)
    return BookView(**{**view.__dict__, "underlyings": (weth(), wbtc)})


def test_no_cross_hedges__protection_only_on_the_underlyings_the_book_holds_risk_in() -> None:
    """A WETH strangle on a book that holds no WBTC: with ``cross_hedges`` off the rule buys no WBTC option and no
    WBTC spot (a cross-hedge protects only as far as the grid's assumed co-movement — every underlying moved by the
    same z — holds). On (the default), the same book buys the cheaper WBTC puts and calls instead."""
    cheap = (wbtc_candidate(20, 48_000, False), wbtc_candidate(21, 72_000, True))
    tail = strangle(candidates=(SHORT_PUT, SHORT_CALL, *cheap))
    view = two_underlying_book(tail)
    plan = decide(view, PolicyConfig(tail=TailBudgetConfig(enabled=True, cross_hedges=False)))
    wbtc_ids = {c.series_id for c in cheap}
    assert plan.tail is not None
    assert plan.tail.worst_loss_usd > plan.tail.budget_usd
    assert not [a for a in plan.actions if isinstance(a, OptionTrade) and a.series_id in wbtc_ids]
    assert not [a for a in plan.actions if isinstance(a, Swap) and "WBTC" in (a.token_in, a.token_out)]
    assert [a for a in plan.actions if isinstance(a, OptionTrade) and a.series_id in (1, 2)]  # its own shorts
    # On, the same book buys the cheaper WBTC puts and calls — when their WBTC delta may leave the delta rule's band
    # (``keep_delta_band`` off; kept, this book's WBTC band of a few units makes its own buybacks the cheaper set).
    old = decide(view, PolicyConfig(tail=TailBudgetConfig(enabled=True, keep_delta_band=False)))
    assert [a for a in old.actions if isinstance(a, OptionTrade) and a.series_id in wbtc_ids]
    assert old.tail is not None
    assert plan.tail.cost_usd > old.tail.cost_usd  # the cross-hedge looked cheaper


def test_exposed__option_positions_or_linear_units_above_dust() -> None:
    from keeper.policy.tail import exposed

    tail = strangle()
    spot = np.array([SPOT, 60_000.0])
    assert exposed(tail, np.zeros(2), spot, 1.0).tolist() == [True, False]
    assert exposed(tail, np.array([0.0, 1e-9]), spot, 1.0).tolist() == [True, False]  # dust WBTC: no risk
    assert exposed(tail, np.array([0.0, -0.5]), spot, 1.0).tolist() == [True, True]  # a WBTC debt is one
    flat = replace(tail, size=np.zeros(2))
    assert exposed(flat, np.zeros(2), spot, 1.0).tolist() == [False, False]


def test_stress_set__historical_scale_floor__calm_regime_scales_shocks_down_high_vol_regime_as_they_happened() -> None:
    """Filtered historical simulation both ways: below the reference vol a shock shrinks with σ_forecast / σ_ref
    down to the floor; the regime's high-vol probability lifts the floor back to 1 (the shock as it happened)."""
    i = [s.name for s in HISTORICAL_SHOCKS].index("Black Thursday")
    row = len(TailBudgetConfig().vol_shocks) * TailBudgetConfig().spot_steps + i
    sigma = np.array([0.24])  # 0.4 × the 60 % reference vol

    def shock(floor: float, p_high: float = 0.0) -> float:
        cfg = TailBudgetConfig(historical_scale_floor=floor)
        return float(stress_set(["WETH"], sigma, cfg, p_high).spot_shock[row, 0])

    assert shock(1.0) == pytest.approx(-0.43)  # the default: never smaller than it happened
    assert shock(0.0) == pytest.approx(-0.43 * 0.4)
    assert shock(0.7) == pytest.approx(-0.43 * 0.7)
    assert shock(0.0, p_high=1.0) == pytest.approx(-0.43)
    assert shock(0.0, p_high=0.5) == pytest.approx(-0.43 * 0.5)  # floor 0 + 0.5 × (1 − 0) = 0.5 > 0.4
    wild = TailBudgetConfig(historical_scale_floor=0.0)  # above the reference vol the floor does not matter
    assert float(stress_set(["WETH"], np.array([1.2]), wild).spot_shock[row, 0]) == pytest.approx(-0.86)


def test_hysteresis__small_overshoot_within_the_act_threshold__no_trade__acting_buys_below_the_budget() -> None:
    """A worst loss 3 % over the budget: by default the rule buys; with ``act_above_budget`` 1.05 it does not (and
    says so); with ``buy_down_to_budget`` 0.9 a trade brings the loss to 90 % of the budget, not just under it."""
    units = 1200.0  # large enough that the trades curing a 3 % overshoot are not dust
    tail = strangle(units, (candidate(1, 2700, False, units), candidate(2, 3300, True, units), *WINGS))
    loss = decide(book(tail, idle=2e6), ON).tail
    assert loss is not None
    nav = loss.worst_loss_usd / (0.05 * 1.03)  # the same book, NAV set so the loss is 1.03 × the 5 % budget
    over = replace(tail, nav_usd=nav)
    default = decide(book(over, idle=2e6), ON)
    assert default.tail is not None
    assert default.tail.worst_loss_usd == pytest.approx(1.03 * default.tail.budget_usd)
    assert [a for a in default.actions if isinstance(a, OptionTrade | Swap)]
    lazy = PolicyConfig(tail=TailBudgetConfig(enabled=True, act_above_budget=1.05))
    held = decide(book(over, idle=2e6), lazy)
    assert not [a for a in held.actions if isinstance(a, OptionTrade | Swap)]
    decision = next(d for d in held.decisions if d.rule == "tail_budget")
    assert not decision.acted
    assert "act threshold" in decision.reason
    deep = PolicyConfig(tail=TailBudgetConfig(enabled=True, act_above_budget=1.02, buy_down_to_budget=0.9))
    bought = decide(book(over, idle=2e6), deep)
    assert bought.tail is not None
    assert bought.tail.feasible
    assert bought.tail.worst_loss_after_usd == pytest.approx(0.9 * bought.tail.budget_usd, rel=1e-4)
    assert bought.tail.cost_usd > default.tail.cost_usd  # more protection than just back under the budget


def test_wing_candidates__a_held_long_may_be_topped_up__a_held_short_is_a_buyback_not_a_wing() -> None:
    """With ``top_up_wings`` the rule's wings are the listed series the vault is not short: a wing it already holds
    stays a candidate. Excluding it (the default) leaves the MILP only other series or buybacks of the strangle's
    own shorts once the cheapest wing is bought (calm month: 88 k of buybacks). Sized by the pool's free margin."""
    from types import SimpleNamespace

    from adapters.venue_series import ListedSeries
    from keeper.app.assess_tail import wing_candidates
    from keeper.venue import model as venue

    now = 1_767_000_000
    expiry = now + 21 * 86_400
    strikes = [(2400.0, False), (2700.0, False), (3300.0, True), (3600.0, True)]
    listed = ListedSeries(
        "0xmarket",
        1,
        np.arange(4, dtype=np.int64),
        np.zeros(4, dtype=np.int64),
        np.full(4, expiry, dtype=np.int64),
        np.array([k for k, _ in strikes]),
        np.array([c for _, c in strikes]),
        {(0, expiry): (int(0.6e18), 0, 0, now - 60)},
        20_000_000 * 10**6,
        1_000_000 * 10**6,
        True,
    )
    positions = SimpleNamespace(series_id=np.array([0, 1, 2]), size=np.array([50.0, -100.0, -100.0]))  # long 0
    vb = SimpleNamespace(
        accounts={1: None},
        state=SimpleNamespace(positions=positions),
        market_state=venue.MarketState(now, np.array([SPOT]), {}),
        risk=venue.RiskParams(),
        market=venue.MarketParams(),
        underlying_symbol={0: "WETH"},
    )
    cfg = TailBudgetConfig(enabled=True, top_up_wings=True)
    wings = wing_candidates(vb, listed, ["WETH"], cfg)  # type: ignore[arg-type]
    assert sorted(c.series_id for c in wings) == [0, 3]  # the held long 2,400 put and the unheld 3,600 call
    assert all(c.max_units > 0 for c in wings)
    default = wing_candidates(vb, listed, ["WETH"], TailBudgetConfig(enabled=True))  # type: ignore[arg-type]
    assert [c.series_id for c in default] == [3]  # only the series it holds nothing in


def test_buyback_candidates__a_short_inside_the_trading_cutoff_is_not_offered() -> None:
    """The venue refuses trades within ``trading_cutoff_seconds`` of expiry (TradingClosed) and the whole batch
    reverts: calm month, one batch of the tail rule failed buying back a short 0.0 d from expiry."""
    from keeper.app.assess_tail import buyback_candidates
    from keeper.app.venue_book import LiveOptions
    from keeper.risk.portfolio import OptionBook

    year = 365 * 86_400
    book_ = OptionBook(
        np.zeros(3, dtype=np.int64),
        np.array([-10.0, -10.0, 5.0]),
        np.array([2700.0, 3300.0, 2400.0]),
        np.array([1_800 / year, 2 * 86_400 / year, 2 * 86_400 / year]),  # 30 min, 2 days, 2 days (a long)
        np.full(3, VOL),
        np.array([False, True, False]),
    )
    lv = LiveOptions(book_, np.ones(3, dtype=np.int64), np.array([7, 8, 9]), np.full(3, 5.0), np.full(3, 6.0))
    assert [c.series_id for c in buyback_candidates(lv, ["WETH"], 3_600)] == [8]
    assert [c.series_id for c in buyback_candidates(lv, ["WETH"])] == [7, 8]  # no cutoff given: every short


def _band_run(keep: bool, tail: TailInputs, half_width: float, delta_now: float = 0.0) -> tuple[float, TailReport]:
    """The rule alone after a delta rule that left ``delta_now`` against a band of ±``half_width`` around 0: the net
    delta the chosen legs leave, and the rule's report."""
    cfg = PolicyConfig(tail=TailBudgetConfig(enabled=True, keep_delta_band=keep))
    b = book(tail)
    b = replace(b, underlyings=(weth(net_delta_units=delta_now),))
    s = Working.of(b)
    reports: list[TailReport] = []
    tail_rule(b, cfg, s, [], reports, bands=[DeltaBand("WETH", 0.0, half_width, delta_now)])
    return s.underlyings["WETH"].net_delta_units, reports[0]


def test_keep_delta_band__protection_leaves_net_delta_inside_the_delta_rules_band() -> None:
    # Unconstrained, the cheapest set buys ~11 WETH beside the wings (the rally scenario): the next tick's delta rule
    # would sell it and the rule buy it again. Kept inside ±5, the set is re-balanced (more call wings) and still
    # meets the budget; an independent revaluation agrees.
    free, free_report = _band_run(False, strangle(), 5.0)
    kept, kept_report = _band_run(True, strangle(), 5.0)
    assert free > 5.0 + 1.0
    assert abs(kept) <= 5.0 + 1e-6
    assert kept_report.feasible
    assert kept_report.worst_loss_after_usd <= kept_report.budget_usd * (1 + 1e-6)
    assert free_report.cost_usd <= kept_report.cost_usd  # the band is a constraint: never cheaper


def test_keep_delta_band__a_delta_left_outside_may_stay_but_not_grow__no_set_inside__the_band_is_left() -> None:
    # The delta rule left +8 against ±5 (cooldown, say): the legs may not push it further out.
    kept, report = _band_run(True, strangle(), 5.0, delta_now=8.0)
    assert -5.0 - 1e-6 <= kept <= 8.0 + 1e-6
    assert report.feasible
    # 60 short calls, only spot legs listed and a band too tight for them to meet the budget: the band is left (the
    # same ~4.6 WETH as unconstrained), the budget met.
    spot_only = replace(strangle(units=60.0), size=np.array([0.0, -60.0]), candidates=())
    inside, _ = _band_run(True, spot_only, 1e-3)
    free, free_report = _band_run(False, spot_only, 1e-3)
    assert abs(free) > 1e-3
    assert inside == pytest.approx(free)
    assert free_report.feasible


def test_sizing__to_the_buy_down_level__the_opened_book_sits_inside_the_hysteresis() -> None:
    tail = strangle(units=40.0)
    cfg = PolicyConfig(tail=TailBudgetConfig(enabled=True, act_above_budget=1.03, buy_down_to_budget=0.95))
    full = size_new_premium(book(tail), ON, strangle_legs())
    inside = size_new_premium(book(tail), cfg, strangle_legs())
    budget = cfg.tail.tail_budget_pct / 100 * NAV
    assert inside.worst_loss_usd == pytest.approx(0.95 * budget, rel=1e-9)
    assert inside.units < full.units
    assert "× 0.95" in inside.reason
