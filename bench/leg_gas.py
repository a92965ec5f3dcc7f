"""Gas of a routed swap inside the vault: one order as 1, 2 and 3 legs (issue 17).

``python -m bench.leg_gas`` prints a markdown table. On the devnet's hedged vault it sends the same USDC→WETH
order through ``HedgedVault.rebalance`` as one leg (0.05 % tier), two legs (0.05 % + 0.3 %) and three (+ 0.05 %
again: the 1 % tier costs more than the vault's 100 bp per-swap bound), each from the same state (evm_snapshot /
evm_revert), and the same legs from a plain account through the SwapRouter (one transaction per leg, less the
21,000 base). Extra gas per leg = the slope of the vault column.
"""

from __future__ import annotations

from typing import Any

from web3.types import TxParams, Wei

from devnet.devnet import Devnet
from devnet.fixtures import hedged_vault
from keeper.chain.abi import contract_abi, encode_call
from keeper.chain.anvil import rpc
from keeper.chain.connect import contract_at

ORDER_USDC = 300_000
MAX = 2**256 - 1


def _path(record: dict[str, Any], fee: int) -> bytes:
    t = record["tokens"]
    return bytes.fromhex(t["USDC"]["address"][2:]) + fee.to_bytes(3, "big") + bytes.fromhex(t["WETH"]["address"][2:])


def measure_on(dn: Devnet) -> list[tuple[int, int, int]]:
    """(legs, vault rebalance gas, same legs through the SwapRouter less 21k each) for 1, 2 and 3 legs, on a
    hedged vault deployed on ``dn``."""
    from eth_abi import encode

    vault = hedged_vault(dn.w3, dn.url, dn.record)
    record, w3 = vault.record, dn.w3
    abi = contract_abi("HedgedVault")
    keeper, trader = vault.accounts["keeper"], vault.accounts["outsider"]
    usdc = contract_at(w3, record["tokens"]["USDC"]["address"], "MintableERC20")
    router = contract_at(w3, record["uniswap"]["SwapRouter"], "SwapRouter")
    for call in (usdc.functions.mint(trader, 10**15), usdc.functions.approve(router.address, MAX)):
        assert w3.eth.wait_for_transaction_receipt(call.transact({"from": trader}))["status"] == 1
    rows = []
    for fees in ((500,), (500, 3000), (500, 3000, 500)):
        amount = ORDER_USDC * 10**6 // len(fees)
        actions = [
            (
                record["vault"]["UniswapV3Adapter"],
                encode(["bytes", "uint256", "uint256"], [_path(record, f), amount, 0]),
            )
            for f in fees
        ]
        snap = rpc(dn.url, "evm_snapshot")
        tx: TxParams = {
            "from": keeper,
            "to": record["vault"]["HedgedVault"],
            "data": encode_call(abi, "rebalance", [actions, []]),
        }
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
        assert receipt["status"] == 1, fees
        vault_gas = int(receipt["gasUsed"])
        rpc(dn.url, "evm_revert", [snap])
        snap = rpc(dn.url, "evm_snapshot")
        plain = 0
        for f in fees:
            call = router.functions.exactInput((_path(record, f), trader, 2**40, amount, 0))
            r = w3.eth.wait_for_transaction_receipt(call.transact({"from": trader, "value": Wei(0)}))
            plain += int(r["gasUsed"]) - 21_000
        rpc(dn.url, "evm_revert", [snap])
        rows.append((len(fees), vault_gas, plain))
    return rows


def measure() -> list[str]:
    with Devnet.start() as dn:
        rows = measure_on(dn)
    lines = [
        f"| legs (one {ORDER_USDC:,} USDC→WETH order) | vault rebalance gas | same legs, plain SwapRouter | "
        "vault − plain |",
        "|---:|---:|---:|---:|",
    ]
    for legs, vault_gas, plain in rows:
        lines.append(f"| {legs} | {vault_gas:,} | {plain:,} | {vault_gas - plain:,} |")
    slope = (rows[-1][1] - rows[0][1]) / (rows[-1][0] - rows[0][0])
    lines.append(
        f"\nextra gas per leg inside one vault batch: {slope:,.0f} (a leg sent as its own SwapRouter transaction: "
        f"{rows[0][2]:,}; in one batch the tokens, router and vault slots are already warm)"
    )
    return lines


def main() -> None:
    print("\n".join(measure()))


if __name__ == "__main__":
    main()
