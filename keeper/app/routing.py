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

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

from adapters.base import TokenBook
from adapters.uniswap_pools import read_pool_states
from keeper.chain.rpc import RpcClient
from keeper.config import ExecutionConfig, KeeperSettings
from keeper.execution.router import Route, Split, best_split, impact_per_value, pair_routes, quote_route, route_path
from keeper.execution.slicing import SliceParams, first_child_fraction, kappa, steps_for_impact
from keeper.execution.uniswap_v3 import OutsideWindowError, PoolState, swap_exact_input
from keeper.model import BookView, Decision, Plan, Swap
from keeper.model.exceptions import ConfigError
from keeper.policy.hedging import DELTA_STAGE
from keeper.store import KeeperStore

_BPS = 10_000
_YEAR_S = 365.0 * 86_400
_SCALED = ("amount_in", "min_amount_out", "amount", "amount_usdc", "size", "max_cost_usd")


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

    def __init__(
        self,
        client: RpcClient,
        record: Mapping[str, Any],
        settings: KeeperSettings,
        store: KeeperStore | None = None,
    ) -> None:
        """``store`` keeps slicing schedules across restarts (no store: no slicing)."""
        self.client = client
        self.store = store
        self.config: ExecutionConfig = settings.execution
        self.risk_aversion = settings.policy.risk_aversion
        self.step_blocks = max(1, settings.policy.cooldown_blocks)  # the delta rule acts at most this often
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
        self._cache: dict[str, PoolState] = {}
        self._cache_key: tuple[int, tuple[str, ...], int] | None = None

    def __call__(self, plan: Plan, book: BookView) -> Plan:
        return self.route(plan, book)

    def route(self, plan: Plan, book: BookView) -> Plan:
        swaps = [a for a in plan.actions if isinstance(a, Swap) and not a.fees]
        if not swaps:
            return plan
        words = self.config.words_each_side
        routes, states, prices = self._market(swaps, book, plan.block_number)
        usd_per_gas = book.gas_cost_usd / self.rebalance_gas if self.rebalance_gas else 0.0
        notes: list[str] = []
        if self.config.slicing and self.store is not None:
            plan, note = self._slice(plan, book, routes, states, prices)
            if note:
                notes.append(note)
        if not self.config.routing:
            if not notes:
                return plan
            return replace(plan, decisions=(*plan.decisions, Decision("routing", False, "; ".join(notes))))
        actions: list[Any] = []
        stages: list[int] = []
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

    def measure(self, plan: Plan, book: BookView) -> dict[str, float]:
        """The delta rule's swaps priced as they would trade: per risky symbol, the routed order's cost (fees +
        impact: value in − value out at the oracle, gas excluded) in bp of its value, on the pools at the plan's
        block. The policy compares it with the venue's options (keeper.policy.instrument); empty when the plan
        has no delta-rule swap or the ticks read do not cover it."""
        stages = plan.stages or (DELTA_STAGE,) * len(plan.actions)
        swaps = [a for a, st in zip(plan.actions, stages, strict=True) if st == DELTA_STAGE and isinstance(a, Swap)]
        if not swaps:
            return {}
        routes, states, prices = self._market(swaps, book, plan.block_number)
        value: dict[str, float] = {}
        cost: dict[str, float] = {}
        for swap in swaps:
            raw_in = self.tokens.to_raw(swap.token_in, swap.amount_in)
            if raw_in == 0:
                continue
            try:
                out = best_split(states, routes[(swap.token_in, swap.token_out)], raw_in, pieces=self.config.pieces)
            except OutsideWindowError:
                return {}
            risky = swap.token_out if swap.token_in == "USDC" else swap.token_in
            value_in = swap.amount_in * prices.get(swap.token_in, 0.0)
            decimals = self.tokens.by_symbol[swap.token_out][1]
            value_out = out.amount_out / 10**decimals * prices.get(swap.token_out, 0.0)
            value[risky] = value.get(risky, 0.0) + value_in
            cost[risky] = cost.get(risky, 0.0) + value_in - value_out
        return {symbol: cost[symbol] / v * _BPS for symbol, v in value.items() if v > 0}

    def _market(
        self, swaps: Sequence[Swap], book: BookView, block: int
    ) -> tuple[dict[tuple[str, str], list[Route]], dict[str, PoolState], dict[str, float]]:
        """What pricing ``swaps`` needs: each pair's candidate routes, the states of every pool on them at
        ``block`` (ticks ``words_each_side`` around the price) and the oracle prices in USD."""
        routes = {(s.token_in, s.token_out): self._routes(s) for s in swaps}
        wanted = sorted({pool for rs in routes.values() for r in rs for pool in r.pools})
        states = self._states(wanted, self.config.words_each_side, block)
        prices = {u.symbol: u.spot_usd for u in book.underlyings} | {"USDC": 1.0}
        return routes, states, prices

    def _states(self, pools: list[str], words: int, block: int) -> dict[str, PoolState]:
        """Pool states at ``block``, read once per (block, pools, words): measuring and routing share the read."""
        key = (block, tuple(pools), words)
        if self._cache_key != key:
            self._cache = read_pool_states(self.client, pools, words, block=block)
            self._cache_key = key
        return dict(self._cache)

    def _slice(
        self,
        plan: Plan,
        book: BookView,
        routes: Mapping[tuple[str, str], Sequence[Route]],
        states: dict[str, PoolState],
        prices: Mapping[str, float],
    ) -> tuple[Plan, str]:
        """Cut the delta rule's trades to this step's Almgren–Chriss child when one block's impact of the largest
        is over ``execution.max_impact_bps``; urgent plans (any other rule acting, a blown tail budget) go whole.
        Returns the plan and the note (empty when nothing to say)."""
        stages = plan.stages or (DELTA_STAGE,) * len(plan.actions)
        candidates = [
            a for a, st in zip(plan.actions, stages, strict=True) if st == DELTA_STAGE and isinstance(a, Swap)
        ]
        if not candidates:
            return plan, ""
        biggest = max(candidates, key=lambda a: a.amount_in * prices.get(a.token_in, 0.0))
        value = biggest.amount_in * prices.get(biggest.token_in, 0.0)
        eta = self._impact_per_usd(biggest, routes[(biggest.token_in, biggest.token_out)], states, prices)
        impact_bps = eta * value * _BPS
        what = f"{biggest.token_in}->{biggest.token_out} ${value:,.0f}"
        if not math.isfinite(eta):
            what += " (past the pool ticks read)"
        if impact_bps <= self.config.max_impact_bps:
            return plan, ""
        urgent = [st for st in stages if st != DELTA_STAGE]
        blown = plan.tail is not None and plan.tail.worst_loss_usd > plan.tail.budget_usd
        if urgent or blown:
            why = "the tail budget is blown" if blown else "a more urgent rule acts in the same plan"
            return plan, f"{what}: one-block impact {impact_bps:.1f} bp, not sliced: {why}"
        assert self.store is not None
        key = f"slice:{biggest.token_in}->{biggest.token_out}"
        saved = self.store.get_state(key)
        schedule = json.loads(saved) if saved else None
        if schedule is None or int(schedule["deadline_block"]) <= plan.block_number:
            steps = steps_for_impact(value, eta, self.config.max_impact_bps, self.config.max_slices)
            schedule = {
                "created_block": plan.block_number,
                "deadline_block": plan.block_number + steps * self.step_blocks,
                "steps": steps,
            }
            self.store.set_state(key, json.dumps(schedule))
        left = max(1, math.ceil((int(schedule["deadline_block"]) - plan.block_number) / self.step_blocks))
        risky = biggest.token_out if biggest.token_in == "USDC" else biggest.token_in
        sigma_annual = next((u.sigma_annual for u in book.underlyings if u.symbol == risky), 0.0)
        sigma_step = sigma_annual * math.sqrt(self.step_blocks * self.config.block_time_s / _YEAR_S)
        k = kappa(SliceParams(self.risk_aversion, sigma_step, eta))
        fraction = first_child_fraction(k, left)
        if fraction >= 1.0:
            return plan, f"{what}: one-block impact {impact_bps:.1f} bp; last step of the schedule: all of it now"
        actions = tuple(
            _scaled(a, fraction) if st == DELTA_STAGE else a for a, st in zip(plan.actions, stages, strict=True)
        )
        step = int(schedule["steps"]) - left + 1
        note = (
            f"{what}: one-block impact {impact_bps:.1f} bp > {self.config.max_impact_bps:g} bp: sliced, "
            f"{fraction:.0%} now (step {step} of {schedule['steps']}, schedule to block {schedule['deadline_block']}, "
            f"κ {k:.3f}, η {eta * 1e6:.3g} per $M)"
        )
        return replace(plan, actions=actions), note

    def _impact_per_usd(
        self, swap: Swap, routes: Sequence[Route], states: Mapping[str, PoolState], prices: Mapping[str, float]
    ) -> float:
        """η of the order at the oracle: its split's cost less the cost rate of a thousandth of it (fees and the
        pools' offset from the oracle), over the order's value squared."""
        raw_in = self.tokens.to_raw(swap.token_in, swap.amount_in)
        price_in = prices.get(swap.token_in, 0.0) / 10 ** self.tokens.by_symbol[swap.token_in][1]
        price_out = prices.get(swap.token_out, 0.0) / 10 ** self.tokens.by_symbol[swap.token_out][1]
        try:
            return impact_per_value(states, routes, raw_in, price_in, price_out, pieces=self.config.pieces)
        except OutsideWindowError:
            return math.inf  # beyond the ticks read: certainly too big for one block

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


def _scaled(action: Any, fraction: float) -> Any:
    """The action with its amounts (input, minimum output, Aave amount, …) times ``fraction``."""
    names = {f.name for f in fields(action)}
    return replace(action, **{n: getattr(action, n) * fraction for n in _SCALED if n in names})
