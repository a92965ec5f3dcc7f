// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultLogic} from "../../vault/VaultLogic.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice HedgedVault's depositor surface on the in-process devnet (real Aave v3 + Uniswap v3): deposit, mint,
///         withdraw, redeem, the redeem queue, fee accrual and the profit lock.
contract HedgedVaultTest is VaultFixture {
    uint256 internal constant NAV = 3_000_000 * USDC;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, NAV);
    }

    /* DEPOSIT */

    function testDepositFirstMintsAtVirtualShareOffset(uint256 assets) public {
        assets = bound(assets, 1, 10_000_000 * USDC);
        _deployVault();
        uint256 shares = _deposit(bob, assets);
        assertEq(shares, assets * 1e6, "1 asset unit = 1e6 shares on an empty vault");
        assertEq(vault.totalAssets(), assets);
    }

    function testDepositMintsPreviewDepositShares(uint256 assets, uint32 elapsed) public {
        assets = bound(assets, 1, 10_000_000 * USDC);
        _advance(bound(elapsed, 1, 30 days));
        uint256 preview = vault.previewDeposit(assets);
        assertEq(_deposit(bob, assets), preview);
        assertEq(vault.balanceOf(bob), preview);
    }

    function testDepositRevertsWhenPaused(uint256 assets) public {
        assets = bound(assets, 1, 1e12);
        vm.prank(guardian);
        vault.pause();
        _mint(usdc, bob, assets);
        vm.startPrank(bob);
        IERC20(usdc).approve(address(vault), assets);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxDeposit.selector, bob, assets, 0));
        vault.deposit(assets, bob);
        vm.stopPrank();
    }

    function testDepositRevertsAboveCap(uint256 extra) public {
        uint256 room = vault.depositCap() - vault.totalAssets();
        uint256 assets = room + bound(extra, 1, 1e12);
        _mint(usdc, bob, assets);
        vm.startPrank(bob);
        IERC20(usdc).approve(address(vault), assets);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxDeposit.selector, bob, assets, room));
        vault.deposit(assets, bob);
        vm.stopPrank();
    }

    function testDepositRevertsWhenOracleStale() public {
        uint256 updatedAt = block.timestamp;
        _warp(1 hours + 1);
        _mint(usdc, bob, 1000 * USDC);
        vm.startPrank(bob);
        IERC20(usdc).approve(address(vault), 1000 * USDC);
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.StalePrice.selector, address(usdcFeed), updatedAt, 1 hours)
        );
        vault.deposit(1000 * USDC, bob);
        vm.stopPrank();
        assertEq(vault.maxDeposit(bob), 0);
        assertEq(vault.maxMint(bob), 0);
    }

    function testDepositAccruesManagementFee(uint32 elapsed) public {
        uint256 t = bound(elapsed, 1 hours, 365 days);
        _advance(t);
        _deposit(bob, 1 * USDC);
        uint256 feeAssets = vault.convertToAssets(vault.balanceOf(feeRecipient));
        // 1 %/year of assets, minted as shares worth that (rounding down).
        assertApproxEqRel(feeAssets, NAV * 100 * t / (10_000 * 365 days), 0.0001e18);
        assertLe(feeAssets, NAV * 100 * t / (10_000 * 365 days));
    }

    /* MINT */

    function testMintPullsPreviewMintAssets(uint256 shares, uint32 elapsed) public {
        shares = bound(shares, 1, 10_000_000 * USDC * 1e6);
        _advance(bound(elapsed, 1, 30 days));
        uint256 assets = vault.previewMint(shares);
        _mint(usdc, bob, assets);
        vm.startPrank(bob);
        IERC20(usdc).approve(address(vault), assets);
        assertEq(vault.mint(shares, bob), assets);
        vm.stopPrank();
        assertEq(IERC20(usdc).balanceOf(bob), 0);
        assertEq(vault.balanceOf(bob), shares);
    }

    function testMintRevertsAboveMaxMint(uint256 extra) public {
        uint256 max = vault.maxMint(bob);
        uint256 shares = max + bound(extra, 1, 1e18);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxMint.selector, bob, shares, max));
        vm.prank(bob);
        vault.mint(shares, bob);
    }

    /* WITHDRAW */

    function testWithdrawBurnsPreviewWithdrawShares(uint256 assets, uint32 elapsed) public {
        assets = bound(assets, 1, NAV / 2);
        _advance(bound(elapsed, 1, 30 days));
        uint256 shares = vault.previewWithdraw(assets);
        uint256 before = vault.balanceOf(alice);
        vm.prank(alice);
        assertEq(vault.withdraw(assets, alice, alice), shares);
        assertEq(before - vault.balanceOf(alice), shares);
        assertEq(IERC20(usdc).balanceOf(alice), assets);
    }

    function testWithdrawRevertsBeyondIdle(uint256 extra) public {
        _rebalance(_actions(_aave(SUPPLY, usdc, NAV - 100_000 * USDC)));
        uint256 idle = vault.idleAssets();
        assertEq(vault.maxWithdraw(alice), idle, "honest: limited by idle assets");
        uint256 assets = idle + bound(extra, 1, 1_000_000 * USDC);
        vm.expectRevert(
            abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, alice, assets, idle)
        );
        vm.prank(alice);
        vault.withdraw(assets, alice, alice);
    }

    function testWithdrawOpenWhilePausedAndStale() public {
        vm.prank(guardian);
        vault.pause();
        _warp(3 days); // every feed stale
        vm.prank(alice);
        vault.withdraw(1000 * USDC, alice, alice);
        assertEq(IERC20(usdc).balanceOf(alice), 1000 * USDC);
    }

    function testWithdrawByOperatorSpendsAllowance(uint256 assets) public {
        assets = bound(assets, 1, NAV / 2);
        uint256 shares = vault.previewWithdraw(assets);
        vm.prank(alice);
        vault.approve(bob, shares);
        vm.prank(bob);
        vault.withdraw(assets, bob, alice);
        assertEq(IERC20(usdc).balanceOf(bob), assets);
        assertEq(vault.allowance(alice, bob), 0);
    }

    function testWithdrawByOperatorRevertsWithoutAllowance() public {
        uint256 shares = vault.previewWithdraw(1000 * USDC);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, bob, 0, shares)
        );
        vm.prank(bob);
        vault.withdraw(1000 * USDC, bob, alice);
    }

    /* REDEEM */

    function testRedeemPaysPreviewRedeemAssets(uint256 shares, uint32 elapsed) public {
        shares = bound(shares, 1, vault.balanceOf(alice) / 2);
        _advance(bound(elapsed, 1, 30 days));
        uint256 assets = vault.previewRedeem(shares);
        vm.prank(alice);
        assertEq(vault.redeem(shares, alice, alice), assets);
        assertEq(IERC20(usdc).balanceOf(alice), assets);
    }

    function testRedeemRevertsBeyondIdle() public {
        _rebalance(_actions(_aave(SUPPLY, usdc, NAV - 100_000 * USDC)));
        uint256 max = vault.maxRedeem(alice);
        uint256 shares = vault.balanceOf(alice);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, alice, shares, max));
        vm.prank(alice);
        vault.redeem(shares, alice, alice);
    }

    /* REQUEST / CANCEL / FULFIL */

    function testRequestRedeemEscrowsShares(uint256 shares) public {
        shares = bound(shares, 1, vault.balanceOf(alice));
        uint256 before = vault.balanceOf(alice);
        vm.expectEmit(address(vault));
        emit IHedgedVault.RedeemRequested(0, alice, bob, shares);
        vm.prank(alice);
        uint256 id = vault.requestRedeem(shares, bob, alice);
        assertEq(id, 0);
        assertEq(vault.balanceOf(alice), before - shares);
        assertEq(vault.escrowedShares(), shares);
        assertEq(vault.balanceOf(address(vault)), shares);
        IHedgedVault.RedeemRequest memory r = vault.redeemRequest(id);
        assertEq(r.owner, alice);
        assertEq(r.receiver, bob);
        assertEq(r.shares, shares);
        assertEq(r.requestedAt, block.timestamp);
        assertFalse(r.fulfilled);
    }

    function testRequestRedeemRevertsOnZeroShares() public {
        vm.expectRevert(IHedgedVault.ZeroShares.selector);
        vm.prank(alice);
        vault.requestRedeem(0, alice, alice);
    }

    function testRequestRedeemRevertsOnZeroReceiver() public {
        vm.expectRevert(IHedgedVault.ZeroAddress.selector);
        vm.prank(alice);
        vault.requestRedeem(1, address(0), alice);
    }

    function testRequestRedeemByOperatorRevertsWithoutAllowance(uint256 shares) public {
        shares = bound(shares, 1, vault.balanceOf(alice));
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, bob, 0, shares)
        );
        vm.prank(bob);
        vault.requestRedeem(shares, bob, alice);
    }

    function testCancelRedeemReturnsShares(uint256 shares) public {
        shares = bound(shares, 1, vault.balanceOf(alice));
        uint256 before = vault.balanceOf(alice);
        vm.startPrank(alice);
        uint256 id = vault.requestRedeem(shares, alice, alice);
        vm.expectEmit(address(vault));
        emit IHedgedVault.RedeemCancelled(id, alice, shares, false);
        vault.cancelRedeem(id);
        vm.stopPrank();
        assertEq(vault.balanceOf(alice), before);
        assertEq(vault.escrowedShares(), 0);
        assertEq(vault.firstPendingRedeem(), 1);
    }

    function testCancelRedeemRevertsForAnotherOwner() public {
        vm.prank(alice);
        uint256 id = vault.requestRedeem(1e12, alice, alice);
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidRedeemRequest.selector, id));
        vm.prank(bob);
        vault.cancelRedeem(id);
    }

    function testCancelRedeemRevertsWhenDone() public {
        vm.startPrank(alice);
        uint256 id = vault.requestRedeem(1e12, alice, alice);
        vault.cancelRedeem(id);
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidRedeemRequest.selector, id));
        vault.cancelRedeem(id);
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidRedeemRequest.selector, id + 1));
        vault.cancelRedeem(id + 1);
        vm.stopPrank();
    }

    function testFulfilRedeemsPaysAtFulfilmentPrice(uint256 shares, uint32 elapsed) public {
        shares = bound(shares, 1e6, vault.balanceOf(alice) / 2);
        vm.prank(alice);
        uint256 id = vault.requestRedeem(shares, bob, alice);
        _advance(bound(elapsed, 1, 1 days));
        uint256 owed = vault.previewRedeem(shares); // after the management fee accrued meanwhile
        vm.expectEmit(address(vault));
        emit IHedgedVault.RedeemFulfilled(id, bob, shares, owed);
        vm.prank(keeper);
        vault.fulfilRedeems(_ids(id));
        assertEq(IERC20(usdc).balanceOf(bob), owed);
        assertEq(vault.escrowedShares(), 0);
        assertEq(vault.balanceOf(address(vault)), 0);
        assertTrue(vault.redeemRequest(id).fulfilled);
    }

    function testFulfilRedeemsRevertsWhenIlliquid() public {
        _rebalance(_actions(_aave(SUPPLY, usdc, NAV - 100_000 * USDC)));
        uint256 shares = vault.balanceOf(alice) / 2;
        vm.prank(alice);
        uint256 id = vault.requestRedeem(shares, alice, alice);
        uint256 owed = vault.previewRedeem(shares);
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.InsufficientLiquidity.selector, owed, vault.idleAssets())
        );
        vm.prank(keeper);
        vault.fulfilRedeems(_ids(id));
    }

    function testFulfilRedeemsRevertsForNonKeeper() public {
        vm.prank(alice);
        uint256 id = vault.requestRedeem(1e12, alice, alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, vault.KEEPER_ROLE()
            )
        );
        vm.prank(alice);
        vault.fulfilRedeems(_ids(id));
    }

    function testFulfilRedeemsOpenWhilePaused() public {
        vm.prank(alice);
        uint256 id = vault.requestRedeem(1e12, alice, alice);
        vm.prank(guardian);
        vault.pause();
        vm.prank(keeper);
        vault.fulfilRedeems(_ids(id));
        assertEq(IERC20(usdc).balanceOf(alice), 1_000_000);
    }

    function testFulfilRedeemsRevertsOnDuplicateId() public {
        vm.prank(alice);
        uint256 id = vault.requestRedeem(1e12, alice, alice);
        uint256[] memory ids = new uint256[](2);
        (ids[0], ids[1]) = (id, id);
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidRedeemRequest.selector, id));
        vm.prank(keeper);
        vault.fulfilRedeems(ids);
    }

    /* FEES */

    function testAccrueFeesPerformanceOnlyAboveHighWaterMark(uint256 gainBps) public {
        gainBps = bound(gainBps, 1, 2000);
        _setFees(0, 1000); // performance only: 10 % (the delay's day of management fee accrues first)
        uint256 sharesBefore = vault.balanceOf(feeRecipient);
        uint256 gain = NAV * gainBps / 10_000;
        _mint(usdc, address(vault), gain);
        _deposit(bob, 1); // accrue
        uint256 fee = vault.convertToAssets(vault.balanceOf(feeRecipient) - sharesBefore);
        // 10 % of the gain above the mark (the price sits ~1 day of 1 %/year below it before the gain).
        assertApproxEqAbs(fee, gain / 10, 10 * USDC, "10 % of the gain");
        assertLe(fee, gain / 10);
        // A loss, then a recovery to the old high: no new fee until the mark is passed.
        uint256 mark = VaultLogic(vault.logic()).highWaterMarkWad();
        vm.prank(address(vault));
        IERC20(usdc).transfer(makeAddr("sink"), gain);
        _deposit(bob, 1);
        vm.prank(makeAddr("sink"));
        IERC20(usdc).transfer(address(vault), gain * 9 / 10);
        uint256 feeShares = vault.balanceOf(feeRecipient);
        _deposit(bob, 1);
        assertEq(vault.balanceOf(feeRecipient), feeShares, "below the mark: no performance fee");
        assertEq(VaultLogic(vault.logic()).highWaterMarkWad(), mark);
    }

    function testAccrueFeesWithoutRecipientRatchetsHighWaterMark() public {
        IHedgedVault.FeeParams memory f = _defaultFees();
        f.feeRecipient = address(0);
        _timelocked(abi.encodeCall(vault.setFeeParams, (f)));
        _mint(usdc, address(vault), NAV / 10);
        _deposit(bob, 1);
        uint256 priceNow = VaultLogic(vault.logic()).highWaterMarkWad();
        assertGt(priceNow, 1.09e18, "the mark followed the price");
        _timelocked(abi.encodeCall(vault.setFeeParams, (_defaultFees())));
        uint256 before = vault.balanceOf(feeRecipient);
        _deposit(bob, 1);
        uint256 minted = vault.balanceOf(feeRecipient) - before;
        // Only management fee on the delay's day: ~1 %/365 of NAV, no retroactive performance fee.
        assertLt(vault.convertToAssets(minted), NAV * 11 / 10 / 365 / 100 + 1 * USDC);
    }

    function testSetFeeParamsAccruesUnderOldParameters() public {
        _advance(30 days);
        _timelocked(abi.encodeCall(vault.setFeeParams, (_feesWith(0, 0))));
        // 30 days + the 1-day delay at 1 %/year, all accrued before the switch to 0 %.
        uint256 fee = vault.convertToAssets(vault.balanceOf(feeRecipient));
        assertApproxEqRel(fee, NAV * 100 * 31 days / (10_000 * 365 days), 0.001e18);
        uint256 held = vault.balanceOf(feeRecipient);
        _advance(30 days);
        _deposit(bob, 1);
        assertEq(vault.balanceOf(feeRecipient), held, "no fees at 0 %");
    }

    /* PROFIT LOCK */

    function testRebalanceGainIsLockedThenReleasedLinearly() public {
        uint256 before = vault.totalAssets();
        uint256 oracle = _priceE8(weth);
        _movePool(weth, oracle * 995 / 1000);
        _rebalance(_actions(_swap(usdc, weth, 500_000 * USDC)));
        _movePool(weth, oracle);
        uint256 locked = vault.lockedProfitNow();
        assertGt(locked, 1000 * USDC, "a ~0.45 % gain on 500k");
        assertApproxEqAbs(vault.totalAssets(), before, 2, "nothing shows at once");
        _advance(3 hours);
        assertApproxEqAbs(vault.lockedProfitNow(), locked / 2, 1);
        _advance(3 hours);
        assertEq(vault.lockedProfitNow(), 0);
        assertApproxEqAbs(vault.totalAssets(), before + locked, 2);
    }

    function testRebalanceLossAbsorbedByLockedProfit() public {
        uint256 oracle = _priceE8(weth);
        _movePool(weth, oracle * 995 / 1000);
        _rebalance(_actions(_swap(usdc, weth, 500_000 * USDC)));
        _movePool(weth, oracle);
        uint256 locked = vault.lockedProfitNow();
        uint256 shownBefore = vault.totalAssets();
        // Sell the WETH back at the oracle price (pool fee and impact: a small loss).
        _rebalance(_actions(_swap(weth, usdc, IERC20(weth).balanceOf(address(vault)))));
        assertLt(vault.lockedProfitNow(), locked, "the loss came out of locked profit");
        assertApproxEqAbs(vault.totalAssets(), shownBefore, 2, "share price unchanged");
    }

    /* HELPERS */

    function _feesWith(uint16 managementBps, uint16 performanceBps)
        internal
        view
        returns (IHedgedVault.FeeParams memory f)
    {
        f = _defaultFees();
        (f.managementFeeBps, f.performanceFeeBps) = (managementBps, performanceBps);
    }

    function _setFees(uint16 managementBps, uint16 performanceBps) internal {
        _timelocked(abi.encodeCall(vault.setFeeParams, (_feesWith(managementBps, performanceBps))));
    }
}
