"""Net Greeks of a book per underlying, options and linear exposures together (structure of arrays).

Positions are signed contract counts (long > 0); one contract is one unit of underlying. Linear exposures
(spot held, Aave collateral − debt in the underlying) are units with delta 1 and no other Greek.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from keeper.model.arrays import ArrayLike, Float64Array1D, IntArray1D
from keeper.risk.black import greeks


@dataclass(frozen=True)
class OptionBook:
    """Arrays of shape (n,): one row per option position."""

    underlying_index: IntArray1D  # which underlying (0..u-1)
    size: Float64Array1D  # signed contracts
    strike: Float64Array1D  # USD
    t_years: Float64Array1D
    vol: Float64Array1D  # implied vol, decimal per year
    is_call: np.ndarray


@dataclass(frozen=True)
class NetGreeks:
    """Per underlying, shape (u,). Units in the names."""

    value_usd: Float64Array1D  # options' mark value + linear exposure value
    delta_units: Float64Array1D
    delta_usd: Float64Array1D
    gamma_usd_per_pct: Float64Array1D  # change of delta's USD value for a 1 % spot move
    gamma_units_per_usd: Float64Array1D
    vega_usd_per_vol_pt: Float64Array1D
    theta_usd_per_day: Float64Array1D
    rho_usd_per_pct: Float64Array1D  # per 1 % (0.01) of rate


def net_greeks(book: OptionBook, spot_usd: ArrayLike, rate: float, linear_units: ArrayLike) -> NetGreeks:
    """Aggregate option Greeks and linear exposures per underlying (``spot_usd`` and ``linear_units``
    are per underlying)."""
    spot = np.asarray(spot_usd, dtype=np.float64)
    linear = np.asarray(linear_units, dtype=np.float64)
    u = spot.size
    idx = np.asarray(book.underlying_index, dtype=np.int64)
    s = spot[idx]
    g = greeks(s, book.strike, book.t_years, book.vol, rate, book.is_call)
    size = book.size

    def total(per_option: Float64Array1D) -> Float64Array1D:
        return np.bincount(idx, weights=size * per_option, minlength=u).astype(np.float64)

    delta = total(g.delta) + linear
    gamma = total(g.gamma)
    return NetGreeks(
        value_usd=total(g.price) + linear * spot,
        delta_units=delta,
        delta_usd=delta * spot,
        gamma_usd_per_pct=gamma * spot * spot * 0.01,
        gamma_units_per_usd=gamma,
        vega_usd_per_vol_pt=total(g.vega) / 100.0,
        theta_usd_per_day=total(g.theta) / 365.0,
        rho_usd_per_pct=total(g.rho) / 100.0,
    )
