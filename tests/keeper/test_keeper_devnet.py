"""The keeper against the devnet's real Aave v3 and Uniswap v3: reads in one RPC round trip, hedges delta back
into its band, deleverages before Aave liquidation, and every plan goes through the vault's guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from keeper.executor import VaultExecutor
from keeper.policy import AaveBorrow, AaveSupply, Plan, Swap
from keeper.runtime import protocol_adapters

from ..vault.conftest import Stack
from .conftest import record_of, runtime_for, settings_for

pytestmark = pytest.mark.chain


def keeper_rebalance(stack: Stack, *actions: object) -> None:
    """Put the vault in a state through the keeper role directly (the test's setup, not the keeper's choice)."""
    encoded = VaultExecutor(None, stack.vault.address, protocol_adapters(record_of(stack))).encode(  # type: ignore[arg-type]
        Plan(0, tuple(actions), ())  # type: ignore[arg-type]
    )
    tx = {"from": stack.keeper, "to": stack.vault.address, "data": encoded}
    receipt = stack.w3.eth.wait_for_transaction_receipt(stack.w3.eth.send_transaction(tx))  # type: ignore[arg-type]
    assert receipt["status"] == 1


def test_tick__long_weth_out_of_band__hedged_back_into_band_next_block(stack: Stack, tmp_path: Path) -> None:
    keeper_rebalance(stack, Swap("USDC", "WETH", 300_000.0, 99.0))
    runtime = runtime_for(stack, settings_for(stack, tmp_path))
    first = runtime.keeper.tick()
    assert first.outcome == "rebalance mined", first.outcome
    assert first.plan is not None
    assert [a.kind for a in first.plan.actions] == ["swap"]
    assert first.risk["net_delta_units:WETH"] == pytest.approx(99.85, rel=2e-3)
    stack.driver.mine()
    second = runtime.keeper.tick()
    assert second.outcome == "no action"
    band_usd = second.risk["delta_band_usd:WETH"]
    assert abs(second.risk["net_delta_usd:WETH"]) <= band_usd
    (tick,) = [t for t in runtime.store.last_ticks() if t["block_number"] == second.block_number]
    assert tick["rpc_requests"] == 1  # head, gas price and the whole vault in one batch


def test_tick__squeeze_pushes_health_factor_below_trigger__keeper_repays_to_target(
    stack: Stack, tmp_path: Path
) -> None:
    keeper_rebalance(
        stack,
        AaveSupply("USDC", 2_000_000.0),
        AaveBorrow("WETH", 350.0),
        Swap("WETH", "USDC", 350.0, 1_040_000.0),
    )
    settings = settings_for(stack, tmp_path, policy={"delta_target_units": {"WETH": -350.0}})
    runtime = runtime_for(stack, settings)
    assert runtime.keeper.tick().outcome == "no action"  # HF ≈ 1.52: above the 1.35 trigger
    stack.driver.set_market_price("WETH", 3000 * 1.15)
    stack.driver.advance(700)  # the vault compares the oracle with the pool's 10-minute TWAP: let it catch up
    stack.refresh_oracles()
    result = runtime.keeper.tick()
    assert result.outcome == "rebalance mined", result.outcome
    assert result.risk["health_factor"] < 1.35
    stack.driver.mine()
    after = runtime.keeper.tick()
    assert after.risk["health_factor"] == pytest.approx(1.6, abs=0.01)


def test_tick__on_a_fork_of_the_devnet__same_code_path_hedges(stack: Stack, tmp_path: Path) -> None:
    from keeper.chain.anvil import AnvilProcess, rpc

    keeper_rebalance(stack, Swap("USDC", "WETH", 300_000.0, 99.0))
    block = int(rpc(stack.devnet.url, "eth_blockNumber"), 16)
    with AnvilProcess(fork_url=stack.devnet.url, fork_block_number=block) as fork:
        rpc(fork.url, "anvil_setBlockTimestampInterval", [12])
        settings = settings_for(stack, tmp_path, network={"rpc_url": fork.url})
        runtime = runtime_for(stack, settings)
        assert runtime.fork_of == stack.devnet.url
        result = runtime.keeper.tick()
        assert result.outcome == "rebalance mined", result.outcome
        assert int(rpc(fork.url, "eth_blockNumber"), 16) == block + 1
    assert int(rpc(stack.devnet.url, "eth_blockNumber"), 16) == block  # the origin is untouched
