from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from keeper.risk.attribution import alpha_beta, attribute
from keeper.risk.black import greeks, price
from keeper.risk.portfolio import OptionBook, net_greeks
from keeper.risk.stress import HISTORICAL_SHOCKS, default_grid, grid, grid_pnl, grid_reference, stress
from keeper.risk.volatility import Ewma, Garch11, close_to_close, garman_klass, max_notional, parkinson


def small_book() -> OptionBook:
    return OptionBook(
        np.array([0, 0, 1]),
        np.array([-10.0, 5.0, -1.0]),
        np.array([3200.0, 2800.0, 65_000.0]),
        np.array([0.05, 0.1, 0.2]),
        np.array([0.6, 0.7, 0.5]),
        np.array([True, False, True]),
    )


def test_net_greeks__per_underlying__equal_scalar_sums() -> None:
    book, spot = small_book(), np.array([3000.0, 60_000.0])
    net = net_greeks(book, spot, 0.03, linear_units=[2.0, 0.0])
    g = greeks(spot[book.underlying_index], book.strike, book.t_years, book.vol, 0.03, book.is_call)
    weth = book.underlying_index == 0
    assert net.delta_units[0] == pytest.approx(np.sum(book.size[weth] * g.delta[weth]) + 2.0)
    assert net.delta_usd[0] == pytest.approx(net.delta_units[0] * 3000.0)
    assert net.gamma_usd_per_pct[0] == pytest.approx(np.sum(book.size[weth] * g.gamma[weth]) * 3000.0**2 * 0.01)
    assert net.vega_usd_per_vol_pt[1] == pytest.approx(-g.vega[2] / 100)
    assert net.theta_usd_per_day[1] == pytest.approx(-g.theta[2] / 365)


def test_grid_pnl__vectorised__equals_per_scenario_revaluation() -> None:
    book, spot = small_book(), np.array([3000.0, 60_000.0])
    ds, dv = np.array([-0.3, 0.0, 0.2]), np.array([-0.5, 0.0, 1.0])
    pnl = grid_pnl(book, spot, 0.03, [2.0, 0.0], ds, dv)
    base = np.sum(
        book.size * price(spot[book.underlying_index], book.strike, book.t_years, book.vol, 0.03, book.is_call)
    )
    for i, v in enumerate(dv):
        for j, s in enumerate(ds):
            shocked = np.sum(
                book.size
                * price(
                    spot[book.underlying_index] * (1 + s),
                    book.strike,
                    book.t_years,
                    book.vol * (1 + v),
                    0.03,
                    book.is_call,
                )
            )
            assert pnl[i, j] == pytest.approx(shocked - base + 2.0 * 3000.0 * s, rel=1e-12, abs=1e-9)
    assert pnl[1, 1] == pytest.approx(0.0, abs=1e-9)


def edge_book(n: int = 600) -> OptionBook:
    """Random positions on three underlyings with expired, zero-vol and at-the-strike ones mixed in."""
    rng = np.random.default_rng(21)
    t = np.exp(rng.uniform(np.log(1 / 8760), np.log(2.0), n))
    t[:20] = 0.0
    vol = rng.uniform(0.05, 3.0, n)
    vol[20:40] = 0.0
    idx = rng.integers(0, 3, n)
    strike = np.array([3000.0, 60_000.0, 1.0])[idx] * np.exp(rng.uniform(-0.7, 0.7, n))
    strike[40:60] = np.array([3000.0, 60_000.0, 1.0])[idx[40:60]]  # at the strike at zero shock (expired too)
    t[40:50] = 0.0
    return OptionBook(idx, rng.normal(0, 5, n), strike, t, vol, rng.random(n) < 0.5)


