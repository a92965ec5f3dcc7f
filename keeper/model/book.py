"""What the policy sees: ``BookView``, one block of the vault's book as the risk engine aggregates it.

Amounts are in token units as floats (USDC, WETH, WBTC), prices in USD per unit, money in USD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class UnderlyingView:
    """The book's exposure to one risky underlying (e.g. WETH), aggregated by the risk engine.

    net_delta_units: options + spot + Aave collateral − Aave debt, in underlying units.
    net_gamma_units_per_usd: d(delta)/d(spot) of the whole book.
    net_vega_usd_per_vol_pt: USD per +1 vol point (0.01).
    spot_usd: oracle price. sigma_annual: forecast volatility (annualised, 1.00 = 100 %).
    held_units: idle underlying in the vault. debt_units: Aave variable debt in the underlying.
    collateral_units: underlying supplied to Aave as collateral.
    """

    symbol: str
    spot_usd: float
    sigma_annual: float
    net_delta_units: float
    net_gamma_units_per_usd: float
    net_vega_usd_per_vol_pt: float
    held_units: float
    debt_units: float
    collateral_units: float
    liquidation_threshold: float  # Aave LT of this asset as collateral (0.83 = 83 %)
    ltv: float = 0.0  # Aave LTV of this asset as collateral (what it adds to borrow capacity)


@dataclass(frozen=True)
class ShortOption:
    """An option position the policy may buy back to cut gamma/vega (size < 0 for shorts)."""

    series_id: int
    underlying: str
    size: float
    gamma_units_per_usd_each: float
    vega_usd_per_vol_pt_each: float
    ask_usd: float
    account_id: int = 0  # the venue account holding it (0: the vault's only one)


@dataclass(frozen=True)
class VenueAccountView:
    """One of the vault's venue accounts: equity (collateral + marks) and maintenance margin, USD."""

    account_id: int
    equity_usd: float
    maintenance_margin_usd: float
    initial_margin_usd: float = 0.0


@dataclass(frozen=True)
class TailCandidate:
    """A listed option the tail rule may buy: a new wing (``max_units`` = venue liquidity) or a buyback of a
    short (``max_units`` = the short held). Prices per unit of underlying, USD; ``t_years`` to expiry."""

    series_id: int
    underlying: str
    strike_usd: float
    t_years: float
    vol: float  # the venue's implied vol for this series
    is_call: bool
    ask_usd: float  # what buying one unit costs at the venue (mark + fee)
    max_units: float
    account_id: int = 0


@dataclass(frozen=True)
class ListedOption:
    """A live listed series of the venue, as a strategy sees it: prices per unit (USD) as the venue would quote
    them, the vault's position in it, and the initial margin one unit short of it alone needs."""

    series_id: int
    underlying: str
    expiry_s: int
    strike_usd: float
    t_years: float
    vol: float
    is_call: bool
    mark_usd: float
    bid_usd: float
    ask_usd: float
    held_units: float  # the vault's position (+ long, − short), all its accounts
    account_id: int  # where the vault trades it (the account holding it, else its first)
    short_im_usd: float  # IM of one unit short, alone (a conservative margin estimate: no netting)
    tradeable: bool = True  # outside the venue's trading cutoff, with a fresh surface
    haircut: float = 0.0  # the venue pool's haircut (poolHaircutWad / 1e18; 0 while its pool is solvent)

    @property
    def close_bid_usd(self) -> float:
        """What selling one held long unit pays: the bid less the pool's haircut (a close is a claim on the pool;
        a sale that opens a short is paid ``bid_usd`` in full)."""
        return self.bid_usd * (1.0 - self.haircut)


@dataclass(frozen=True)
class TailInputs:
    """What the tail-budget rule revalues: every live option position (arrays of shape (n,), ``underlying`` as
    the index into ``BookView.underlyings``), the options it may buy, NAV, and the gas of one extra leg."""

    underlying_index: np.ndarray
    size: np.ndarray  # signed contracts
    strike_usd: np.ndarray
    t_years: np.ndarray
    vol: np.ndarray
    is_call: np.ndarray
    rate: float
    nav_usd: float
    candidates: tuple[TailCandidate, ...] = ()
    leg_gas_usd: float = 0.0
    high_vol_probability: float = 0.0  # the regime model's P(high-vol state) (0 without a fitted model)
    sigma_annual: np.ndarray | None = None  # forecast vol per underlying (GARCH/EWMA); None: the views' sigma


@dataclass(frozen=True)
class BookView:
    """Everything the policy decides on, for one block."""

    block_number: int
    underlyings: tuple[UnderlyingView, ...]
    idle_usdc: float
    aave_collateral_usd: float
    aave_debt_usd: float
    aave_weighted_lt: float  # Σ collateral·LT / Σ collateral
    usdc_liquidation_threshold: float  # Aave LT of USDC (0.78 = 78 %)
    health_factor: float  # inf when no debt
    usdc_collateral_units: float  # USDC supplied on Aave
    venue_collateral_usd: float
    venue_maintenance_margin_usd: float
    options: tuple[ShortOption, ...] = ()
    usdc_debt_units: float = 0.0  # USDC borrowed on Aave (against underlying collateral)
    venue_accounts: tuple[VenueAccountView, ...] = ()  # per account; the totals above are their sums
    venue_tradeable: bool = True  # False while a venue input is stale: the venue would refuse every trade
    aave_borrow_capacity_usd: float = math.inf  # Aave's availableBorrows: the LTV check a new borrow must pass
    usdc_ltv: float = 0.0  # Aave LTV of USDC as collateral
    gas_cost_usd: float = 0.0  # expected gas of one rebalance
    horizon_years: float = 1.0 / 365.0
    last_action_block: dict[str, int] = field(default_factory=dict)
    tail: TailInputs | None = None  # the tail-budget rule runs only when the assessor provides its inputs
    listed: tuple[ListedOption, ...] = ()  # the venue's live listed series (strategies open and roll on them)
    timestamp_s: int = 0  # the block's timestamp
    aave_borrow_apr: dict[str, float] = field(default_factory=dict)  # per symbol: Aave's variable borrow APR
    aave_supply_apr: dict[str, float] = field(default_factory=dict)  # per symbol: Aave's supply APR
    leg_gas_usd: float = 0.0  # gas of one more action in a batch (execution.leg_gas at the tick's gas price)
    # per symbol: the delta hedge's swap cost (fees + impact, bp of its value at the oracle) as the router quoted
    # it on the pools at this block; empty until measured (the policy then uses hedge_cost_bps)
    spot_cost_bps: dict[str, float] = field(default_factory=dict)
