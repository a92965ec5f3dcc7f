"""Regime detection on synthetic switches where the true state is known, and the forecast-vol fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from keeper.risk.regime import even_returns, fit_regimes, forecast_vol

CALM, WILD = 0.005, 0.02  # hourly: ≈ 47 % and 187 % a year


def switching_path(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """300 calm hours, 100 wild, 200 calm; returns and the true state (1 = wild)."""
    state = np.r_[np.zeros(300), np.ones(100), np.zeros(200)]
    rng = np.random.default_rng(seed)
    return rng.standard_normal(state.size) * np.where(state == 1, WILD, CALM), state


def delays(p: np.ndarray) -> tuple[int, int]:
    """Hours after each switch until the filtered probability crosses 0.5 the right way."""
    return int(np.argmax(p[300:] > 0.5)), int(np.argmax(p[400:] < 0.5))


def test_switches_are_detected_within_hours_with_few_false_alarms() -> None:
    into, out, false_alarms, errors = [], [], [], []
    for seed in range(12):
        r, state = switching_path(seed)
        fit = fit_regimes(r)
        d_in, d_out = delays(fit.probabilities)
        into.append(d_in)
        out.append(d_out)
        calm = state == 0
        settled = calm.copy()
        settled[400:410] = False  # the hours just after the switch back are the exit delay, not alarms
        false_alarms.append(float((fit.probabilities[settled] > 0.5).mean()))
        errors.append(abs(fit.sigma_high / WILD - 1) + abs(fit.sigma_low / CALM - 1))
    assert np.median(into) <= 3
    assert max(into) <= 10
    assert np.median(out) <= 6
    assert max(out) <= 12
    assert max(false_alarms) < 0.02
    assert max(errors) < 0.25  # both state vols recovered within 25 % in total


def test_a_calm_path_stays_calm_and_the_last_probability_is_filtered() -> None:
    r, _ = switching_path(3)
    fit = fit_regimes(r[:380])  # 80 hours into the wild state
    assert fit.high_vol_probability > 0.9
    assert fit.high_vol_probability == fit.probabilities[-1]
    # Filtered, not smoothed: refitting on more data does not change what was known at hour 379 by much.
    assert fit_regimes(r).probabilities[379] == pytest.approx(fit.high_vol_probability, abs=0.05)


def test_too_few_returns_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least 30"):
        fit_regimes(np.zeros(10))


def test_forecast_vol_falls_back_from_garch_to_ewma_to_default() -> None:
    r, _ = switching_path(0)
    t = np.arange(r.size + 1) * 3600.0
    p = 3000 * np.exp(np.r_[0, np.cumsum(r)])
    assert forecast_vol(t[:1], p[:1], 86400, default_annual=0.6).method == "default"
    ewma = forecast_vol(t[:50], p[:50], 86400, default_annual=0.6)
    assert ewma.method == "ewma"
    assert ewma.sigma_annual == pytest.approx(CALM * np.sqrt(8760), rel=0.3)
    during = forecast_vol(t[:390], p[:390], 86400, default_annual=0.6)
    after = forecast_vol(t, p, 86400, default_annual=0.6)
    assert during.method == after.method == "garch"
    assert during.sigma_annual > 1.5 * after.sigma_annual  # inside the wild state the forecast is high


def test_uneven_sampling_is_put_on_the_median_interval() -> None:
    t = np.array([0.0, 10, 20, 60, 70])
    p = np.exp(np.array([0.0, 0.01, 0.02, 0.04, 0.05]))
    r, period = even_returns(t, p)
    assert period == 10
    assert r == pytest.approx([0.01, 0.01, 0.02 / 2, 0.01])


def test_a_fit_on_the_stationarity_boundary_is_integrated_garch_not_a_fallback() -> None:
    """arch's optimiser stops on α + β = 1 give or take 1e-13 depending on the machine (the 390-return fit above
    gives 1 + 6e-14 on one machine, 1 − ε on another): both are integrated GARCH, forecast flat at the current
    variance; an explosive fit is not used."""
    from keeper.risk.regime import garch_usable
    from keeper.risk.volatility import Garch11

    last = 3.0e-4
    on_boundary = Garch11(1e-7, 0.15956404696978732, 0.8404359530302733, last)  # α + β = 1 + 6.1e-14
    assert on_boundary.alpha + on_boundary.beta > 1
    assert garch_usable(on_boundary)
    assert on_boundary.forecast(24, 8760) == pytest.approx(np.sqrt(last * 8760), rel=1e-12)
    assert not garch_usable(Garch11(1e-7, 0.2, 0.81, last))
    assert not garch_usable(Garch11(1e-7, 0.1, 0.8, 0.0))
