"""The keeper's swaps routed over the devnet's fee tiers and two-hop paths (keeper.app.routing): the plan carries
one leg per route, the legs spend exactly what the policy's single swap would have, each is its own vault action
under the vault's per-swap oracle guard, and each pays the exact quote to the wei."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_abi import decode
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from adapters.base import TokenBook
from adapters.uniswap_pools import read_pool_states
from keeper.app.executor import VaultExecutor
from keeper.app.routing import record_tiers
from keeper.app.runtime import protocol_adapters
from keeper.chain.connect import contract_at
from keeper.chain.rpc import RpcClient
from keeper.execution.router import Hop, Route, quote_route
from keeper.model import Plan, Swap
from keeper.model.exceptions import ConfigError

from ..vault.conftest import Stack
from .conftest import record_of, runtime_for, settings_for
from .test_keeper_devnet import keeper_rebalance

pytestmark = pytest.mark.chain

SWAP_TOPIC = "0x" + keccak(text="Swap(address,address,int256,int256,uint160,uint128,int24)").hex()


def _int256(word: str) -> int:
    value = int(word, 16)
    return value - 2**256 if value >= 2**255 else value


def test_tick__wbtc_hedge__split_over_tiers_and_paths__every_leg_paid_its_quote(stack: Stack, tmp_path: Path) -> None:
    keeper_rebalance(stack, Swap("USDC", "WBTC", 600_000.0, 9.0))
    record = record_of(stack)
    # The policy's own plan at the same block, unrouted (a dry run records nothing on chain).
    policy = runtime_for(
        stack, settings_for(stack, tmp_path / "p", execution={"routing": False, "slicing": False}), dry_run=True
    )
    unrouted = policy.keeper.tick().plan
    assert unrouted is not None
    (sell,) = [a for a in unrouted.actions if isinstance(a, Swap)]
    assert (sell.token_in, sell.token_out, sell.fees) == ("WBTC", "USDC", ())

    runtime = runtime_for(stack, settings_for(stack, tmp_path, execution={"slicing": False}))
    result = runtime.keeper.tick()
    assert result.outcome == "rebalance mined", result.outcome
    assert result.plan is not None
    assert result.execution is not None
    legs = [a for a in result.plan.actions if isinstance(a, Swap)]
    assert len(legs) >= 2, legs
    assert any(len(leg.fees) == 2 and leg.via == ("WETH",) for leg in legs) or len({leg.fees for leg in legs}) >= 2
    tokens = TokenBook(record)
    assert sum(leg.raw_in for leg in legs) == tokens.to_raw("WBTC", sell.amount_in)  # exactly the policy's input
    (note,) = [d.reason for d in result.plan.decisions if d.rule == "routing"]
    assert "legs" in note
    assert "bp net of leg gas vs the primary pool alone" in note

    # Independent quotes on the state the plan was made on, each leg after the previous ones.
    tiers = record_tiers(record)
    pools = {p["address"]: p for ps in tiers.values() for p in ps}
    states = read_pool_states(RpcClient(stack.devnet.url), sorted(pools), 4, block=result.plan.block_number)
    receipt = stack.w3.eth.get_transaction_receipt(result.execution.tx_hashes[-1])  # type: ignore[arg-type]
    swaps = [log for log in receipt["logs"] if log["topics"][0].hex().removeprefix("0x") == SWAP_TOPIC[2:]]
    by_pool: dict[str, list[tuple[int, int]]] = {}
    for log in swaps:
        data = log["data"].hex().removeprefix("0x")
        by_pool.setdefault(log["address"].lower(), []).append((_int256(data[:64]), _int256(data[64:128])))
    for leg in legs:
        symbols = ["WBTC", *leg.via, "USDC"]
        hops = []
        for a, b, fee in zip(symbols[:-1], symbols[1:], leg.fees, strict=True):
            (info,) = [p for p in pools.values() if {p["base"], p["quote"]} == {a, b} and int(p["fee"]) == fee]
            token0 = info["base"] if info["base_is_token0"] else info["quote"]
            hops.append(Hop(info["address"], a == token0))
        route = Route(tuple(hops))
        quoted = quote_route(states, route, leg.raw_in)
        events = [by_pool[hop.pool.lower()].pop(0) for hop in hops]  # one Swap event per hop
        amount0, amount1 = events[-1]
        paid = -(amount1 if hops[-1].zero_for_one else amount0)
        assert paid == quoted, (leg, paid, quoted)  # to the wei
        assert paid >= leg.raw_min_out
    assert all(not left for left in by_pool.values())  # no swap the plan did not name


def test_tick__routing_off__single_swap_through_the_primary_pool(stack: Stack, tmp_path: Path) -> None:
    keeper_rebalance(stack, Swap("USDC", "WBTC", 600_000.0, 9.0))
    runtime = runtime_for(stack, settings_for(stack, tmp_path, execution={"routing": False, "slicing": False}))
    result = runtime.keeper.tick()
    assert result.outcome == "rebalance mined", result.outcome
    assert result.plan is not None
    (swap,) = [a for a in result.plan.actions if isinstance(a, Swap)]
    assert swap.fees == ()
    assert not any(d.rule == "routing" for d in result.plan.decisions)


def test_build__routing_via_unknown_token__refused_naming_the_field(stack: Stack, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"execution\.via='DAI'"):
        runtime_for(stack, settings_for(stack, tmp_path, execution={"via": "DAI"}))


def test_encode__fee_tier_not_deployed__error_names_the_pool_and_the_deployed_fees(stack: Stack) -> None:
    uniswap = next(a for a in protocol_adapters(record_of(stack)) if a.name == "uniswap_v3")
    deployed = r"deployed fees for the pair: \[500, 3000, 10000\]"
    with pytest.raises(KeyError, match=r"no WETH/USDC pool at fee 100 .*" + deployed):
        uniswap.encode(Swap("WETH", "USDC", 1.0, 2900.0, fees=(100,)))
    with pytest.raises(ValueError, match="2 fees need 1 intermediate tokens"):
        uniswap.encode(Swap("WBTC", "USDC", 1.0, 59_000.0, fees=(500, 500)))


def test_rebalance__one_leg_past_the_slippage_bound__reverts_the_whole_batch(stack: Stack) -> None:
    record = record_of(stack)
    w3, trader = stack.w3, w3_account(stack)
    usdc = stack.token("USDC")
    router = contract_at(w3, record["uniswap"]["SwapRouter"], "SwapRouter")
    for call in (usdc.functions.mint(trader, 10**15), usdc.functions.approve(router.address, 2**256 - 1)):
        stack.send(call, trader)
    # Someone buys 30M USDC of WETH in the 0.3 % pool, far above the oracle; the 0.05 % pool stays aligned.
    path = bytes.fromhex(record["tokens"]["USDC"]["address"][2:]) + (3000).to_bytes(3, "big")
    path += bytes.fromhex(record["tokens"]["WETH"]["address"][2:])
    stack.send(router.functions.exactInput((path, trader, 2**40, 30_000_000 * 10**6, 0)), trader)
    legs = (Swap("USDC", "WETH", 50_000.0, 0.0, fees=(500,)), Swap("USDC", "WETH", 50_000.0, 0.0, fees=(3000,)))
    data = VaultExecutor(None, stack.vault.address, protocol_adapters(record)).encode(Plan(0, legs, ()))  # type: ignore[arg-type]
    usdc_before = usdc.functions.balanceOf(stack.vault.address).call()
    with pytest.raises(ContractCustomError) as err:
        w3.eth.call({"from": stack.keeper, "to": stack.vault.address, "data": data})  # type: ignore[typeddict-item]
    raw = bytes.fromhex(str(err.value.data).removeprefix("0x"))
    assert raw[:4] == keccak(text="SlippageExceeded(uint256,uint256,uint256,uint256)")[:4]
    index, spent, received, bound = decode(["uint256"] * 4, raw[4:])
    assert index == 1  # the second leg, though the first was within bounds and the batch total might pass
    assert received * 10_000 < spent * (10_000 - bound)
    # Each leg alone: the aligned one passes the guard, the skewed one does not.
    ok = VaultExecutor(None, stack.vault.address, protocol_adapters(record)).encode(Plan(0, legs[:1], ()))  # type: ignore[arg-type]
    w3.eth.call({"from": stack.keeper, "to": stack.vault.address, "data": ok})  # type: ignore[typeddict-item]
    assert usdc.functions.balanceOf(stack.vault.address).call() == usdc_before


def w3_account(stack: Stack) -> str:
    return str(stack.w3.eth.accounts[4])


def test_band_drift_too_big_for_one_block__sliced_over_blocks__schedule_survives_a_restart(
    stack: Stack, tmp_path: Path
) -> None:
    keeper_rebalance(stack, Swap("USDC", "WBTC", 600_000.0, 9.0))
    start = stack.w3.eth.block_number + 1
    settings = settings_for(
        stack, tmp_path, execution={"max_impact_bps": 0.4, "max_slices": 4}, policy={"cooldown_blocks": 1}
    )
    runtime = runtime_for(stack, settings)
    first = runtime.keeper.tick()
    assert first.outcome == "rebalance mined", first.outcome
    assert first.plan is not None
    (note,) = [d.reason for d in first.plan.decisions if d.rule == "routing"]
    assert "sliced" in note
    assert "step 1 of" in note
    schedule = json.loads(runtime.store.get_state("slice:WBTC->USDC") or "{}")
    assert schedule["steps"] >= 3
    sold_first = sum(a.amount_in for a in first.plan.actions if isinstance(a, Swap))
    assert first.risk["net_delta_units:WBTC"] > 0
    runtime.close()  # the keeper restarts: a new process on the same store

    runtime = runtime_for(stack, settings)
    steps = [sold_first]
    while stack.w3.eth.block_number < schedule["deadline_block"]:
        result = runtime.keeper.tick()  # each mined child is the next block (automine)
        if result.outcome != "rebalance mined":
            stack.driver.mine()
            continue
        assert result.plan is not None
        steps.append(sum(a.amount_in for a in result.plan.actions if isinstance(a, Swap)))
        (note,) = [d.reason for d in result.plan.decisions if d.rule == "routing"]
        assert f"schedule to block {schedule['deadline_block']}" in note or "last step" in note, note
    assert len(steps) >= 3  # continued after the restart, on the same schedule
    assert steps[0] > steps[1]  # front-loaded
    final = runtime.keeper.tick()
    assert final.risk["net_delta_usd:WBTC"] <= final.risk["delta_band_usd:WBTC"]
    confirmed = sum(p.status == "confirmed" for p in runtime.store.recent_plans(100))
    assert len(stack.vault.events.Rebalanced().get_logs(from_block=start)) == confirmed  # none doubled or lost
