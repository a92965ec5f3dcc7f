"""Volatility regimes: a two-state Markov-switching model with switching variance (Hamilton 1989, statsmodels'
``MarkovRegression``) on the keeper's recorded returns, and the forecast vol the tail budget scales by.

Returns rₜ = σ_{sₜ}·εₜ with sₜ ∈ {low, high} a Markov chain; fitted by maximum likelihood (EM start, then BFGS).
The high-vol state is the one with the larger fitted variance. :attr:`RegimeFit.high_vol_probability` is the
*filtered* probability P(sₜ = high | r₁..rₜ) at the last observation: what the keeper can know at that block
(the smoothed probability would look ahead). Returns go in as percent for the optimiser's conditioning.

:func:`forecast_vol` is the keeper's forecast: GARCH(1,1) (``arch``) once ``min_obs`` returns are recorded,
EWMA before (and when the GARCH fit fails or is explosive), the configured default before any return. A fit on
the stationarity boundary (α + β = 1 to within :data:`INTEGRATED_TOLERANCE`: ``arch``'s optimiser stops there,
1e-13 either side depending on the machine's floating point) is integrated GARCH: its forecast stays at the
current conditional variance.
Prices sampled at uneven intervals are put on one period first (each log return divided by √(its interval /
the median interval)), so one GARCH step is one median interval.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from keeper.model.arrays import ArrayLike
from keeper.risk.volatility import Ewma, Garch11

SECONDS_PER_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class RegimeFit:
    high_vol_probability: float  # filtered, at the last observation
    probabilities: np.ndarray  # filtered P(high) per observation
    sigma_low: float  # per period, of the returns as given
    sigma_high: float
    stay_low: float  # P(low → low)
    stay_high: float


def fit_regimes(returns: ArrayLike) -> RegimeFit:
    """Two-state switching-variance fit of ``returns`` (at least 30; raises ValueError otherwise)."""
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    r = np.asarray(returns, dtype=np.float64)
    if r.size < 30 or not np.all(np.isfinite(r)):
        raise ValueError(f"returns: need at least 30 finite returns to fit two regimes, got {r.size}")
    scale = 100.0 / max(float(np.std(r)), 1e-12)  # unit variance overall: the optimiser's best conditioning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short samples; the fit is checked below
        result = MarkovRegression(r * scale / 100, k_regimes=2, trend="n", switching_variance=True).fit(disp=False)
    sigma2 = np.array([result.params[2], result.params[3]])
    high = int(np.argmax(sigma2))
    p = np.asarray(result.filtered_marginal_probabilities)[:, high]
    p00, p10 = float(result.params[0]), float(result.params[1])
    stay = (p00, 1.0 - p10) if high == 1 else (1.0 - p10, p00)
    s = np.sqrt(sigma2) * 100 / scale
    return RegimeFit(float(p[-1]), p, float(s[1 - high]), float(s[high]), stay[0], stay[1])


def even_returns(timestamps_s: ArrayLike, prices: ArrayLike) -> tuple[np.ndarray, float]:
    """Log returns rescaled to the median sampling interval, and that interval (seconds)."""
    t = np.asarray(timestamps_s, dtype=np.float64)
    p = np.asarray(prices, dtype=np.float64)
    if t.size < 2:  # no history yet (an underlying never seen): no returns
        return np.zeros(0), 0.0
    keep = np.concatenate([[True], np.diff(t) > 0])
    t, p = t[keep], p[keep]
    if t.size < 2:
        return np.zeros(0), 0.0
    dt = np.diff(t)
    period = float(np.median(dt))
    return np.diff(np.log(p)) * np.sqrt(period / dt), period


@dataclass(frozen=True)
class VolForecast:
    sigma_annual: float
    method: Literal["garch", "ewma", "default"]
    observations: int


INTEGRATED_TOLERANCE = 1e-9


def garch_usable(g: Garch11) -> bool:
    """Stationary or integrated (on the boundary within tolerance), with a positive next-step variance."""
    return g.alpha + g.beta <= 1 + INTEGRATED_TOLERANCE and g.last_variance > 0


def forecast_vol(
    timestamps_s: ArrayLike,
    prices: ArrayLike,
    horizon_s: float,
    *,
    default_annual: float,
    ewma_decay: float = 0.94,
    min_obs: int = 100,
) -> VolForecast:
    """Annualised vol averaged over the next ``horizon_s`` seconds (module docstring for the method order)."""
    r, period = even_returns(timestamps_s, prices)
    if r.size < 2:
        return VolForecast(default_annual, "default", int(r.size))
    per_year = SECONDS_PER_YEAR / period
    if r.size >= min_obs and float(np.std(r)) > 0:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g = Garch11.fit(r)
            if garch_usable(g):
                steps = max(1, math.ceil(horizon_s / period))
                return VolForecast(g.forecast(steps, per_year), "garch", int(r.size))
        except (ValueError, np.linalg.LinAlgError):
            pass
    return VolForecast(Ewma(ewma_decay).forecast(r, per_year), "ewma", int(r.size))
