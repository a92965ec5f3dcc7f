"""Path generators: replayable per path, the stated marginals, correlation and regime/gap mechanics."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sim.montecarlo.paths import SCENARIOS, PathModel, generate, replay

HOUR = 3600


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_replay__any_path_of_a_batch__same_bits_alone(name: str) -> None:
    batch = generate(SCENARIOS[name], seed=5, first=10, n=6, steps=48, step_seconds=HOUR)
    alone = replay(SCENARIOS[name], seed=5, index=13, steps=48, step_seconds=HOUR)
    assert np.array_equal(batch.price_ratio[3], alone.price_ratio[0])
    assert np.array_equal(batch.iv_multiplier[3], alone.iv_multiplier[0])
    assert np.all(batch.price_ratio[:, 0] == 1.0)


def test_gbm__many_paths__vol_and_correlation_as_configured() -> None:
    model = PathModel(model="gbm", vol_annual=(0.6, 0.4), correlation=0.7)
    batch = generate(model, seed=1, first=0, n=400, steps=200, step_seconds=HOUR)
    r = np.diff(np.log(batch.price_ratio), axis=1).reshape(-1, 2)
    dt = HOUR / (365 * 86400)
    assert_allclose(r.std(axis=0) / np.sqrt(dt), [0.6, 0.4], rtol=0.01)
    assert_allclose(np.corrcoef(r.T)[0, 1], 0.7, atol=0.01)


def test_regime__stressed_state__raises_realised_vol() -> None:
    calm = generate(PathModel(model="gbm"), seed=2, first=0, n=200, steps=24 * 30, step_seconds=HOUR)
    switching = generate(
        PathModel(model="regime", p_calm_to_stress=0.5, p_stress_to_calm=0.1),
        seed=2,
        first=0,
        n=200,
        steps=24 * 30,
        step_seconds=HOUR,
    )
    vol = [np.diff(np.log(b.price_ratio[..., 0]), axis=1).std() for b in (calm, switching)]
    assert vol[1] > 1.5 * vol[0]


def test_gaps__probability_per_day__count_matches() -> None:
    model = PathModel(model="gbm", vol_annual=(1e-4, 1e-4), gap_prob_per_day=0.1, gap_return=-0.2)
    batch = generate(model, seed=3, first=0, n=300, steps=24 * 30, step_seconds=HOUR)
    gaps = (np.diff(np.log(batch.price_ratio[..., 0]), axis=1) < np.log(0.85)).sum()
    expected = 300 * 30 * 0.1
    assert abs(gaps - expected) < 4 * np.sqrt(expected)


def test_iv_multiplier__after_a_crash__rises() -> None:
    model = PathModel(model="gbm", vol_annual=(0.5, 0.5), gap_prob_per_day=1.0, gap_return=-0.3)
    batch = generate(model, seed=4, first=0, n=20, steps=48, step_seconds=HOUR)
    assert batch.iv_multiplier[:, -1].mean() > 1.5


def test_path_model__garch_not_stationary__names_the_fields() -> None:
    with pytest.raises(ValueError, match="garch_alpha \\+ garch_beta"):
        PathModel(model="garch", garch_alpha=0.2, garch_beta=0.85)


def test_iv_event__vol_crush_family__halves_the_multiplier_from_day_3() -> None:
    batch = generate(SCENARIOS["vol_crush"], seed=4, first=0, n=3, steps=30 * 4, step_seconds=6 * HOUR)
    assert_allclose(batch.iv_multiplier[:, : 3 * 4], 1.0)  # iv_beta 0: flat before the event
    assert_allclose(batch.iv_multiplier[:, 3 * 4 :], 0.5)
    calm = generate(SCENARIOS["calm"], seed=4, first=0, n=3, steps=30 * 4, step_seconds=6 * HOUR)
    assert_allclose(calm.iv_multiplier, 1.0)
