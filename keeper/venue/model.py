"""Reference model of the OptionMarket's maths, in floats over numpy arrays (structure of arrays).

It computes what the contract computes, from the same inputs, so the keeper can ask "what if" questions the chain
cannot answer in one call: the spot move that takes an account to maintenance margin (liquidation distance), and
margin surplus under stress scenarios. Conventions, as on-chain (``contracts/options/``, ``docs/option-market.md``):

- Money in USD (the contract's USDC, 1 USDC = 1 USD); sizes in units of underlying (+ long, − short); vols and
  rates as decimals per year; τ = seconds / (365 days). Black-Scholes on spot with no carry: F = S·e^{rτ}.
- Vol surface per (underlying, expiry): vol(K) = clip(atm + skew·k + smile·k², MIN_VOL, MAX_VOL), k = ln(K/F).
- Quotes: fee = spot_fee·S + price_fee·mark per unit; ask = mark + fee; bid = max(mark − fee, 0).
- Margin, per underlying: the book is revalued at spot × k for k on the grid 1 + i·shock/steps (i = −steps…steps)
  and at vol × {1, up(τ), down(τ)}, each option keeping its current surface vol (sticky strike);
  up(τ) = 1 + vol_shock_up·√(30 d / max(τ, floor)), down(τ) = max(1 − vol_shock_down·√(…), 0.1).
  Worst loss = value now − lowest scenario value; MM = Σ worst losses + min_short_margin·S·Σ|short sizes|;
  IM = im_factor·MM. Equity = collateral + marks (expired positions at their payoff, outside the grid).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from keeper.model.arrays import BoolArray1D, Float64Array1D, IntArray1D
from keeper.risk.black import price as bs_price
from keeper.risk.liquidation import threshold_move

WAD = 10**18
YEAR_SECONDS = 365 * 86_400
MIN_VOL = 0.01
MAX_VOL = 5.0
MIN_VOL_MULTIPLIER = 0.1
VOL_SHOCK_REFERENCE_SECONDS = 30 * 86_400


@dataclass(frozen=True)
class RiskParams:
    """OptionMarket RiskParams as decimals (see IOptionMarketTypes)."""

    spot_shock: float = 0.2
    spot_steps: int = 4
    vol_shock_up: float = 0.4
    vol_shock_down: float = 0.3
    vol_shock_floor_seconds: int = 7 * 86_400
    im_factor: float = 1.25
    min_short_margin: float = 0.01
    liquidation_penalty: float = 0.002

    #: IOptionMarketTypes.RiskParams field names in struct order (tests check them against the forge ABI).
    CHAIN_FIELDS: ClassVar[tuple[str, ...]] = (
        "spotShockWad",
        "spotSteps",
        "volShockUpWad",
        "volShockDownWad",
        "volShockFloorSeconds",
        "imFactorWad",
        "minShortMarginWad",
        "liquidationPenaltyWad",
    )

    def to_chain(self) -> tuple[int, ...]:
        """The Solidity struct tuple (WAD integers), in ``CHAIN_FIELDS`` order."""
        return (
            _wad(self.spot_shock),
            self.spot_steps,
            _wad(self.vol_shock_up),
            _wad(self.vol_shock_down),
            self.vol_shock_floor_seconds,
            _wad(self.im_factor),
            _wad(self.min_short_margin),
            _wad(self.liquidation_penalty),
        )

    @classmethod
    def from_chain(cls, values: Mapping[str, int] | Sequence[int]) -> RiskParams:
        """From the struct by field name (or a tuple in ``CHAIN_FIELDS`` order)."""
        v = _named(cls.CHAIN_FIELDS, values)
        return cls(
            v["spotShockWad"] / WAD,
            int(v["spotSteps"]),
            v["volShockUpWad"] / WAD,
            v["volShockDownWad"] / WAD,
            int(v["volShockFloorSeconds"]),
            v["imFactorWad"] / WAD,
            v["minShortMarginWad"] / WAD,
            v["liquidationPenaltyWad"] / WAD,
        )


@dataclass(frozen=True)
class MarketParams:
    """OptionMarket MarketParams as decimals."""

    rate: float = 0.04
    spot_fee: float = 0.0003
    price_fee: float = 0.01
    vol_max_age_seconds: int = 86_400
    trading_cutoff_seconds: int = 3_600

    #: IOptionMarketTypes.MarketParams field names in struct order (tests check them against the forge ABI).
    CHAIN_FIELDS: ClassVar[tuple[str, ...]] = (
        "rateWad",
        "spotFeeWad",
        "priceFeeWad",
        "volMaxAgeSeconds",
        "tradingCutoffSeconds",
    )

    def to_chain(self) -> tuple[int, ...]:
        """The Solidity struct tuple, in ``CHAIN_FIELDS`` order."""
        return (
            _wad(self.rate),
            _wad(self.spot_fee),
            _wad(self.price_fee),
            self.vol_max_age_seconds,
            self.trading_cutoff_seconds,
        )

    @classmethod
    def from_chain(cls, values: Mapping[str, int] | Sequence[int]) -> MarketParams:
        """From the struct by field name (or a tuple in ``CHAIN_FIELDS`` order)."""
        v = _named(cls.CHAIN_FIELDS, values)
        return cls(
            v["rateWad"] / WAD,
            v["spotFeeWad"] / WAD,
            v["priceFeeWad"] / WAD,
            int(v["volMaxAgeSeconds"]),
            int(v["tradingCutoffSeconds"]),
        )


def _named(names: tuple[str, ...], values: Mapping[str, int] | Sequence[int]) -> Mapping[str, int]:
    if isinstance(values, Mapping):
        return values
    return dict(zip(names, values, strict=True))


@dataclass(frozen=True)
class Surface:
    """Vol surface of one (underlying, expiry)."""

    atm_vol: float
    skew: float
    smile: float


@dataclass(frozen=True)
class Portfolio:
    """Positions as arrays of shape (n,). ``settlement_usd`` is 0 until the expiry's settlement price is fixed."""

    underlying: IntArray1D
    expiry_s: IntArray1D
    strike_usd: Float64Array1D
    is_call: BoolArray1D
    size: Float64Array1D
    settlement_usd: Float64Array1D

    @classmethod
    def of(
        cls,
        underlying: list[int],
        expiry_s: list[int],
        strike_usd: list[float],
        is_call: list[bool],
        size: list[float],
        settlement_usd: list[float] | None = None,
    ) -> Portfolio:
        n = len(size)
        return cls(
            np.asarray(underlying, dtype=np.int64),
            np.asarray(expiry_s, dtype=np.int64),
            np.asarray(strike_usd, dtype=np.float64),
            np.asarray(is_call, dtype=bool),
            np.asarray(size, dtype=np.float64),
            np.asarray(settlement_usd if settlement_usd is not None else [0.0] * n, dtype=np.float64),
        )


