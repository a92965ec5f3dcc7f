"""PnL attribution of a demo run, step by step: the book held over each step (options at the venue's marks and
vols, linear exposure: held units and Aave collateral − debt in the underlying) revalued at the next step's
market, split by Greek with :func:`keeper.risk.attribution.attribute`; what the Greeks do not explain (funding,
trading costs, fees, liquidation penalties, higher orders) is the residual. Summed per time bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from keeper.app.assess import VaultAssessor
from keeper.app.venue_book import VenueBook, live_portfolio
from keeper.risk.attribution import attribute
from keeper.venue import model as venue

GREEKS = ("delta", "gamma", "vega", "vanna/volga", "theta", "residual")


@dataclass(frozen=True)
class BookSnap:
    """What the book held at one step. Arrays over the vault's underlyings (``symbols`` order)."""

    spot_usd: np.ndarray
    linear_units: np.ndarray
    venues: tuple[VenueBook, ...]
    nav_usd: float
    timestamp: int


def snap(assessor: VaultAssessor, nav_usd: float) -> BookSnap | None:
    """The book the assessor last saw (None before its first assessment)."""
    if assessor.last_book is None or assessor.last_options is None:
        return None
    book = assessor.last_book
    spot = np.array([u.spot_usd for u in book.underlyings])
    linear = np.array([u.held_units + u.collateral_units - u.debt_units for u in book.underlyings])
    return BookSnap(spot, linear, assessor.last_options.venues, nav_usd, assessor.last_timestamp)


def step_pnl(prev: BookSnap, cur: BookSnap) -> dict[str, float]:
    """USD PnL from ``prev`` to ``cur`` by Greek, for the positions held at ``prev``."""
    out = dict.fromkeys(GREEKS, 0.0)
    out["delta"] = float(np.sum(prev.linear_units * (cur.spot_usd - prev.spot_usd)))
    dt = (cur.timestamp - prev.timestamp) / venue.YEAR_SECONDS
    for v0 in prev.venues:
        v1 = next((v for v in cur.venues if v.state.market == v0.state.market), None)
        if v1 is None:
            continue
        portfolio = live_portfolio(v0.state.positions, cur.timestamp)
        if portfolio is None:
            continue
        vol0 = venue.position_vols(portfolio, v0.market_state, v0.market)
        vol1 = venue.position_vols(portfolio, v1.market_state, v1.market)
        s0 = v0.market_state.spot_usd[portfolio.underlying]
        s1 = v1.market_state.spot_usd[portfolio.underlying]
        t0 = (portfolio.expiry_s - v0.market_state.now_s) / venue.YEAR_SECONDS
        a = attribute(
            portfolio.size,
            portfolio.strike_usd,
            portfolio.is_call,
            s0,
            vol0,
            t0,
            v0.market.rate,
            s1,
            vol1,
            dt,
            v1.market.rate,
        )
        out["delta"] += a.delta
        out["gamma"] += a.gamma
        out["vega"] += a.vega
        out["vanna/volga"] += a.vanna + a.volga
        out["theta"] += a.theta + a.rho
    explained = sum(value for key, value in out.items() if key != "residual")
    out["residual"] = (cur.nav_usd - prev.nav_usd) - explained
    return out


def bucketed(hours: np.ndarray, pnl: list[dict[str, float]]) -> tuple[np.ndarray, dict[str, np.ndarray], str]:
    """Sum step PnL per day, or per hour when the run is shorter than three days; returns (bucket starts, PnL per
    Greek, unit)."""
    unit, size = ("day", 24.0) if hours.size and hours[-1] >= 72 else ("hour", 1.0)
    idx = np.floor(hours[1:] / size).astype(int) if hours.size > 1 else np.zeros(0, dtype=int)
    n = int(idx.max()) + 1 if idx.size else 1
    by = {g: np.bincount(idx, weights=[step[g] for step in pnl], minlength=n) for g in GREEKS} if pnl else {}
    return np.arange(n, dtype=float), by, unit


def payoff_curves(final: BookSnap, spot_grid_usd: np.ndarray, symbol_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Book value change vs the underlying's price (others moving in proportion): now (venue marks at the current
    vols) and at each option's expiry (payoff), with the linear exposure in both."""
    moves = spot_grid_usd / final.spot_usd[symbol_index]
    linear = np.outer(moves - 1.0, final.linear_units * final.spot_usd).sum(axis=1)
    now = linear.copy()
    expiry = linear.copy()
    for v in final.venues:
        portfolio = live_portfolio(v.state.positions, final.timestamp)
        if portfolio is None:
            continue
        base = float(np.sum(portfolio.size * venue.marks(portfolio, v.market_state, v.market)))
        for i, m in enumerate(moves):
            shocked = venue.MarketState(v.market_state.now_s, v.market_state.spot_usd * m, v.market_state.surfaces)
            now[i] += float(np.sum(portfolio.size * venue.marks(portfolio, shocked, v.market))) - base
            s = shocked.spot_usd[portfolio.underlying]
            expiry[i] += float(np.sum(portfolio.size * venue.payoff(portfolio.strike_usd, portfolio.is_call, s))) - base
    return now, expiry
