"""The venue's reference model on its own: grid, surface, quotes, margin properties, liquidation distance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from keeper.risk.black import price
from keeper.venue.model import (
    MAX_VOL,
    MIN_VOL,
    MarketParams,
    MarketState,
    Portfolio,
    RiskParams,
    Surface,
    liquidation_moves,
    margin,
    margin_surplus,
    marks,
    pool_haircut,
    quote,
    recoverable_equity,
    spot_grid,
    stress_surplus,
    surface_vol,
    vol_multipliers,
)

NOW = 1_767_225_600
DAY = 86_400
RISK, MKT = RiskParams(), MarketParams()
STATE = MarketState(NOW, np.array([3_000.0, 60_000.0]), {(0, NOW + 14 * DAY): Surface(0.6, -0.1, 0.3)})


def _short_put(size: float, strike: float = 3_000.0) -> Portfolio:
    return Portfolio.of([0], [NOW + 14 * DAY], [strike], [False], [-size])


def test_spot_grid__default_params__nine_points_with_no_move_in_the_middle() -> None:
    np.testing.assert_allclose(spot_grid(RISK), [0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2], atol=1e-15)


def test_surface_vol__wings__clipped_to_bounds() -> None:
    vols = surface_vol(Surface(0.6, -2.0, 5.0), np.array([-3.0, 0.0, 3.0, 0.1]))
    assert vols[0] == MAX_VOL
    assert vols[1] == pytest.approx(0.6)
    assert vols[3] == pytest.approx(0.6 - 0.2 + 0.05)
    assert surface_vol(Surface(0.05, 2.0, 0.0), np.array([-1.0]))[0] == MIN_VOL


def test_vol_multipliers__short_dated__floored_scale_and_down_floor() -> None:
    up, down = vol_multipliers(np.array([3_600.0, 30 * DAY, 365 * DAY]), RISK)
    np.testing.assert_allclose(up[1], 1.4)
    np.testing.assert_allclose(up[0], 1 + 0.4 * np.sqrt(30 / 7))  # τ floored at 7 days
    assert up[2] < up[1]
    assert down[2] > down[1]
    _, floor = vol_multipliers(np.array([3_600.0]), RiskParams(vol_shock_down=0.9))
    assert floor[0] == 0.1


def test_quote__round_trip__never_profits() -> None:
    cost, ask = quote(3_000.0, 120.0, 2.0, MKT, "buy")
    proceeds, bid = quote(3_000.0, 120.0, 2.0, MKT, "sell")
    assert bid < 120.0 < ask
    assert proceeds < cost
    with pytest.raises(ValueError, match="side='hold'"):
        quote(3_000.0, 120.0, 1.0, MKT, "hold")


def test_quote__sale_closing_part_of_a_long__only_the_closed_part_is_haircut() -> None:
    proceeds, bid = quote(3_000.0, 120.0, 5.0, MKT, "sell")
    cut, same_bid = quote(3_000.0, 120.0, 5.0, MKT, "sell", close_units=3.0, haircut=0.25)
    assert same_bid == bid
    assert cut == pytest.approx(proceeds - 3.0 * bid * 0.25, rel=1e-15)
    whole, _ = quote(3_000.0, 120.0, 5.0, MKT, "sell", close_units=9.0, haircut=0.25)
    assert whole == pytest.approx(proceeds * 0.75, rel=1e-15)  # closes at most the sale's size


def test_margin__naked_short__equals_grid_worst_loss_plus_minimum() -> None:
    p = _short_put(10.0)
    m = margin(p, 50_000.0, STATE, RISK, MKT)
    # Independent recomputation: the put repriced at each spot and vol scenario.
    t = 14 * DAY / (365 * DAY)
    fwd = 3_000.0 * np.exp(MKT.rate * t)
    vol = surface_vol(Surface(0.6, -0.1, 0.3), np.log(np.array([3_000.0 / fwd])))[0]
    up, down = vol_multipliers(np.array([14.0 * DAY]), RISK)
    values = [
        -10 * price(3_000.0 * k, 3_000.0, t, vol * mult, MKT.rate, False)[0]
        for k in spot_grid(RISK)
        for mult in (1.0, up[0], down[0])
    ]
    base = -10 * price(3_000.0, 3_000.0, t, vol, MKT.rate, False)[0]
    assert m.maintenance_usd == pytest.approx(base - min(values) + 0.01 * 3_000.0 * 10, rel=1e-12)
    assert m.initial_usd == pytest.approx(1.25 * m.maintenance_usd, rel=1e-12)
    assert m.equity_usd == pytest.approx(50_000.0 + base, rel=1e-12)


def test_margin__larger_short__needs_more_margin() -> None:
    sizes = [0.5, 1.0, 2.0, 8.0]
    mms = [margin(_short_put(s), 0.0, STATE, RISK, MKT).maintenance_usd for s in sizes]
    assert all(a < b for a, b in itertools.pairwise(mms))


def test_margin__expired_settled_position__counts_at_payoff_outside_grid() -> None:
    p = Portfolio.of([0], [NOW - DAY], [3_000.0], [True], [2.0], [3_200.0])
    m = margin(p, 1_000.0, STATE, RISK, MKT)
    assert m.equity_usd == pytest.approx(1_400.0)
    assert m.maintenance_usd == 0.0


def test_liquidation_moves__near_margin_account__root_is_where_surplus_crosses_zero() -> None:
    p = _short_put(10.0)
    m = margin(p, 0.0, STATE, RISK, MKT)
    collateral = m.initial_usd - m.value_usd  # equity exactly at IM
    down, up = liquidation_moves(p, collateral, STATE, RISK, MKT, underlying=0)
    assert -0.3 < down < 0
    assert np.isnan(up)  # a short put gains as spot rises
    moved = STATE.with_spot(0, 3_000.0 * (1 + down))
    assert margin_surplus(p, collateral, moved, RISK, MKT) == pytest.approx(0.0, abs=1e-6)


def test_stress_surplus__spot_crash__turns_negative() -> None:
    p = _short_put(10.0)
    m = margin(p, 0.0, STATE, RISK, MKT)
    surplus = stress_surplus(p, m.initial_usd - m.value_usd, STATE, RISK, MKT)
    assert surplus(0.0, 0.0) > 0
    assert surplus(-0.3, 0.5) < 0


def test_params__chain_round_trip__exact() -> None:
    assert RiskParams.from_chain(RISK.to_chain()) == RISK
    assert MarketParams.from_chain(MKT.to_chain()) == MKT


def _calls(size: float, strike: float = 3_000.0) -> Portfolio:
    return Portfolio.of([0], [NOW + 14 * DAY], [strike], [True], [size])


def test_pool_haircut__solvent_pool__is_zero_and_equity_is_the_mark() -> None:
    value = float(marks(_calls(1.0), STATE, MKT)[0]) * 100
    assert pool_haircut(_calls(-100.0), 2 * value, _calls(100.0), STATE, MKT) == 0.0
    assert recoverable_equity(_calls(100.0), 5.0, STATE, MKT, 0.0) == pytest.approx(5.0 + value, rel=1e-15)


def test_pool_haircut__insolvent_pool_with_one_creditor__pays_exactly_the_pool_cash() -> None:
    # The pool short 1,000 calls, WETH doubled: its cash is all the long can recover (collateral aside).
    state = STATE.with_spot(0, 6_000.0)
    cash = 1_000_000.0
    h = pool_haircut(_calls(-1_000.0), cash, _calls(1_000.0), state, MKT)
    assert 0.0 < h < 1.0
    assert recoverable_equity(_calls(1_000.0), 7.0, state, MKT, h) == pytest.approx(7.0 + cash, rel=1e-12)


def test_pool_haircut__two_creditors__share_the_shortfall_pro_rata_and_shorts_are_not_cut() -> None:
    state = STATE.with_spot(0, 6_000.0)
    mark = float(marks(_calls(1.0), state, MKT)[0])
    # Accounts: A long 600, B long 400, C short 100 (owes the pool in full): pool net short 900.
    h = pool_haircut(_calls(-900.0), 500_000.0, _calls(1_000.0), state, MKT)
    assert h == pytest.approx((900 * mark - 500_000.0) / (1_000 * mark), rel=1e-12)
    a = recoverable_equity(_calls(600.0), 0.0, state, MKT, h)
    b = recoverable_equity(_calls(400.0), 0.0, state, MKT, h)
    c = recoverable_equity(_calls(-100.0), 1e6, state, MKT, h)
    assert a / b == pytest.approx(1.5, rel=1e-12)
    assert c == pytest.approx(1e6 - 100 * mark, rel=1e-12)
    # Together the creditors recover the pool's cash plus what the short pays in.
    assert a + b == pytest.approx(500_000.0 + 100 * mark, rel=1e-12)


def test_pool_haircut__beyond_every_long__caps_at_one_and_settled_longs_keep_their_own() -> None:
    state = STATE.with_spot(0, 6_000.0)
    assert pool_haircut(_calls(-1_000.0), -1e9, _calls(1_000.0), state, MKT) == 1.0
    settled = Portfolio.of(
        [0, 0], [NOW - DAY, NOW + 14 * DAY], [3_000.0, 3_000.0], [True, True], [10.0, 10.0], [5_000.0, 0.0]
    )
    live_value = 10 * float(marks(_calls(1.0), state, MKT)[0])
    got = recoverable_equity(settled, 0.0, state, MKT, 0.5, {(0, NOW - DAY): 0.25})
    assert got == pytest.approx(10 * 2_000.0 * 0.75 + live_value * 0.5, rel=1e-12)
