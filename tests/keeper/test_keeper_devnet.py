"""The keeper against the devnet's real Aave v3 and Uniswap v3: reads in one RPC round trip, hedges delta back
into its band, deleverages before Aave liquidation, and every plan goes through the vault's guards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devnet.driver import MarketDriver
from keeper.app.executor import VaultExecutor
from keeper.app.runtime import protocol_adapters
from keeper.chain.connect import web3_for
from keeper.model import AaveBorrow, AaveSupply, Plan, Swap
from keeper.model.exceptions import ConfigError

from ..vault.conftest import Stack
from .conftest import record_of, runtime_for, settings_for

pytestmark = pytest.mark.chain


def keeper_rebalance(stack: Stack, *actions: object) -> Any:
    """Put the vault in a state through the keeper role directly (the test's setup, not the keeper's choice);
    returns the receipt."""
    encoded = VaultExecutor(None, stack.vault.address, protocol_adapters(record_of(stack))).encode(  # type: ignore[arg-type]
        Plan(0, tuple(actions), ())  # type: ignore[arg-type]
    )
    tx = {"from": stack.keeper, "to": stack.vault.address, "data": encoded}
    receipt = stack.w3.eth.wait_for_transaction_receipt(stack.w3.eth.send_transaction(tx))  # type: ignore[arg-type]
    assert receipt["status"] == 1
    return receipt


def test_tick__long_weth_out_of_band__hedged_back_into_band_next_block(stack: Stack, tmp_path: Path) -> None:
    keeper_rebalance(stack, Swap("USDC", "WETH", 300_000.0, 99.0))
    runtime = runtime_for(stack, settings_for(stack, tmp_path))
    first = runtime.keeper.tick()
    assert first.outcome == "rebalance mined", first.outcome
    assert first.plan is not None
    assert [a.kind for a in first.plan.actions] == ["swap"]
    assert first.risk["net_delta_units:WETH"] == pytest.approx(99.85, rel=2e-3)
    assert first.risk["share_price"] == pytest.approx(1.0, abs=0.002)  # USDC per share (one swap's cost below 1)
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


def test_tick__price_falls_far_from_liquidation__keeper_relevers_to_target(stack: Stack, tmp_path: Path) -> None:
    keeper_rebalance(
        stack,
        AaveSupply("USDC", 2_000_000.0),
        AaveBorrow("WETH", 350.0),
        Swap("WETH", "USDC", 350.0, 1_040_000.0),
    )
    policy = {"delta_target_units": {"WETH": -350.0}, "health_factor_relever": 1.8}
    runtime = runtime_for(stack, settings_for(stack, tmp_path, policy=policy))
    assert runtime.keeper.tick().outcome == "no action"  # HF ≈ 1.52, between trigger and re-lever
    idle_before = stack.token("USDC").functions.balanceOf(stack.vault.address).call()
    stack.driver.set_market_price("WETH", 3000 * 0.8)
    stack.driver.advance(700)  # let the pool's TWAP catch up with the oracle
    stack.refresh_oracles()
    result = runtime.keeper.tick()
    assert result.outcome == "rebalance mined", result.outcome
    assert result.plan is not None
    assert [a.kind for a in result.plan.actions] == ["aave_withdraw"]
    assert result.risk["health_factor"] > 1.8
    stack.driver.mine()
    after = runtime.keeper.tick()
    assert after.outcome == "no action"
    assert after.risk["health_factor"] == pytest.approx(1.6, abs=0.01)
    assert after.risk["net_delta_units:WETH"] == pytest.approx(-350.0, rel=1e-3)  # delta-neutral
    assert stack.token("USDC").functions.balanceOf(stack.vault.address).call() > idle_before


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


def open_levered_long(stack: Stack) -> None:
    """A levered long: 3M USDC → WETH supplied, USDC borrowed twice and re-invested: HF ≈ 1.50."""
    keeper_rebalance(stack, Swap("USDC", "WETH", 2_900_000.0, 960.0), AaveSupply("WETH", 960.0))
    for borrow_usdc, weth_units in ((2_000_000.0, 660.0), (1_600_000.0, 525.0)):
        stack.driver.move_pool("WETH", 3000.0)  # arbitrage brings the pool back to the oracle between trades
        stack.driver.advance(86_400)  # a new turnover-budget period (the setup trades 3× NAV)
        stack.refresh_oracles()
        keeper_rebalance(
            stack,
            AaveBorrow("USDC", borrow_usdc),
            Swap("USDC", "WETH", borrow_usdc, weth_units),
            AaveSupply("WETH", weth_units),
        )
    stack.driver.move_pool("WETH", 3000.0)


def crash_path_keeps_health_above_floor(stack: Stack, runtime: Any, driver: MarketDriver) -> None:
    """WETH 3000 → 2250 (−25 %) in 12 steps, each one TWAP window apart: the keeper deleverages at its trigger
    every time, and HF never reaches the vault's floor."""
    start = runtime.keeper.tick()
    assert start.risk["health_factor"] == pytest.approx(1.5, abs=0.03)
    floor = stack.vault.functions.riskParams().call()[0] / 1e18
    deleverages, lowest = 0, start.risk["health_factor"]
    for step in range(1, 13):
        driver.set_market_price("WETH", 3000 * (1 - 0.25 * step / 12))
        driver.advance(700)
        for symbol in ("USDC", "WETH", "WBTC"):
            driver.set_price(symbol, driver.oracle_price(symbol))
        result = runtime.keeper.tick()
        assert not result.outcome.startswith(("failed", "plan rejected", "blocked")), result.outcome
        lowest = min(lowest, result.risk["health_factor"])
        if result.execution is not None:
            assert result.plan is not None
            deleverages += any(d.rule == "aave_health" and d.acted for d in result.plan.decisions)
    assert deleverages >= 2
    assert lowest > floor  # acted at the 1.35 trigger every time, well above the vault's 1.30 floor
    driver.mine()
    assert runtime.keeper.tick().risk["health_factor"] > 1.35


