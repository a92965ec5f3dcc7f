"""Scenario files: ``scenarios/<name>.toml``, validated here (a bad value names the field and the fix)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from keeper.model.exceptions import ConfigError
from keeper.paths import ROOT

SCENARIO_DIR = ROOT / "scenarios"


class Shock(BaseModel):
    """A deterministic jump of log-price at ``at_step`` (a gap: the oracle and pools move in one block)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_step: int = Field(ge=0)
    spot_return: float = Field(gt=-0.99, lt=10.0, description="simple return, -0.20 = −20 %")


class ScenarioSpec(BaseModel):
    """One market scenario. Time is in steps of ``step_seconds`` (one block per step in the demo).

    The spot path is a GBM with drift ``drift_annual`` and volatility from ``vol_model`` (constant
    ``vol_annual``, or GARCH(1,1) in per-step variance started at ``vol_annual``), plus Merton jumps
    (Poisson intensity per year, normal log-jump sizes), plus deterministic ``shocks``. When
    ``target_return`` is set, the diffusion is conditioned to end exactly there (a Brownian bridge in log
    space), so "−35 % in 24 h" is met on every seed while the path stays random.
    The implied-vol level moves linearly from 1× to ``vol_multiplier_end`` × over the scenario.
    ``oracle_outage_steps`` = [start, end): the feeds stop updating in that window.
    ``event``: another (short) scenario spliced in at ``event_day``: its spot path, put on this scenario's step
    (every k-th point, k = this step / its step: a one-block gap stays one step), multiplies spot from then on;
    its vol multiplier applies during it and fades linearly back to 1 over ``event_vol_decay_days`` after.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str
    source: str = Field(description="where the magnitudes come from")
    steps: int = Field(gt=1, le=100_000)
    step_seconds: int = Field(12, gt=0, le=86_400)
    drift_annual: float = Field(0.0, ge=-50, le=50)
    vol_annual: float = Field(0.6, gt=0, le=5)
    vol_model: Literal["constant", "garch"] = "constant"
    garch_alpha: float = Field(0.08, ge=0, lt=1)
    garch_beta: float = Field(0.90, ge=0, lt=1)
    jump_intensity_annual: float = Field(0.0, ge=0, le=10_000)
    jump_mean: float = Field(0.0, ge=-1, le=1)
    jump_std: float = Field(0.0, ge=0, le=1)
    target_return: float | None = Field(None, gt=-0.99, lt=10.0)
    shocks: tuple[Shock, ...] = ()
    vol_multiplier_end: float = Field(1.0, gt=0, le=10)
    oracle_outage_steps: tuple[int, int] | None = None
    event: str | None = Field(
        None, description="a one-day scenario (its file's name) placed inside this one: a month with the crash in it"
    )
    event_day: float = Field(12.0, ge=0, description="when the event starts, days from the start")
    event_vol_decay_days: float = Field(
        5.0, gt=0, le=60, description="after the event its implied-vol multiplier fades back to 1 over this long"
    )
    keeper_step_seconds: int | None = Field(
        None, gt=0, description="the demo keeper's step (default: ~240 steps per run); a multiple of step_seconds"
    )
    seed: int = 7

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioSpec:
        if self.vol_model == "garch" and self.garch_alpha + self.garch_beta >= 1:
            raise ValueError(
                f"garch_alpha + garch_beta = {self.garch_alpha + self.garch_beta:.3f} must be < 1 (stationary)"
            )
        for shock in self.shocks:
            if shock.at_step >= self.steps:
                raise ValueError(f"shock at_step={shock.at_step} is beyond steps={self.steps}")
        if self.event is not None and self.event_day * 86_400 >= self.steps * self.step_seconds:
            raise ValueError(
                f"event_day={self.event_day} is beyond the scenario's {self.steps * self.step_seconds / 86_400:g} days"
            )
        if self.keeper_step_seconds is not None and self.keeper_step_seconds % self.step_seconds:
            raise ValueError(
                f"keeper_step_seconds={self.keeper_step_seconds} must be a multiple of step_seconds={self.step_seconds}"
            )
        if self.oracle_outage_steps is not None:
            start, end = self.oracle_outage_steps
            if not 0 <= start < end <= self.steps:
                raise ValueError(f"oracle_outage_steps={self.oracle_outage_steps} must satisfy 0 ≤ start < end ≤ steps")
        return self


def list_scenarios(directory: Path = SCENARIO_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml"))


def load_scenario(name: str, directory: Path = SCENARIO_DIR) -> ScenarioSpec:
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(
            f"scenario {name!r} not found in {directory}; choose one of {', '.join(list_scenarios(directory))}"
        )
    try:
        return ScenarioSpec(name=name, **tomllib.loads(path.read_text()))
    except (tomllib.TOMLDecodeError, ValidationError) as err:
        raise ConfigError(f"scenario file {path} is invalid: {err}") from err
