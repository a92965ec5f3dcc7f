"""What the tail-budget rule needs from a block, and the oracle history its forecast vol and regime come from.

- :func:`tail_candidates`: the options the rule may buy — buybacks of every live short (up to the short held) and
  the venue's listed series the vault does not hold (wings; with ``top_up_wings`` also those it holds long),
  priced as the venue would quote them (mark + fee, by the venue's formulas on its own surfaces) and sized by
  the LP pool's free margin: the pool sells what the vault buys, and a buy that leaves it under initial margin
  reverts. A wing's liquidity is ``pool_margin_share`` × (pool equity − pool IM) / (the IM one unit short of that
  series alone adds), a conservative bound (no netting).
- :class:`OracleHistory`: per underlying, the (timestamp, price) pairs the keeper has seen, bounded; the forecast
  vol (GARCH(1,1), EWMA fallback) and the two-state regime fit run on it in the deep refresh, after acting.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from adapters.venue_series import ListedSeries
from keeper.app.venue_book import LiveOptions, VenueBook
from keeper.config import TailBudgetConfig
from keeper.model import ListedOption, TailCandidate
from keeper.risk.black import price as bs_price
from keeper.risk.regime import even_returns, fit_regimes, forecast_vol
from keeper.venue import model as venue

WAD = 10**18
DAY = 86_400


def buyback_candidates(lv: LiveOptions, symbols: Sequence[str], cutoff_seconds: float = 0.0) -> list[TailCandidate]:
    """Every live short of one venue still tradable (more than ``cutoff_seconds``, the venue's trading cutoff, from
    expiry: inside it the venue refuses the trade with TradingClosed and the whole batch reverts), buyable back up
    to its size at the venue's ask."""
    b = lv.book
    out = []
    for j in np.flatnonzero((b.size < 0) & (b.t_years * venue.YEAR_SECONDS > cutoff_seconds)):
        out.append(
            TailCandidate(
                series_id=int(lv.series_id[j]),
                underlying=symbols[int(b.underlying_index[j])],
                strike_usd=float(b.strike[j]),
                t_years=float(b.t_years[j]),
                vol=float(b.vol[j]),
                is_call=bool(b.is_call[j]),
                ask_usd=float(lv.ask_usd[j]),
                max_units=float(-b.size[j]),
                account_id=int(lv.account_id[j]),
            )
        )
    return out


def standalone_short_im(
    p: venue.Portfolio, state: venue.MarketState, risk: venue.RiskParams, m: venue.MarketParams
) -> np.ndarray:
    """Per position of ``p`` (one unit each): the initial margin one unit short of it alone requires, USD."""
    grid = venue.spot_grid(risk)
    secs = (p.expiry_s - state.now_s).astype(np.float64)
    t = secs / venue.YEAR_SECONDS
    vol = venue.position_vols(p, state, m)
    up, down = venue.vol_multipliers(secs, risk)
    spot = state.spot_usd[p.underlying]
    mult = np.stack([np.ones_like(up), up, down])  # (3, n)
    shape = (3, grid.size, p.size.size)
    s = np.broadcast_to(spot[None, None, :] * grid[None, :, None], shape)
    v = np.broadcast_to(vol[None, None, :] * mult[:, None, :], shape)
    values = bs_price(
        s.ravel(),
        np.broadcast_to(p.strike_usd, shape).ravel(),
        np.broadcast_to(t, shape).ravel(),
        v.ravel(),
        m.rate,
        np.broadcast_to(p.is_call, shape).ravel(),
    ).reshape(shape)
    now = values[0, risk.spot_steps, :]
    worst_short = (values.reshape(-1, p.size.size) - now[None, :]).max(axis=0)  # a short loses when value rises
    return risk.im_factor * (np.maximum(worst_short, 0.0) + risk.min_short_margin * spot)


def wing_candidates(
    vb: VenueBook, listed: ListedSeries, symbols: Sequence[str], cfg: TailBudgetConfig
) -> list[TailCandidate]:
    """The venue's listed series the vault holds no position in (its first account buys them); with
    ``top_up_wings`` also those it holds long (topped up; its shorts are buybacks, :func:`buyback_candidates`);
    [] without an account."""
    if not vb.accounts:
        return []
    pos = vb.state.positions
    held = {int(i) for i, x in zip(pos.series_id, pos.size, strict=True) if x < 0 or not cfg.top_up_wings}
    return listed_wings(
        listed, vb.market_state, vb.risk, vb.market, vb.underlying_symbol, min(vb.accounts), held, symbols, cfg
    )


