"""The option side of an assessment: per-venue books valued with the venue's own formulas, net Greeks per
underlying, the shorts the policy may buy back, per-account margin views, venue liquidation distance and the
venue's stress flags. Pure functions over the lens state; no I/O."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from adapters.vault_lens import OptionsState
from keeper.app.venue_book import LiveOptions, VenueBook, live_options, venue_book
from keeper.model import ShortOption, VenueAccountView
from keeper.risk.black import greeks
from keeper.risk.portfolio import NetGreeks, net_greeks
from keeper.venue import model as venue


@dataclass(frozen=True)
class OptionsView:
    """Every venue of the vault at one block. Per-underlying arrays follow ``symbols``."""

    symbols: tuple[str, ...]
    venues: tuple[VenueBook, ...]
    live: tuple[LiveOptions, ...]
    greeks: NetGreeks | None  # options only (no linear exposure); None without options
    shorts: tuple[ShortOption, ...] = ()
    accounts: tuple[VenueAccountView, ...] = ()
    stale: tuple[str, ...] = field(default_factory=tuple)  # why the venue cannot be traded now

    @property
    def positions(self) -> int:
        return int(sum(lv.book.size.size for lv in self.live))

    @property
    def equity_usd(self) -> float:
        return sum(v.equity_usd for v in self.venues)

    @property
    def maintenance_usd(self) -> float:
        return sum(v.maintenance_usd for v in self.venues)

    def worst_margin_ratio(self) -> float:
        return min((v.worst_ratio()[0] for v in self.venues), default=math.inf)


def options_view(
    states: Sequence[OptionsState],
    now_s: int,
    symbol_of: dict[str, str],
    symbols: Sequence[str],
    spot_usd: np.ndarray,
    haircuts: Mapping[str, float] | None = None,
) -> OptionsView:
    """Value every venue account with the venue's formulas and aggregate Greeks per underlying (``spot_usd`` in
    the order of ``symbols``; ``haircuts``: venue market, lower case → its pool's haircut on longs)."""
    h = haircuts or {}
    venues = tuple(venue_book(s, now_s, symbol_of, h.get(s.market.lower(), 0.0)) for s in states)
    lives = tuple(live_options(v, list(symbols)) for v in venues)
    total: NetGreeks | None = None
    shorts: list[ShortOption] = []
    for v, lv in zip(venues, lives, strict=True):
        if lv.book.size.size == 0:
            continue
        g = net_greeks(lv.book, spot_usd, v.market.rate, np.zeros(len(symbols)))
        total = g if total is None else _add(total, g)
        shorts += _shorts(v, lv, symbols, spot_usd)
    accounts = tuple(
        VenueAccountView(a, m.equity_usd, m.maintenance_usd, m.initial_usd)
        for v in venues
        for a, m in v.margins.items()
    )
    return OptionsView(tuple(symbols), venues, lives, total, tuple(shorts), accounts, _staleness(states, now_s))


def _add(a: NetGreeks, b: NetGreeks) -> NetGreeks:
    return NetGreeks(*(x + y for x, y in zip(a.__dict__.values(), b.__dict__.values(), strict=True)))


def _shorts(v: VenueBook, lv: LiveOptions, symbols: Sequence[str], spot_usd: np.ndarray) -> list[ShortOption]:
    short = lv.book.size < 0
    if not short.any():
        return []
    b = lv.book
    g = greeks(
        spot_usd[b.underlying_index[short]],
        b.strike[short],
        b.t_years[short],
        b.vol[short],
        v.market.rate,
        b.is_call[short],
    )
    return [
        ShortOption(
            series_id=int(series),
            underlying=symbols[int(u)],
            size=float(size),
            gamma_units_per_usd_each=float(gamma),
            vega_usd_per_vol_pt_each=float(vega) / 100.0,
            ask_usd=float(ask),
            account_id=int(account),
        )
        for series, u, size, gamma, vega, ask, account in zip(
            lv.series_id[short],
            b.underlying_index[short],
            b.size[short],
            g.gamma,
            g.vega,
            lv.ask_usd[short],
            lv.account_id[short],
            strict=True,
        )
    ]


def _staleness(states: Sequence[OptionsState], now_s: int) -> tuple[str, ...]:
    """Venue inputs too old to trade on (the venue itself would refuse: StalePrice / StaleVolSurface)."""
    out = []
    for s in states:
        max_vol_age = int(s.params["volMaxAgeSeconds"])
        for i, u in enumerate(s.underlyings):
            if now_s - u.spot_updated_at > u.max_price_age_seconds:
                out.append(f"venue spot {i} is {now_s - u.spot_updated_at} s old > {u.max_price_age_seconds} s")
        for surface in s.surfaces:
            if surface.expiry_s > now_s and now_s - surface.updated_at > max_vol_age:
                out.append(
                    f"venue vol surface ({surface.underlying_id}, {surface.expiry_s}) is "
                    f"{now_s - surface.updated_at} s old > {max_vol_age} s"
                )
    return tuple(out)


def liquidation_moves(view: OptionsView, accounts: int = 1) -> list[float]:
    """Nearest relative spot moves (down and up, per underlying) at which the tightest ``accounts`` venue accounts
    reach maintenance margin: root-finding on the venue's own margin formula."""
    ranked = sorted(
        (
            (m.equity_usd / m.maintenance_usd, v, a)
            for v in view.venues
            for a, m in v.margins.items()
            if m.maintenance_usd > 0
        ),
        key=lambda r: r[0],
    )
    moves: list[float] = []
    for _, v, account in ranked[:accounts]:
        portfolio, collateral = v.accounts[account]
        for uid in np.unique(portfolio.underlying):
            down, up = venue.liquidation_moves(portfolio, collateral, v.market_state, v.risk, v.market, int(uid))
            moves += [down, up]
    return moves


def stress_surplus(view: OptionsView) -> Callable[[float, float], float] | None:
    """``venue_surplus(spot_shock, vol_shock)`` for the stress grid: the lowest surplus (equity − MM, USD) over the
    vault's venue accounts under the shock; None without venue accounts."""
    surplus = [
        venue.stress_surplus(portfolio, collateral, v.market_state, v.risk, v.market)
        for v in view.venues
        for portfolio, collateral in v.accounts.values()
    ]
    if not surplus:
        return None
    return lambda spot_shock, vol_shock: min(f(spot_shock, vol_shock) for f in surplus)
