"""Monte Carlo price paths for WETH and WBTC: pure numpy, one seeded generator per path.

Every path ``i`` of a run draws from ``np.random.default_rng([seed, i])``, so a path replays alone (``replay``)
and the paths a chunk produces do not depend on how the run was chunked or on which worker ran it.

Log-returns per step of ``dt`` years, for asset a (WETH, WBTC) with correlated standard normals
``z = L·ε`` (``L`` the Cholesky factor of ``[[1, ρ], [ρ, 1]]``):

    r_a = −½ σ_a,t² dt + σ_a,t √dt z_a  (+ Merton jumps)  (+ gaps)

with ``σ_a,t`` by ``model``:
- ``gbm``: constant ``vol_annual[a]``;
- ``garch``: GARCH(1,1) on the per-step variance, long-run variance at ``vol_annual[a]²``, started there;
- ``regime``: a two-state Markov chain (calm / stressed) shared by both assets; σ is ``vol_annual`` in the calm
  state and ``stress_vol_multiplier`` × it in the stressed one; ``p_calm_to_stress`` / ``p_stress_to_calm`` are
  per-day switching probabilities.
Jumps (any model, when ``jump_intensity_annual`` > 0) arrive together for both assets (a market-wide event), with
normal log-sizes ``N(jump_mean, jump_std²)`` times ``jump_beta[a]``. Gaps: with probability ``gap_prob_per_day``
a day holds one one-step move of ``gap_return`` (simple return) for both assets.

Implied vol follows realised vol (the documented rule): the venue's ATM level is scaled by
``iv_multiplier_t = (σ̂_t / σ̂_0)^iv_beta`` where σ̂ is an EWMA (decay ``iv_ewma_decay`` per step) of the
path's squared WETH returns, floored and capped at [0.5, 4], then scaled by ``iv_event_multiplier`` from
``iv_event_day`` on when set (a post-event crush: the ``vol_crush`` family). It is produced with every path (the
option book's marks read it); the Aave + spot book does not consume it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

SECONDS_PER_YEAR = 365.0 * 24 * 3600
ASSETS = ("WETH", "WBTC")


class PathModel(BaseModel):
    """How paths are drawn. Vols annualised (0.6 = 60 %), probabilities per day, returns simple (-0.2 = −20 %)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    model: Literal["gbm", "garch", "regime"] = "gbm"
    vol_annual: tuple[float, float] = (0.6, 0.5)
    correlation: float = Field(0.8, gt=-1.0, lt=1.0)
    drift_annual: float = Field(0.0, ge=-5.0, le=5.0)
    garch_alpha: float = Field(0.08, ge=0, lt=1)
    garch_beta: float = Field(0.90, ge=0, lt=1)
    stress_vol_multiplier: float = Field(2.5, ge=1.0, le=10.0)
    p_calm_to_stress: float = Field(0.03, ge=0, le=1)
    p_stress_to_calm: float = Field(0.25, ge=0, le=1)
    jump_intensity_annual: float = Field(0.0, ge=0, le=1_000)
    jump_mean: float = Field(-0.05, ge=-1, le=1)
    jump_std: float = Field(0.04, ge=0, le=1)
    jump_beta: tuple[float, float] = (1.0, 0.8)
    gap_prob_per_day: float = Field(0.0, ge=0, le=1)
    gap_return: float = Field(-0.15, gt=-0.95, lt=5.0)
    iv_beta: float = Field(1.0, ge=0, le=3)
    iv_ewma_decay: float = Field(0.97, gt=0, lt=1)
    #: An implied-vol step (a post-event crush, or a spike): from ``iv_event_day`` on, the multiplier is scaled by
    #: ``iv_event_multiplier`` (None: no event).
    iv_event_day: float | None = Field(None, ge=0, le=3_650)
    iv_event_multiplier: float = Field(1.0, gt=0, le=10)

    @model_validator(mode="after")
    def _consistent(self) -> PathModel:
        if any(v <= 0 or v > 5 for v in self.vol_annual):
            raise ValueError(f"vol_annual={self.vol_annual}: each must be in (0, 5] (annualised, 0.6 = 60 %)")
        if self.model == "garch" and self.garch_alpha + self.garch_beta >= 1:
            raise ValueError(
                f"garch_alpha + garch_beta = {self.garch_alpha + self.garch_beta:.3f} must be < 1 (stationary)"
            )
        return self


#: Named path families (``--scenario``): the five generators, with magnitudes from the demo's scenario files.
SCENARIOS: dict[str, PathModel] = {
    "gbm": PathModel(model="gbm"),
    "garch": PathModel(model="garch", vol_annual=(0.7, 0.6)),
    "merton": PathModel(model="gbm", jump_intensity_annual=12.0, jump_mean=-0.05, jump_std=0.04),
    "regime": PathModel(model="regime"),
    "gaps": PathModel(model="gbm", gap_prob_per_day=0.02, gap_return=-0.15),
    # The demo's calm month (scenarios/calm_month.toml) as a family: 40 % / 35 % realised, a slight up-drift, the
    # implied surface flat (iv_beta 0) — where a short-vol book earns its premium and the policy's cost shows.
    "calm": PathModel(model="gbm", vol_annual=(0.4, 0.35), drift_annual=0.2, iv_beta=0.0),
    # The demo's vol-crush month (scenarios/vol_crush_month.toml): 45 % / 40 % realised, the implied surface halved
    # on day 3 and held there (the demo's fades back over 60 days: ~0.53× by the month's end).
    "vol_crush": PathModel(model="gbm", vol_annual=(0.45, 0.4), iv_beta=0.0, iv_event_day=3.0, iv_event_multiplier=0.5),
    # A stress family: GARCH at 90 % long-run vol, frequent down-jumps and a 1-in-4-days chance of a −35 % gap
    # (the shape of 2020-03-12 compressed): what the validation uses to exercise deleverages and liquidations.
    "crash": PathModel(
        model="garch",
        vol_annual=(0.9, 0.8),
        jump_intensity_annual=50.0,
        jump_mean=-0.04,
        jump_std=0.03,
        gap_prob_per_day=0.25,
        gap_return=-0.35,
    ),
}


