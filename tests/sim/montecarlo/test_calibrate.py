"""Calibration from the keeper's recorded oracle history: a synthetic history of known vol and correlation is
recovered; too little history keeps the scenario's values and says why."""

from __future__ import annotations

import numpy as np
import pytest

from sim.montecarlo.calibrate import calibrate
from sim.montecarlo.paths import SCENARIOS

HOUR = 3600


def _ticks(vols: tuple[float, float], rho: float, n: int, seed: int = 7, step_s: int = HOUR) -> list[dict[str, object]]:
    """What the store holds: one tick per ``step_s`` with the oracle prices in ``risk`` (newest first)."""
    rng = np.random.default_rng(seed)
    dt = step_s / (365 * 86_400)
    eps = rng.standard_normal((n, 2))
    z = np.stack([eps[:, 0], rho * eps[:, 0] + np.sqrt(1 - rho**2) * eps[:, 1]], axis=1)
    log_r = -0.5 * np.square(vols) * dt + np.asarray(vols) * np.sqrt(dt) * z
    prices = np.array([3000.0, 60_000.0]) * np.exp(np.vstack([np.zeros((1, 2)), np.cumsum(log_r, axis=0)]))
    rows = [
        {"block_timestamp": 1_700_000_000 + k * step_s, "risk": {"spot_usd:WETH": p[0], "spot_usd:WBTC": p[1]}}
        for k, p in enumerate(prices)
    ]
    return rows[::-1]


def test_calibrate__synthetic_hourly_history__recovers_vols_and_correlation() -> None:
    cal = calibrate(SCENARIOS["gbm"], _ticks((0.9, 0.45), 0.55, 3_000), 30, ewma_decay=0.97)
    assert cal.methods == ("garch", "garch")
    assert cal.sigma_annual[0] == pytest.approx(0.9, rel=0.08)
    assert cal.sigma_annual[1] == pytest.approx(0.45, rel=0.08)
    assert cal.correlation == pytest.approx(0.55, abs=0.05)
    assert cal.correlation_returns == 3_000
    assert cal.model.vol_annual == cal.sigma_annual
    assert cal.model.correlation == cal.correlation
    assert cal.model.model == "gbm"  # the scenario's shape is kept
    assert not cal.notes


def test_calibrate__short_history__ewma_and_the_scenarios_correlation() -> None:
    cal = calibrate(SCENARIOS["garch"], _ticks((0.6, 0.6), 0.9, 20), 30, ewma_decay=0.9)
    assert cal.methods == ("ewma", "ewma")  # < 100 returns: no GARCH fit
    assert cal.correlation == SCENARIOS["garch"].correlation
    assert any("correlation: 20 common returns" in n for n in cal.notes)


def test_calibrate__no_history__the_scenarios_values_with_the_reason() -> None:
    cal = calibrate(SCENARIOS["crash"], [], 7, ewma_decay=0.97)
    assert cal.model == SCENARIOS["crash"]
    assert cal.methods == ("default", "default")
    assert any(n.startswith("WETH: 0 recorded prices") for n in cal.notes)


def test_calibrate__irregular_sampling__returns_rescaled_to_the_median_interval() -> None:
    ticks = _ticks((0.7, 0.5), 0.8, 4_000, seed=3, step_s=600)
    kept = [t for i, t in enumerate(ticks) if i % 7 != 3]  # missing ticks: some 20-minute gaps
    cal = calibrate(SCENARIOS["gbm"], kept, 30, ewma_decay=0.97)
    assert cal.sigma_annual[0] == pytest.approx(0.7, rel=0.08)
    assert cal.correlation == pytest.approx(0.8, abs=0.05)
