"""PnL attribution between two snapshots of a book: Greeks × moves, cross terms, unexplained residual; and
alpha/beta of a return series against the underlying's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from keeper.model.arrays import ArrayLike, Float64Array1D
from keeper.risk.black import greeks, price


@dataclass(frozen=True)
class Attribution:
    """USD. ``actual`` = full revaluation; ``residual`` = actual − the sum of the explained terms."""

    delta: float
    gamma: float
    vega: float
    volga: float
    vanna: float
    theta: float
    rho: float
    actual: float

    @property
    def explained(self) -> float:
        return self.delta + self.gamma + self.vega + self.volga + self.vanna + self.theta + self.rho

    @property
    def residual(self) -> float:
        return self.actual - self.explained


def attribute(
    size: ArrayLike,
    strike: ArrayLike,
    is_call: ArrayLike,
    spot0: ArrayLike,
    vol0: ArrayLike,
    t0_years: ArrayLike,
    rate0: float,
    spot1: ArrayLike,
    vol1: ArrayLike,
    dt_years: float,
    rate1: float,
) -> Attribution:
    """Second-order Taylor attribution of the book's PnL from snapshot 0 to snapshot 1 (per-option arrays;
    ``t0_years`` is time to expiry at snapshot 0, ``dt_years`` the elapsed time)."""
    n = np.asarray(size, dtype=np.float64)
    k, c = np.asarray(strike, dtype=np.float64), np.asarray(is_call)
    s0, v0, t0 = (np.asarray(a, dtype=np.float64) for a in (spot0, vol0, t0_years))
    s1, v1 = np.asarray(spot1, dtype=np.float64), np.asarray(vol1, dtype=np.float64)
    g = greeks(s0, k, t0, v0, rate0, c)
    ds, dv, dr = s1 - s0, v1 - v0, rate1 - rate0
    actual = float(np.sum(n * (price(s1, k, t0 - dt_years, v1, rate1, c) - g.price)))
    return Attribution(
        delta=float(np.sum(n * g.delta * ds)),
        gamma=float(np.sum(n * 0.5 * g.gamma * ds * ds)),
        vega=float(np.sum(n * g.vega * dv)),
        volga=float(np.sum(n * 0.5 * g.volga * dv * dv)),
        vanna=float(np.sum(n * g.vanna * ds * dv)),
        theta=float(np.sum(n * g.theta * dt_years)),
        rho=float(np.sum(n * g.rho * dr)),
        actual=actual,
    )


@dataclass(frozen=True)
class AlphaBeta:
    alpha_per_period: float
    beta: float
    r_squared: float


def alpha_beta(portfolio_returns: ArrayLike, underlying_returns: ArrayLike) -> AlphaBeta:
    """OLS of portfolio returns on the underlying's: r_p = α + β·r_u + ε (same periods)."""
    y = np.asarray(portfolio_returns, dtype=np.float64)
    x = np.asarray(underlying_returns, dtype=np.float64)
    if y.size != x.size or y.size < 3:
        raise ValueError(f"need ≥ 3 paired returns; got {y.size} portfolio and {x.size} underlying")
    design = np.column_stack([np.ones_like(x), x])
    (alpha, beta), *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted: Float64Array1D = design @ np.array([alpha, beta])
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((y - fitted) ** 2)) / total if total > 0 else 0.0
    return AlphaBeta(float(alpha), float(beta), r2)