def listed_wings(
    listed: ListedSeries,
    state: venue.MarketState,
    risk: venue.RiskParams,
    market: venue.MarketParams,
    underlying_symbol: Mapping[int, str],
    account: int,
    held: set[int],
    symbols: Sequence[str],
    cfg: TailBudgetConfig,
) -> list[TailCandidate]:
    """Listed series outside ``held``, tradable now and expiring at least ``min_protection_days`` out, priced and
    sized as the module docstring says, bought into venue ``account``."""
    if len(listed) == 0 or not listed.pool_fresh:
        return []
    now = state.now_s
    cutoff = max(market.trading_cutoff_seconds, cfg.min_protection_days * DAY)
    index = {s: i for i, s in enumerate(symbols)}
    keep = np.array(
        [
            int(sid) not in held
            and int(e) - now > cutoff
            and index.get(underlying_symbol.get(int(u), ""), -1) >= 0
            and (int(u), int(e)) in listed.surfaces
            and listed.surfaces[(int(u), int(e))][3] > 0  # a surface was posted (else the venue refuses the trade)
            and now - listed.surfaces[(int(u), int(e))][3] <= market.vol_max_age_seconds
            for sid, u, e in zip(listed.series_id, listed.underlying_id, listed.expiry_s, strict=True)
        ],
        dtype=bool,
    )
    if not keep.any():
        return []
    surfaces = {
        key: venue.Surface(atm / WAD, skew / WAD, smile / WAD) for key, (atm, skew, smile, _) in listed.surfaces.items()
    }
    market_state = venue.MarketState(now, state.spot_usd, surfaces)
    n = int(keep.sum())
    p = venue.Portfolio(
        listed.underlying_id[keep],
        listed.expiry_s[keep],
        listed.strike_usd[keep],
        listed.is_call[keep],
        np.ones(n),
        np.zeros(n),
    )
    marks = venue.marks(p, market_state, market)
    vols = venue.position_vols(p, market_state, market)
    spot = market_state.spot_usd[p.underlying]
    ask = marks + market.spot_fee * spot + market.price_fee * marks
    free = max(0.0, (listed.pool_equity_e6 - listed.pool_initial_margin_e6) / 1e6) * cfg.pool_margin_share
    units = free / standalone_short_im(p, market_state, risk, market)
    out = []
    for j, sid in enumerate(listed.series_id[keep]):
        if units[j] <= 0 or not math.isfinite(units[j]) or marks[j] <= 0:
            continue
        out.append(
            TailCandidate(
                series_id=int(sid),
                underlying=underlying_symbol[int(p.underlying[j])],
                strike_usd=float(p.strike_usd[j]),
                t_years=float((p.expiry_s[j] - now) / venue.YEAR_SECONDS),
                vol=float(vols[j]),
                is_call=bool(p.is_call[j]),
                ask_usd=float(ask[j]),
                max_units=float(units[j]),
                account_id=account,
            )
        )
    return out


def listed_options(vb: VenueBook, listed: ListedSeries, symbols: Sequence[str]) -> list[ListedOption]:
    """Every live listed series on a tracked underlying, priced as the venue quotes (mark, bid, ask), with the
    vault's position, the account it trades in and one unit's standalone short IM (for strategies)."""
    if len(listed) == 0 or not vb.accounts:
        return []
    state, market = vb.market_state, vb.market
    now = state.now_s
    tracked = np.array([vb.underlying_symbol.get(int(u), "") in symbols for u in listed.underlying_id], dtype=bool)
    live = tracked & (listed.expiry_s > now)
    if not live.any():
        return []
    surfaces = {k: venue.Surface(a / WAD, sk / WAD, sm / WAD) for k, (a, sk, sm, _) in listed.surfaces.items()}
    market_state = venue.MarketState(now, state.spot_usd, surfaces)
    n = int(live.sum())
    p = venue.Portfolio(
        listed.underlying_id[live],
        listed.expiry_s[live],
        listed.strike_usd[live],
        listed.is_call[live],
        np.ones(n),
        np.zeros(n),
    )
    marks = venue.marks(p, market_state, market)
    vols = venue.position_vols(p, market_state, market)
    spot = market_state.spot_usd[p.underlying]
    fee = market.spot_fee * spot + market.price_fee * marks
    im = standalone_short_im(p, market_state, vb.risk, market)
    positions = vb.state.positions
    first = min(vb.accounts)
    out = []
    for j, sid in enumerate(listed.series_id[live]):
        mine = positions.series_id == sid
        held = float(positions.size[mine].sum()) if mine.any() else 0.0
        account = int(positions.account_id[mine][0]) if mine.any() else first
        key = (int(p.underlying[j]), int(p.expiry_s[j]))
        updated = listed.surfaces.get(key, (0, 0, 0, 0))[3]
        tradeable = (
            int(p.expiry_s[j]) - now > market.trading_cutoff_seconds
            and updated > 0
            and now - updated <= market.vol_max_age_seconds
        )
        out.append(
            ListedOption(
                series_id=int(sid),
                underlying=vb.underlying_symbol[int(p.underlying[j])],
                expiry_s=int(p.expiry_s[j]),
                strike_usd=float(p.strike_usd[j]),
                t_years=float((p.expiry_s[j] - now) / venue.YEAR_SECONDS),
                vol=float(vols[j]),
                is_call=bool(p.is_call[j]),
                mark_usd=float(marks[j]),
                bid_usd=float(max(marks[j] - fee[j], 0.0)),
                ask_usd=float(marks[j] + fee[j]),
                held_units=held,
                account_id=account,
                short_im_usd=float(im[j]),
                tradeable=bool(tradeable),
                haircut=vb.haircut,
            )
        )
    # Expired but unsettled positions: listed no longer matters, the round must wait for its settlement.
    expired = (positions.expiry_s <= now) & (positions.size != 0)
    for j in np.flatnonzero(expired):
        symbol = vb.underlying_symbol.get(int(positions.underlying_id[j]), "")
        if symbol in symbols:
            out.append(
                ListedOption(
                    int(positions.series_id[j]),
                    symbol,
                    int(positions.expiry_s[j]),
                    float(positions.strike_usd[j]),
                    0.0,
                    0.0,
                    bool(positions.is_call[j]),
                    0.0,
                    0.0,
                    0.0,
                    float(positions.size[j]),
                    int(positions.account_id[j]),
                    0.0,
                    False,
                )
            )
    return out


