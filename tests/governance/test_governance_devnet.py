"""Governance on the devnet (real Aave v3 + Uniswap v3, a hedged vault): the pure-Python layer against anvil.

Queue → time travel → execute changes state; execute before the delay reverts; wrong roles are rejected by the
contracts with decoded errors; the fork simulation predicts the real execution; bounds agree with the contract.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from eth_abi import decode

from governance import ops
from governance.bounds import FEE_FIELDS, FULFIL_DELAY, RISK_FIELDS, ParameterError, read_constants
from governance.safe import build_batch, read_batch
from governance.simulate import compare
from governance.state import read_view
from governance.timelock import OperationState, operation_state
from governance.unwind import plan_unwind
from keeper.chain.abi import contract_abi, encode_call
from keeper.chain.client import RevertError
from keeper.model.roles import ROLES

from .conftest import GovStack

pytestmark = pytest.mark.chain
DAY = 86_400


def queue_and_send(stack: GovStack, op: ops.Operation, salt: bytes = b"\x05" * 32) -> tuple[object, object]:
    gov = stack.gov()
    prepared = gov.prepare_queue(op, stack.deployer, salt=salt)
    sim = gov.simulate(prepared)
    assert sim.ok, sim.error
    gov.send(prepared, stack.sender(stack.deployer))
    return gov, prepared


def test_queue__time_travel_then_execute__changes_state_as_simulated(stack: GovStack) -> None:
    gov = stack.gov()
    op = ops.set_risk_params(gov.context(), {"maxLossBps": "40", "healthFactorFloorWad": "1.5"})
    gov, prepared = queue_and_send(stack, op)
    assert prepared.real_vs_simulation == []  # same state and ETA as the fork predicted
    state, eta = operation_state(gov.chain, gov.timelock, prepared.operation_id)
    assert state == OperationState.WAITING
    predicted_after = prepared.simulation.views["after"]
    gov.chain.advance(eta - gov.chain.timestamp())
    execute = gov.prepare_execute(prepared.operation_id, stack.deployer)
    assert gov.simulate(execute).ok
    gov.send(execute, stack.sender(stack.deployer))
    assert execute.real_vs_simulation == []
    risk = stack.view("riskParams")
    assert (risk[0], risk[1]) == (15 * 10**17, 40)
    # The queue-time simulation (schedule → ETA → execute on a fork) predicted the same parameters.
    real = read_view(gov.chain, gov.record)
    assert real.params.risk == predicted_after.params.risk
    assert real.risk.health_factor_floor == pytest.approx(1.5, abs=0)
    assert math.isclose(real.risk.health_factor, predicted_after.risk.health_factor, rel_tol=1e-6)
    assert operation_state(gov.chain, gov.timelock, prepared.operation_id)[0] == OperationState.DONE


def test_execute__before_delay__contract_reverts_and_script_names_the_eta(stack: GovStack) -> None:
    gov = stack.gov()
    gov, prepared = queue_and_send(stack, ops.set_deposit_cap(gov.context(), "250000000"))
    execute_tx = prepared.timelock_operation.execute(gov.timelock)
    with pytest.raises(
        RevertError, match=r"TimelockUnexpectedOperationState\(operationId=0x[0-9a-f]{64}, expectedStates=0x0+4\)"
    ):
        gov.chain.call(execute_tx.to, execute_tx.data, sender=stack.deployer)
    early = gov.prepare_execute(prepared.operation_id, stack.deployer)
    sim = gov.simulate(early)
    assert not sim.ok
    assert "the operation must be ready, it is waiting until its ETA" in sim.error
    from governance.service import ConfigError

    with pytest.raises(ConfigError, match="refusing to send: the fork simulation did not succeed"):
        gov.send(early, stack.sender(stack.deployer))
    assert stack.view("depositCap") == 100_000_000 * 10**6


@pytest.mark.parametrize(
    ("who", "command", "needed"),
    [
        ("outsider", "pause", "GUARDIAN_ROLE"),
        ("keeper", "pause", "GUARDIAN_ROLE"),
        ("guardian", "queue", "PROPOSER_ROLE"),
    ],
)
def test_wrong_role__rejected_by_contract__decoded_with_role_name(
    stack: GovStack, who: str, command: str, needed: str
) -> None:
    gov = stack.gov()
    signer = getattr(stack, who)
    ctx = gov.context()
    prepared = (
        gov.prepare_direct(ops.pause(ctx), signer)
        if command == "pause"
        else gov.prepare_queue(ops.set_deposit_cap(ctx, "1"), signer)
    )
    sim = gov.simulate(prepared)
    assert not sim.ok
    assert f"AccessControlUnauthorizedAccount(account={signer}, neededRole={needed})" in sim.error
    assert f"{signer} does not hold {needed}" in sim.error
    tx = prepared.signed[0]  # the real chain says the same
    with pytest.raises(RevertError, match=f"neededRole={needed}"):
        stack.sender(signer).send(tx)


def test_pause__guardian__fork_predicts_real_chain_exactly(stack: GovStack) -> None:
    gov = stack.gov()
    prepared = gov.prepare_direct(ops.pause(gov.context()), stack.guardian)
    assert gov.simulate(prepared).ok
    gov.send(prepared, stack.sender(stack.guardian))
    assert prepared.real_vs_simulation == []
    assert stack.view("paused") is True
    rows = {r["name"]: r for r in gov.report(prepared).param_rows()}
    assert (rows["paused"]["before"], rows["paused"]["after"]) == ("false", "true")


def test_rotate_keeper__one_batch__new_holds_role_old_revoked(stack: GovStack) -> None:
    gov = stack.gov()
    op = ops.rotate_role(gov.context(), "KEEPER_ROLE", stack.outsider, None)
    assert len(op.calls) == 2
    gov, prepared = queue_and_send(stack, op)
    assert prepared.timelock_operation.is_batch
    after = prepared.simulation.views["after"].params.roles["KEEPER_ROLE"]
    assert after == (stack.outsider,)
    gov.chain.advance(DAY)
    execute = gov.prepare_execute(prepared.operation_id, stack.deployer)
    assert gov.simulate(execute).ok
    gov.send(execute, stack.sender(stack.deployer))
    assert stack.view("hasRole", ROLES["KEEPER_ROLE"], stack.outsider)
    assert not stack.view("hasRole", ROLES["KEEPER_ROLE"], stack.keeper)


def test_rotate_guardian__old_not_holder__names_holders(stack: GovStack) -> None:
    ctx = stack.gov().context()
    with pytest.raises(
        ParameterError, match=f"{stack.outsider} does not hold GUARDIAN_ROLE \\(holders: {stack.guardian}\\)"
    ):
        ops.rotate_role(ctx, "GUARDIAN_ROLE", stack.keeper, stack.outsider)


def test_bounds__every_field_at_its_edges__agree_with_the_contract(stack: GovStack) -> None:
    """min − 1, min, max, max + 1 for every bounded field: our check and the vault's (eth_call from the timelock)
    accept and reject the same values, and the contract's ParameterOutOfBounds reports our limits."""
    gov = stack.gov()
    chain, vault, timelock = gov.chain, gov.vault, gov.timelock
    constants = read_constants(chain.call, vault)
    risk = list(stack.view("riskParams"))
    fees = list(stack.view("feeParams"))
    abi = contract_abi("HedgedVault")
    cases = [(b, i, "setRiskParams") for i, b in enumerate(RISK_FIELDS)] + [
        (b, i + 1, "setFeeParams") for i, b in enumerate(FEE_FIELDS)
    ]
    cases.append((FULFIL_DELAY, None, "setMaxFulfilDelay"))
    checked = 0
    for bound, index, fn in cases:
        low, high = bound.limits(constants)
        for value in (low - 1, low, high, high + 1):
            if value < 0:
                continue
            if fn == "setMaxFulfilDelay":
                args: list[object] = [value]
            else:
                struct = list(risk if fn == "setRiskParams" else fees)
                struct[index] = value
                args = [tuple(struct)]
            ours_ok = low <= value <= high
            try:
                chain.call(vault, encode_call(abi, fn, args), sender=timelock)
                theirs_ok, reason = True, ""
            except RevertError as err:
                theirs_ok, reason = False, err.reason
            assert ours_ok == theirs_ok, (bound.field, value, reason)
            if not theirs_ok:
                assert reason == f"ParameterOutOfBounds(name='{bound.field}', value={value}, min={low}, max={high})"
            checked += 1
    assert checked >= 4 * len(cases) - 4  # zero minima have no "min − 1"


