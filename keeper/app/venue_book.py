"""One venue's book for one block, valued off-chain with the venue's own formulas (``keeper.venue.model``).

The lens gives integers (USDC E6, WAD prices, sizes and vols, see ``adapters.vault_lens``); here they become the
model's inputs in base units (USD, units of underlying, decimal vols, years). The model values every account
exactly as the chain does (to ~1e-13), so the keeper can value the book from storage reads alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from adapters.vault_lens import OptionPositions, OptionsState
from keeper.risk.portfolio import OptionBook
from keeper.venue import model as venue

WAD = 10**18
YEAR_SECONDS = venue.YEAR_SECONDS


def portfolio_of(p: OptionPositions, rows: np.ndarray | None = None) -> venue.Portfolio:
    """The lens's positions (those selected by ``rows``, a mask or indices; all by default) as the model's input."""
    columns = (p.underlying_id, p.expiry_s, p.strike_usd, p.is_call, p.size, p.settlement_usd)
    return venue.Portfolio(*(columns if rows is None else (c[rows] for c in columns)))


def live_portfolio(p: OptionPositions, now_s: int) -> venue.Portfolio | None:
    """The unexpired, non-zero positions, or None when there are none."""
    live = (p.expiry_s > now_s) & (p.size != 0)
    return portfolio_of(p, live) if live.any() else None


@dataclass(frozen=True)
class VenueBook:
    """One venue's view for one block: the model's inputs, every account's portfolio and margin (USD)."""

    state: OptionsState
    risk: venue.RiskParams
    market: venue.MarketParams
    market_state: venue.MarketState
    accounts: dict[int, tuple[venue.Portfolio, float]]  # account id → (portfolio, collateral USD)
    margins: dict[int, venue.Margin]
    underlying_symbol: dict[int, str]  # the venue's underlying id → token symbol
    haircut: float = 0.0  # the pool's haircut on what it owes longs (poolHaircutWad / 1e18; 0 while solvent)
    haircut_usd: dict[int, float] = field(default_factory=dict)  # account id → its longs' value the pool cannot pay

    @property
    def equity_usd(self) -> float:
        """What the vault's accounts are worth to it (the venue's ``equitiesOf``, the NAV's venue term): margin
        equity less the pool's haircut on their unsettled longs. Margin checks and liquidations use the margin
        equity itself (``margins``): the venue does not haircut there."""
        return sum(m.equity_usd for m in self.margins.values()) - sum(self.haircut_usd.values())

    @property
    def maintenance_usd(self) -> float:
        return sum(m.maintenance_usd for m in self.margins.values())

    def worst_ratio(self) -> tuple[float, int]:
        """The lowest equity / maintenance ratio over accounts with a requirement, and its account (inf, 0)."""
        ratios = [(m.equity_usd / m.maintenance_usd, a) for a, m in self.margins.items() if m.maintenance_usd > 0]
        return min(ratios) if ratios else (math.inf, 0)


def venue_book(state: OptionsState, now_s: int, symbol_of: dict[str, str], haircut: float = 0.0) -> VenueBook:
    """Model inputs from the lens (``symbol_of``: token address, lower case → symbol). ``haircut``: the pool's
    ``poolHaircutWad`` / 1e18 at the same block (``keeper.app.reader``); while the pool is insolvent each account's
    longs not yet settled count at mark × (1 − haircut), as the venue values them. Longs of a settled expiry are
    cut by the haircut fixed at settlement, which no view returns: counted whole (the keeper cashes them in the
    tick that settles them)."""
    risk = venue.RiskParams.from_chain(state.risk)
    market = venue.MarketParams.from_chain(state.params)
    spots = np.array([u.spot_wad / WAD for u in state.underlyings], dtype=np.float64)
    surfaces = {
        (s.underlying_id, s.expiry_s): venue.Surface(s.atm_vol_wad / WAD, s.skew_wad / WAD, s.smile_wad / WAD)
        for s in state.surfaces
    }
    market_state = venue.MarketState(now_s, spots, surfaces)
    p = state.positions
    accounts: dict[int, tuple[venue.Portfolio, float]] = {}
    margins: dict[int, venue.Margin] = {}
    haircuts: dict[int, float] = {}
    for account in state.accounts:
        portfolio = portfolio_of(p, p.account_id == account.account_id)
        collateral = account.collateral_e6 / 1e6
        accounts[account.account_id] = (portfolio, collateral)
        margins[account.account_id] = venue.margin(portfolio, collateral, market_state, risk, market)
        if haircut > 0:  # what the pool cannot pay of this account's longs (the venue's equityOf nets it)
            recoverable = venue.recoverable_equity(portfolio, collateral, market_state, market, haircut)
            haircuts[account.account_id] = margins[account.account_id].equity_usd - recoverable
    symbols = {i: symbol_of.get(u.asset.lower(), f"underlying{i}") for i, u in enumerate(state.underlyings)}
    return VenueBook(state, risk, market, market_state, accounts, margins, symbols, haircut, haircuts)


@dataclass(frozen=True)
class LiveOptions:
    """The live (unexpired) positions of a venue book, with what the policy and risk engine need per position."""

    book: OptionBook  # underlying_index = position in ``symbols`` (the assessor's underlying order)
    account_id: np.ndarray
    series_id: np.ndarray
    mark_usd: np.ndarray  # per unit, the venue's mid
    ask_usd: np.ndarray  # per unit, what buying one more costs at the venue


def live_options(vb: VenueBook, symbols: list[str]) -> LiveOptions:
    """Unexpired positions as the risk engine's ``OptionBook`` indexed by ``symbols`` (positions on an underlying
    outside ``symbols`` are dropped: the vault tracks every underlying it trades)."""
    p = vb.state.positions
    now = vb.market_state.now_s
    index = {s: i for i, s in enumerate(symbols)}
    mapped = np.array([index.get(vb.underlying_symbol.get(int(u), ""), -1) for u in p.underlying_id], dtype=np.int64)
    live = (p.expiry_s > now) & (p.size != 0) & (mapped >= 0)
    portfolio = portfolio_of(p)
    vols = venue.position_vols(portfolio, vb.market_state, vb.market)
    marks = venue.marks(portfolio, vb.market_state, vb.market)
    spot = vb.market_state.spot_usd[p.underlying_id] if len(p) else np.zeros(0)
    fee = vb.market.spot_fee * spot + vb.market.price_fee * marks
    book = OptionBook(
        underlying_index=mapped[live],
        size=p.size[live],
        strike=p.strike_usd[live],
        t_years=(p.expiry_s[live] - now) / YEAR_SECONDS,
        vol=vols[live],
        is_call=p.is_call[live],
    )
    return LiveOptions(book, p.account_id[live], p.series_id[live], marks[live], (marks + fee)[live])
