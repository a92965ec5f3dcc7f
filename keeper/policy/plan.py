"""What the policy sees (``BookView``) and what it returns (``Plan`` of typed actions with bounds).

Amounts are in token units as floats (USDC, WETH, WBTC), prices in USD per unit; adapters convert to
on-chain integers at the boundary. Every action carries the bound the vault will enforce (minimum
output, maximum cost) so a plan can be judged before it is encoded.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


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


@dataclass(frozen=True)
class Swap:
    """Swap exactly ``amount_in`` of ``token_in`` on Uniswap v3 for at least ``min_amount_out``."""

    token_in: str
    token_out: str
    amount_in: float
    min_amount_out: float
    kind: Literal["swap"] = "swap"


@dataclass(frozen=True)
class AaveSupply:
    asset: str
    amount: float
    kind: Literal["aave_supply"] = "aave_supply"


@dataclass(frozen=True)
class AaveWithdraw:
    asset: str
    amount: float
    kind: Literal["aave_withdraw"] = "aave_withdraw"


@dataclass(frozen=True)
class AaveBorrow:
    asset: str
    amount: float
    kind: Literal["aave_borrow"] = "aave_borrow"


@dataclass(frozen=True)
class AaveRepay:
    asset: str
    amount: float
    kind: Literal["aave_repay"] = "aave_repay"


@dataclass(frozen=True)
class MarginDeposit:
    """Move ``amount_usdc`` of idle USDC into venue account ``account_id`` (0: the vault's only one)."""

    amount_usdc: float
    account_id: int = 0
    kind: Literal["margin_deposit"] = "margin_deposit"


@dataclass(frozen=True)
class OptionTrade:
    """Buy (size > 0) or sell (size < 0) ``size`` contracts of ``series_id`` in venue account ``account_id``.
    Buying pays at most ``max_cost_usd``; selling receives at least ``-max_cost_usd`` (a negative cost bound)."""

    series_id: int
    size: float
    max_cost_usd: float
    account_id: int = 0
    kind: Literal["option_trade"] = "option_trade"


@dataclass(frozen=True)
class VenueAccountOpen:
    """Open a new venue sub-account owned by the vault (its id is the venue's next account id)."""

    kind: Literal["venue_account_open"] = "venue_account_open"


Action = Swap | AaveSupply | AaveWithdraw | AaveBorrow | AaveRepay | MarginDeposit | OptionTrade | VenueAccountOpen


@dataclass(frozen=True)
class Decision:
    """One rule's verdict: what it wanted, whether it acted, and why, in words for the operator."""

    rule: str
    acted: bool
    reason: str


@dataclass(frozen=True)
class Plan:
    """Actions in execution order, and the reasoning that produced them (also when nothing is done)."""

    block_number: int
    actions: tuple[Action, ...]
    decisions: tuple[Decision, ...]
    stages: tuple[int, ...] = ()  # per action: the rule that made it, in order of urgency (0 = most urgent)

    @property
    def empty(self) -> bool:
        return not self.actions

    def most_urgent(self) -> Plan | None:
        """The plan cut to the actions of its most urgent acting rule (what to try alone when the whole plan is
        refused); None when the plan has only one rule's actions (nothing to fall back to)."""
        if not self.stages or len(set(self.stages)) < 2:
            return None
        first = min(self.stages)
        kept = tuple(a for a, stage in zip(self.actions, self.stages, strict=True) if stage == first)
        return Plan(self.block_number, kept, self.decisions, tuple(first for _ in kept))

    def to_dict(self) -> dict[str, Any]:
        """Canonical data form: recorded in the store before sending, hashed to refuse duplicates."""
        return {
            "block_number": self.block_number,
            "actions": [asdict(a) for a in self.actions],
            "decisions": [asdict(d) for d in self.decisions],
        }