def test_adapter__disallow_then_allow_again__diff_and_refusals(stack: GovStack) -> None:
    gov = stack.gov()
    adapter = stack.section["UniswapV3Adapter"]
    with pytest.raises(ParameterError, match=r"\(SWAP\) is already allowed"):
        ops.set_adapter(gov.context(), gov.chain, adapter, True)
    with pytest.raises(ParameterError, match="not an IVaultAdapter"):
        ops.set_adapter(gov.context(), gov.chain, stack.section["VaultLens"], False)
    prepared = gov.prepare_queue(ops.set_adapter(gov.context(), gov.chain, adapter, False), stack.deployer)
    assert gov.simulate(prepared).ok
    rows = {r["name"]: r for r in gov.report(prepared).param_rows()}
    changed = next(r for name, r in rows.items() if name.startswith("adapter UniswapV3Adapter"))
    assert (changed["before"], changed["after"]) == ("allowed", "not allowed")


def test_track_token__already_tracked_or_unknown__refused(stack: GovStack) -> None:
    gov = stack.gov()
    with pytest.raises(ParameterError, match=r"token=WETH \(0x[0-9a-fA-F]{40}\) is already tracked"):
        ops.add_tracked_token(gov.context(), gov.chain, "WETH")
    with pytest.raises(ParameterError, match="token='DOGE' is not a trackable token of the record; known: WETH, WBTC"):
        ops.add_tracked_token(gov.context(), gov.chain, "DOGE")


