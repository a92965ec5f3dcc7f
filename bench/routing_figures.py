"""Implementation shortfall of the router's split vs the single-pool one-shot swap, on the devnet (issue 17).

``python -m bench.routing_figures`` prints a markdown table. For hedge sizes from 0.1 % to 20 % of the primary
WETH/USDC pool's ±2 % depth, both ways, it quotes the one-shot swap through the primary pool and the router's
split over every WETH/USDC fee tier, executes both on the devnet (each from the same state, reverted between),
checks every executed leg paid its quote to the wei, and charges gas as measured (receipt gas less the 21,000
a vault batch pays once) at ``GAS_GWEI``. Shortfall = value in − value out at the pre-trade mid + gas, in bp of
the order's value. Router time is the median of repeated splits of one order over all tiers.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

from web3.types import TxParams, Wei

from adapters.uniswap_pools import read_pool_states
from devnet.devnet import Devnet
from keeper.chain.anvil import rpc
from keeper.chain.connect import contract_at
from keeper.chain.rpc import RpcClient
from keeper.execution.router import Route, best_split, pair_routes, quote_route
from keeper.execution.uniswap_v3 import PoolState, swap_exact_input

GAS_GWEI = 20.0
GAS_PER_LEG_ESTIMATE = 110_000  # what the router charges a leg before sending (measured figure below)
SIZES = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
MAX = 2**256 - 1


def execute_legs(dn: Devnet, trader: str, legs: list[tuple[Route, int]], token_out: Any) -> tuple[list[int], int]:
    """Send each leg as one SwapRouter ``exactInput`` along its path; returns the outputs and the gas."""
    router = contract_at(dn.w3, dn.record["uniswap"]["SwapRouter"], "SwapRouter")
    info = {p["address"]: p for pools in dn.record["uniswap"]["tiers"].values() for p in pools}
    outs, gas = [], 0
    for route, amount in legs:
        path = b""
        for i, hop in enumerate(route.hops):
            pool = info[hop.pool]
            src, dst = (pool["token0"], pool["token1"]) if hop.zero_for_one else (pool["token1"], pool["token0"])
            path += (bytes.fromhex(src[2:]) if i == 0 else b"") + int(pool["fee"]).to_bytes(3, "big")
            path += bytes.fromhex(dst[2:])
        before = token_out.functions.balanceOf(trader).call()
        call = router.functions.exactInput((path, trader, 2**40, amount, 0))
        receipt = dn.w3.eth.wait_for_transaction_receipt(call.transact({"from": trader}))
        assert receipt["status"] == 1
        outs.append(token_out.functions.balanceOf(trader).call() - before)
        gas += int(receipt["gasUsed"]) - 21_000
    return outs, gas


def fund_trader(dn: Devnet) -> tuple[str, dict[str, Any]]:
    """An account holding (and having approved the SwapRouter for) plenty of USDC, WETH and WBTC."""
    w3, record = dn.w3, dn.record
    trader = list(w3.eth.accounts)[4]
    tokens = {
        s: contract_at(w3, record["tokens"][s]["address"], "WETH9" if s == "WETH" else "MintableERC20")
        for s in ("USDC", "WETH", "WBTC")
    }
    rpc(dn.url, "anvil_setBalance", [trader, hex(10**27)])
    wrap: TxParams = {"from": trader, "value": Wei(10**26)}
    tokens["WETH"].functions.deposit().transact(wrap)
    for symbol in ("USDC", "WBTC"):
        tokens[symbol].functions.mint(trader, 10**24).transact({"from": trader})
    for token in tokens.values():
        token.functions.approve(record["uniswap"]["SwapRouter"], MAX).transact({"from": trader})
    return trader, tokens


def depth_2pct(state: PoolState, zero_for_one: bool) -> int:
    """The input that moves the pool's price 2 % (sqrt price 1 %): its ±2 % depth, in the input token's raw units."""
    sp = state.sqrt_price_x96
    limit = sp * 990 // 1000 if zero_for_one else sp * 1010 // 1000
    return swap_exact_input(state, 10**40, zero_for_one, sqrt_price_limit=limit).amount_in


def depth_to(state: PoolState, zero_for_one: bool, price_move: float) -> int:
    """The input that moves the pool's token1-per-token0 price by ``price_move`` (down when zero_for_one)."""
    factor = math.sqrt(1 - price_move if zero_for_one else 1 + price_move)
    limit = int(state.sqrt_price_x96 * factor)
    return swap_exact_input(state, 10**40, zero_for_one, sqrt_price_limit=limit).amount_in


