"""Stress: full revaluation of the book over a spot × vol grid and named historical shocks.

Every scenario reprices every option exactly (no Taylor expansion: delta-gamma errors reach 1e-2 of spot
for short-dated options under 20 % moves) and revalues linear exposures; Aave health is recomputed with the
shocked prices, so each scenario carries a liquidation flag per protocol. :func:`grid` also returns the net
Greeks of the book in every scenario (the hedge it would need there).

:func:`grid` runs a compiled kernel (``keeper.risk._kernels.grid_kernel``): per position the terms that do not
change across scenarios are computed once (√T, e^{−rT}, ln(S/K) + rT; a spot shock shifts ln(F/K) by
ln(1 + shock), a vol shock scales σ), and one vectorised loop over the scenarios accumulates value and Greeks
per underlying. :func:`grid_reference` is the same revaluation through the numpy pricer, the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from keeper.model.arrays import ArrayLike, BoolArray1D, Float64Array1D, Float64Array2D
from keeper.risk import _kernels
from keeper.risk.black import greeks_reference
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
    # Upside: what hurts a short-call book (a squeeze), absent from the crashes above.
    HistoricalShock(
        "New-year 2021 rally",
        "2021-01-01/04",
        {"WETH": 0.42, "WBTC": 0.10},
        1.35,
        "3-day window: ETH-USD ≈ 730 → 1,040, BTC-USD ≈ 29,000 → 31,900 (daily closes)",
    ),
    HistoricalShock(
        "ETH ETF approval",
        "2024-05-20/21",
        {"WETH": 0.23, "WBTC": 0.06},
        1.4,
        "2-day window: ETH-USD ≈ 3,070 → 3,780 on the SEC's 19b-4 signal, BTC ≈ 66,900 → 70,900",
    ),
)


def default_grid() -> tuple[Float64Array1D, Float64Array1D]:
    """21 spot shocks (−50 % … +50 % in 5 % steps) × 11 vol shocks (−50 % … +100 % relative): 231 scenarios."""
    return np.linspace(-0.5, 0.5, 21), np.linspace(-0.5, 1.0, 11)


@dataclass(frozen=True)
class GridRevaluation:
    """The book under every (vol shock, spot shock); per-underlying arrays are (u, vol, spot). Units as in
    ``portfolio.NetGreeks``; linear exposures are included in PnL and delta."""

    spot_shocks: Float64Array1D
    vol_shocks: Float64Array1D
    pnl_usd: Float64Array2D  # (vol, spot): all underlyings shocked together
    value_usd: np.ndarray  # options' value + linear exposure value, per underlying
    delta_units: np.ndarray
    delta_usd: np.ndarray  # at the shocked spot
    gamma_usd_per_pct: np.ndarray
    vega_usd_per_vol_pt: np.ndarray
    theta_usd_per_day: np.ndarray
    rho_usd_per_pct: np.ndarray


@dataclass(frozen=True)
class StressResult:
    spot_shocks: Float64Array1D
    vol_shocks: Float64Array1D
    pnl_usd: Float64Array2D  # (vol, spot)
    aave_liquidated: np.ndarray  # (vol, spot) bool: HF < 1 under the shocked prices
    venue_liquidated: np.ndarray  # (vol, spot) bool: margin below maintenance (if a venue function is given)
    greeks: GridRevaluation | None = None  # net Greeks in every scenario

    @property
    def worst_loss_usd(self) -> float:
        return float(-min(0.0, self.pnl_usd.min()))


def _grid_inputs(
    book: OptionBook, spot_usd: ArrayLike, linear_units: ArrayLike, spot_shocks: ArrayLike, vol_shocks: ArrayLike
) -> tuple[Float64Array1D, Float64Array1D, Float64Array1D, Float64Array1D, np.ndarray]:
    spot = np.ascontiguousarray(spot_usd, dtype=np.float64).reshape(-1)
    linear = np.broadcast_to(np.asarray(linear_units, dtype=np.float64), spot.shape)
    ds = np.ascontiguousarray(spot_shocks, dtype=np.float64).reshape(-1)
    dv = np.ascontiguousarray(vol_shocks, dtype=np.float64).reshape(-1)
    if not (np.all(ds > -1.0) and np.all(dv >= -1.0)):
        raise ValueError(
            f"spot shocks must be > −1 and vol shocks ≥ −1 (relative): got min spot shock {ds.min()!r}, "
            f"min vol shock {dv.min()!r}; a shock of −1 would put spot or vol at 0 or below"
        )
    idx = np.ascontiguousarray(book.underlying_index, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= spot.size):
        raise ValueError(
            f"underlying_index must be in 0..{spot.size - 1} (one spot per underlying): "
            f"got {idx.min()}..{idx.max()}; pass a spot for every underlying"
        )
    return spot, linear, ds, dv, idx


def _revalue(
    book: OptionBook, spot: Float64Array1D, rate: float, idx: np.ndarray, ds: Float64Array1D, dv: Float64Array1D
) -> list[np.ndarray]:
    """Kernel call: six (u, vol·spot) arrays of size-weighted value, Δ, Γ, vega, Θ, ρ."""
    out = [np.zeros((spot.size, dv.size * ds.size)) for _ in range(6)]
    bad = _kernels.grid_kernel(
        idx,
        np.ascontiguousarray(book.size, dtype=np.float64).reshape(-1),
        np.ascontiguousarray(book.strike, dtype=np.float64).reshape(-1),
        np.ascontiguousarray(book.t_years, dtype=np.float64).reshape(-1),
        np.ascontiguousarray(book.vol, dtype=np.float64).reshape(-1),
        np.ascontiguousarray(book.is_call, dtype=np.bool_).reshape(-1),
        spot,
        float(rate),
        1.0 + ds,
        1.0 + dv,
        *out,
    )
    if bad:
        raise ValueError(
            "book and spot must have strike > 0, spot > 0 and vol ≥ 0: "
            f"{bad} positions do not (min strike {np.min(book.strike)!r}, min spot {spot.min()!r}, "
            f"min vol {np.min(book.vol)!r}); drop or fix them"
        )
    return out


def grid(
    book: OptionBook,
    spot_usd: ArrayLike,
    rate: float,
    linear_units: ArrayLike,
    spot_shocks: ArrayLike,
    vol_shocks: ArrayLike,
) -> GridRevaluation:
    """Full revaluation with Greeks over every (vol shock, spot shock), all underlyings shocked together.

    ``spot_usd`` and ``linear_units`` are per underlying; shocks are relative (spot × (1 + ds), vol × (1 + dv)).
    Memory O(u · scenarios), not O(positions · scenarios)."""
    spot, linear, ds, dv, idx = _grid_inputs(book, spot_usd, linear_units, spot_shocks, vol_shocks)
    shape = (spot.size, dv.size, ds.size)
    per_underlying = [x.reshape(shape) for x in _revalue(book, spot, rate, idx, ds, dv)]
    base = _revalue(book, spot, rate, idx, np.zeros(1), np.zeros(1))[0][:, 0]
    return _assemble(ds, dv, spot, linear, base, *per_underlying)


def _assemble(
    ds: Float64Array1D,
    dv: Float64Array1D,
    spot: Float64Array1D,
    linear: Float64Array1D,
    base: Float64Array1D,
    value: np.ndarray,
    delta: np.ndarray,
    gamma: np.ndarray,
    vega: np.ndarray,
    theta: np.ndarray,
    rho: np.ndarray,
) -> GridRevaluation:
    """Size-weighted option sums per (underlying, vol, spot) plus linear exposures, in the result's units."""
    shocked_spot = spot[:, None, None] * (1.0 + ds)[None, None, :]
    linear_value = linear[:, None, None] * shocked_spot
    delta_units = delta + linear[:, None, None]
    pnl = (value - base[:, None, None] + linear_value - (linear * spot)[:, None, None]).sum(axis=0)
    return GridRevaluation(
        spot_shocks=ds,
        vol_shocks=dv,
        pnl_usd=pnl,
        value_usd=value + linear_value,
        delta_units=delta_units,
        delta_usd=delta_units * shocked_spot,
        gamma_usd_per_pct=gamma * shocked_spot * shocked_spot * 0.01,
        vega_usd_per_vol_pt=vega / 100.0,
        theta_usd_per_day=theta / 365.0,
        rho_usd_per_pct=rho / 100.0,
    )