def test_cancel__queued_operation__cancelled_and_pending_empty(stack: GovStack) -> None:
    gov = stack.gov()
    gov, prepared = queue_and_send(stack, ops.set_max_fulfil_delay(gov.context(), "43200"))
    (row,) = gov.pending()
    assert row["id"] == "0x" + prepared.operation_id.hex()
    assert row["state"] == "waiting"
    assert row["calls"] == ["HedgedVault.setMaxFulfilDelay(seconds_=43200)"]
    assert row["eta"] == gov.chain.timestamp() + DAY
    cancel = gov.prepare_cancel(prepared.operation_id, stack.deployer)
    assert gov.simulate(cancel).ok
    assert cancel.simulation.operation_states["after"][0] == OperationState.UNSET
    gov.send(cancel, stack.sender(stack.deployer))
    assert gov.pending() == []
    assert gov.pending(include_all=True)[0]["state"] == "cancelled"


def test_safe_batch__queue_operation__decodes_to_the_signed_calls_and_executes(stack: GovStack) -> None:
    gov = stack.gov()
    prepared = gov.prepare_queue(ops.rotate_role(gov.context(), "GUARDIAN_ROLE", stack.outsider, None), stack.deployer)
    batch = build_batch(gov.chain.chain_id, prepared.signed, name="rotate guardian")
    txs = read_batch(batch, chain_id=gov.chain.chain_id)
    assert [(t.to, t.data) for t in txs] == [(t.to, t.data) for t in prepared.signed]
    stack.sender(stack.deployer).send(txs[0])  # what a Safe would execute: schedules exactly this operation
    assert operation_state(gov.chain, gov.timelock, prepared.operation_id)[0] == OperationState.WAITING


def test_unwind__paused_hedged_vault__debt_repaid_and_fork_equals_real(stack: GovStack) -> None:
    gov = stack.gov()
    pause = gov.prepare_direct(ops.pause(gov.context()), stack.guardian)
    assert gov.simulate(pause).ok
    gov.send(pause, stack.sender(stack.guardian))
    from governance.state import read_lens

    state = read_lens(gov.chain, gov.section)
    assert state.aave.total_debt_base_e8 > 0
    plan = plan_unwind(gov.chain, state, gov.record)
    assert any("repay all WETH debt" in line for line in plan.lines)
    prepared = gov.prepare_direct(ops.emergency_unwind(gov.context(), plan.actions, plan.summary()), stack.guardian)
    sim = gov.simulate(prepared)
    assert sim.ok, sim.error
    before, predicted = sim.views["before"].risk, sim.views["after"].risk
    assert before.aave_debt_usd > 500_000
    assert predicted.aave_debt_usd == 0
    assert predicted.aave_collateral_usd == 0
    assert predicted.nav_assets >= before.nav_assets * (1 - 0.005)
    gov.send(prepared, stack.sender(stack.guardian))
    assert prepared.real_vs_simulation == []  # same block time, same state: exactly as predicted
    real = read_lens(gov.chain, gov.section)
    # The whole lens snapshot (balances, Aave account, prices, NAV, timestamp) equals the fork's prediction.
    assert replace(real, block_number=0) == replace(sim.views["after"].lens, block_number=0)
    assert real.aave.total_debt_base_e8 == 0
    weth = next(t for t in real.tokens if t.token.lower() == gov.record["tokens"]["WETH"]["address"].lower())
    # Left as tracked dust by design: the 1 bp debt buffer + 5 bp input margin over the 200 WETH debt.
    assert 0 < weth.wallet_balance <= 200 * 10**18 * 7 // 10_000