def depth_table(dn: Devnet, usd: dict[str, float]) -> list[str]:
    """Every pool's depth at ±1 % and ±5 % of its price (USD of input), as the devnet deploys them."""
    tiers = dn.record["uniswap"]["tiers"]
    pools = [p for ps in tiers.values() for p in ps]
    states = read_pool_states(RpcClient(dn.url), [p["address"] for p in pools], words_each_side=8)
    tokens = {t["address"].lower(): (s, 10 ** int(t["decimals"])) for s, t in dn.record["tokens"].items()}
    lines = [
        "| pool | fee | −1 % (sell base) | +1 % (buy base) | −5 % | +5 % |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for p in pools:
        state = states[p["address"]]
        cells = []
        for move in (0.01, 0.05):
            for down in (True, False):
                zero_for_one = down == bool(p["base_is_token0"])  # selling token0 lowers token1 per token0
                symbol, unit = tokens[(p["token0"] if zero_for_one else p["token1"]).lower()]
                cells.append(depth_to(state, zero_for_one, move) / unit * usd[symbol])
        lines.append(
            f"| {p['base']}/{p['quote']} | {p['fee'] / 1e4:g} % | "
            + " | ".join(f"${c / 1e6:,.1f}M" for c in cells)
            + " |"
        )
    return lines


def measure() -> tuple[list[str], dict[str, float]]:
    lines = [
        "| order | size (% of primary ±2 % depth) | size (USD) | one-shot (bp) | router (bp) | cost cut | legs | "
        "quote = chain |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    figures: dict[str, float] = {}
    with Devnet.start() as dn:
        record = dn.record
        trader, tokens = fund_trader(dn)
        tiers = record["uniswap"]["tiers"]
        every_pool = [p["address"] for pools in tiers.values() for p in pools]
        states = read_pool_states(RpcClient(dn.url), every_pool, words_each_side=4)
        usd = {"USDC": 1e-6, "WETH": 3000.0 * 1e-18, "WBTC": 60_000.0 * 1e-8}  # USD per raw unit
        gas_usd_per_gas = GAS_GWEI * 1e-9 * 3000.0
        orders = [("USDC", "WETH"), ("WETH", "USDC"), ("USDC", "WBTC"), ("WBTC", "USDC")]
        for sym_in, sym_out in orders:
            risky = sym_out if sym_in == "USDC" else sym_in
            name = f"{sym_in}→{sym_out}"
            routes = pair_routes(tiers, sym_in, sym_out)
            primary = tiers[f"{risky}/USDC"][0]["address"]
            single = next(r for r in routes if r.hops == (routes[0].hops[0],) and r.hops[0].pool == primary)
            depth_in = depth_2pct(states[primary], single.hops[0].zero_for_one)
            figures[f"{name} depth usd"] = depth_in * usd[sym_in]
            gas_out = int(GAS_PER_LEG_ESTIMATE * gas_usd_per_gas / usd[sym_out])
            for frac in SIZES:
                amount = int(depth_in * frac)
                split = best_split(states, routes, amount, gas_out_per_leg=[gas_out * len(r.hops) for r in routes])
                one = quote_route(states, single, amount)
                snap = rpc(dn.url, "evm_snapshot")
                outs_one, gas_one = execute_legs(dn, trader, [(single, amount)], tokens[sym_out])
                rpc(dn.url, "evm_revert", [snap])
                snap = rpc(dn.url, "evm_snapshot")
                legs = [(leg.route, leg.amount_in) for leg in split.legs]
                outs_split, gas_split = execute_legs(dn, trader, legs, tokens[sym_out])
                rpc(dn.url, "evm_revert", [snap])
                exact = outs_one == [one] and outs_split == [leg.amount_out for leg in split.legs]
                value_in = amount * usd[sym_in]
                cost_one = value_in - one * usd[sym_out] + gas_one * gas_usd_per_gas
                cost_split = value_in - split.amount_out * usd[sym_out] + gas_split * gas_usd_per_gas
                cut = 1 - cost_split / cost_one
                lines.append(
                    f"| {name} | {frac:.1%} | {value_in:,.0f} | {cost_one / value_in * 1e4:.2f} | "
                    f"{cost_split / value_in * 1e4:.2f} | {cut:+.0%} | {len(split.legs)} | {'yes' if exact else 'NO'} |"
                )
                figures[f"{name} {frac}"] = cut
        times = []
        order = pair_routes(tiers, "USDC", "WBTC")
        for _ in range(50):
            t0 = time.perf_counter()
            best_split(states, order, int(figures["USDC→WBTC depth usd"] * 0.05 * 1e6))
            times.append(time.perf_counter() - t0)
        figures["router ms"] = statistics.median(times) * 1e3
        lines += ["", *depth_table(dn, {"USDC": 1.0, "WETH": 3000.0, "WBTC": 60_000.0})]
    return lines, figures


def main() -> None:
    lines, figures = measure()
    print("\n".join(lines))
    depths = ", ".join(f"{k.split()[0]} {v:,.0f} USD" for k, v in figures.items() if k.endswith("depth usd"))
    print(f"\nprimary pools' ±2 % depth: {depths}")
    print(f"router time, one order over 4 routes (2 direct, 2 via WETH; median of 50): {figures['router ms']:.2f} ms")


if __name__ == "__main__":
    main()
