"""Split one exact-input order across pool-disjoint routes (fee tiers of a pair, two-hop paths via WETH).

Every route's output is a concave function of its input (each pool's is, and a chain of concave increasing
functions is too), so the split that maximises the total output equalises the routes' marginal rates. On a
grid of ``pieces`` equal increments that optimum is found exactly by water-filling: give each increment to the
route whose next increment adds most output (the greedy rule is optimal for separable concave allocation).
A route's first increment also pays its leg's gas, in output-token units, so a leg is opened only when the
output it adds beats what it costs to send. Outputs come from the exact integer swap maths, so the split's
quoted output is what the chain pays, to the wei, when the legs execute in their pools on the state read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from keeper.execution.uniswap_v3 import PoolState, swap_exact_input


@dataclass(frozen=True)
class Hop:
    pool: str
    zero_for_one: bool


@dataclass(frozen=True)
class Route:
    hops: tuple[Hop, ...]

    @property
    def pools(self) -> tuple[str, ...]:
        return tuple(h.pool for h in self.hops)


@dataclass(frozen=True)
class Leg:
    route: Route
    amount_in: int
    amount_out: int


@dataclass(frozen=True)
class Split:
    legs: tuple[Leg, ...]
    amount_in: int
    amount_out: int  # sum of the legs' exact outputs
    gas_out: int  # the legs' gas in output-token units (not deducted from amount_out)

    @property
    def net_out(self) -> int:
        return self.amount_out - self.gas_out


def quote_route(states: Mapping[str, PoolState], route: Route, amount_in: int) -> int:
    """Exact output of ``amount_in`` through ``route``'s hops, each on its pool's state."""
    amount = amount_in
    for hop in route.hops:
        if amount <= 0:
            return 0
        amount = swap_exact_input(states[hop.pool], amount, hop.zero_for_one).amount_out
    return amount


def check_disjoint(routes: Sequence[Route]) -> None:
    seen: dict[str, int] = {}
    for i, route in enumerate(routes):
        if not route.hops:
            raise ValueError(f"route {i} has no hop")
        for pool in route.pools:
            if pool in seen:
                raise ValueError(f"pool {pool} is in routes {seen[pool]} and {i}: routes must be pool-disjoint")
            seen[pool] = i


def best_split(
    states: Mapping[str, PoolState],
    routes: Sequence[Route],
    amount_in: int,
    *,
    pieces: int = 32,
    gas_out_per_leg: Sequence[int] | None = None,
) -> Split:
    """The split of ``amount_in`` over ``routes`` with the greatest output net of gas, on a grid of ``pieces``."""
    if amount_in <= 0:
        raise ValueError(f"amount_in must be positive, got {amount_in}")
    if pieces < 1:
        raise ValueError(f"pieces must be ≥ 1, got {pieces}")
    check_disjoint(routes)
    gas = list(gas_out_per_leg) if gas_out_per_leg is not None else [0] * len(routes)
    if len(gas) != len(routes):
        raise ValueError(f"gas_out_per_leg has {len(gas)} entries for {len(routes)} routes")
    step, extra = divmod(amount_in, pieces)
    sizes = [step + (1 if k < extra else 0) for k in range(pieces)]  # sums to amount_in exactly
    given = [0] * len(routes)
    out = [0] * len(routes)
    # Only the route that took the last increment changes, so each route's next-increment output is cached:
    # pieces + routes quotes in all, not pieces × routes.
    ahead = [quote_route(states, route, sizes[0]) for route in routes]
    for k, size in enumerate(sizes):
        gains = [ahead[r] - out[r] - (gas[r] if given[r] == 0 else 0) for r in range(len(routes))]
        best = max(range(len(routes)), key=gains.__getitem__)
        given[best] += size
        out[best] = ahead[best]
        if k + 1 < pieces:
            ahead[best] = quote_route(states, routes[best], given[best] + sizes[k + 1])
            # the other routes' cached next increment was sized sizes[k]; sizes differ by at most one wei-unit
            for r in range(len(routes)):
                if r != best and sizes[k + 1] != size:
                    ahead[r] = quote_route(states, routes[r], given[r] + sizes[k + 1])
    legs = tuple(Leg(routes[r], given[r], out[r]) for r in range(len(routes)) if given[r] > 0)
    used_gas = sum(gas[r] for r in range(len(routes)) if given[r] > 0)
    split = Split(legs, amount_in, sum(out), used_gas)
    # A leg's gas is a fixed cost, which the greedy rule cannot weigh exactly: the whole order through the best
    # single route is always a candidate, so a split is never worse than not splitting.
    singles = [(quote_route(states, route, amount_in), gas[r], route) for r, route in enumerate(routes)]
    single_out, single_gas, single_route = max(singles, key=lambda s: s[0] - s[1])
    if single_out - single_gas > split.net_out:
        return Split((Leg(single_route, amount_in, single_out),), amount_in, single_out, single_gas)
    return split


def impact_per_value(
    states: Mapping[str, PoolState],
    routes: Sequence[Route],
    amount_in: int,
    value_per_raw_in: float,
    value_per_raw_out: float,
    *,
    pieces: int = 32,
) -> float:
    """Almgren–Chriss's η for one block, from exact quotes: (cost of the whole split − the cost rate of a
    thousandth of it × the order) / order², all in the caller's value unit (USD at the oracle). Subtracting
    the small order's rate removes what does not grow with size — fees and the pools' offset from the oracle —
    so η·X is the order's temporary impact as a fraction of its value X. 0 for an order too small to measure."""
    if amount_in < 1000 or value_per_raw_in <= 0 or value_per_raw_out <= 0:
        return 0.0
    whole = best_split(states, routes, amount_in, pieces=pieces).amount_out
    small_in = amount_in // 1000
    small = best_split(states, routes, small_in, pieces=1).amount_out
    value = amount_in * value_per_raw_in
    cost = value - whole * value_per_raw_out
    base_rate = 1 - small * value_per_raw_out / (small_in * value_per_raw_in)
    return max(0.0, cost - base_rate * value) / value**2