def test_grid__compiled_vs_numpy_reference__agree_to_1e12() -> None:
    book, spot = edge_book(), np.array([3000.0, 60_000.0, 1.0])
    ds, dv = default_grid()
    fast = grid(book, spot, 0.03, [2.0, -0.5, 1000.0], ds, dv)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ref = grid_reference(book, spot, 0.03, [2.0, -0.5, 1000.0], ds, dv)
    # Sums of signed positions: compare against the sum of the absolute terms' scale (per field).
    gross = np.sum(np.abs(book.size)) * np.array([3000.0, 60_000.0, 1.0])[:, None, None] * 2
    for name in ("value_usd", "delta_usd", "gamma_usd_per_pct", "vega_usd_per_vol_pt", "theta_usd_per_day"):
        got, want = getattr(fast, name), getattr(ref, name)
        assert got.shape == (3, dv.size, ds.size), name
        assert np.isfinite(got).all(), name
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * gross.max(), err_msg=name)
    np.testing.assert_allclose(fast.delta_units, ref.delta_units, rtol=1e-12, atol=1e-12 * np.abs(book.size).sum())
    np.testing.assert_allclose(fast.rho_usd_per_pct, ref.rho_usd_per_pct, rtol=1e-12, atol=1e-12 * gross.max())
    np.testing.assert_allclose(fast.pnl_usd, ref.pnl_usd, rtol=1e-12, atol=1e-12 * gross.max())


def test_grid__zero_shock__equals_net_greeks() -> None:
    book, spot = edge_book(), np.array([3000.0, 60_000.0, 1.0])
    g = grid(book, spot, 0.03, [2.0, -0.5, 1000.0], [-0.1, 0.0, 0.1], [0.0, 0.5])
    net = net_greeks(book, spot, 0.03, [2.0, -0.5, 1000.0])
    at = (slice(None), 0, 1)
    assert_allclose(g.pnl_usd[0, 1], 0.0, atol=1e-9)
    for field in ("value_usd", "delta_units", "delta_usd", "gamma_usd_per_pct", "vega_usd_per_vol_pt"):
        assert_allclose(g.__dict__[field][at], getattr(net, field), rtol=1e-12, atol=1e-9, err_msg=field)
    assert_allclose(g.theta_usd_per_day[at], net.theta_usd_per_day, rtol=1e-12, atol=1e-9)
    assert_allclose(g.rho_usd_per_pct[at], net.rho_usd_per_pct, rtol=1e-12, atol=1e-9)


def test_grid__invalid_inputs__named_errors() -> None:
    book = small_book()
    with pytest.raises(ValueError, match="spot shocks must be > −1"):
        grid(book, [3000.0, 60_000.0], 0.03, [0.0, 0.0], [-1.0, 0.0], [0.0])
    with pytest.raises(ValueError, match=r"underlying_index must be in 0\.\.0"):
        grid(book, [3000.0], 0.03, [0.0], [0.0], [0.0])
    with pytest.raises(ValueError, match="strike > 0, spot > 0 and vol ≥ 0"):
        grid(book, [3000.0, -1.0], 0.03, [0.0, 0.0], [0.0], [0.0])


def test_stress__short_weth_on_aave__liquidation_flag_where_hf_below_one() -> None:
    book = small_book()
    res = stress(
        book,
        [3000.0, 60_000.0],
        0.03,
        [0.0, 0.0],
        aave_collateral_units=[100_000.0, 0.0],
        aave_debt_units=[0.0, 20.0],
        aave_prices_usd=[1.0, 3000.0],
        aave_lt=[0.8, 0.83],
        aave_shocked=[False, True],
    )
    ds, dv = default_grid()
    assert res.pnl_usd.shape == (dv.size, ds.size) == (11, 21)
    # HF = 80,000 / (60,000 · (1 + s)) < 1 ⇔ s > 1/3: the +35 % … +50 % columns are flagged.
    assert (res.aave_liquidated[:, ds > 1 / 3 + 1e-12]).all()
    assert not res.aave_liquidated[:, ds <= 1 / 3].any()
    assert res.worst_loss_usd > 0
    assert res.greeks is not None
    assert_allclose(res.greeks.pnl_usd, res.pnl_usd)


def test_historical_shocks__documented_with_sources() -> None:
    assert len(HISTORICAL_SHOCKS) >= 5
    for shock in HISTORICAL_SHOCKS:
        assert shock.source
        assert all(-0.99 < r < 1 and r != 0 for r in shock.spot_return.values())
        assert shock.vol_multiplier > 1
    assert any(r > 0 for shock in HISTORICAL_SHOCKS for r in shock.spot_return.values())  # a squeeze, too


