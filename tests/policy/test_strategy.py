"""Strategy rounds, pure: which expiry and strikes a round opens on, holding, rolling (close + open in one plan),
waiting for settlement, and the tail-budget sizing cap."""

from __future__ import annotations

from dataclasses import replace

import pytest

from keeper.config import PolicyConfig, StrategyConfig, TailBudgetConfig
from keeper.model import BookView, ListedOption, MarginDeposit, OptionTrade, Swap, UnderlyingView, VenueAccountView
from keeper.risk.black import price_reference
from keeper.strategy import plan_rounds

SPOT, VOL, NOW, DAY = 3000.0, 0.6, 1_767_000_000, 86_400


def listed(days: float, strike: float, is_call: bool, held: float = 0.0, sid: int | None = None) -> ListedOption:
    t = days / 365
    mark = float(price_reference(SPOT, strike, t, VOL, 0.0, is_call)[0])
    return ListedOption(
        sid if sid is not None else int(days * 1000 + strike / 10 + is_call),
        "WETH",
        NOW + int(days * DAY),
        strike,
        t,
        VOL,
        is_call,
        mark,
        mark * 0.99,
        mark * 1.01,
        held,
        1,
        300.0,
    )


def chain(*days: float) -> tuple[ListedOption, ...]:
    return tuple(listed(d, k, c) for d in days for k in (2400, 2700, 3000, 3300, 3600) for c in (True, False))


def book(options: tuple[ListedOption, ...], held_units: float = 0.0) -> BookView:
    weth = UnderlyingView("WETH", SPOT, VOL, 0.0, 0.0, 0.0, held_units, 0.0, 0.0, 0.83)
    return BookView(
        1,
        (weth,),
        1_000_000.0,
        0.0,
        0.0,
        0.0,
        0.78,
        float("inf"),
        0.0,
        100_000.0,
        0.0,
        venue_accounts=(VenueAccountView(1, 10_000.0, 0.0, 0.0),),
        listed=options,
        timestamp_s=NOW,
    )


def config(tail: bool = False, **kw: object) -> PolicyConfig:
    base = dict(
        name="s",
        kind="short_strangle",
        underlying="WETH",
        tenor_days=7.0,
        roll_days_before_expiry=2.0,
        strikes={"short_put": 0.9, "short_call": 1.1},
        sizing="fixed",
        contracts=50.0,
        protection="none",
    )
    base.update(kw)
    return PolicyConfig(strategies=(StrategyConfig(**base),), tail=TailBudgetConfig(enabled=tail))  # type: ignore[arg-type]


def test_open__nearest_tenor_and_strikes__sold_at_the_bid_with_margin() -> None:
    plan = plan_rounds(book(chain(1.0, 6.0, 13.0, 34.0)), config(), 1e6, None)
    trades = [a for a in plan.actions if isinstance(a, OptionTrade)]
    assert len(trades) == 2
    assert all(a.size == -50.0 for a in trades)
    sold = {o.series_id: o for o in chain(6.0) if o.series_id in {a.series_id for a in trades}}
    assert sorted((o.strike_usd, o.is_call) for o in sold.values()) == [(2700, False), (3300, True)]  # 6 d ≈ 7 d
    for a in trades:  # min proceeds: the bid less the slippage allowance
        assert -a.max_cost_usd == pytest.approx(50 * sold[a.series_id].bid_usd * (1 - 50 / 1e4))
    (deposit,) = [a for a in plan.actions if isinstance(a, MarginDeposit)]
    assert deposit.amount_usdc > 0
    assert plan.actions[0] is deposit
    assert plan.delta_units["WETH"] == pytest.approx(0.0, abs=10)  # a strangle is near delta-neutral


def test_open__delta_rule__strikes_by_black_scholes_delta() -> None:
    plan = plan_rounds(
        book(chain(6.0)), config(strikes={"by": "delta", "short_put": 0.2, "short_call": 0.2}), 1e6, None
    )
    strikes = sorted(
        o.strike_usd
        for o in chain(6.0)
        for a in plan.actions
        if isinstance(a, OptionTrade) and a.series_id == o.series_id
    )
    assert strikes == [2700, 3300]  # the 20-delta strikes of a 6-day 60 %-vol chain are the 10 % wings


