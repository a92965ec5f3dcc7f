"""Implementation shortfall of the keeper's sliced execution on a moving market, against one block (issue 17).

``python -m bench.slicing_figures`` prints a markdown table. For each order (WETH and WBTC, sold and bought
against USDC) and size (a share of the primary pool's ±2 % depth) it measures, from the same devnet state:

- **single pool, one block**: the whole order through the pair's primary pool (what the keeper did before
  routing);
- **routed, one block**: the router's split over every fee tier and via-WETH path, in one batch;
- **routed + sliced**: the keeper's own schedule — η from the router's exact quotes (``impact_per_value``), as
  many trading steps as ``execution.max_impact_bps`` needs (capped by ``max_slices``), the Almgren–Chriss
  children for the policy's ``risk_aversion`` and the path's vol per step — each child routed on the pools as
  they are at its step. Between steps the market moves along a GBM path (``SIGMA_ANNUAL``, one step =
  ``policy.cooldown_blocks`` blocks of ``execution.block_time_s``): the devnet's arbitrage moves every pool to
  the new price and the oracle follows, so a child meets the impact of its predecessors only as far as the
  arbitrage has not undone it (on the devnet it undoes all of it within the step: the optimistic resilience
  case; see the README). ``PATHS`` paths, in antithetic pairs.

Shortfall = the order's value at the decision-time oracle − what it fetched at that same price + gas, in bp of
the order's value. Gas is charged as the vault pays it, measured on the same devnet by ``bench.leg_gas``: one
vault batch with one leg, plus the measured slope per extra leg; every child is its own batch. Every leg is
executed through the SwapRouter by a trader account and checked to pay the router's quote to the wei.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np

from adapters.uniswap_pools import read_pool_states
from bench import leg_gas
from bench.routing_figures import depth_2pct, execute_legs, fund_trader
from devnet.devnet import Devnet
from devnet.driver import MarketDriver
from keeper.chain.anvil import rpc
from keeper.chain.rpc import RpcClient
from keeper.config import ExecutionConfig, PolicyConfig
from keeper.execution.router import Route, best_split, impact_per_value, pair_routes, quote_route
from keeper.execution.slicing import SliceParams, kappa, steps_for_impact, trajectory

GAS_GWEI = 20.0
SIGMA_ANNUAL = 0.60
SIZES = (0.005, 0.02, 0.05, 0.1, 0.2)
BOUNDS_BPS = (15.0, 5.0)  # the default execution.max_impact_bps and a tighter one
PATHS = 8
ORDERS = (("WETH", "USDC"), ("USDC", "WETH"), ("WBTC", "USDC"), ("USDC", "WBTC"))
_YEAR_S = 365.25 * 86_400
_RISKY = ("WETH", "WBTC")


class _Bench:
    def __init__(self, dn: Devnet, batch_gas_1: int, gas_per_extra_leg: float) -> None:
        self.dn, self.record = dn, dn.record
        self.driver = MarketDriver(dn.w3, dn.url, dn.record)
        self.client = RpcClient(dn.url)
        self.trader, self.tokens = fund_trader(dn)
        self.tiers = self.record["uniswap"]["tiers"]
        self.pools = [p["address"] for pools in self.tiers.values() for p in pools]
        self.decimals = {s: int(t["decimals"]) for s, t in self.record["tokens"].items()}
        self.batch_gas_1, self.gas_per_extra_leg = batch_gas_1, gas_per_extra_leg
        self.execution, self.policy = ExecutionConfig(), PolicyConfig()
        self.step_s = self.policy.cooldown_blocks * self.execution.block_time_s
        self.driver.prepare_pool_moves(_RISKY)  # funds and approvals before any snapshot the bench reverts to

    def batch_gas(self, legs: int) -> float:
        return self.batch_gas_1 + (legs - 1) * self.gas_per_extra_leg

    def prices(self) -> dict[str, float]:
        return {"USDC": 1.0, **{s: self.driver.oracle_price(s) for s in _RISKY}}

    def usd_per_raw(self, prices: dict[str, float], symbol: str) -> float:
        return prices[symbol] / 10 ** self.decimals[symbol]

    def states(self) -> dict[str, Any]:
        return read_pool_states(self.client, self.pools, words_each_side=self.execution.words_each_side + 2)

    def run_legs(self, legs: list[tuple[Route, int]], expected: list[int], token_out: str) -> tuple[int, int]:
        """Execute ``legs`` (checked to pay ``expected`` to the wei); returns (output, legs)."""
        outs, _ = execute_legs(self.dn, self.trader, legs, self.tokens[token_out])
        if outs != expected:
            raise AssertionError(f"executed legs paid {outs}, the router quoted {expected}")
        return sum(outs), len(legs)

    def routed_child(self, routes: list[Route], amount: int, token_out: str, usd_gas: float) -> tuple[int, int]:
        prices = self.prices()
        gas_out = int(self.gas_per_extra_leg * usd_gas / self.usd_per_raw(prices, token_out))
        split = best_split(
            self.states(), routes, amount, pieces=self.execution.pieces, gas_out_per_leg=[gas_out] * len(routes)
        )
        legs = [(leg.route, leg.amount_in) for leg in split.legs]
        return self.run_legs(legs, [leg.amount_out for leg in split.legs], token_out)

    def sliced_run(
        self,
        routes: list[Route],
        children: list[int],
        token_out: str,
        usd_gas: float,
        multipliers: list[float],
        base_prices: dict[str, float],
    ) -> tuple[int, float]:
        """Children executed one step apart on a market moving by ``multipliers``; (total output, gas). The chain
        is put back where it was."""
        snap = rpc(self.dn.url, "evm_snapshot")
        out_total, gas = 0, 0.0
        for j, child in enumerate(children):
            if j > 0:
                self.move_market(multipliers[j - 1], base_prices)
            got, legs = self.routed_child(routes, child, token_out, usd_gas)
            out_total += got
            gas += self.batch_gas(legs)
        rpc(self.dn.url, "evm_revert", [snap])
        return out_total, gas

    def move_market(self, multiplier: float, base: dict[str, float]) -> None:
        prices = {s: base[s] * multiplier for s in _RISKY}
        with self.driver.one_block(self.driver.latest_timestamp() + int(self.step_s)):
            for symbol, price in prices.items():
                self.driver.move_pool(symbol, price)
                self.driver.set_price(symbol, price)
            self.driver.move_cross(prices)
            self.driver.set_price("USDC", 1.0)


def _antithetic(rng: np.random.Generator, steps: int, sigma_step: float, paths: int) -> list[list[float]]:
    """``paths`` GBM multipliers for steps 1 … steps−1 (step 0 trades at the decision price), in ± pairs."""
    out = []
    for _ in range(paths // 2):
        z = rng.standard_normal(steps - 1)
        for sign in (1.0, -1.0):
            out.append(list(np.exp(np.cumsum(sign * sigma_step * z - 0.5 * sigma_step**2))))
    return out


def _shortfall_bp(value_in: float, out_usd: float, gas: float, usd_per_gas: float) -> float:
    return (value_in - out_usd + gas * usd_per_gas) / value_in * 1e4


def measure(paths: int = PATHS) -> tuple[list[str], dict[str, float]]:
    if paths < 2 or paths % 2:
        raise ValueError(f"paths={paths}: an even number ≥ 2 (antithetic pairs)")
    default = ExecutionConfig().max_impact_bps
    if default not in BOUNDS_BPS:
        raise ValueError(f"BOUNDS_BPS={BOUNDS_BPS} must include the default execution.max_impact_bps={default:g}")
    bounds = " | ".join(f"routed + sliced, max_impact_bps {b:g} (bp: mean ± s.e.)" for b in BOUNDS_BPS)
    lines = [
        "| order | size (% of ±2 % depth) | size (USD) | single pool, one block (bp) | routed, one block (bp) | "
        f"{bounds} | keeper (default) vs single pool |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(BOUNDS_BPS) + "---:|",
    ]
    figures: dict[str, float] = {}
    with Devnet.start() as dn:
        start = rpc(dn.url, "evm_snapshot")
        rows = leg_gas.measure_on(dn)
        rpc(dn.url, "evm_revert", [start])
        batch_1 = rows[0][1]
        per_leg = (rows[-1][1] - rows[0][1]) / (rows[-1][0] - rows[0][0])
        figures["batch gas 1 leg"], figures["gas per extra leg"] = batch_1, per_leg
        b = _Bench(dn, batch_1, per_leg)
        sigma_step = SIGMA_ANNUAL * math.sqrt(b.step_s / _YEAR_S)
        rng = np.random.default_rng(17)
        for sym_in, sym_out in ORDERS:
            risky = sym_out if sym_in == "USDC" else sym_in
            name = f"{sym_in}→{sym_out}"
            routes = pair_routes(b.tiers, sym_in, sym_out)
            primary_pool = b.tiers[f"{risky}/USDC"][0]["address"]
            primary = next(r for r in routes if len(r.hops) == 1 and r.hops[0].pool == primary_pool)
            for frac in SIZES:
                base = rpc(dn.url, "evm_snapshot")
                states, prices = b.states(), b.prices()
                usd_per_gas = GAS_GWEI * 1e-9 * prices["WETH"]
                in_usd, out_usd = b.usd_per_raw(prices, sym_in), b.usd_per_raw(prices, sym_out)
                amount = int(depth_2pct(states[primary_pool], primary.hops[0].zero_for_one) * frac)
                value_in = amount * in_usd
                one = quote_route(states, primary, amount)
                got, _ = b.run_legs([(primary, amount)], [one], sym_out)
                single_bp = _shortfall_bp(value_in, got * out_usd, b.batch_gas(1), usd_per_gas)
                rpc(dn.url, "evm_revert", [base])
                base = rpc(dn.url, "evm_snapshot")
                got, legs = b.routed_child(routes, amount, sym_out, usd_per_gas)
                routed_bp = _shortfall_bp(value_in, got * out_usd, b.batch_gas(legs), usd_per_gas)
                rpc(dn.url, "evm_revert", [base])
                eta = impact_per_value(states, routes, amount, in_usd, out_usd, pieces=b.execution.pieces)
                base_prices = {s: prices[s] for s in _RISKY}
                cells, keeper_bp = [], routed_bp
                for bound in BOUNDS_BPS:
                    steps = steps_for_impact(value_in, eta, bound, b.execution.max_slices)
                    if steps == 1:
                        cells.append("one block")
                        continue
                    k = kappa(SliceParams(b.policy.risk_aversion, sigma_step, eta))
                    children = [int(c) for c in trajectory(float(amount), k, steps)]
                    children[-1] += amount - sum(children)
                    runs = [
                        b.sliced_run(routes, children, sym_out, usd_per_gas, multipliers, base_prices)
                        for multipliers in _antithetic(rng, steps, sigma_step, paths)
                    ]
                    sliced = [_shortfall_bp(value_in, out * out_usd, gas, usd_per_gas) for out, gas in runs]
                    mean = statistics.fmean(sliced)
                    # antithetic pairs: the pair means are the independent draws
                    pair_means = [(sliced[i] + sliced[i + 1]) / 2 for i in range(0, len(sliced), 2)]
                    se = statistics.stdev(pair_means) / math.sqrt(len(pair_means)) if len(pair_means) > 1 else 0.0
                    spread = f"{se:.2f}" if se >= 0.005 else "< 0.01"
                    cells.append(f"{mean:.2f} ± {spread} ({steps} steps, s.d. {statistics.stdev(sliced):.1f})")
                    figures[f"{name} {frac} sliced@{bound:g} bp"] = mean
                    if bound == b.execution.max_impact_bps:
                        keeper_bp = mean  # what the keeper does by default: slices only past its bound
                cut = 1 - keeper_bp / single_bp
                lines.append(
                    f"| {name} | {frac:.1%} | {value_in:,.0f} | {single_bp:.2f} | {routed_bp:.2f} | "
                    + " | ".join(cells)
                    + f" | {cut:+.0%} |"
                )
                figures[f"{name} {frac} cut"] = cut
                figures[f"{name} {frac} single bp"] = single_bp
                figures[f"{name} {frac} routed bp"] = routed_bp
    return lines, figures


def main() -> None:
    lines, figures = measure()
    print("\n".join(lines))
    print(
        f"\ngas charged: {figures['batch gas 1 leg']:,.0f} per vault batch (one leg) + "
        f"{figures['gas per extra leg']:,.0f} per extra leg, at {GAS_GWEI:g} gwei; market vol {SIGMA_ANNUAL:.0%} "
        f"a year; {PATHS} paths per sliced row (antithetic pairs)"
    )


if __name__ == "__main__":
    main()