@dataclass(frozen=True)
class MarketState:
    """What the venue reads at one instant: chain time, spot per underlying id, surfaces per (underlying, expiry)."""

    now_s: int
    spot_usd: Float64Array1D  # indexed by underlying id
    surfaces: Mapping[tuple[int, int], Surface]

    def with_spot(self, underlying: int, spot_usd: float) -> MarketState:
        spots = self.spot_usd.copy()
        spots[underlying] = spot_usd
        return replace(self, spot_usd=spots)


@dataclass(frozen=True)
class Margin:
    """Account figures in USD, as ``marginOf``/``accountState`` return them (before integer rounding)."""

    equity_usd: float
    initial_usd: float
    maintenance_usd: float
    value_usd: float  # marks of live positions
    worst_loss_usd: float


def _wad(x: float) -> int:
    return round(x * WAD)


# --- pricing --------------------------------------------------------------------------------------------------


def surface_vol(surface: Surface, log_moneyness: Float64Array1D) -> Float64Array1D:
    """vol(k) with k = ln(K/F), clipped to [MIN_VOL, MAX_VOL]."""
    k = np.asarray(log_moneyness, dtype=np.float64)
    return np.clip(surface.atm_vol + surface.skew * k + surface.smile * k * k, MIN_VOL, MAX_VOL)


def vol_multipliers(seconds_left: Float64Array1D, risk: RiskParams) -> tuple[Float64Array1D, Float64Array1D]:
    """Up and down vol-scenario multipliers at ``seconds_left`` to expiry."""
    t = np.maximum(np.asarray(seconds_left, dtype=np.float64), float(risk.vol_shock_floor_seconds))
    scale = np.sqrt(VOL_SHOCK_REFERENCE_SECONDS / t)
    up = 1.0 + risk.vol_shock_up * scale
    down = np.maximum(1.0 - risk.vol_shock_down * scale, MIN_VOL_MULTIPLIER)
    return up, down


def spot_grid(risk: RiskParams) -> Float64Array1D:
    """Spot multipliers 1 + i·shock/steps, i = −steps … steps."""
    i = np.arange(-risk.spot_steps, risk.spot_steps + 1, dtype=np.float64)
    return 1.0 + i * risk.spot_shock / risk.spot_steps