def grid_pnl(
    book: OptionBook,
    spot_usd: ArrayLike,
    rate: float,
    linear_units: ArrayLike,
    spot_shocks: ArrayLike,
    vol_shocks: ArrayLike,
) -> Float64Array2D:
    """PnL (USD) of the book over every (vol shock, spot shock), all underlyings shocked together: the
    ``pnl_usd`` of :func:`grid`."""
    return grid(book, spot_usd, rate, linear_units, spot_shocks, vol_shocks).pnl_usd


def grid_reference(
    book: OptionBook,
    spot_usd: ArrayLike,
    rate: float,
    linear_units: ArrayLike,
    spot_shocks: ArrayLike,
    vol_shocks: ArrayLike,
) -> GridRevaluation:
    """:func:`grid` through the numpy pricer: one vectorised call over positions × scenarios (memory
    O(n · scenarios)), summed per underlying. The reference the kernel is tested against."""
    spot, linear, ds, dv, idx = _grid_inputs(book, spot_usd, linear_units, spot_shocks, vol_shocks)
    n, u = idx.size, spot.size
    shape = (n, dv.size, ds.size)

    def tile(a: ArrayLike) -> np.ndarray:
        return np.broadcast_to(np.asarray(a)[:, None, None], shape).ravel()

    s0 = spot[idx]
    s = (s0[:, None, None] * (1.0 + ds)[None, None, :] * np.ones((1, dv.size, 1))).ravel()
    v = (np.asarray(book.vol)[:, None, None] * (1.0 + dv)[None, :, None] * np.ones((1, 1, ds.size))).ravel()
    g = greeks_reference(s, tile(book.strike), tile(book.t_years), v, rate, tile(book.is_call))
    base = greeks_reference(s0, book.strike, book.t_years, book.vol, rate, book.is_call).price
    weights = np.asarray(book.size, dtype=np.float64)

    def per_underlying(x: np.ndarray) -> np.ndarray:
        total = np.zeros((u, dv.size, ds.size))
        np.add.at(total, idx, weights[:, None, None] * x.reshape(shape))
        return total

    base_u = np.bincount(idx, weights=weights * base, minlength=u).astype(np.float64)
    sums = [per_underlying(getattr(g, name)) for name in ("price", "delta", "gamma", "vega", "theta", "rho")]
    return _assemble(ds, dv, spot, linear, base_u, *sums)


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
    revaluation = grid(book, spot_usd, rate, linear_units, ds, dv)
    pnl = revaluation.pnl_usd
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
    return StressResult(ds, dv, pnl, aave, venue, revaluation)