def test_crash_path__levered_long_book__keeper_deleverages_before_the_floor(stack: Stack, tmp_path: Path) -> None:
    open_levered_long(stack)
    settings = settings_for(stack, tmp_path, policy={"delta_target_units": {"WETH": 2_150.0}})
    crash_path_keeps_health_above_floor(stack, runtime_for(stack, settings), stack.driver)


def test_crash_path__on_a_fork_of_the_devnet__keeper_deleverages_before_the_floor(stack: Stack, tmp_path: Path) -> None:

    from keeper.chain.anvil import AnvilProcess, rpc

    open_levered_long(stack)
    block = int(rpc(stack.devnet.url, "eth_blockNumber"), 16)
    with AnvilProcess(fork_url=stack.devnet.url, fork_block_number=block) as fork:
        rpc(fork.url, "anvil_setBlockTimestampInterval", [12])
        driver = MarketDriver(web3_for(fork.url), fork.url, stack.devnet.record)
        settings = settings_for(
            stack, tmp_path, network={"rpc_url": fork.url}, policy={"delta_target_units": {"WETH": 2_150.0}}
        )
        runtime = runtime_for(stack, settings)
        assert runtime.fork_of == stack.devnet.url
        crash_path_keeps_health_above_floor(stack, runtime, driver)  # the floor is read on the origin: same value
    assert int(rpc(stack.devnet.url, "eth_blockNumber"), 16) == block  # the origin is untouched


def test_build__hf_target_under_vault_floor__refused_naming_both(stack: Stack, tmp_path: Path) -> None:
    # The vault's floor is 1.3: a deleverage to 1.25 would land under it and every one would revert.
    settings = settings_for(stack, tmp_path, policy={"health_factor_trigger": 1.2, "health_factor_target": 1.25})
    with pytest.raises(ConfigError, match=r"policy\.health_factor_target=1\.25.*healthFactorFloorWad.*1\.3"):
        runtime_for(stack, settings)


def test_build__hf_trigger_under_vault_floor__refused_naming_both(stack: Stack, tmp_path: Path) -> None:
    # Between a 1.25 trigger and the 1.3 floor the keeper would not deleverage, and the vault refuses every batch.
    settings = settings_for(stack, tmp_path, policy={"health_factor_trigger": 1.25, "health_factor_target": 1.6})
    with pytest.raises(ConfigError, match=r"policy\.health_factor_trigger=1\.25.*healthFactorFloorWad.*1\.3"):
        runtime_for(stack, settings)


def test_build__slippage_over_vault_bound__refused_naming_both(stack: Stack, tmp_path: Path) -> None:
    settings = settings_for(stack, tmp_path, policy={"max_slippage_bps": 150})
    with pytest.raises(ConfigError, match=r"policy\.max_slippage_bps=150.*maxSlippageBps.*100"):
        runtime_for(stack, settings)


def test_build__config_within_vault_bounds__builds(stack: Stack, tmp_path: Path) -> None:
    settings = settings_for(stack, tmp_path, policy={"max_slippage_bps": 100, "health_factor_trigger": 1.3})
    runtime_for(stack, settings).close()


def test_tick__reads_aave_rates_in_the_same_batch__equal_to_the_pools_reserve_data(
    stack: Stack, tmp_path: Path
) -> None:
    """The policy's carry costs use Aave's current rates: read with the lens in the tick's one batch, equal to
    getReserveData decoded by the Pool's own ABI, and a borrow moves the borrowed reserve's rate up."""
    from keeper.chain.protocols import art

    record = record_of(stack)
    pool = stack.w3.eth.contract(address=record["aave"]["Pool"], abi=art("Pool").abi)

    def rates(symbol: str) -> tuple[float, float]:
        data = pool.functions.getReserveData(record["tokens"][symbol]["address"]).call()
        return data[2] / 1e27, data[4] / 1e27  # currentLiquidityRate, currentVariableBorrowRate

    runtime = runtime_for(stack, settings_for(stack, tmp_path))
    runtime.keeper.tick()
    book = runtime.keeper.assessor.last_book  # type: ignore[attr-defined]
    for symbol in ("USDC", "WETH", "WBTC"):
        supply, borrow = rates(symbol)
        assert book.aave_supply_apr[symbol] == supply
        assert book.aave_borrow_apr[symbol] == borrow
    before = book.aave_borrow_apr["WETH"]
    keeper_rebalance(stack, AaveSupply("USDC", 2_000_000.0), AaveBorrow("WETH", 300.0))
    stack.driver.mine()
    tick = runtime.keeper.tick()
    assert runtime.keeper.assessor.last_book.aave_borrow_apr["WETH"] > before  # type: ignore[attr-defined]
    (row,) = [t for t in runtime.store.last_ticks() if t["block_number"] == tick.block_number]
    assert row["rpc_requests"] == 1  # the rates ride in the lens's batch