def position_vols(p: Portfolio, state: MarketState, market: MarketParams) -> Float64Array1D:
    """Surface vol of each position at the current forward (0 for expired positions or missing surfaces)."""
    vols = np.zeros(p.size.shape)
    live = p.expiry_s > state.now_s
    t = (p.expiry_s - state.now_s) / YEAR_SECONDS
    for (u, e), surface in state.surfaces.items():
        sel = live & (p.underlying == u) & (p.expiry_s == e)
        if sel.any():
            fwd = state.spot_usd[u] * np.exp(market.rate * t[sel])
            vols[sel] = surface_vol(surface, np.log(p.strike_usd[sel] / fwd))
    missing = live & (vols == 0)
    vols[missing] = MIN_VOL  # what the chain uses for a surface never posted (views only: trading reverts)
    return vols


def payoff(strike_usd: Float64Array1D, is_call: BoolArray1D, price_usd: Float64Array1D) -> Float64Array1D:
    return np.where(is_call, np.maximum(price_usd - strike_usd, 0.0), np.maximum(strike_usd - price_usd, 0.0))


def marks(p: Portfolio, state: MarketState, market: MarketParams) -> Float64Array1D:
    """Per-unit marks: Black-Scholes mid for live positions; payoff at the settlement price (or at spot while it is
    not fixed) for expired ones."""
    live = p.expiry_s > state.now_s
    spot = state.spot_usd[p.underlying]
    t = np.where(live, (p.expiry_s - state.now_s) / YEAR_SECONDS, 1.0)
    vols = np.where(live, position_vols(p, state, market), 1.0)
    mid = bs_price(spot, p.strike_usd, t, vols, market.rate, p.is_call)
    fixed = np.where(p.settlement_usd > 0, p.settlement_usd, spot)
    return np.where(live, mid, payoff(p.strike_usd, p.is_call, fixed))


def quote(
    spot_usd: float,
    mark_usd: float,
    size: float,
    market: MarketParams,
    side: str,
    close_units: float = 0.0,
    haircut: float = 0.0,
) -> tuple[float, float]:
    """(premium_usd, price_per_unit_usd) for buying (``side="buy"``, at the ask) or selling (at the bid). A sale's
    first ``close_units`` close a long: paid the bid less the pool's ``haircut`` (``poolHaircutWad`` / 1e18 before
    the trade), as ``OptionMarket.sell`` pays them; the rest opens a short at the full bid. The price is the bid."""
    fee = market.spot_fee * spot_usd + market.price_fee * mark_usd
    if side == "buy":
        return size * (mark_usd + fee), mark_usd + fee
    if side == "sell":
        bid = max(mark_usd - fee, 0.0)
        return size * bid - min(close_units, size) * bid * haircut, bid
    raise ValueError(f"side={side!r}: use 'buy' or 'sell'")


# --- portfolio margin -------------------------------------------------------------------------------------------


def scenario_values(p: Portfolio, state: MarketState, risk: RiskParams, market: MarketParams) -> Float64Array1D:
    """Book value of live positions per underlying id and scenario: shape (n_underlyings, 3, n_spot), vol index
    0 = now, 1 = up, 2 = down; spot index ``risk.spot_steps`` is "no move"."""
    grid = spot_grid(risk)
    n_u = len(state.spot_usd)
    out = np.zeros((n_u, 3, grid.size))
    live = (p.expiry_s > state.now_s) & (p.size != 0)
    if not live.any():
        return out
    u, k_strike, call, size = p.underlying[live], p.strike_usd[live], p.is_call[live], p.size[live]
    secs = (p.expiry_s[live] - state.now_s).astype(np.float64)
    t = secs / YEAR_SECONDS
    vol = position_vols(p, state, market)[live]
    up, down = vol_multipliers(secs, risk)
    mult = np.stack([np.ones_like(up), up, down])  # (3, n)
    spot = state.spot_usd[u]
    # (3, n_spot, n): each position repriced at spot·k and vol·m.
    s = spot[None, None, :] * grid[None, :, None]
    v = vol[None, None, :] * mult[:, None, :]
    shape = (3, grid.size, size.size)
    values = bs_price(
        np.broadcast_to(s, shape).ravel(),
        np.broadcast_to(k_strike, shape).ravel(),
        np.broadcast_to(t, shape).ravel(),
        np.broadcast_to(v, shape).ravel(),
        market.rate,
        np.broadcast_to(call, shape).ravel(),
    ).reshape(shape)
    weighted = values * size[None, None, :]
    for uid in np.unique(u):
        out[uid] = weighted[:, :, u == uid].sum(axis=2)
    return out