def test_unwind__not_paused__refused_before_simulation(stack: GovStack) -> None:
    gov = stack.gov()
    with pytest.raises(ParameterError, match="emergencyUnwind runs only while the vault is paused"):
        ops.emergency_unwind(gov.context(), [(stack.section["AaveV3Adapter"], b"")], "x")


def test_tighten__looser_value__refused_naming_field(stack: GovStack) -> None:
    ctx = stack.gov().context()
    with pytest.raises(
        ParameterError,
        match=r"maxSlippageBps=200 bps .* is higher than the current 100 bps .*the guardian may only tighten",
    ):
        ops.tighten_risk_params(ctx, {"maxSlippageBps": "200"})
    gov = stack.gov()
    prepared = gov.prepare_direct(ops.tighten_risk_params(ctx, {"maxSlippageBps": "50"}), stack.guardian)
    assert gov.simulate(prepared).ok
    gov.send(prepared, stack.sender(stack.guardian))
    assert stack.view("riskParams")[2] == 50


def test_risk_summary__hedged_vault__delta_hf_and_liquidation_from_lens(stack: GovStack) -> None:
    gov = stack.gov()
    view = read_view(gov.chain, gov.record)
    r = view.risk
    assert r.net_delta_units["WETH"] == pytest.approx(-200, rel=1e-6)  # borrowed and sold: short 200 WETH
    assert r.net_delta_usd["WETH"] == pytest.approx(-200 * 3000, rel=1e-4)
    assert r.net_delta_units["WBTC"] == 0
    # HF = 2M USDC × LT 0.80 / (200 WETH × 3000) ≈ 2.667; WETH must rise ~167 % to liquidate.
    assert r.health_factor == pytest.approx(2_000_000 * 0.8 / 600_000, rel=1e-4)
    assert r.liquidation_moves["WETH"] == pytest.approx(2_000_000 * 0.8 / 600_000 - 1, rel=1e-4)
    assert math.isnan(r.liquidation_moves["WBTC"])
    assert r.nav_assets == pytest.approx(3_000_000, rel=0.002)
    raw = decode(["uint256"], gov.chain.call(gov.vault, encode_call(contract_abi("HedgedVault"), "totalAssets", [])))[0]
    assert r.nav_assets == raw / 1e6


def test_compare__different_views__lists_differences(stack: GovStack) -> None:
    gov = stack.gov()
    a = read_view(gov.chain, gov.record)
    stack.sender(stack.guardian).send(stack.vault_call("pause"))
    b = read_view(gov.chain, gov.record)
    assert compare(a, a) == []
    assert "paused: simulated false, real true" in compare(a, b)


def test_unpause__paused_vault__queued_through_timelock_and_simulated(stack: GovStack) -> None:
    gov = stack.gov()
    with pytest.raises(ParameterError, match="the vault is not paused"):
        ops.unpause(gov.context())
    stack.sender(stack.guardian).send(stack.vault_call("pause"))
    prepared = gov.prepare_queue(ops.unpause(gov.context()), stack.deployer)
    assert gov.simulate(prepared).ok
    rows = {r["name"]: (r["before"], r["after"]) for r in gov.report(prepared).param_rows()}
    assert rows["paused"] == ("true", "false")
    assert stack.view("paused") is True  # the target is untouched by the simulation


