"""HedgedVault on the devnet with the real Aave v3 and Uniswap v3: a hedge that borrows WETH and sells it, and one
violation of every guard, each reverting with its decoded custom error."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from web3.logs import DISCARD

from governance.deploy import RiskParams
from governance.deploy_checks import verify_vault
from keeper.chain.anvil import isolated

from .conftest import Stack, deploy_stack, revert_reason

pytestmark = pytest.mark.chain
USDC, WETH = 10**6, 10**18
MAX = 2**256 - 1


def aave(stack: Stack, op: int, symbol: str, amount: int) -> tuple[str, bytes]:
    token = stack.devnet.record["tokens"][symbol]["address"]
    return (stack.section["AaveV3Adapter"], encode(["uint8", "address", "uint256"], [op, token, amount]))


def swap(stack: Stack, token_in: str, token_out: str, amount_in: int, fee: int = 500) -> tuple[str, bytes]:
    rec = stack.devnet.record["tokens"]
    path = (
        bytes.fromhex(rec[token_in]["address"][2:])
        + fee.to_bytes(3, "big")
        + bytes.fromhex(rec[token_out]["address"][2:])
    )
    return (stack.section["UniswapV3Adapter"], encode(["bytes", "uint256", "uint256"], [path, amount_in, 0]))


SUPPLY, WITHDRAW, BORROW, REPAY = 0, 1, 2, 3


def hedge(stack: Stack, borrow_weth: int = 200) -> list[tuple[str, bytes]]:
    """Supply 2M USDC, borrow WETH, sell it for USDC: a short-delta hedge."""
    return [
        aave(stack, SUPPLY, "USDC", 2_000_000 * USDC),
        aave(stack, BORROW, "WETH", borrow_weth * WETH),
        swap(stack, "WETH", "USDC", borrow_weth * WETH),
    ]


def test_deploy__wiring__timelock_is_sole_governance(stack: Stack) -> None:
    assert verify_vault(stack.w3, stack.section, stack.deployer) == []
    assert stack.vault.functions.totalAssets().call() == 3_000_000 * USDC


def test_rebalance__borrow_weth_and_sell__hedged_within_bounds(stack: Stack) -> None:
    v = stack.vault.functions
    nav_before = v.totalAssets().call()
    receipt = stack.send(v.rebalance(hedge(stack), []), stack.keeper)
    (event,) = stack.vault.events.Rebalanced().process_receipt(receipt, errors=DISCARD)
    pool = stack.w3.eth.contract(
        address=stack.vault.functions.aavePool().call(),
        abi=[
            {
                "name": "getUserAccountData",
                "type": "function",
                "stateMutability": "view",
                "inputs": [{"type": "address", "name": "u"}],
                "outputs": [{"type": "uint256", "name": f"o{i}"} for i in range(6)],
            }
        ],
    )
    _, debt, _, _, _, hf = pool.functions.getUserAccountData(stack.vault.address).call()
    assert debt == pytest.approx(200 * 3000 * 10**8, rel=1e-6)
    assert hf >= 13 * 10**17
    usdc_idle = stack.token("USDC").functions.balanceOf(stack.vault.address).call()
    proceeds = usdc_idle - 1_000_000 * USDC  # 0.05 % fee + ~0.06 % impact in a $2B full-range pool
    assert 600_000 * USDC * (1 - 0.002) <= proceeds <= 600_000 * USDC * (1 - 0.0005)
    assert event["args"]["navAfter"] >= nav_before * (1 - 0.005)
    assert v.totalAssets().call() <= nav_before  # any gain is locked, a loss shows at once
    assert receipt["gasUsed"] < 1_500_000


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("health", "HealthFactorBelowFloor"),
        ("slippage", "SlippageExceeded"),
        ("adapter", "AdapterNotAllowed"),
        ("stale", "StalePrice"),
        ("deviation", "OracleDeviation"),
        ("not_keeper", "AccessControlUnauthorizedAccount"),
    ],
)
def test_rebalance__guard_violated__reverts_with_decoded_error(stack: Stack, case: str, expected: str) -> None:
    v, actions, sender = stack.vault.functions, hedge(stack), stack.keeper
    if case == "health":
        actions = hedge(stack, borrow_weth=480)  # within Aave's LTV (1.54M) but HF 1.6M/1.44M ≈ 1.11 < floor 1.3
    elif case == "slippage":
        stack.driver.move_pool("WETH", 3000 * 0.985)  # the pool pays 1.5 % under the oracle (TWAP barely moves)
    elif case == "adapter":
        actions = [(stack.deployer, b"")]
    elif case == "stale":
        stack.driver.advance(2 * 3600)  # heartbeat 1 h, feeds not updated
    elif case == "deviation":
        stack.driver.set_price("WETH", 3000 * 1.05)  # oracle 5 % above the pool's TWAP (bound 2 %)
    elif case == "not_keeper":
        sender = stack.depositor
    reason = revert_reason(v.rebalance(actions, []), sender)
    assert reason.startswith(expected), reason


@pytest.mark.parametrize(
    ("risk", "expected"),
    [
        (RiskParams(max_loss_bps=1, max_slippage_bps=300), "MaxLossExceeded"),
        (RiskParams(turnover_budget_bps=10), "TurnoverBudgetExceeded"),
        (RiskParams(loss_budget_bps=1), "LossBudgetExceeded"),
    ],
)
def test_rebalance__budget_or_loss_bound__reverts(vault_devnet: Any, risk: RiskParams, expected: str) -> None:
    with isolated(vault_devnet.url):
        stack = deploy_stack(vault_devnet, risk)
        if expected == "LossBudgetExceeded":  # the 0.05 % pool fee on a 600k swap costs ~1 bp of a 3M NAV
            stack.driver.move_pool("WETH", 3000 * 0.997)
        reason = revert_reason(stack.vault.functions.rebalance(hedge(stack), []), stack.keeper)
        assert reason.startswith(expected), reason


def test_withdraw__beyond_idle__queued_and_fulfilled_by_rebalance(stack: Stack) -> None:
    v = stack.vault.functions
    stack.send(v.rebalance([aave(stack, SUPPLY, "USDC", 2_900_000 * USDC)], []), stack.keeper)
    assert v.maxWithdraw(stack.depositor).call() == 100_000 * USDC  # honest: limited by idle assets
    shares = v.balanceOf(stack.depositor).call() // 2
    stack.send(v.requestRedeem(shares, stack.depositor, stack.depositor), stack.depositor)
    owed = v.previewRedeem(shares).call()
    assert revert_reason(v.fulfilRedeems([0]), stack.keeper).startswith("InsufficientLiquidity")
    before = stack.token("USDC").functions.balanceOf(stack.depositor).call()
    stack.send(v.rebalance([aave(stack, WITHDRAW, "USDC", 1_500_000 * USDC)], [0]), stack.keeper)
    received = stack.token("USDC").functions.balanceOf(stack.depositor).call() - before
    assert received == pytest.approx(owed, rel=1e-6)
    assert v.escrowedShares().call() == 0


def test_redeem_request__overdue__rebalance_must_fulfil(stack: Stack) -> None:
    v = stack.vault.functions
    stack.send(v.rebalance([aave(stack, SUPPLY, "USDC", 2_900_000 * USDC)], []), stack.keeper)
    stack.send(
        v.requestRedeem(v.balanceOf(stack.depositor).call() // 2, stack.depositor, stack.depositor), stack.depositor
    )
    stack.driver.advance(86_400 + 60)
    stack.refresh_oracles()
    assert revert_reason(v.rebalance([aave(stack, WITHDRAW, "USDC", 10 * USDC)], []), stack.keeper).startswith(
        "RedeemOverdue"
    )
    stack.send(v.rebalance([aave(stack, WITHDRAW, "USDC", 1_600_000 * USDC)], [0]), stack.keeper)


def test_pause__guardian__blocks_deposits_and_rebalance_not_idle_withdrawals(stack: Stack) -> None:
    v = stack.vault.functions
    stack.send(v.pause(), stack.guardian)
    assert v.maxDeposit(stack.depositor).call() == 0
    assert revert_reason(v.deposit(USDC, stack.depositor), stack.depositor).startswith("ERC4626ExceededMaxDeposit")
    assert revert_reason(v.rebalance(hedge(stack), []), stack.keeper).startswith("EnforcedPause")
    stack.send(v.withdraw(1_000 * USDC, stack.depositor, stack.depositor), stack.depositor)
    assert revert_reason(v.unpause(), stack.guardian).startswith("AccessControlUnauthorizedAccount")


def test_governance__direct_setter__rejected_only_timelock_after_delay(stack: Stack) -> None:
    v = stack.vault.functions
    params = RiskParams(max_loss_bps=25).as_tuple()
    assert revert_reason(v.setRiskParams(params), stack.deployer).startswith("AccessControlUnauthorizedAccount")
    from keeper.chain.artifacts import forge_artifact

    timelock = stack.w3.eth.contract(address=stack.section["Timelock"], abi=forge_artifact("Timelock").abi)
    data = stack.vault.encode_abi("setRiskParams", args=[params])
    salt = b"\x00" * 32
    stack.send(timelock.functions.schedule(stack.vault.address, 0, data, b"\x00" * 32, salt, 86_400), stack.deployer)
    early = timelock.functions.execute(stack.vault.address, 0, data, b"\x00" * 32, salt)
    assert revert_reason(early, stack.deployer).startswith("TimelockUnexpectedOperationState")
    stack.driver.advance(86_400 + 1)
    stack.send(timelock.functions.execute(stack.vault.address, 0, data, b"\x00" * 32, salt), stack.deployer)
    assert v.riskParams().call()[1] == 25


def test_guardian__tighten_only(stack: Stack) -> None:
    v = stack.vault.functions
    stack.send(v.tightenRiskParams(RiskParams(max_loss_bps=20).as_tuple()), stack.guardian)
    assert revert_reason(v.tightenRiskParams(RiskParams(max_loss_bps=40).as_tuple()), stack.guardian).startswith(
        "OnlyTightening"
    )
    out_of_bounds = RiskParams(health_factor_floor_wad=10**18).as_tuple()
    assert revert_reason(v.tightenRiskParams(out_of_bounds), stack.guardian).startswith("ParameterOutOfBounds")


def test_lens__one_call__consistent_with_vault(stack: Stack) -> None:
    from keeper.chain.artifacts import forge_artifact

    stack.send(stack.vault.functions.rebalance(hedge(stack), []), stack.keeper)
    lens = stack.w3.eth.contract(address=stack.section["VaultLens"], abi=forge_artifact("VaultLens").abi)
    state = lens.functions.snapshot(stack.vault.address).call()
    gas = lens.functions.snapshot(stack.vault.address).estimate_gas()
    assert state[2] == stack.vault.functions.totalAssets().call()
    weth = next(t for t in state[16] if t[0] == stack.devnet.record["tokens"]["WETH"]["address"])
    assert weth[4] == pytest.approx(200 * WETH, rel=1e-6)  # variable debt
    assert weth[7] == 8300  # liquidation threshold bps from the reserve configuration
    assert state[17][5] >= 13 * 10**17  # health factor
    assert gas < 500_000


def test_emergency_unwind__paused_guardian__repays_debt_back_to_collateral(stack: Stack) -> None:
    v = stack.vault.functions
    stack.send(v.rebalance(hedge(stack), []), stack.keeper)
    assert revert_reason(v.emergencyUnwind([]), stack.guardian).startswith("ExpectedPause")
    stack.send(v.pause(), stack.guardian)
    buy_back = [
        swap(stack, "USDC", "WETH", 605_000 * USDC),  # 0.05 % fee + impact: covers the 200 WETH debt
        aave(stack, REPAY, "WETH", MAX),
        aave(stack, WITHDRAW, "USDC", MAX),
    ]
    assert revert_reason(v.emergencyUnwind(buy_back), stack.keeper).startswith("NotGuardianOrGovernance")
    receipt = stack.send(v.emergencyUnwind(buy_back), stack.guardian)
    (event,) = stack.vault.events.Unwound().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["navAfter"] >= event["args"]["navBefore"] * (1 - 0.005)
    from keeper.chain.artifacts import forge_artifact

    lens = stack.w3.eth.contract(address=stack.section["VaultLens"], abi=forge_artifact("VaultLens").abi)
    aave_account = lens.functions.snapshot(stack.vault.address).call()[17]
    assert aave_account[0] == 0  # no collateral left on Aave
    assert aave_account[1] == 0  # and no debt
    weth = stack.token("WETH").functions.balanceOf(stack.vault.address).call()
    assert 0 < weth < 2 * WETH  # the surplus WETH bought over the debt stays tracked, valued at the oracle


def test_emergency_unwind__borrows_more__reverts_debt_increased(stack: Stack) -> None:
    v = stack.vault.functions
    stack.send(v.rebalance(hedge(stack), []), stack.keeper)
    stack.send(v.pause(), stack.guardian)
    reason = revert_reason(v.emergencyUnwind([aave(stack, BORROW, "WETH", 10 * WETH)]), stack.guardian)
    assert reason.startswith("UnwindIncreasedDebt"), reason
    reason = revert_reason(v.emergencyUnwind([aave(stack, WITHDRAW, "USDC", 100_000 * USDC)]), stack.guardian)
    assert reason.startswith("UnwindLoweredHealthFactor"), reason