@dataclass
class OracleHistory:
    """(timestamp, price) per underlying, at most ``max_obs`` each, one point per new timestamp."""

    max_obs: int = 2_000
    points: dict[str, deque[tuple[int, float]]] = field(default_factory=dict)

    def add(self, symbol: str, timestamp_s: int, price: float) -> None:
        q = self.points.setdefault(symbol, deque(maxlen=self.max_obs))
        if price > 0 and (not q or timestamp_s > q[-1][0]):
            q.append((timestamp_s, price))

    def seed(self, ticks: Iterable[Mapping[str, object]]) -> int:
        """Prices recorded by earlier runs (``risk["spot_usd:SYM"]`` of stored ticks, any order); returns how many."""
        added = 0
        rows = sorted(ticks, key=lambda t: int(t["block_timestamp"]))  # type: ignore[call-overload]
        for t in rows:
            risk = t.get("risk") or {}
            assert isinstance(risk, Mapping)
            for key, value in risk.items():
                name, _, symbol = str(key).partition(":")
                if name == "spot_usd" and symbol:
                    before = len(self.points.get(symbol, ()))
                    self.add(symbol, int(t["block_timestamp"]), float(value))  # type: ignore[call-overload]
                    added += len(self.points[symbol]) - before
        return added

    def arrays(self, symbol: str) -> tuple[np.ndarray, np.ndarray]:
        q = self.points.get(symbol, deque())
        return np.array([t for t, _ in q], dtype=np.float64), np.array([p for _, p in q], dtype=np.float64)


@dataclass(frozen=True)
class Forecast:
    """The deep refresh's forecast: vol per underlying (symbols order), how, and P(high-vol regime)."""

    sigma_annual: np.ndarray
    methods: tuple[str, ...]
    high_vol_probability: float
    regime_fitted: bool


def refresh_forecast(
    history: OracleHistory,
    symbols: Sequence[str],
    cfg: TailBudgetConfig,
    *,
    default_annual: float,
    ewma_decay: float,
) -> Forecast:
    """GARCH/EWMA forecast vol over the budget horizon per underlying, and the regime model's P(high) (the largest
    over underlyings: one crashing market is enough), fitted once ``regime_min_obs`` returns are recorded."""
    sigmas, methods, probs = [], [], []
    for symbol in symbols:
        t, p = history.arrays(symbol)
        f = forecast_vol(t, p, cfg.horizon_days * DAY, default_annual=default_annual, ewma_decay=ewma_decay)
        sigmas.append(f.sigma_annual)
        methods.append(f.method)
        if p.size > cfg.regime_min_obs:
            returns, _ = even_returns(t, p)
            if returns.size >= cfg.regime_min_obs and np.std(returns) > 0:
                with contextlib.suppress(ValueError, np.linalg.LinAlgError):  # a failed fit: no regime this time
                    probs.append(fit_regimes(returns).high_vol_probability)
    return Forecast(np.array(sigmas), tuple(methods), max(probs, default=0.0), bool(probs))
