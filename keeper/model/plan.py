"""What the policy returns: a ``Plan`` of typed actions with bounds, and the reasons behind it.

Amounts are in token units as floats (USDC, WETH, WBTC), prices in USD per unit; adapters convert to
on-chain integers at the boundary. Every action carries the bound the vault will enforce (minimum
output, maximum cost) so a plan can be judged before it is encoded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Swap:
    """Swap exactly ``amount_in`` of ``token_in`` on Uniswap v3 for at least ``min_amount_out``.

    The policy leaves the route to execution: ``fees`` empty means the pair's primary pool. The router
    (:mod:`keeper.app.routing`) turns one policy swap into legs, each naming its path (``fees[0]`` from
    ``token_in`` to ``via[0]`` … ``fees[-1]`` to ``token_out``) and its exact on-chain amounts (``raw_in``,
    ``raw_min_out``; 0 = convert the float amounts), so the legs spend exactly what the one swap would have."""

    token_in: str
    token_out: str
    amount_in: float
    min_amount_out: float
    kind: Literal["swap"] = "swap"
    fees: tuple[int, ...] = ()
    via: tuple[str, ...] = ()
    raw_in: int = 0
    raw_min_out: int = 0


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
class DeltaBand:
    """The no-trade band the delta rule used for one underlying: centred on the target, in underlying units.
    Everything that reports "inside band" (metrics, status, dashboard) reads it from the plan."""

    symbol: str
    target_units: float
    half_width_units: float
    net_delta_units: float  # as the rule saw it (after the more urgent rules' actions)

    @property
    def deviation_units(self) -> float:
        return self.net_delta_units - self.target_units

    @property
    def inside(self) -> bool:
        return abs(self.deviation_units) <= self.half_width_units


@dataclass(frozen=True)
class TailReport:
    """The tail-budget rule's numbers for one decision (USD): the worst stress loss before and after the
    planned trades, the budget, what the trades cost, and whether the budget can be met at all."""

    worst_scenario: str
    worst_loss_usd: float
    budget_usd: float
    worst_scenario_after: str
    worst_loss_after_usd: float
    cost_usd: float
    feasible: bool
    horizon_days: float

    @property
    def within_budget(self) -> bool:
        return self.worst_loss_after_usd <= self.budget_usd * (1 + 1e-9)


@dataclass(frozen=True)
class Plan:
    """Actions in execution order, and the reasoning that produced them (also when nothing is done)."""

    block_number: int
    actions: tuple[Action, ...]
    decisions: tuple[Decision, ...]
    stages: tuple[int, ...] = ()  # per action: the rule that made it, in order of urgency (0 = most urgent)
    bands: tuple[DeltaBand, ...] = ()  # the delta rule's band per underlying
    tail: TailReport | None = None  # the tail-budget rule's numbers (None when it did not run)

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
        return Plan(self.block_number, kept, self.decisions, tuple(first for _ in kept), self.bands, self.tail)

    def to_dict(self) -> dict[str, Any]:
        """Canonical data form: recorded in the store before sending, hashed to refuse duplicates."""
        return {
            "block_number": self.block_number,
            "actions": [asdict(a) for a in self.actions],
            "decisions": [asdict(d) for d in self.decisions],
            "bands": [asdict(b) for b in self.bands],
            **({"tail": asdict(self.tail)} if self.tail is not None else {}),
        }
