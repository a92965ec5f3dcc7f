"""The tail rule's oracle history and forecast refresh (pure parts of the assessor)."""

from __future__ import annotations

import numpy as np
import pytest

from keeper.app.assess_tail import OracleHistory, refresh_forecast
from keeper.config import TailBudgetConfig


def test_history__seeded_from_stored_ticks_in_any_order__one_point_per_timestamp_bounded() -> None:
    ticks = [{"block_timestamp": t, "risk": {"spot_usd:WETH": 3000.0 + t, "nav_usd": 1.0}} for t in (30, 10, 20, 20)]
    history = OracleHistory(max_obs=2)
    assert history.seed(ticks) == 2  # 10, 20, 30 seen once each; the bound keeps the last two
    t, p = history.arrays("WETH")
    assert t.tolist() == [20.0, 30.0]
    assert p.tolist() == [3020.0, 3030.0]
    history.add("WETH", 25, 1.0)  # older than the last point: ignored
    assert history.arrays("WETH")[0].tolist() == [20.0, 30.0]


def test_refresh__calm_then_wild__garch_forecast_and_high_vol_regime() -> None:
    rng = np.random.default_rng(3)
    hourly = np.concatenate([rng.normal(0, 0.004, 400), rng.normal(0, 0.02, 40)])
    history = OracleHistory()
    for i, price in enumerate(3000.0 * np.exp(np.cumsum(hourly))):
        history.add("WETH", 3_600 * i, float(price))
    f = refresh_forecast(history, ["WETH", "WBTC"], TailBudgetConfig(enabled=True), default_annual=0.6, ewma_decay=0.94)
    assert f.methods == ("garch", "default")
    assert f.regime_fitted
    assert f.high_vol_probability > 0.9
    calm = 0.004 * np.sqrt(24 * 365)
    assert f.sigma_annual[0] > 1.5 * calm  # the forecast follows the wild end of the path
    assert f.sigma_annual[1] == pytest.approx(0.6)  # no WBTC history: the default