def test_hold__outside_the_roll_window__nothing() -> None:
    options = tuple(
        replace(o, held_units=-50.0) if o.strike_usd in (2700, 3300) and o.expiry_s == NOW + 6 * DAY else o
        for o in chain(6.0, 13.0)
    )
    plan = plan_rounds(book(options), config(), 1e6, None)
    assert plan.actions == []
    assert "d left > roll" in plan.decisions[0].reason


def test_roll__inside_the_window__close_and_open_next_in_one_plan() -> None:
    old = [listed(1.5, 2700, False, held=-50.0, sid=1), listed(1.5, 3300, True, held=-50.0, sid=2)]
    plan = plan_rounds(book((*old, *chain(8.0))), config(), 1e6, None)
    trades = [a for a in plan.actions if isinstance(a, OptionTrade)]
    assert [(a.series_id, a.size) for a in trades[:2]] == [(1, 50.0), (2, 50.0)]  # bought back first
    assert all(a.size == -50.0 for a in trades[2:])
    assert len(trades) == 4
    assert plan.decisions[0].reason.startswith("roll: close")


def test_roll__long_wing_against_an_insolvent_pool__closed_at_the_bid_less_the_haircut() -> None:
    """The venue pays a long's close bid × (1 − h) while its pool is insolvent: the sale's minimum proceeds (and
    the margin the round counts on) follow, or the venue would refuse the close (ProceedsBelowMin); a new short
    is still sold at the full bid."""
    old = [
        replace(listed(1.5, 2700, False, held=-50.0, sid=1), haircut=0.4),
        replace(listed(1.5, 2400, False, held=50.0, sid=2), haircut=0.4),
    ]
    fresh = tuple(replace(o, haircut=0.4) for o in chain(8.0))
    plan = plan_rounds(book((*old, *fresh)), config(), 1e6, None)
    trades = {a.series_id: a for a in plan.actions if isinstance(a, OptionTrade)}
    wing = old[1]
    assert wing.close_bid_usd == pytest.approx(wing.bid_usd * 0.6)
    assert trades[2].size == -50.0
    assert -trades[2].max_cost_usd == pytest.approx(50 * wing.bid_usd * 0.6 * (1 - 50 / 1e4))
    sold = [o for o in fresh if o.series_id in trades]
    assert len(sold) == 2
    for o in sold:
        assert -trades[o.series_id].max_cost_usd == pytest.approx(50 * o.bid_usd * (1 - 50 / 1e4))


def test_expired_unsettled__waits_and_covered_call__buys_the_cover() -> None:
    expired = replace(listed(1.0, 3300, True, held=-50.0, sid=9), t_years=0.0, expiry_s=NOW - 60)
    waiting = plan_rounds(book((expired, *chain(8.0))), config(), 1e6, None)
    assert waiting.actions == []
    assert "waiting for its settlement" in waiting.decisions[0].reason
    covered = plan_rounds(
        book(chain(6.0), held_units=20.0), config(kind="covered_call", strikes={"short_call": 1.1}), 1e6, None
    )
    (swap,) = [a for a in covered.actions if isinstance(a, Swap)]
    assert swap.token_out == "WETH"
    assert covered.spot_bought_units["WETH"] == pytest.approx(30.0)


def test_sizing__tail_budget__capped_by_the_sizer_and_by_contracts() -> None:
    cfg = config(tail=True, sizing="tail_budget", contracts=400.0)
    small = plan_rounds(book(chain(6.0)), cfg, 1e6, lambda legs: 125.0)
    assert {a.size for a in small.actions if isinstance(a, OptionTrade)} == {-125.0}
    big = plan_rounds(book(chain(6.0)), cfg, 1e6, lambda legs: 1e9)
    assert {a.size for a in big.actions if isinstance(a, OptionTrade)} == {-400.0}
    none = plan_rounds(book(chain(6.0)), cfg, 1e6, lambda legs: 0.0)
    assert none.actions == []
    assert "not opened" in none.decisions[0].reason