def margin(p: Portfolio, collateral_usd: float, state: MarketState, risk: RiskParams, market: MarketParams) -> Margin:
    """Equity, IM and MM of an account (or of the pool, with its cash as collateral)."""
    scen = scenario_values(p, state, risk, market)
    now = scen[:, 0, risk.spot_steps]
    worst = float((now - scen.reshape(scen.shape[0], -1).min(axis=1)).sum())
    live = p.expiry_s > state.now_s
    shorts = live & (p.size < 0)
    short_notional = float((-p.size[shorts] * state.spot_usd[p.underlying[shorts]]).sum())
    mm = worst + risk.min_short_margin * short_notional
    expired_value = float((p.size[~live] * marks(p, state, market)[~live]).sum())
    value = float(now.sum())
    return Margin(collateral_usd + value + expired_value, risk.im_factor * mm, mm, value, worst)


def pool_haircut(
    pool: Portfolio, pool_cash_usd: float, longs: Portfolio, state: MarketState, market: MarketParams
) -> float:
    """The share of every long's value the venue's pool cannot pay (``poolHaircutWad``, issue 19 item 6b): 0 while
    the pool's equity (cash + its positions at the marks) is ≥ 0, else its shortfall over the value of all the
    accounts' longs of unsettled series (``longs``: each series with the accounts' gross long size), capped at 1."""
    equity = pool_cash_usd + float((pool.size * marks(pool, state, market)).sum())
    if equity >= 0.0:
        return 0.0
    owed = float((longs.size * marks(longs, state, market)).sum())
    return 1.0 if owed <= 0.0 or -equity >= owed else -equity / owed


def recoverable_equity(
    p: Portfolio,
    collateral_usd: float,
    state: MarketState,
    market: MarketParams,
    haircut: float,
    settled_haircut: Mapping[tuple[int, int], float] | None = None,
) -> float:
    """An account's equity as ``equityOf`` returns it (what its owner can recover): collateral + Σ size × mark, each
    long less ``haircut`` (the pool's now), a long of a settled expiry less the haircut fixed at its settlement
    (``settled_haircut[(underlying, expiry)]``, 0 if absent). Shorts and collateral are not cut."""
    values = p.size * marks(p, state, market)
    settled = settled_haircut or {}
    cuts = np.array(
        [
            (settled.get((int(u), int(e)), 0.0) if fixed > 0 else haircut) if v > 0 else 0.0
            for u, e, fixed, v in zip(p.underlying, p.expiry_s, p.settlement_usd, values, strict=True)
        ],
        dtype=np.float64,
    )
    return collateral_usd + float((values * (1.0 - cuts)).sum())


def margin_surplus(
    p: Portfolio, collateral_usd: float, state: MarketState, risk: RiskParams, market: MarketParams
) -> float:
    """Equity − maintenance margin (USD): below 0 the account can be liquidated."""
    m = margin(p, collateral_usd, state, risk, market)
    return m.equity_usd - m.maintenance_usd


def liquidation_moves(
    p: Portfolio,
    collateral_usd: float,
    state: MarketState,
    risk: RiskParams,
    market: MarketParams,
    underlying: int,
) -> tuple[float, float]:
    """The nearest relative spot moves of ``underlying`` (down, up) at which the account reaches maintenance margin,
    with the vol surface and the other spots held fixed (NaN when no move in −95 %…+400 % reaches it)."""
    spot0 = float(state.spot_usd[underlying])

    def surplus(move: float) -> float:
        return margin_surplus(p, collateral_usd, state.with_spot(underlying, spot0 * (1.0 + move)), risk, market)

    return threshold_move(surplus)


def stress_surplus(
    p: Portfolio, collateral_usd: float, state: MarketState, risk: RiskParams, market: MarketParams
) -> Callable[[float, float], float]:
    """``venue_surplus(spot_shock, vol_shock)`` for :func:`keeper.risk.stress.stress_grid`: every spot × (1 + shock),
    every surface's ATM vol × (1 + vol shock); returns equity − MM in USD."""

    def surplus(spot_shock: float, vol_shock: float) -> float:
        shocked = MarketState(
            state.now_s,
            state.spot_usd * (1.0 + spot_shock),
            {key: replace(s, atm_vol=s.atm_vol * (1.0 + vol_shock)) for key, s in state.surfaces.items()},
        )
        return margin_surplus(p, collateral_usd, shocked, risk, market)

    return surplus