def test_grid__10k_positions_231_scenarios__fast_enough_to_run_every_tick() -> None:
    rng = np.random.default_rng(0)
    n = 10_000
    book = OptionBook(
        rng.integers(0, 2, n),
        rng.normal(0, 5, n),
        rng.uniform(1000, 90_000, n),
        rng.uniform(0.01, 1.0, n),
        rng.uniform(0.2, 1.5, n),
        rng.random(n) < 0.5,
    )
    ds, dv = default_grid()
    start = time.perf_counter()
    pnl = grid_pnl(book, [3000.0, 60_000.0], 0.03, [0.0, 0.0], ds, dv)
    assert pnl.shape == (11, 21)
    assert np.isfinite(pnl).all()
    assert time.perf_counter() - start < 30  # correctness here; the speed figure lives in bench/


def test_attribution__small_moves__residual_third_order() -> None:
    n, k, c = np.array([-10.0, 4.0]), np.array([3000.0, 2900.0]), np.array([True, False])
    a = attribute(
        n,
        k,
        c,
        spot0=3000.0,
        vol0=0.6,
        t0_years=30 / 365,
        rate0=0.03,
        spot1=3030.0,
        vol1=0.61,
        dt_years=1 / 365,
        rate1=0.031,
    )
    assert abs(a.residual) < 0.02 * abs(a.actual) + 1e-3
    big = attribute(n, k, c, 3000.0, 0.6, 30 / 365, 0.03, 2400.0, 0.9, 1 / 365, 0.03)
    assert abs(big.residual) > abs(a.residual)  # larger moves leave more unexplained


def test_alpha_beta__synthetic__recovered() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.03, 500)
    y = 0.001 + 0.4 * x + rng.normal(0, 1e-4, 500)
    ab = alpha_beta(y, x)
    assert ab.beta == pytest.approx(0.4, abs=1e-3)
    assert ab.alpha_per_period == pytest.approx(0.001, abs=1e-4)
    with pytest.raises(ValueError, match="need ≥ 3 paired returns"):
        alpha_beta([0.1], [0.2])


def test_realised_estimators__gbm_path__near_true_vol() -> None:
    rng = np.random.default_rng(11)
    sigma, steps, per_day = 0.8, 365 * 10, 1440  # 10 years of daily bars from 1-minute GBM increments
    log_path = np.cumsum(rng.normal(-0.5 * sigma**2 / (365 * per_day), sigma / np.sqrt(365 * per_day), steps * per_day))
    bars = np.exp(log_path).reshape(steps, per_day)
    o, h, lo, c = bars[:, 0], bars.max(axis=1), bars.min(axis=1), bars[:, -1]
    assert close_to_close(c, 365) == pytest.approx(sigma, rel=0.03)
    assert parkinson(h, lo, 365) == pytest.approx(sigma, rel=0.05)  # discrete sampling biases ranges low
    assert garman_klass(o, h, lo, c, 365) == pytest.approx(sigma, rel=0.05)


def test_garch__simulated_process__parameters_and_forecast() -> None:
    rng = np.random.default_rng(5)
    omega, alpha, beta = 2e-6, 0.08, 0.9
    r, var = np.empty(5000), omega / (1 - alpha - beta)
    for i in range(r.size):
        r[i] = rng.normal(0, np.sqrt(var))
        var = omega + alpha * r[i] ** 2 + beta * var
    fit = Garch11.fit(r)
    assert fit.alpha == pytest.approx(alpha, abs=0.04)
    assert fit.beta == pytest.approx(beta, abs=0.05)
    long_run = np.sqrt(omega / (1 - alpha - beta) * 365)
    assert fit.forecast(10_000, 365) == pytest.approx(long_run, rel=0.25)
    assert Ewma().forecast(r, 365) == pytest.approx(np.std(r) * np.sqrt(365), rel=0.5)


def test_max_notional__budget_over_z_sigma_sqrt_h() -> None:
    assert max_notional(10_000.0, 0.8, 1 / 365) == pytest.approx(10_000 / (2.3263478740 * 0.8 / np.sqrt(365)))
    with pytest.raises(ValueError, match="must be > 0"):
        max_notional(-1.0, 0.8, 1.0)
    assert_allclose(max_notional(1.0, 1.0, 1.0, confidence=0.975), 1 / 1.959963984540054)