def test_fees__performance_fee_change__params_and_share_price_in_diff(stack: GovStack) -> None:
    gov = stack.gov()
    op = ops.set_fee_params(gov.context(), {"performanceFeeBps": "1500"}, stack.outsider)
    prepared = gov.prepare_queue(op, stack.deployer)
    sim = gov.simulate(prepared)
    assert sim.ok, sim.error
    rows = {r["name"]: (r["before"], r["after"]) for r in gov.report(prepared).param_rows()}
    assert rows["fees.performanceFeeBps"] == ("1000 bps (10 %)", "1500 bps (15 %)")
    assert rows["fees.feeRecipient"][1] == stack.outsider
    # setFeeParams accrues first: a day of management fee at 1 %/yr is minted to the old recipient.
    before, after = sim.views["before"].risk, sim.views["after"].risk
    assert after.share_price < before.share_price
    assert before.share_price / after.share_price - 1 == pytest.approx(0.01 / 365, rel=0.05)
    with pytest.raises(ParameterError, match=r"fees\.managementFeeBps=201 .*\[0 bps \(0 %\), 200 bps \(2 %\)\]"):
        ops.set_fee_params(gov.context(), {"managementFeeBps": "201"})


def _new_feed(stack: GovStack, description: str, answer: int) -> str:
    from devnet.deployer import Deployer
    from keeper.chain.artifacts import forge_artifact

    feed = Deployer(stack.devnet.w3, stack.deployer).deploy(
        forge_artifact("PriceFeed"), 8, description, answer, stack.deployer
    )
    return str(feed.address)


def test_token_feed__repoint_then_retire__simulated_and_refusals_named(stack: GovStack) -> None:
    """Finding 6: a tracked token's feed can be re-pointed (setTrackedTokenFeed) and the token retired
    (removeTrackedToken) through the timelock; a feed without code, a reverting one and a no-op are refused."""
    gov = stack.gov()
    ctx = gov.context()
    fresh = _new_feed(stack, "WBTC / USD", 60_000 * 10**8)
    prepared = gov.prepare_queue(ops.set_tracked_token_feed(ctx, gov.chain, "WBTC", fresh), stack.deployer)
    sim = gov.simulate(prepared)
    assert sim.ok, sim.error
    wbtc = stack.record["tokens"]["WBTC"]["address"].lower()
    after = {t["token"].lower(): t["feed"] for t in sim.views["after"].params.tracked_tokens}
    assert after[wbtc] == fresh
    rows = {r["name"]: r for r in gov.report(prepared).param_rows()}
    assert any(name.startswith("feed WBTC") for name in rows)
    current = stack.record["feeds"]["WBTC"]
    with pytest.raises(ParameterError, match="WBTC already uses feed"):
        ops.set_tracked_token_feed(ctx, gov.chain, "WBTC", current)
    with pytest.raises(ParameterError, match="has no code on this chain"):
        ops.set_tracked_token_feed(ctx, gov.chain, "WBTC", "0x" + "12" * 20)
    with pytest.raises(ParameterError, match=r"answers no positive price \(or reverts\)"):
        ops.set_tracked_token_feed(ctx, gov.chain, "WBTC", stack.section["HedgedVault"])
    with pytest.raises(ParameterError, match="token='DOGE' is not a tracked token of the record; tracked: WETH, WBTC"):
        ops.remove_tracked_token(ctx, gov.chain, "DOGE")
    retire = gov.prepare_queue(ops.remove_tracked_token(ctx, gov.chain, "WBTC"), stack.deployer, salt=b"\x06" * 32)
    sim = gov.simulate(retire)
    assert sim.ok, sim.error
    assert wbtc not in {t["token"].lower() for t in sim.views["after"].params.tracked_tokens}


def test_asset_feed__repoint__simulated_and_current_refused(stack: GovStack) -> None:
    gov = stack.gov()
    ctx = gov.context()
    with pytest.raises(ParameterError, match="the asset feed is already"):
        ops.set_asset_feed(ctx, gov.chain, ctx.params.asset_feed)
    fresh = _new_feed(stack, "USDC / USD", 10**8)
    prepared = gov.prepare_queue(ops.set_asset_feed(ctx, gov.chain, fresh), stack.deployer)
    sim = gov.simulate(prepared)
    assert sim.ok, sim.error
    assert sim.views["after"].params.asset_feed == fresh
