"""Volatility: realised estimators, EWMA and GARCH(1,1) forecasts, volatility-adjusted position sizing.

Returns are simple or log returns per period; ``periods_per_year`` annualises (365 for daily crypto bars,
365·24 for hourly). Forecasts are annualised vols over a horizon given in periods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from keeper.model.arrays import ArrayLike


def close_to_close(close: ArrayLike, periods_per_year: float) -> float:
    """Annualised standard deviation of log returns (Bessel-corrected)."""
    c = np.asarray(close, dtype=np.float64)
    return float(np.std(np.diff(np.log(c)), ddof=1) * math.sqrt(periods_per_year))


def parkinson(high: ArrayLike, low: ArrayLike, periods_per_year: float) -> float:
    """Parkinson (1980): σ² = E[ln(H/L)²] / (4 ln 2), annualised."""
    hl = np.log(np.asarray(high, dtype=np.float64) / np.asarray(low, dtype=np.float64))
    return float(math.sqrt(np.mean(hl**2) / (4 * math.log(2)) * periods_per_year))


def garman_klass(open_: ArrayLike, high: ArrayLike, low: ArrayLike, close: ArrayLike, periods_per_year: float) -> float:
    """Garman–Klass (1980): σ² = E[½ ln(H/L)² − (2 ln 2 − 1) ln(C/O)²], annualised."""
    o, h, lo, c = (np.asarray(a, dtype=np.float64) for a in (open_, high, low, close))
    var = np.mean(0.5 * np.log(h / lo) ** 2 - (2 * math.log(2) - 1) * np.log(c / o) ** 2)
    return float(math.sqrt(var * periods_per_year))


@dataclass(frozen=True)
class Ewma:
    """RiskMetrics EWMA variance: σ²ₜ = λσ²ₜ₋₁ + (1 − λ)r²ₜ₋₁ (λ = 0.94 for daily data)."""

    decay: float = 0.94

    def variance(self, returns: ArrayLike) -> float:
        r = np.asarray(returns, dtype=np.float64)
        if not 0 < self.decay < 1:
            raise ValueError(f"decay={self.decay} must be in (0, 1)")
        weights = (1 - self.decay) * self.decay ** np.arange(r.size - 1, -1, -1)
        return float(np.sum(weights * r**2) + self.decay**r.size * np.var(r))

    def forecast(self, returns: ArrayLike, periods_per_year: float) -> float:
        """Annualised vol; EWMA's forecast is flat over any horizon."""
        return math.sqrt(self.variance(returns) * periods_per_year)


@dataclass(frozen=True)
class Garch11:
    """GARCH(1,1) σ²ₜ = ω + α r²ₜ₋₁ + β σ²ₜ₋₁, fitted by maximum likelihood with the ``arch`` package."""

    omega: float
    alpha: float
    beta: float
    last_variance: float  # per period, of the last fitted period's next step

    @classmethod
    def fit(cls, returns: ArrayLike) -> Garch11:
        from arch import arch_model

        r = np.asarray(returns, dtype=np.float64)
        scale = 100.0  # arch's optimiser is best conditioned with returns in percent
        result = arch_model(r * scale, mean="Zero", vol="GARCH", p=1, q=1, dist="normal").fit(disp="off")
        omega, alpha, beta = (float(result.params[k]) for k in ("omega", "alpha[1]", "beta[1]"))
        next_var = float(result.forecast(horizon=1, reindex=False).variance.values[-1, 0])
        return cls(omega / scale**2, alpha, beta, next_var / scale**2)

    def forecast(self, horizon_periods: int, periods_per_year: float) -> float:
        """Annualised vol averaged over the next ``horizon_periods`` (mean-reverting to ω/(1 − α − β))."""
        persistence = self.alpha + self.beta
        long_run = self.omega / (1 - persistence) if persistence < 1 else self.last_variance
        steps = np.arange(horizon_periods)
        path = long_run + persistence**steps * (self.last_variance - long_run)
        return math.sqrt(float(np.mean(path)) * periods_per_year)


def max_notional(risk_budget_usd: float, sigma_annual: float, horizon_years: float, confidence: float = 0.99) -> float:
    """Largest notional whose one-sided loss at ``confidence`` over the horizon stays within the budget:
    notional = budget / (z · σ · √h)."""
    if not (risk_budget_usd > 0 and sigma_annual > 0 and horizon_years > 0 and 0.5 < confidence < 1):
        raise ValueError("risk_budget_usd, sigma_annual, horizon_years must be > 0 and confidence in (0.5, 1)")
    return risk_budget_usd / (float(norm.ppf(confidence)) * sigma_annual * math.sqrt(horizon_years))