@dataclass(frozen=True)
class PathBatch:
    """Paths ``first … first + n − 1``: ``price_ratio[p, t, a]`` is spot at step t over spot at step 0 (1 at t = 0);
    ``iv_multiplier[p, t]`` scales the ATM implied vol."""

    first: int
    price_ratio: np.ndarray  # (n, steps + 1, 2)
    iv_multiplier: np.ndarray  # (n, steps + 1)


def generate(model: PathModel, seed: int, first: int, n: int, steps: int, step_seconds: int) -> PathBatch:
    """Paths ``first … first + n − 1`` of the run seeded ``seed`` (vectorised over the n paths)."""
    dt = step_seconds / SECONDS_PER_YEAR
    steps_per_day = 86_400 / step_seconds
    eps = np.empty((n, steps, 2))
    u_regime = np.empty((n, steps))
    jump_count = np.zeros((n, steps))
    jump_eps = np.zeros((n, steps))
    gap_u = np.empty((n, steps))
    for k in range(n):  # one generator per path, drawn in a fixed order: replayable path by path
        rng = np.random.default_rng([seed, first + k])
        eps[k] = rng.standard_normal((steps, 2))
        u_regime[k] = rng.random(steps)
        if model.jump_intensity_annual > 0:
            jump_count[k] = rng.poisson(model.jump_intensity_annual * dt, steps)
            jump_eps[k] = rng.standard_normal(steps)
        gap_u[k] = rng.random(steps)
    rho = model.correlation
    z = np.stack([eps[..., 0], rho * eps[..., 0] + np.sqrt(1 - rho * rho) * eps[..., 1]], axis=-1)
    sigma = _sigma(model, z, u_regime, dt, steps_per_day)
    log_r = (model.drift_annual - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * z
    if model.jump_intensity_annual > 0:
        jump = jump_count * model.jump_mean + np.sqrt(jump_count) * model.jump_std * jump_eps
        log_r += jump[..., None] * np.asarray(model.jump_beta)[None, None, :]
    if model.gap_prob_per_day > 0:
        gap = gap_u < model.gap_prob_per_day / steps_per_day
        log_r += np.where(gap, np.log1p(model.gap_return), 0.0)[..., None]
    log_path = np.concatenate([np.zeros((n, 1, 2)), np.cumsum(log_r, axis=1)], axis=1)
    iv = _iv_multiplier(model, log_r[..., 0], dt)
    if model.iv_event_day is not None:
        iv[:, math.ceil(model.iv_event_day * steps_per_day) :] *= model.iv_event_multiplier
    return PathBatch(first, np.exp(log_path), iv)


def replay(model: PathModel, seed: int, index: int, steps: int, step_seconds: int) -> PathBatch:
    """Path ``index`` alone, exactly as the run drew it."""
    return generate(model, seed, index, 1, steps, step_seconds)


def _sigma(model: PathModel, z: np.ndarray, u: np.ndarray, dt: float, steps_per_day: float) -> np.ndarray:
    """Annualised σ per path, step and asset, shape (n, steps, 2)."""
    n, steps, _ = z.shape
    base = np.broadcast_to(np.asarray(model.vol_annual), (n, steps, 2))
    if model.model == "gbm":
        return np.array(base)
    if model.model == "regime":
        p_up = 1.0 - (1.0 - model.p_calm_to_stress) ** (1.0 / steps_per_day)
        p_down = 1.0 - (1.0 - model.p_stress_to_calm) ** (1.0 / steps_per_day)
        stressed = np.zeros((n, steps), dtype=bool)
        state = np.zeros(n, dtype=bool)
        for t in range(steps):  # a Markov chain in time, vectorised over paths
            state = np.where(state, u[:, t] >= p_down, u[:, t] < p_up)
            stressed[:, t] = state
        return base * np.where(stressed, model.stress_vol_multiplier, 1.0)[..., None]
    a, b = model.garch_alpha, model.garch_beta
    long_run = base[:, 0, :] ** 2 * dt
    omega = (1.0 - a - b) * long_run
    var = np.empty((n, steps, 2))
    var[:, 0] = long_run
    for t in range(1, steps):  # GARCH recursion in time, vectorised over paths and assets
        var[:, t] = omega + a * var[:, t - 1] * z[:, t - 1] ** 2 + b * var[:, t - 1]
    return np.sqrt(var / dt)


def _iv_multiplier(model: PathModel, log_r: np.ndarray, dt: float) -> np.ndarray:
    """(σ̂_t / σ̂_0)^β from an EWMA of squared WETH log-returns, in [0.5, 4]; 1 at t = 0."""
    n, steps = log_r.shape
    lam = model.iv_ewma_decay
    var0 = model.vol_annual[0] ** 2 * dt
    var = np.empty((n, steps + 1))
    var[:, 0] = var0
    for t in range(steps):
        var[:, t + 1] = lam * var[:, t] + (1 - lam) * log_r[:, t] ** 2
    return np.clip((var / var0) ** (0.5 * model.iv_beta), 0.5, 4.0)
