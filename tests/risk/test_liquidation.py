from __future__ import annotations

import numpy as np
import pytest

from keeper.risk.liquidation import aave_liquidation, health_factor, nearest_liquidation, threshold_move

# USDC, WETH, WBTC
LT = np.array([0.80, 0.83, 0.78])
PRICE = np.array([1.0, 3000.0, 60_000.0])
STABLE = np.array([True, False, False])


def test_health_factor__at_multiplier__is_exactly_one() -> None:
    coll = np.array([100_000.0, 10.0, 0.5])
    debt = np.array([0.0, 25.0, 0.0])  # short WETH against USDC + WETH + WBTC collateral
    liq = aave_liquidation(coll, debt, PRICE, LT, STABLE)
    assert liq.health_factor == pytest.approx(health_factor(coll, debt, PRICE, LT))
    for i, m in enumerate(liq.per_asset):
        if np.isnan(m):
            continue
        moved = PRICE.copy()
        moved[i] *= m
        assert health_factor(coll, debt, moved, LT) == pytest.approx(1.0, rel=1e-12)
    moved = np.where(STABLE, PRICE, PRICE * liq.joint)
    assert health_factor(coll, debt, moved, LT) == pytest.approx(1.0, rel=1e-12)


def test_direction__net_debt_asset__liquidates_on_a_rise() -> None:
    liq = aave_liquidation([100_000.0, 0.0, 0.0], [0.0, 20.0, 0.0], PRICE, LT, STABLE)
    assert liq.per_asset[1] == pytest.approx(80_000 / 60_000)  # WETH up 33.3 %
    assert liq.per_asset[0] == pytest.approx(0.75)  # a 25 % USDC depeg liquidates too
    assert np.isnan(liq.per_asset[2])  # no WBTC exposure


def test_direction__net_collateral__liquidates_on_a_fall() -> None:
    liq = aave_liquidation([0.0, 10.0, 0.0], [15_000.0, 0.0, 0.0], PRICE, LT, STABLE)
    assert liq.per_asset[1] == pytest.approx(15_000 / (30_000 * 0.83))
    assert liq.joint == pytest.approx(liq.per_asset[1])


def test_no_debt__never_liquidated() -> None:
    liq = aave_liquidation([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], PRICE, LT, STABLE)
    assert liq.health_factor == float("inf")
    assert np.isnan(liq.per_asset).all()
    assert np.isnan(liq.joint)


def test_threshold_move__known_surplus__brent_root() -> None:
    down, up = threshold_move(lambda m: 0.3 - abs(m) ** 1.5)
    assert down == pytest.approx(-(0.3 ** (1 / 1.5)), abs=1e-10)
    assert up == pytest.approx(0.3 ** (1 / 1.5), abs=1e-10)
    assert threshold_move(lambda m: 1.0)[0] != threshold_move(lambda m: 1.0)[0]  # NaN: never


def test_nearest_liquidation__in_sigmas() -> None:
    move, sigmas = nearest_liquidation([-0.30, 0.50, np.nan], [0.6, 0.6, 0.6], 1 / 365)
    assert move == pytest.approx(0.30)
    assert sigmas == pytest.approx(abs(np.log(0.7)) / (0.6 * np.sqrt(1 / 365)))


def test_invalid_price__named() -> None:
    with pytest.raises(ValueError, match="price_usd must be > 0"):
        aave_liquidation([1.0], [1.0], [0.0], [0.8], [False])
