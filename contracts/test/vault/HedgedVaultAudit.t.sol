// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Vm} from "forge-std/Vm.sol";

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {HedgedVault} from "../../vault/HedgedVault.sol";
import {BlocklistERC20, FeeOnTransferERC20} from "../mocks/HostileERC20.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";
import {OptionsAdapterStub} from "./OptionsAdapterStub.sol";

/// @notice Regression tests for the findings of the vault review: each states the property the original code
///         broke, through the ABI that existed before the fix (so each failed before it and passes after).
contract HedgedVaultAuditTest is VaultFixture {
    function setUp() public {
        _loadDevnet();
        _deployVault();
    }

    /// @dev Finding: runtime code above EIP-170 (24,576 bytes): undeployable on any real network.
    function testDeployedCodeFitsEip170() public view {
        assertLe(address(vault).code.length, 24_576, "HedgedVault runtime size");
        assertLe(vault.logic().code.length, 24_576, "VaultLogic runtime size");
        assertLe(logicFactory.code.length, 24_576, "VaultLogicFactory runtime size");
    }

    /// @dev Finding (issue 19, with the dead-feed fallback): the vault's initcode embedded VaultLogic's creation code,
    ///      51,483 bytes > EIP-3860's 49,152: anvil refused the deployment ("max initcode size exceeded").
    function testInitcodeFitsEip3860() public view {
        assertLe(
            vm.getCode("contracts/vault/HedgedVault.sol:HedgedVault").length, 49_152, "HedgedVault initcode"
        );
    }

    /// @dev Finding: the high-water mark started at 1e18 while the share price was computed per raw share (1e-6
    ///      of that because of the 6-decimal offset): the performance fee could never be charged.
    function testAccrueFeesChargesPerformanceFeeAboveHighWaterMark() public {
        _deposit(alice, 1_000_000 * USDC);
        _mint(usdc, address(vault), 100_000 * USDC); // a 10 % gain (donations are not locked)
        _deposit(bob, 1 * USDC); // any entry point accrues
        uint256 feeAssets = vault.convertToAssets(vault.balanceOf(feeRecipient));
        assertApproxEqRel(feeAssets, 10_000 * USDC, 0.001e18, "10 % of the 100k gain");
    }

    /// @dev Finding: previews ignored the fee shares the entry point mints first (ERC-4626: a preview must not
    ///      promise more than the call gives in the same transaction).
    function testPreviewDepositMatchesDepositAfterFeesAccrue() public {
        _deposit(alice, 1_000_000 * USDC);
        _advance(30 days);
        uint256 preview = vault.previewDeposit(1000 * USDC);
        uint256 shares = _deposit(bob, 1000 * USDC);
        assertEq(shares, preview);
    }

    /// @dev Same finding, seen through max*: withdraw(maxWithdraw) reverted once management fees were pending.
    function testWithdrawOfMaxWithdrawSucceedsAfterFeesAccrue() public {
        _deposit(alice, 1_000_000 * USDC);
        _advance(30 days);
        uint256 max = vault.maxWithdraw(alice);
        vm.prank(alice);
        vault.withdraw(max, alice, alice);
        assertLt(
            vault.convertToAssets(vault.balanceOf(alice)), 1, "all but dust worth < 1 asset unit withdrawn"
        );
    }

    /// @dev Finding: maxMint reverted (mulDiv overflow) with an uncapped vault, and mint with it.
    function testMaxMintDoesNotRevertWhenUncapped() public {
        _deployVault(IERC20Metadata(usdc), _defaultRisk(), _defaultFees(), type(uint256).max, false);
        _deposit(alice, 1000 * USDC);
        assertGt(vault.maxMint(bob), 0);
        _mint(usdc, bob, 10 * USDC);
        vm.startPrank(bob);
        IERC20(usdc).approve(address(vault), 10 * USDC);
        vault.mint(1e12, bob);
        vm.stopPrank();
    }

    /// @dev Finding: a profitUnlockSeconds change rescaled the profit already locked, moving totalAssets (and the
    ///      share price) in the block it executed: lengthening it dropped the price, shortening it jumped it.
    function testSetFeeParamsKeepsTotalAssetsContinuous() public {
        _deposit(alice, 1_000_000 * USDC);
        IHedgedVault.FeeParams memory fees = _defaultFees();
        fees.profitUnlockSeconds = 14 days;
        bytes memory data = abi.encodeCall(vault.setFeeParams, (fees));
        vm.prank(proposer);
        timelock.schedule(address(vault), 0, data, bytes32(0), bytes32(0), TIMELOCK_DELAY);
        _advance(TIMELOCK_DELAY - 1 hours);
        _gainRebalance(300_000 * USDC); // a gain, locked over 6 h
        _warp(1 hours);
        uint256 before = vault.totalAssets();
        vm.prank(proposer);
        timelock.execute(address(vault), 0, data, bytes32(0), bytes32(0));
        assertEq(vault.totalAssets(), before);
    }

    /// @dev Finding: allowing an OPTIONS adapter twice listed it twice, counting its venue marks twice in NAV.
    function testSetAdapterTwiceCountsOptionsAdapterOnce() public {
        _deposit(alice, 1_000_000 * USDC);
        OptionsAdapterStub options = new OptionsAdapterStub(1000e8);
        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), true)));
        uint256 once = vault.totalAssets();
        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), true)));
        assertEq(vault.optionsAdapters().length, 1);
        assertApproxEqAbs(vault.totalAssets(), once, 1 * USDC, "a 1000 USD mark counted once");
    }

    /// @dev Finding: emergencyUnwind had no cumulative bound: a guardian could bleed the vault through repeated
    ///      round trips, each within maxLossBps. Cumulative unwind losses must stay within the period's budget.
    function testEmergencyUnwindRepeatedLossesStayWithinLossBudget() public {
        _deposit(alice, 1_000_000 * USDC);
        vm.prank(guardian);
        vault.pause();
        uint256 start = vault.totalAssets();
        for (uint256 i; i < 40; ++i) {
            IHedgedVault.Action[] memory buy = _actions(_swap(usdc, weth, 900_000 * USDC));
            vm.prank(guardian);
            try vault.emergencyUnwind(buy) {}
            catch {
                break;
            }
            IHedgedVault.Action[] memory sell =
                _actions(_swap(weth, usdc, IERC20(weth).balanceOf(address(vault))));
            vm.prank(guardian);
            try vault.emergencyUnwind(sell) {}
            catch {
                break;
            }
        }
        uint256 budget = start * _defaultRisk().lossBudgetBps / 10_000;
        assertGe(
            vault.totalAssets() + budget + 1000 * USDC, start, "unwind losses bounded by the loss budget"
        );
    }

    /// @dev Finding: deposits priced NAV with oracle answers of any age (a stale feed let a depositor buy shares at
    ///      a price the market had left); maxDeposit must say 0 and deposit must refuse.
    function testDepositRefusedWhenOracleStale() public {
        _deposit(alice, 1_000_000 * USDC);
        _warp(2 hours); // heartbeat 1 h, no new rounds
        assertEq(vault.maxDeposit(bob), 0);
        _mint(usdc, bob, 1000 * USDC);
        vm.startPrank(bob);
        IERC20(usdc).approve(address(vault), 1000 * USDC);
        vm.expectRevert();
        vault.deposit(1000 * USDC, bob);
        vm.stopPrank();
    }

    /// @dev Finding: a fee-on-transfer asset credited depositors with more than the vault received, diluting
    ///      everyone else. The vault must refuse (shares only for assets actually received).
    function testDepositFeeOnTransferAssetNeverDilutes() public {
        FeeOnTransferERC20 fot = new FeeOnTransferERC20(100);
        _deployVault(IERC20Metadata(address(fot)), _defaultRisk(), _defaultFees(), type(uint256).max, false);
        address[2] memory who = [alice, bob];
        for (uint256 i; i < 2; ++i) {
            _mint(address(fot), who[i], 1000 * USDC);
            vm.startPrank(who[i]);
            fot.approve(address(vault), 1000 * USDC);
            uint256 held = fot.balanceOf(address(vault));
            try vault.deposit(1000 * USDC, who[i]) returns (uint256 shares) {
                uint256 received = fot.balanceOf(address(vault)) - held;
                assertLe(vault.convertToAssets(shares), received, "credited more than the vault received");
            } catch {}
            vm.stopPrank();
        }
    }

    /// @dev Finding: one request whose payout transfer reverts (a blocklisted receiver) could never be fulfilled,
    ///      and once overdue it blocked every rebalance for good. Fulfilment must get past it.
    function testRebalanceNotBlockedByRequestWhosePayoutReverts() public {
        BlocklistERC20 token = new BlocklistERC20();
        _deployVault(IERC20Metadata(address(token)), _defaultRisk(), _defaultFees(), type(uint256).max, false);
        _deposit(alice, 1000 * USDC);
        address blocked = makeAddr("blocked");
        token.setBlocked(blocked, true);
        uint256 shares = vault.balanceOf(alice);
        vm.prank(alice);
        vault.requestRedeem(shares, blocked, alice);
        _advance(2 days);
        vm.prank(keeper);
        vault.rebalance(new IHedgedVault.Action[](0), _ids(0));
        assertEq(vault.escrowedShares(), 0);
        assertEq(vault.balanceOf(alice), shares, "shares back to the owner");
    }

    /// @dev Finding: addTrackedToken accepted decimals that disagree with the token's (NAV off by 10^k).
    function testAddTrackedTokenRejectsWrongDecimals() public {
        vm.startPrank(deployer);
        HedgedVault fresh =
            _newVault(IERC20Metadata(usdc), deployer, _defaultRisk(), _defaultFees(), type(uint256).max);
        vm.expectRevert();
        fresh.addTrackedToken(IHedgedVault.TrackedToken(weth, address(wethFeed), wethPool, 8));
        vm.stopPrank();
    }

    /// @dev Finding: setMaxFulfilDelay changed a parameter without an event.
    function testSetMaxFulfilDelayEmits() public {
        vm.recordLogs();
        _timelocked(abi.encodeCall(vault.setMaxFulfilDelay, (2 days)));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool found;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(vault)) found = true;
        }
        assertTrue(found, "vault emitted nothing");
        assertEq(vault.maxFulfilDelaySeconds(), 2 days);
    }

    /// @dev Finding: cancelRedeem emitted RedeemFulfilled(…, 0 assets): indexers saw a cancelled request paid.
    function testCancelRedeemDoesNotEmitRedeemFulfilled() public {
        _deposit(alice, 1000 * USDC);
        vm.startPrank(alice);
        uint256 id = vault.requestRedeem(vault.balanceOf(alice), alice, alice);
        vm.recordLogs();
        vault.cancelRedeem(id);
        vm.stopPrank();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(
                logs[i].topics[0] != IHedgedVault.RedeemFulfilled.selector, "RedeemFulfilled on cancel"
            );
        }
    }

    /// @dev Finding: a small later gain restarted the unlock of all profit still locked (a keeper could keep
    ///      earlier gains locked forever with dust gains). Earlier profit keeps its schedule.
    function testRebalanceSmallGainDoesNotRestartEarlierUnlock() public {
        _deposit(alice, 1_000_000 * USDC);
        _gainRebalance(300_000 * USDC);
        _advance(5 hours);
        _gainRebalance(1000 * USDC); // dust gain
        _advance(1 hours + 1);
        uint256 atSixHours = vault.totalAssets();
        _advance(6 hours);
        // Left locked at 6 h: ~5x the dust gain (its own 6 h schedule), not ~5/36 of the first gain (~180 USDC).
        assertApproxEqAbs(vault.totalAssets(), atSixHours, 50 * USDC, "the first gain is released by 6 h");
    }

    /* HELPERS */

    /// @dev Buy WETH from a pool 0.5 % under the oracle (TWAP unmoved within the block): an oracle-measured gain.
    function _gainRebalance(uint256 usdcIn) internal {
        uint256 oracle = _priceE8(weth);
        _movePool(weth, oracle * 995 / 1000);
        _rebalance(_actions(_swap(usdc, weth, usdcIn)));
        _movePool(weth, oracle);
    }
}
