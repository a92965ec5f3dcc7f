"""Measure the devnet's figures: deploy time, ready-from-snapshot time, gas of the main protocol calls.

``python -m bench.devnet_figures`` prints a markdown table. Gas is deterministic (chain time is pinned at
12 s per block after load); times depend on the machine.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from web3 import Web3

from devnet.devnet import Devnet
from devnet.driver import MarketDriver
from devnet.snapshot import build_snapshot
from keeper.chain.protocols import art

MAX = 2**256 - 1


def _gas(w3: Web3, call: Any, sender: str) -> int:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt["status"] == 1
    return int(receipt["gasUsed"])


def measure() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    t0 = time.perf_counter()
    report = build_snapshot()[1]
    rows.append(("full deploy + dump (snapshot build)", f"{time.perf_counter() - t0:.2f} s"))
    rows.append(("deploy transactions / gas", f"{report.transactions} / {report.gas_used:,}"))
    ready = []
    for _ in range(5):
        with Devnet.start() as probe:
            ready.append(probe.ready_seconds)
    rows.append(("devnet ready from snapshot (median of 5)", f"{statistics.median(ready):.3f} s"))
    with Devnet.start() as dn:
        w3, rec = dn.w3, dn.record
        accounts = list(w3.eth.accounts)
        user, liquidator = accounts[1], accounts[2]
        pool = w3.eth.contract(address=Web3.to_checksum_address(rec["aave"]["Pool"]), abi=art("Pool").abi)
        usdc = w3.eth.contract(
            address=Web3.to_checksum_address(rec["tokens"]["USDC"]["address"]), abi=art("MintableERC20").abi
        )
        weth = w3.eth.contract(address=Web3.to_checksum_address(rec["tokens"]["WETH"]["address"]), abi=art("WETH9").abi)
        router = w3.eth.contract(
            address=Web3.to_checksum_address(rec["uniswap"]["SwapRouter"]), abi=art("SwapRouter").abi
        )
        for who in (user, liquidator):
            _gas(w3, usdc.functions.mint(who, 10**13), who)
            _gas(w3, usdc.functions.approve(pool.address, MAX), who)
            _gas(w3, usdc.functions.approve(router.address, MAX), who)
            wrap = weth.functions.deposit().transact({"from": who, "value": 50 * 10**18})  # type: ignore[arg-type]
            w3.eth.wait_for_transaction_receipt(wrap)
            _gas(w3, weth.functions.approve(pool.address, MAX), who)
            _gas(w3, weth.functions.approve(router.address, MAX), who)
        rows.append(
            (
                "Aave supply 100,000 USDC (first)",
                f"{_gas(w3, pool.functions.supply(usdc.address, 10**11, user, 0), user):,}",
            )
        )
        rows.append(
            (
                "Aave borrow 25 WETH (first, variable)",
                f"{_gas(w3, pool.functions.borrow(weth.address, 25 * 10**18, 2, 0, user), user):,}",
            )
        )
        rows.append(
            ("Aave repay 1 WETH (partial)", f"{_gas(w3, pool.functions.repay(weth.address, 10**18, 2, user), user):,}")
        )
        rows.append(
            (
                "Aave withdraw 1,000 USDC (partial, HF check)",
                f"{_gas(w3, pool.functions.withdraw(usdc.address, 10**9, user), user):,}",
            )
        )
        MarketDriver(w3, dn.url, rec).set_price("WETH", 3400.0)
        rows.append(
            (
                "Aave liquidationCall (USDC coll., WETH debt, 50 %)",
                f"{_gas(w3, pool.functions.liquidationCall(usdc.address, weth.address, user, MAX, False), liquidator):,}",  # noqa: E501
            )
        )
        fee = rec["uniswap"]["pools"]["WETH/USDC"]["fee"]
        swap = router.functions.exactInputSingle((weth.address, usdc.address, fee, liquidator, 2**40, 10**18, 0, 0))
        rows.append(("Uniswap exactInputSingle 1 WETH → USDC (0.05 %)", f"{_gas(w3, swap, liquidator):,}"))
        swap = router.functions.exactInputSingle((usdc.address, weth.address, fee, liquidator, 2**40, 6 * 10**9, 0, 0))
        rows.append(("Uniswap exactInputSingle 6,000 USDC → WETH", f"{_gas(w3, swap, liquidator):,}"))
    return rows


def main() -> None:
    print("| measurement | value |\n|---|---|")
    for name, value in measure():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