def pair_routes(
    tiers: Mapping[str, Sequence[Mapping[str, object]]], token_in: str, token_out: str, via: str = "WETH"
) -> list[Route]:
    """Pool-disjoint routes from ``token_in`` to ``token_out`` (symbols) over a deployment record's
    ``uniswap.tiers``: every direct pool of the pair, then two-hop paths through ``via``, pairing the pools of
    the two legs in order so no pool is used twice."""

    def pools(a: str, b: str) -> list[Mapping[str, object]]:
        return list(tiers.get(f"{a}/{b}", ())) or list(tiers.get(f"{b}/{a}", ()))

    def hop(info: Mapping[str, object], sell: str) -> Hop:
        base_is_token0 = bool(info["base_is_token0"])
        selling_token0 = (info["base"] == sell) == base_is_token0
        return Hop(str(info["address"]), selling_token0)

    routes = [Route((hop(info, token_in),)) for info in pools(token_in, token_out)]
    if via not in (token_in, token_out):
        first, second = pools(token_in, via), pools(via, token_out)
        routes += [Route((hop(a, token_in), hop(b, via))) for a, b in zip(first, second, strict=False)]
    if not routes:
        raise ValueError(f"no Uniswap pool joins {token_in} and {token_out}; pairs: {', '.join(tiers)}")
    return routes


def route_path(route: Route, pools: Mapping[str, Mapping[str, object]]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The symbols along ``route`` (token in first, token out last) and the fee of each hop, from the record's
    pool entries by address: what an ``exactInput`` path encodes."""
    symbols: list[str] = []
    fees: list[int] = []
    for hop in route.hops:
        info = pools[hop.pool]
        token0, token1 = (info["base"], info["quote"]) if info["base_is_token0"] else (info["quote"], info["base"])
        src, dst = (token0, token1) if hop.zero_for_one else (token1, token0)
        if symbols and symbols[-1] != src:
            raise ValueError(f"route hop {hop.pool} sells {src} but the previous hop bought {symbols[-1]}")
        if not symbols:
            symbols.append(str(src))
        symbols.append(str(dst))
        fees.append(int(info["fee"]))  # type: ignore[call-overload]
    return tuple(symbols), tuple(fees)
