"""Stress: full revaluation of the book over a spot × vol grid and named historical shocks.

Every scenario reprices every option exactly (no Taylor expansion: delta-gamma errors reach 1e-2 of spot
for short-dated options under 20 % moves) and revalues linear exposures; Aave health is recomputed with the
shocked prices, so each scenario carries a liquidation flag per protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from keeper._typing import ArrayLike, BoolArray1D, Float64Array1D, Float64Array2D
from keeper.risk.black import price
from keeper.risk.portfolio import OptionBook


@dataclass(frozen=True)
class HistoricalShock:
    name: str
    date: str
    spot_return: dict[str, float]  # per underlying symbol, simple return
    vol_multiplier: float  # implied vol × this
    source: str


# Approximate daily (or stated-window) close-to-close moves from public exchange price history; implied-vol
# multipliers are the rough jump in 30-day ATM implied vol (Deribit DVOL where it existed, realised otherwise).
HISTORICAL_SHOCKS: tuple[HistoricalShock, ...] = (
    HistoricalShock(
        "Black Thursday",
        "2020-03-12",
        {"WETH": -0.43, "WBTC": -0.39},
        2.5,
        "ETH-USD ≈ 194 → 111, BTC-USD ≈ 7,900 → 4,800 (daily closes, major spot exchanges)",
    ),
    HistoricalShock(
        "China mining ban",
        "2021-05-19",
        {"WETH": -0.27, "WBTC": -0.14},
        1.8,
        "ETH-USD ≈ 3,380 → 2,460 close-to-close (intraday −40 %); BTC ≈ 42,900 → 37,000",
    ),
    HistoricalShock(
        "LUNA/UST collapse",
        "2022-05-09/12",
        {"WETH": -0.27, "WBTC": -0.20},
        1.6,
        "3-day window: ETH ≈ 2,520 → 1,840, BTC ≈ 34,100 → 28,900",
    ),
    HistoricalShock(
        "Celsius/3AC",
        "2022-06-13",
        {"WETH": -0.16, "WBTC": -0.15},
        1.5,
        "ETH ≈ 1,450 → 1,210, BTC ≈ 26,600 → 22,500 (daily closes)",
    ),
    HistoricalShock(
        "FTX",
        "2022-11-08/09",
        {"WETH": -0.28, "WBTC": -0.20},
        1.7,
        "2-day window: ETH ≈ 1,570 → 1,100, BTC ≈ 20,600 → 15,900",
    ),
    HistoricalShock(
        "Yen carry unwind",
        "2024-08-05",
        {"WETH": -0.21, "WBTC": -0.15},
        1.9,
        "intraday: ETH ≈ 2,900 → 2,200, BTC ≈ 58,000 → 49,000",
    ),
)


def default_grid() -> tuple[Float64Array1D, Float64Array1D]:
    """21 spot shocks (−50 % … +50 % in 5 % steps) × 11 vol shocks (−50 % … +100 % relative): 231 scenarios."""
    return np.linspace(-0.5, 0.5, 21), np.linspace(-0.5, 1.0, 11)


@dataclass(frozen=True)
class StressResult:
    spot_shocks: Float64Array1D
    vol_shocks: Float64Array1D
    pnl_usd: Float64Array2D  # (vol, spot)
    aave_liquidated: np.ndarray  # (vol, spot) bool: HF < 1 under the shocked prices
    venue_liquidated: np.ndarray  # (vol, spot) bool: margin below maintenance (if a venue function is given)

    @property
    def worst_loss_usd(self) -> float:
        return float(-min(0.0, self.pnl_usd.min()))


def grid_pnl(
    book: OptionBook,
    spot_usd: ArrayLike,
    rate: float,
    linear_units: ArrayLike,
    spot_shocks: ArrayLike,
    vol_shocks: ArrayLike,
) -> Float64Array2D:
    """PnL (USD) of the book over every (vol shock, spot shock), all underlyings shocked together.

    One vectorised pricing call over positions × scenarios; memory O(n · scenarios)."""
    spot = np.asarray(spot_usd, dtype=np.float64)
    linear = np.asarray(linear_units, dtype=np.float64)
    ds = np.asarray(spot_shocks, dtype=np.float64)
    dv = np.asarray(vol_shocks, dtype=np.float64)
    idx = np.asarray(book.underlying_index)
    s0 = spot[idx]
    base = float(np.sum(book.size * price(s0, book.strike, book.t_years, book.vol, rate, book.is_call)))
    # Scenario axis last: (n, v, s) broadcast, flattened for one pricing call.
    s = (s0[:, None, None] * (1.0 + ds[None, None, :])) * np.ones((1, dv.size, 1))
    v = (book.vol[:, None, None] * (1.0 + dv[None, :, None])) * np.ones((1, 1, ds.size))
    shape = (idx.size, dv.size, ds.size)

    def tile(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a[:, None, None], shape).ravel()

    values = price(s.ravel(), tile(book.strike), tile(book.t_years), v.ravel(), rate, tile(book.is_call))
    option_values = np.tensordot(book.size, values.reshape(shape), axes=(0, 0))
    linear_pnl = float(np.sum(linear * spot)) * ds[None, :]
    return option_values - base + linear_pnl


def stress(
    book: OptionBook,
    spot_usd: ArrayLike,
    rate: float,
    linear_units: ArrayLike,
    aave_collateral_units: ArrayLike,
    aave_debt_units: ArrayLike,
    aave_prices_usd: ArrayLike,
    aave_lt: ArrayLike,
    aave_shocked: ArrayLike,
    spot_shocks: ArrayLike | None = None,
    vol_shocks: ArrayLike | None = None,
    venue_surplus: Callable[[float, float], float] | None = None,
) -> StressResult:
    """Grid stress with liquidation flags. ``aave_shocked`` marks the Aave reserves moved by the spot shock
    (the non-stable ones); ``venue_surplus(spot_shock, vol_shock)`` returns margin surplus (USD) if given."""
    ds, dv = (
        default_grid()[0] if spot_shocks is None else np.asarray(spot_shocks, dtype=np.float64),
        default_grid()[1] if vol_shocks is None else np.asarray(vol_shocks, dtype=np.float64),
    )
    pnl = grid_pnl(book, spot_usd, rate, linear_units, ds, dv)
    c, d, p, lt = (
        np.asarray(a, dtype=np.float64) for a in (aave_collateral_units, aave_debt_units, aave_prices_usd, aave_lt)
    )
    moved: BoolArray1D = np.asarray(aave_shocked, dtype=bool)
    prices = p[None, :] * np.where(moved[None, :], 1.0 + ds[:, None], 1.0)  # (spot, assets)
    debt = prices @ d
    hf = np.where(debt > 0, (prices @ (c * lt)) / np.where(debt > 0, debt, 1.0), np.inf)
    aave = np.broadcast_to(hf[None, :] < 1.0, pnl.shape).copy()
    venue = np.zeros(pnl.shape, dtype=bool)
    if venue_surplus is not None:
        for i, v_shock in enumerate(dv):
            for j, s_shock in enumerate(ds):
                venue[i, j] = venue_surplus(float(s_shock), float(v_shock)) < 0
    return StressResult(ds, dv, pnl, aave, venue)
