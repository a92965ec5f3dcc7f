"""Liquidation distance: how far prices can move before a position is liquidated.

Aave: HF(p) = Σ cᵢ·pᵢ·LTᵢ / Σ dⱼ·pⱼ (collateral units c, debt units d, prices p in USD, liquidation
thresholds LT). Scaling the price of a set of assets by m makes numerator and denominator affine in m:
N(m) = N₀ + (m − 1)·A and D(m) = D₀ + (m − 1)·B, with A = Σ_set c·p·LT and B = Σ_set d·p. So HF(m) = 1 at

    m* = 1 + (D₀ − N₀) / (A − B)        (closed form, exact; no scanning)

valid when m* > 0. A > B means the set is net collateral (liquidation on a fall), A < B net debt (on a rise).
The venue's margin has no closed form: :func:`threshold_move` finds the root of any surplus function on a
bracket (scan for a sign change, then Brent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from keeper.model.arrays import ArrayLike, BoolArray1D, Float64Array1D


@dataclass(frozen=True)
class AaveLiquidation:
    """Liquidation price multipliers (m* = liquidation price / current price); NaN = never liquidated.

    per_asset[i]: asset i alone moves. joint: every non-stable asset moves together.
    health_factor: current HF (inf without debt).
    """

    health_factor: float
    per_asset: Float64Array1D
    joint: float

    def per_asset_move(self) -> Float64Array1D:
        """Signed fractional move to liquidation per asset (−0.23 = a 23 % fall)."""
        return self.per_asset - 1.0

    @property
    def joint_move(self) -> float:
        return self.joint - 1.0


def health_factor(
    collateral_units: ArrayLike, debt_units: ArrayLike, price_usd: ArrayLike, liquidation_threshold: ArrayLike
) -> float:
    """Aave's health factor from per-asset positions (inf when there is no debt)."""
    c, d, p, lt = (
        np.asarray(a, dtype=np.float64) for a in (collateral_units, debt_units, price_usd, liquidation_threshold)
    )
    debt = float(np.sum(d * p))
    return float(np.sum(c * p * lt)) / debt if debt > 0 else float("inf")


def _multiplier(n0: float, d0: float, a: float, b: float) -> float:
    if a == b or (d0 <= 0 and b <= 0):
        return float("nan")
    m = 1.0 + (d0 - n0) / (a - b)
    return m if m > 0 else float("nan")


def aave_liquidation(
    collateral_units: ArrayLike,
    debt_units: ArrayLike,
    price_usd: ArrayLike,
    liquidation_threshold: ArrayLike,
    is_stable: ArrayLike,
) -> AaveLiquidation:
    """Exact liquidation multipliers for one Aave account (arrays over its reserves).

    Args:
        collateral_units: collateral per asset (enabled as collateral), in token units.
        debt_units: debt per asset, in token units.
        price_usd: oracle price per asset.
        liquidation_threshold: per asset, decimal (0.83 = 83 %).
        is_stable: assets excluded from the joint move (USD stablecoins).
    """
    c, d, p, lt = (
        np.asarray(a, dtype=np.float64) for a in (collateral_units, debt_units, price_usd, liquidation_threshold)
    )
    stable: BoolArray1D = np.asarray(is_stable, dtype=bool)
    if np.any(p <= 0):
        raise ValueError("price_usd must be > 0 for every reserve")
    coll_value = c * p * lt
    debt_value = d * p
    n0, d0 = float(coll_value.sum()), float(debt_value.sum())
    per_asset = np.array([_multiplier(n0, d0, float(a), float(b)) for a, b in zip(coll_value, debt_value, strict=True)])
    joint = _multiplier(n0, d0, float(coll_value[~stable].sum()), float(debt_value[~stable].sum()))
    return AaveLiquidation(n0 / d0 if d0 > 0 else float("inf"), per_asset, joint)


def threshold_move(
    surplus: Callable[[float], float],
    lo: float = -0.95,
    hi: float = 4.0,
    scan_points: int = 64,
) -> tuple[float, float]:
    """The nearest moves below and above 0 where ``surplus(move)`` crosses zero (NaN when it does not).

    ``surplus(move)`` is e.g. venue collateral − maintenance margin after a relative spot move ``move``
    (−0.2 = −20 %); it must be > 0 at move 0. The bracket is found on a grid refined near 0, then solved
    with Brent's method to 1e-12.
    """
    if not surplus(0.0) > 0:
        return 0.0, 0.0
    down = np.concatenate([-np.geomspace(1e-4, -lo, scan_points)])
    up = np.geomspace(1e-4, hi, scan_points)
    return _first_root(surplus, down), _first_root(surplus, up)


def _first_root(surplus: Callable[[float], float], grid: Float64Array1D) -> float:
    previous = 0.0
    for point in grid:
        if surplus(float(point)) <= 0:
            return float(brentq(surplus, previous, float(point), xtol=1e-12))
        previous = float(point)
    return float("nan")


def nearest_liquidation(moves: ArrayLike, sigma_annual: ArrayLike, horizon_years: float) -> tuple[float, float]:
    """The nearest of several liquidation moves (fractions), in % of price and in σ of forecast vol over the
    horizon: (|move|, |ln(1 + move)| / (σ·√h)). NaN entries (never liquidated) are ignored."""
    m = np.asarray(moves, dtype=np.float64)
    s = np.broadcast_to(np.asarray(sigma_annual, dtype=np.float64), m.shape)
    valid = np.isfinite(m) & (m > -1)
    if not valid.any():
        return float("nan"), float("nan")
    sigmas = np.abs(np.log1p(m[valid])) / (s[valid] * np.sqrt(horizon_years))
    i = int(np.argmin(sigmas))
    return float(abs(m[valid][i])), float(sigmas[i])
