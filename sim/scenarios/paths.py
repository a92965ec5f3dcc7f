"""Path generation for scenarios: pure numpy, randomness only through a seeded ``Generator``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenarios.spec import ScenarioSpec

SECONDS_PER_YEAR = 365.0 * 24 * 3600


@dataclass(frozen=True)
class ScenarioPath:
    """A generated path. ``spot_multiplier[i]`` is spot at step i over spot at step 0 (index 0 is 1.0);
    ``vol_multiplier`` scales the implied-vol surface; ``oracle_live[i]`` is False during an outage."""

    name: str
    step_seconds: int
    spot_multiplier: np.ndarray
    vol_multiplier: np.ndarray
    sigma_step: np.ndarray  # per-step diffusion vol actually used (annualised)
    oracle_live: np.ndarray

    @property
    def steps(self) -> int:
        return int(self.spot_multiplier.size - 1)


def generate_path(spec: ScenarioSpec, rng: np.random.Generator | None = None) -> ScenarioPath:
    """The scenario's spot and vol path over ``spec.steps`` steps (``steps + 1`` points)."""
    rng = rng if rng is not None else np.random.default_rng(spec.seed)
    n, dt = spec.steps, spec.step_seconds / SECONDS_PER_YEAR
    z = rng.standard_normal(n)
    sigma = _sigma_path(spec, z, dt)
    diffusion = (spec.drift_annual - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * z
    jumps = np.zeros(n)
    if spec.jump_intensity_annual > 0:
        counts = rng.poisson(spec.jump_intensity_annual * dt, n)
        jumps = counts * spec.jump_mean + np.sqrt(counts) * spec.jump_std * rng.standard_normal(n)
    log_path = np.concatenate([[0.0], np.cumsum(diffusion + jumps)])
    shock_log = np.zeros(n + 1)
    for shock in spec.shocks:
        shock_log[shock.at_step + 1 :] += np.log1p(shock.spot_return)
    if spec.target_return is not None:
        # Brownian bridge: tilt linearly so the path ends at the target, shocks included.
        end = np.log1p(spec.target_return)
        log_path += np.linspace(0.0, 1.0, n + 1) * (end - log_path[-1] - shock_log[-1])
    spot = np.exp(log_path + shock_log)
    vol = np.linspace(1.0, spec.vol_multiplier_end, n + 1)
    live = np.ones(n + 1, dtype=bool)
    if spec.oracle_outage_steps is not None:
        live[spec.oracle_outage_steps[0] : spec.oracle_outage_steps[1]] = False
    if spec.event is not None:
        spot, vol = _splice(spec, spot, vol)
    return ScenarioPath(spec.name, spec.step_seconds, spot, vol, sigma, live)


def _splice(spec: ScenarioSpec, spot: np.ndarray, vol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``event`` scenario placed at ``event_day`` (ScenarioSpec's docstring)."""
    from sim.scenarios.spec import load_scenario

    assert spec.event is not None
    event = generate_path(load_scenario(spec.event))
    k = max(1, round(spec.step_seconds / event.step_seconds))
    e_spot = event.spot_multiplier[::k]
    if (event.spot_multiplier.size - 1) % k:
        e_spot = np.append(e_spot, event.spot_multiplier[-1])  # the event's end is kept
    e_vol = event.vol_multiplier[::k][: e_spot.size]
    e_vol = np.append(e_vol, np.full(e_spot.size - e_vol.size, event.vol_multiplier[-1]))
    start = round(spec.event_day * 86_400 / spec.step_seconds)
    n = spot.size
    during = np.arange(start, min(n, start + e_spot.size))
    multiplier = np.ones(n)
    multiplier[during] = e_spot[: during.size]
    multiplier[start + e_spot.size :] = e_spot[-1]
    event_vol = np.ones(n)
    event_vol[during] = e_vol[: during.size]
    after = np.arange(start + e_spot.size, n)
    fade = np.clip((after - (start + e_spot.size)) * spec.step_seconds / (spec.event_vol_decay_days * 86_400), 0, 1)
    event_vol[after] = e_vol[-1] + (1.0 - e_vol[-1]) * fade
    return spot * multiplier, vol * event_vol


def _sigma_path(spec: ScenarioSpec, z: np.ndarray, dt: float) -> np.ndarray:
    """Annualised diffusion vol per step: constant, or GARCH(1,1) on per-step variance with the long-run
    variance at ``vol_annual`` (ω = (1 − α − β)·σ²dt), driven by the same shocks."""
    if spec.vol_model == "constant":
        return np.full(z.size, spec.vol_annual)
    a, b = spec.garch_alpha, spec.garch_beta
    long_run = spec.vol_annual**2 * dt
    omega = (1.0 - a - b) * long_run
    var = np.empty(z.size)
    var[0] = long_run
    for i in range(1, z.size):  # recursion in time (not over positions): inherently sequential
        var[i] = omega + a * var[i - 1] * z[i - 1] ** 2 + b * var[i - 1]
    return np.sqrt(var / dt)
