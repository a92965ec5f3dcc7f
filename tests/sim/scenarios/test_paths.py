from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from keeper.model.exceptions import ConfigError
from sim.scenarios import generate_path, list_scenarios, load_scenario
from sim.scenarios.spec import ScenarioSpec


def test_library__all_documented_scenarios__load_and_generate() -> None:
    assert {"calm", "crash", "gap_down", "squeeze", "vol_crush", "oracle_outage"} <= set(list_scenarios())
    for name in list_scenarios():
        spec = load_scenario(name)
        assert spec.source
        path = generate_path(spec)
        assert path.spot_multiplier.shape == (spec.steps + 1,)
        assert path.spot_multiplier[0] == 1.0
        assert np.all(path.spot_multiplier > 0)


def test_crash__any_seed__ends_exactly_minus_35pct_with_vol_doubled() -> None:
    spec = load_scenario("crash")
    for seed in range(5):
        path = generate_path(spec, np.random.default_rng(seed))
        assert path.spot_multiplier[-1] == pytest.approx(0.65, rel=1e-12)
        assert path.vol_multiplier[-1] == pytest.approx(2.0)
    assert path.steps * path.step_seconds == 24 * 3600


def test_gap_down__shock_step__single_block_move_of_minus_20pct() -> None:
    spec = load_scenario("gap_down").model_copy(update={"vol_annual": 1e-6})
    path = generate_path(spec)
    returns = path.spot_multiplier[1:] / path.spot_multiplier[:-1] - 1
    assert returns[60] == pytest.approx(-0.20, abs=1e-6)
    assert np.abs(np.delete(returns, 60)).max() < 1e-6


def test_oracle_outage__window__feeds_not_live() -> None:
    path = generate_path(load_scenario("oracle_outage"))
    assert not path.oracle_live[300:900].any()
    assert path.oracle_live[:300].all()
    assert path.oracle_live[900:].all()


def test_same_seed__same_path__different_seed_differs() -> None:
    spec = load_scenario("calm")
    assert_allclose(generate_path(spec).spot_multiplier, generate_path(spec).spot_multiplier, rtol=0)
    assert not np.allclose(
        generate_path(spec, np.random.default_rng(1)).spot_multiplier, generate_path(spec).spot_multiplier
    )


def test_gbm__many_steps__realised_vol_matches_parameter() -> None:
    spec = ScenarioSpec(name="t", description="", source="test", steps=100_000, vol_annual=0.6)
    path = generate_path(spec)
    log_returns = np.diff(np.log(path.spot_multiplier))
    realised = log_returns.std() * np.sqrt(365 * 24 * 3600 / spec.step_seconds)
    assert realised == pytest.approx(0.6, rel=0.01)


def test_garch__long_run_variance__near_vol_annual() -> None:
    spec = ScenarioSpec(name="t", description="", source="test", steps=100_000, vol_annual=0.8, vol_model="garch")
    path = generate_path(spec)
    assert np.sqrt(np.mean(path.sigma_step**2)) == pytest.approx(0.8, rel=0.05)
    assert path.sigma_step.std() > 0.01  # clustering: vol actually moves


def test_spec__non_stationary_garch__rejected_naming_fields() -> None:
    with pytest.raises(ValueError, match=r"garch_alpha \+ garch_beta = 1.000 must be < 1"):
        ScenarioSpec(name="t", description="", source="s", steps=10, vol_model="garch", garch_alpha=0.2, garch_beta=0.8)


def test_load__unknown_or_invalid__clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="choose one of"):
        load_scenario("nope")
    (tmp_path / "bad.toml").write_text(
        'description = "x"\nsource = "y"\nsteps = 10\nshocks = [{ at_step = 50, spot_return = -0.1 }]\n'
    )
    with pytest.raises(ConfigError, match="shock at_step=50 is beyond steps=10"):
        load_scenario("bad", tmp_path)


def test_month__event_spliced_at_its_day__shape_kept_and_vol_fades() -> None:
    crash, gap = load_scenario("crash_month"), load_scenario("gap_month")
    month, day = generate_path(crash), generate_path(load_scenario("crash"))
    start = 12 * 24  # hourly steps
    assert month.steps == 720
    event = month.spot_multiplier[start : start + 25] / month.spot_multiplier[start - 1]
    base = generate_path(crash.model_copy(update={"event": None}))
    assert month.spot_multiplier[start - 1] == pytest.approx(base.spot_multiplier[start - 1])  # untouched before
    assert event[-1] * base.spot_multiplier[start - 1] / base.spot_multiplier[start + 24] == pytest.approx(
        day.spot_multiplier[-1], rel=1e-9
    )  # the crash's −35 % over its 24 hours, on top of the month's own path
    assert month.vol_multiplier[start + 24] == pytest.approx(2.0, rel=0.01)  # the crash doubles implied vol
    assert month.vol_multiplier[start + 25 + 5 * 24] == pytest.approx(1.0)  # faded back over 5 days after it
    g = generate_path(gap)
    ratio = g.spot_multiplier[1:] / g.spot_multiplier[:-1]
    gap_base = generate_path(gap.model_copy(update={"event": None}))
    shock = ratio / (gap_base.spot_multiplier[1:] / gap_base.spot_multiplier[:-1])
    assert shock.min() == pytest.approx(0.8, rel=0.02)  # the one-block gap stays one (hourly) step
    assert int(np.argmin(shock)) in range(start, start + 2)


def test_month__event_after_the_end__names_the_field() -> None:
    spec = load_scenario("crash_month")
    with pytest.raises(ValueError, match="event_day=40"):
        type(spec)(**{**spec.model_dump(), "event_day": 40})
