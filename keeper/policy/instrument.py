"""Choice of instrument for a delta hedge: spot through the pools (funded as ``buy_delta``/``sell_delta`` fund it,
Aave legs included) or listed venue options, by all-in cost over the policy's horizon. Pure.

All-in cost of each alternative, in USD, for the same delta:

- **spot**: notional × the swap's cost rate — the router's exact quote on the pools at this block when the keeper
  has measured it (``BookView.spot_cost_bps``: fees + impact of the routed order against the oracle), else the
  configured ``hedge_cost_bps`` — + one ``leg_gas`` per action + **carry**: the Aave legs' interest over
  ``horizon_years`` at the reserves' current rates (a borrow pays its variable borrow APR, a supply earns its
  supply APR, a repay saves the debt's APR, a withdrawal forgoes the collateral's supply APR). Selling held units
  or spending idle USDC carries nothing (idle USDC earns nothing in the vault).
- **venue option**: for each listed, tradeable series whose delta points the right way — a new long (puts to
  sell delta, calls to buy it) up to the venue's liquidity, or a buyback of a short held (short calls to buy
  delta, short puts to sell it) up to the short — contracts = delta needed / |Δ per contract| (Black–Scholes at
  the series' vol), cost = contracts × (ask − mark) + two legs' gas (premium deposited into the venue account,
  then the trade). The premium itself is not a cost: paid at the venue's mark it is the option's value at the
  venue's vol, which is how the book is marked; theta is not charged either, because at that vol the option's
  expected gamma gain over the horizon offsets it. The premium must fit in idle USDC above the reserve; a new long
  is bounded by the venue's free liquidity as the tail rule's candidates carry it (the assessor provides them when
  the venue's chain is read), a buyback by the short held.

The cheaper alternative wins; the decision records both costs and their parts. Venue hedges are used only when
``policy.delta_via_venue`` is on (off by default): with it off the comparison is still computed and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keeper.config import PolicyConfig
from keeper.model import (
    AaveBorrow,
    AaveRepay,
    AaveSupply,
    AaveWithdraw,
    Action,
    BookView,
    ListedOption,
    MarginDeposit,
    OptionTrade,
    Swap,
    UnderlyingView,
)
from keeper.policy.aave import Working, slippage
from keeper.risk.black import greeks

USDC = "USDC"


@dataclass(frozen=True)
class HedgeCost:
    """One way to move ``delta_units`` of delta, and what it costs in all (USD), part by part."""

    instrument: str  # "spot" or the venue series, e.g. "WETH-2800-P 2026-12-27"
    delta_units: float
    cost_usd: float
    parts: dict[str, float] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    option: ListedOption | None = None
    contracts: float = 0.0

    def describe(self) -> str:
        parts = ", ".join(f"{k} ${v:,.0f}" for k, v in self.parts.items())
        return f"{self.instrument} ${self.cost_usd:,.0f} ({parts})"


def carry_usd(actions: tuple[Action, ...] | list[Action], book: BookView, prices: dict[str, float]) -> float:
    """Interest the Aave legs of ``actions`` pay (+) or save (−) over the policy's horizon at the view's rates."""
    total = 0.0
    for a in actions:
        if isinstance(a, AaveBorrow):
            total += a.amount * prices.get(a.asset, 0.0) * book.aave_borrow_apr.get(a.asset, 0.0)
        elif isinstance(a, AaveRepay):
            total -= a.amount * prices.get(a.asset, 0.0) * book.aave_borrow_apr.get(a.asset, 0.0)
        elif isinstance(a, AaveSupply):
            total -= a.amount * prices.get(a.asset, 0.0) * book.aave_supply_apr.get(a.asset, 0.0)
        elif isinstance(a, AaveWithdraw):
            total += a.amount * prices.get(a.asset, 0.0) * book.aave_supply_apr.get(a.asset, 0.0)
    return total * book.horizon_years


def spot_cost(
    u: UnderlyingView, done_units: float, actions: list[Action], book: BookView, config: PolicyConfig
) -> HedgeCost:
    prices = {USDC: 1.0, **{v.symbol: v.spot_usd for v in book.underlyings}}
    swapped = sum(a.amount_in * prices.get(a.token_in, 0.0) for a in actions if isinstance(a, Swap))
    measured = u.symbol in book.spot_cost_bps
    rate = book.spot_cost_bps[u.symbol] if measured else config.hedge_cost_bps
    parts = {
        ("fees+impact (quoted)" if measured else "fees+impact"): swapped * rate / 10_000,
        "gas": len(actions) * book.leg_gas_usd,
        "carry": carry_usd(actions, book, prices),
    }
    return HedgeCost("spot", done_units, sum(parts.values()), parts, tuple(actions))


def venue_costs(u: UnderlyingView, units: float, book: BookView, config: PolicyConfig, s: Working) -> list[HedgeCost]:
    """Every listed way to move ``units`` of delta (+ buys delta, − sells it) on the venue, cheapest first."""
    if not book.venue_tradeable or units == 0:
        return []
    budget = max(0.0, s.idle_usdc - config.idle_reserve_usdc)
    slip = slippage(config)
    rate = book.tail.rate if book.tail is not None else 0.0
    # the venue's free liquidity per series, as the tail rule's candidates carry it (none: no new longs)
    liquidity = {c.series_id: c.max_units for c in book.tail.candidates} if book.tail is not None else {}
    out: list[HedgeCost] = []
    for o in book.listed:
        if o.underlying != u.symbol or not o.tradeable or o.ask_usd <= 0 or o.t_years <= 0:
            continue
        d = float(greeks(u.spot_usd, o.strike_usd, o.t_years, o.vol, rate, o.is_call).delta[0])
        # a long moves delta by +d per contract: wanted sign(units) == sign(d); buying back a short moves it by
        # +d too (the short's −d goes), so the same sign test selects new longs and buybacks alike
        if d == 0 or (d > 0) != (units > 0):
            continue
        contracts = abs(units / d)
        if o.held_units < 0:
            contracts = min(contracts, -o.held_units)  # a buyback, up to the short held
        else:
            contracts = min(contracts, liquidity.get(o.series_id, 0.0))  # a new long, up to the venue's liquidity
        premium = contracts * o.ask_usd * (1 + slip)
        if premium > budget:
            contracts *= budget / premium
            premium = budget
        if contracts * abs(d) * u.spot_usd < config.min_trade_usd:
            continue
        parts = {"spread": contracts * max(0.0, o.ask_usd - o.mark_usd), "gas": 2 * book.leg_gas_usd}
        kind = "buy back" if o.held_units < 0 else "buy"
        name = f"{kind} {u.symbol}-{o.strike_usd:,.0f}-{'C' if o.is_call else 'P'} ({o.t_years * 365:.0f} d)"
        actions = (MarginDeposit(premium, o.account_id), OptionTrade(o.series_id, contracts, premium, o.account_id))
        out.append(HedgeCost(name, contracts * d, sum(parts.values()), parts, actions, o, contracts))
    # cost per unit of delta moved: a series that can only do part of the hedge is compared on its rate
    return sorted(out, key=lambda c: c.cost_usd / abs(c.delta_units))


def choose(spot: HedgeCost, venue: list[HedgeCost], enabled: bool) -> tuple[HedgeCost, str]:
    """The alternative to use and the sentence saying why. A venue series wins only when it moves at least the
    delta spot would and costs less in all."""
    if not venue:
        return spot, f"{spot.describe()}; no listed series moves this delta"
    best = venue[0]
    full = abs(best.delta_units) >= abs(spot.delta_units) * (1 - 1e-9)
    text = f"{spot.describe()} vs venue {best.describe()}"
    if best.cost_usd < spot.cost_usd and full:
        if enabled:
            return best, f"{text}: venue chosen, ${spot.cost_usd - best.cost_usd:,.0f} cheaper"
        return spot, f"{text}: venue cheaper but policy.delta_via_venue is off: spot"
    if not full:
        return spot, f"{text}: the venue's liquidity or idle USDC covers only {abs(best.delta_units):.4f}: spot"
    return spot, f"{text}: spot chosen, ${best.cost_usd - spot.cost_usd:,.0f} cheaper"


def apply_venue(choice: HedgeCost, s: Working, book: BookView, config: PolicyConfig) -> None:
    """Book the chosen venue hedge into the working state: premium out of idle USDC, the option's Greeks in."""
    o = choice.option
    assert o is not None
    u = s.underlyings[o.underlying]
    rate = book.tail.rate if book.tail is not None else 0.0
    g = greeks(u.spot_usd, o.strike_usd, o.t_years, o.vol, rate, o.is_call)
    premium = choice.contracts * o.ask_usd * (1 + slippage(config))
    s.idle_usdc -= premium
    s.venue_collateral_usd += premium
    s.update(
        u,
        net_delta_units=float(choice.contracts * g.delta[0]),
        net_gamma_units_per_usd=float(choice.contracts * g.gamma[0]),
        net_vega_usd_per_vol_pt=float(choice.contracts * g.vega[0] / 100),
    )
