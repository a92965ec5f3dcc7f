"""Route a plan's swaps: each policy swap becomes legs over the pair's fee tiers and two-hop paths.

The policy decides *what* to trade (``Swap(token_in, token_out, amount_in, min_amount_out)``); this stage decides
*where*, after the policy and before the plan is recorded, so the stored plan is what is sent and a restart
replays the same legs. For every swap it reads the state of every candidate pool at the plan's block (three
batched rounds, :func:`adapters.uniswap_pools.read_pool_states`), splits the exact raw input the single swap
would have spent with :func:`keeper.execution.router.best_split` (a leg's gas is charged as a fixed cost in the
output token), and emits one ``Swap`` action per leg with its path and exact amounts. Each leg is its own vault
action, so the vault's per-swap slippage guard (oracle value out vs in) holds for every leg, and the batch's
max-loss bound for the total.

A leg's minimum output is the larger of its exact quote less ``execution.quote_tolerance_bps`` (the state may
move before inclusion) and its pro-rata share of the policy's own minimum. Later swaps in a plan are quoted on
the pool states the earlier legs leave behind. A swap that cannot be quoted (a pool missing, a price moving past
the ticks read) keeps its single-pool form and the plan says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from adapters.base import TokenBook
from adapters.uniswap_pools import read_pool_states
from keeper.chain.rpc import RpcClient
from keeper.config import ExecutionConfig, KeeperSettings
from keeper.execution.router import Route, Split, best_split, pair_routes, quote_route, route_path
from keeper.execution.uniswap_v3 import OutsideWindowError, PoolState, swap_exact_input
from keeper.model import BookView, Decision, Plan, Swap
from keeper.model.exceptions import ConfigError

_BPS = 10_000


def record_tiers(record: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The record's ``uniswap.tiers`` (every pool of each pair), or, for a record without it, the primary pools
    with the fields the router reads (base, quote, base_is_token0)."""
    uniswap = record["uniswap"]
    if uniswap.get("tiers"):
        return {pair: [dict(p) for p in pools] for pair, pools in uniswap["tiers"].items()}
    tiers = {}
    for pair, pool in uniswap["pools"].items():
        base, quote = pair.split("/")
        usdc_is_token0 = bool(pool["usdc_is_token0"])
        tiers[pair] = [{**pool, "base": base, "quote": quote, "base_is_token0": not usdc_is_token0, "primary": True}]
    return tiers


