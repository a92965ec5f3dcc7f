"""A straightforward one-pass numpy/scipy Black-Scholes with Greeks: the baseline the risk engine must beat.

Written the way most code bases do it: d1/d2 once, then scipy.stats.norm.cdf/pdf for each Greek.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def greeks(
    s: np.ndarray, k: np.ndarray, t: np.ndarray, v: np.ndarray, r: np.ndarray, call: np.ndarray
) -> dict[str, np.ndarray]:
    sqrt_t = np.sqrt(t)
    d1 = (np.log(s / k) + (r + 0.5 * v * v) * t) / (v * sqrt_t)
    d2 = d1 - v * sqrt_t
    df = np.exp(-r * t)
    pdf = norm.pdf(d1)
    price = np.where(call, s * norm.cdf(d1) - k * df * norm.cdf(d2), k * df * norm.cdf(-d2) - s * norm.cdf(-d1))
    delta = np.where(call, norm.cdf(d1), norm.cdf(d1) - 1)
    gamma = pdf / (s * v * sqrt_t)
    vega = s * pdf * sqrt_t
    theta = np.where(
        call,
        -s * pdf * v / (2 * sqrt_t) - r * k * df * norm.cdf(d2),
        -s * pdf * v / (2 * sqrt_t) + r * k * df * norm.cdf(-d2),
    )
    rho = np.where(call, k * t * df * norm.cdf(d2), -k * t * df * norm.cdf(-d2))
    vanna = -pdf * d2 / v
    volga = vega * d1 * d2 / v
    return {
        "price": price,
        "delta": delta,
        "gamma": gamma,
        "vega": vega,
        "theta": theta,
        "rho": rho,
        "vanna": vanna,
        "volga": volga,
    }