class PlanRouter:
    """The routing stage of one keeper (see the module docstring)."""

    def __init__(self, client: RpcClient, record: Mapping[str, Any], settings: KeeperSettings) -> None:
        self.client = client
        self.config: ExecutionConfig = settings.execution
        self.rebalance_gas = settings.loop.rebalance_gas
        self.tokens = TokenBook(dict(record))
        self.tiers = record_tiers(record)
        self.pools = {str(p["address"]): p for pools in self.tiers.values() for p in pools}
        if self.config.via not in self.tokens.by_symbol:
            raise ConfigError(
                f"execution.via={self.config.via!r} is not a token of the deployment record "
                f"({', '.join(self.tokens.by_symbol)}); name one of them"
            )
        self.timings: dict[str, float] = {}

    def __call__(self, plan: Plan, book: BookView) -> Plan:
        return self.route(plan, book)

    def route(self, plan: Plan, book: BookView) -> Plan:
        swaps = [a for a in plan.actions if isinstance(a, Swap) and not a.fees]
        if not self.config.routing or not swaps:
            return plan
        routes = {(s.token_in, s.token_out): self._routes(s) for s in swaps}
        wanted = sorted({pool for rs in routes.values() for r in rs for pool in r.pools})
        words = self.config.words_each_side
        states = read_pool_states(self.client, wanted, words, block=plan.block_number)
        prices = {u.symbol: u.spot_usd for u in book.underlyings} | {"USDC": 1.0}
        usd_per_gas = book.gas_cost_usd / self.rebalance_gas if self.rebalance_gas else 0.0
        actions: list[Any] = []
        stages: list[int] = []
        notes: list[str] = []
        for k, action in enumerate(plan.actions):
            stage = plan.stages[k] if plan.stages else 0
            if not isinstance(action, Swap) or action.fees:
                actions.append(action)
                stages.append(stage)
                continue
            legs, note = self._split(action, routes[(action.token_in, action.token_out)], states, prices, usd_per_gas)
            if legs is None and words < 16:  # the order runs past the ticks read: read wider once
                words = min(16, 4 * words + 4)
                states.update(read_pool_states(self.client, sorted(states), words, block=plan.block_number))
                legs, note = self._split(
                    action, routes[(action.token_in, action.token_out)], states, prices, usd_per_gas
                )
            notes.append(note)
            for leg in legs or [action]:
                actions.append(leg)
                stages.append(stage)
        decision = Decision("routing", False, "; ".join(notes))
        return replace(
            plan,
            actions=tuple(actions),
            stages=tuple(stages) if plan.stages else (),
            decisions=(*plan.decisions, decision),
        )

    def _routes(self, swap: Swap) -> list[Route]:
        return pair_routes(self.tiers, swap.token_in, swap.token_out, self.config.via)

    def _split(
        self,
        swap: Swap,
        routes: Sequence[Route],
        states: dict[str, PoolState],
        prices: Mapping[str, float],
        usd_per_gas: float,
    ) -> tuple[list[Swap] | None, str]:
        """The legs of ``swap`` (None when the state read does not cover it) and the plan's note on them."""
        tokens = self.tokens
        raw_in = tokens.to_raw(swap.token_in, swap.amount_in)
        what = f"{swap.token_in}->{swap.token_out} {swap.amount_in:,.6g}"
        if raw_in == 0:
            return [swap], f"{what}: nothing to route"
        out_decimals = tokens.by_symbol[swap.token_out][1]
        out_usd = prices.get(swap.token_out, 0.0)
        gas_out = int(self.config.leg_gas * usd_per_gas / out_usd * 10**out_decimals) if out_usd > 0 else 0
        try:
            gas = [gas_out] * len(routes)
            split = best_split(states, routes, raw_in, pieces=self.config.pieces, gas_out_per_leg=gas)
            primary = self._primary(routes)
            one_shot = quote_route(states, primary, raw_in) if primary is not None else None
        except OutsideWindowError as err:
            return None, f"{what}: not routed ({err}); through the primary pool"
        policy_min = swap.raw_min_out or tokens.to_raw(swap.token_out, swap.min_amount_out)
        legs = []
        for leg in split.legs:
            symbols, fees = route_path(leg.route, self.pools)
            quoted_min = leg.amount_out * (_BPS * 100 - round(self.config.quote_tolerance_bps * 100)) // (_BPS * 100)
            pro_rata = -(-policy_min * leg.amount_in // raw_in)  # rounded up: the legs' minimums cover the policy's
            legs.append(
                Swap(
                    swap.token_in,
                    swap.token_out,
                    leg.amount_in / 10 ** tokens.by_symbol[swap.token_in][1],
                    max(quoted_min, pro_rata) / 10**out_decimals,
                    fees=fees,
                    via=symbols[1:-1],
                    raw_in=leg.amount_in,
                    raw_min_out=max(quoted_min, pro_rata, 1),
                )
            )
            _apply(states, leg.route, leg.amount_in)
        return legs, f"{what}: {self._describe(split, raw_in)}{_versus(split, one_shot)}"

    def _primary(self, routes: Sequence[Route]) -> Route | None:
        for route in routes:
            if len(route.hops) == 1 and self.pools[route.hops[0].pool].get("primary"):
                return route
        return None

    def _describe(self, split: Split, raw_in: int) -> str:
        parts = []
        for leg in split.legs:
            symbols, fees = route_path(leg.route, self.pools)
            path = "/".join(f"{f / 1e4:g}%" for f in fees)
            if len(fees) > 1:
                path += f" via {', '.join(symbols[1:-1])}"
            parts.append(f"{path} {100 * leg.amount_in / raw_in:.0f}%")
        return f"{len(split.legs)} leg{'s' if len(split.legs) > 1 else ''} ({', '.join(parts)})"


def _versus(split: Split, one_shot: int | None) -> str:
    if not one_shot:
        return ""
    gain_bp = (split.net_out - one_shot) / one_shot * _BPS
    return f", {gain_bp:+.1f} bp net of leg gas vs the primary pool alone"


def _apply(states: dict[str, PoolState], route: Route, amount_in: int) -> None:
    """Move the route's pools to where the leg leaves them, so a later swap in the plan is quoted after it."""
    amount = amount_in
    for hop in route.hops:
        if amount <= 0:
            return
        result = swap_exact_input(states[hop.pool], amount, hop.zero_for_one)
        states[hop.pool] = result.state_after(states[hop.pool])
        amount = result.amount_out
