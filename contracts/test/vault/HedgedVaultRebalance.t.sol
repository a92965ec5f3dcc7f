// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {AaveV3Adapter} from "../../adapters/AaveV3Adapter.sol";
import {UniswapV3Adapter} from "../../adapters/UniswapV3Adapter.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice rebalance and emergencyUnwind against the real Aave v3 and Uniswap v3: the hedge, and one violation of
///         every guard, each reverting with its error and arguments.
contract HedgedVaultRebalanceTest is VaultFixture {
    uint256 internal constant NAV = 3_000_000 * USDC;
    uint256 internal constant WETH = 1e18;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, NAV);
    }

    /* REBALANCE: the hedge */

    function testRebalanceBorrowsWethOnAaveAndSellsIt(uint256 borrowWeth) public {
        borrowWeth = bound(borrowWeth, 1 * WETH, 300 * WETH);
        uint256 navBefore = vault.totalAssets();
        _rebalance(_hedge(2_000_000 * USDC, borrowWeth));
        (uint256 collateralBase, uint256 debtBase,,,, uint256 hf) =
            aavePool.getUserAccountData(address(vault));
        assertApproxEqRel(collateralBase, 2_000_000e8, 1e9);
        assertApproxEqRel(debtBase, borrowWeth * 3000e8 / WETH, 1e9);
        assertGe(hf, 1.3e18);
        assertEq(IERC20(weth).balanceOf(address(vault)), 0, "all borrowed WETH sold");
        // Proceeds: 0.05 % pool fee plus impact in a $2B full-range pool.
        uint256 proceeds = vault.idleAssets() - (NAV - 2_000_000 * USDC);
        assertGe(proceeds, borrowWeth * 3000 * USDC / WETH * 9980 / 10_000);
        assertLe(vault.totalAssets(), navBefore, "a loss shows at once");
        assertGe(vault.totalAssets(), navBefore * 9990 / 10_000);
        assertGt(_turnoverUsedE8(), 0);
    }

    function testRebalanceEmitsMeasuredNav() public {
        uint256 navBefore = vault.totalAssets();
        vm.recordLogs();
        _rebalance(_actions(_aave(SUPPLY, usdc, 1_000_000 * USDC)));
        // Supplying to Aave moves value from idle to collateral: NAV unchanged up to Aave's 1e8 base rounding.
        assertApproxEqAbs(vault.totalAssets(), navBefore, 1);
        // Lending moves are not turnover (only what trades at a market price is): a deleverage is never blocked.
        assertEq(_turnoverUsedE8(), 0);
    }

    /* REBALANCE: guards */

    function testRebalanceRevertsWhenHealthFactorBelowFloor() public {
        // 480 WETH against 2M USDC: inside Aave's LTV, HF = 1.6M / 1.44M ≈ 1.11 < floor 1.3.
        bytes memory ret = _revertData(
            keeper, abi.encodeCall(vault.rebalance, (_hedge(2_000_000 * USDC, 480 * WETH), _noIds()))
        );
        assertEq(_selector(ret), IHedgedVault.HealthFactorBelowFloor.selector);
        (uint256 hf, uint256 floor) = abi.decode(_args(ret), (uint256, uint256));
        assertEq(floor, 1.3e18);
        assertApproxEqRel(hf, uint256(2_000_000 * 8000) * 1e18 / (480 * 3000 * 10_000), 0.0001e18);
    }

    /// @notice Issue 19 item 8: Aave's account data is read after a batch only when a lending action may have
    ///         lowered the health factor (withdraw, borrow); supplies, repays and swaps cannot, and skip the read.
    function testNoHealthFactorReadAfterSupplyRepayAndSwap() public {
        _rebalance(_hedge(2_000_000 * USDC, 100 * WETH));
        vm.expectCall(address(aavePool), abi.encodeWithSelector(aavePool.getUserAccountData.selector), 0);
        _rebalance(
            _actions(
                _swap(usdc, weth, 4000 * USDC),
                _aave(REPAY, weth, 1 * WETH),
                _aave(SUPPLY, usdc, 100_000 * USDC)
            )
        );
    }

    function testHealthFactorReadAfterWithdrawOrBorrow() public {
        _rebalance(_hedge(2_000_000 * USDC, 100 * WETH));
        vm.expectCall(address(aavePool), abi.encodeWithSelector(aavePool.getUserAccountData.selector), 2);
        _rebalance(_actions(_aave(WITHDRAW, usdc, 1000 * USDC)));
        _rebalance(_actions(_aave(SUPPLY, usdc, 1000 * USDC), _aave(BORROW, weth, 1 * WETH)));
    }

    function testRebalanceRevertsOnSlippage(uint256 discountBps) public {
        discountBps = bound(discountBps, 110, 190); // pool under the oracle by more than maxSlippage (100 bps)
        _movePool(weth, _priceE8(weth) * (10_000 - discountBps) / 10_000); // same block: the TWAP has not moved
        bytes memory ret = _revertData(
            keeper, abi.encodeCall(vault.rebalance, (_hedge(2_000_000 * USDC, 100 * WETH), _noIds()))
        );
        assertEq(_selector(ret), IHedgedVault.SlippageExceeded.selector);
        (uint256 index, uint256 inE8, uint256 outE8, uint256 maxBps) =
            abi.decode(_args(ret), (uint256, uint256, uint256, uint256));
        assertEq(index, 2, "the swap");
        assertEq(inE8, 100 * 3000e8, "100 WETH at the oracle");
        assertLt(outE8 * 10_000, inE8 * (10_000 - 100));
        assertEq(maxBps, 100);
    }

    function testRebalanceRevertsOnAdapterNotAllowed(address adapter) public {
        vm.assume(adapter != address(aaveAdapter) && adapter != address(uniAdapter));
        IHedgedVault.Action[] memory actions = _actions(IHedgedVault.Action(adapter, ""));
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.AdapterNotAllowed.selector, adapter));
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
    }

    function testRebalanceRevertsWhenPriceStale(uint256 late) public {
        uint256 updatedAt = block.timestamp;
        _warp(1 hours + bound(late, 1, 30 days));
        IHedgedVault.Action[] memory actions = _actions(_aave(SUPPLY, usdc, 1000 * USDC));
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.StalePrice.selector, address(usdcFeed), updatedAt, 1 hours)
        );
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
    }

    function testRebalanceRevertsWhenOneTrackedFeedStale() public {
        _warp(1 hours + 1);
        _setPrice(usdc, _priceE8(usdc));
        _setPrice(wbtc, _priceE8(wbtc)); // WETH's feed left stale
        uint256 wethAt = block.timestamp - 1 hours - 1;
        IHedgedVault.Action[] memory actions = _actions(_aave(SUPPLY, usdc, 1000 * USDC));
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.StalePrice.selector, address(wethFeed), wethAt, 1 hours)
        );
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
    }

    /// @dev Issue 19 item 8: a token's TWAP agreement is checked where its price judges the batch. A swap that
    ///      moves WETH is judged at WETH's feed: refused while the feed is off its TWAP (before the slippage test).
    function testRebalanceRevertsOnOracleDeviationOfSwappedToken(uint256 upBps) public {
        uint256 price = _deviateWeth(upBps);
        _assertWethDeviation(_actions(_swap(usdc, weth, 10_000 * USDC)), price);
    }

    /// @dev The hedge (supply USDC, borrow WETH, sell it) is judged at WETH's feed through the swap: refused.
    function testRebalanceRevertsOnOracleDeviationOfBorrowedAndSoldToken(uint256 upBps) public {
        uint256 price = _deviateWeth(upBps);
        _assertWethDeviation(_hedge(100_000 * USDC, 1 * WETH), price);
    }

    /// @dev Borrowing WETH and holding it leaves the vault's net WETH (wallet + Aave supply − Aave debt, all at the
    ///      vault's feed since item 6a) unchanged: its price cannot judge the batch, which passes while the feed is
    ///      off its TWAP (the health factor is still checked, on Aave's numbers).
    function testRebalanceIgnoresDeviationWhenBorrowedTokenIsHeld(uint256 upBps) public {
        _deviateWeth(upBps);
        _rebalance(_actions(_aave(SUPPLY, usdc, 100_000 * USDC), _aave(BORROW, weth, 1 * WETH)));
        assertEq(IERC20(weth).balanceOf(address(vault)), 1 * WETH);
    }

    /// @dev A batch that moves no WETH is not judged by WETH's price (it multiplies an unchanged balance, so it
    ///      cancels out of the batch's NAV change): the batch passes while WETH's feed is off its TWAP. Before item 8
    ///      every tracked pool was observed for every batch and this reverted OracleDeviation.
    function testRebalanceIgnoresDeviationOfUntouchedToken(uint256 upBps) public {
        _deviateWeth(upBps);
        uint256 idle = vault.idleAssets();
        _rebalance(_actions(_aave(SUPPLY, usdc, 1000 * USDC)));
        assertEq(vault.idleAssets(), idle - 1000 * USDC);
    }

    /// @dev WETH's feed moves 2.1-10 % up; the pool (and its TWAP) does not.
    function _deviateWeth(uint256 upBps) internal returns (uint256 price) {
        upBps = bound(upBps, 210, 1000); // bound 200 ticks ≈ 2 %
        price = _priceE8(weth) * (10_000 + upBps) / 10_000;
        _setPrice(weth, price);
    }

    function _assertWethDeviation(IHedgedVault.Action[] memory actions, uint256 price) internal {
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (actions, _noIds())));
        assertEq(_selector(ret), IHedgedVault.OracleDeviation.selector);
        (address token, uint256 oracleE8, uint256 twapE8, uint256 maxBps) =
            abi.decode(_args(ret), (address, uint256, uint256, uint256));
        assertEq(token, weth);
        assertEq(oracleE8, price);
        assertApproxEqRel(twapE8, 3000e8, 0.0002e18, "the TWAP price, from the tick difference");
        assertEq(maxBps, 200);
    }

    function testRebalancePassesWhenFeedAndPoolMoveTogether(uint256 moveBps, bool up) public {
        moveBps = bound(moveBps, 1, 1500);
        uint256 price = up ? 3000e8 * (10_000 + moveBps) / 10_000 : 3000e8 * (10_000 - moveBps) / 10_000;
        _setMarketPrice(weth, price);
        _advance(601); // the TWAP window has seen the new price only
        _rebalance(_actions(_aave(SUPPLY, usdc, 1000 * USDC)));
    }

    function testRebalanceRevertsForNonKeeper(address caller) public {
        vm.assume(caller != keeper);
        IHedgedVault.Action[] memory actions = _actions(_aave(SUPPLY, usdc, 1000 * USDC));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, vault.KEEPER_ROLE()
            )
        );
        vm.prank(caller);
        vault.rebalance(actions, _noIds());
    }

    function testRebalanceRevertsWhenPaused() public {
        vm.prank(guardian);
        vault.pause();
        IHedgedVault.Action[] memory actions = _actions(_aave(SUPPLY, usdc, 1000 * USDC));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
    }

    function testRebalanceRevertsOnMaxLoss() public {
        IHedgedVault.RiskParams memory r = _defaultRisk();
        (r.maxLossBps, r.maxSlippageBps) = (1, 300);
        _timelocked(abi.encodeCall(vault.setRiskParams, (r)));
        // A round trip through the pool pays fees and impact twice: tens of bp of NAV > 1 bp.
        uint256 wethOut = 2_000_000 * USDC * WETH / (3000 * USDC) * 9950 / 10_000; // 0.05 % fee + ~0.2 % impact
        IHedgedVault.Action[] memory actions =
            _actions(_swap(usdc, weth, 2_000_000 * USDC), _swap(weth, usdc, wethOut));
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (actions, _noIds())));
        assertEq(_selector(ret), IHedgedVault.MaxLossExceeded.selector);
        (uint256 navBefore, uint256 navAfter, uint256 maxLossBps) =
            abi.decode(_args(ret), (uint256, uint256, uint256));
        assertApproxEqAbs(navBefore, vault.totalAssets(), 1 * USDC);
        assertLt(navAfter * 10_000, navBefore * (10_000 - 1));
        assertEq(maxLossBps, 1);
    }

    function testRebalanceRevertsOnTurnoverBudget() public {
        IHedgedVault.RiskParams memory r = _defaultRisk();
        r.turnoverBudgetBps = 10_000; // 1 × NAV per period: a rolling capacity of 0.5 × NAV
        _timelocked(abi.encodeCall(vault.setRiskParams, (r)));
        uint256 nav = vault.totalAssets();
        _rebalance(_actions(_swap(usdc, weth, nav * 3 / 10)));
        uint256 wethHeld = IERC20(weth).balanceOf(address(vault));
        IHedgedVault.Action[] memory actions = _actions(_swap(weth, usdc, wethHeld * 5 / 6)); // ≈ quarter of NAV
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (actions, _noIds())));
        assertEq(_selector(ret), IHedgedVault.TurnoverBudgetExceeded.selector);
        (uint256 turnover, uint256 capacity) = abi.decode(_args(ret), (uint256, uint256));
        assertApproxEqRel(turnover, (nav * 3 / 10 + nav / 4) * 100, 0.005e18); // swap values at the oracle
        assertApproxEqRel(capacity, nav * 100 / 2, 0.005e18);
        // Lending moves do not count: supplying all idle USDC passes even with the budget spent.
        _rebalance(_actions(_aave(SUPPLY, usdc, IERC20(usdc).balanceOf(address(vault)) / 2)));
        // The level drains over one period: the same batch passes a period later.
        _advance(1 days);
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
    }

    /// @dev Many small allowed losses, each under maxLossBps, stop at the period's loss budget.
    function testRebalanceRevertsOnCumulativeLossBudget() public {
        IHedgedVault.RiskParams memory r = _defaultRisk();
        r.lossBudgetBps = 20; // 0.2 % of NAV per period; maxLossBps 50
        _timelocked(abi.encodeCall(vault.setRiskParams, (r)));
        uint256 start = vault.totalAssets();
        bool stopped;
        for (uint256 i; i < 30 && !stopped; ++i) {
            IHedgedVault.Action[] memory buy = _actions(_swap(usdc, weth, 1_000_000 * USDC));
            vm.prank(keeper);
            try vault.rebalance(buy, _noIds()) {}
            catch (bytes memory ret) {
                assertEq(_selector(ret), IHedgedVault.LossBudgetExceeded.selector);
                (uint256 loss, uint256 budget) = abi.decode(_args(ret), (uint256, uint256));
                assertGt(loss, budget);
                stopped = true;
                break;
            }
            IHedgedVault.Action[] memory sell =
                _actions(_swap(weth, usdc, IERC20(weth).balanceOf(address(vault))));
            vm.prank(keeper);
            try vault.rebalance(sell, _noIds()) {}
            catch (bytes memory ret) {
                assertEq(_selector(ret), IHedgedVault.LossBudgetExceeded.selector);
                stopped = true;
            }
        }
        assertTrue(stopped, "the budget stopped the bleed");
        assertLe(_lossUsedE8(), start * 100 * 20 / 10_000);
        assertGe(
            vault.totalAssets() + IERC20(weth).balanceOf(address(vault)) * 3000 * USDC / WETH,
            start * 9970 / 10_000
        );
    }

    function testRebalanceRevertsWhenRedeemOverdue() public {
        _rebalance(_actions(_aave(SUPPLY, usdc, NAV - 100_000 * USDC)));
        uint256 half = vault.balanceOf(alice) / 2;
        vm.prank(alice);
        uint256 id = vault.requestRedeem(half, alice, alice);
        uint256 requestedAt = block.timestamp;
        _advance(1 days + 60);
        IHedgedVault.Action[] memory actions = _actions(_aave(WITHDRAW, usdc, 10 * USDC));
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.RedeemOverdue.selector, id, requestedAt, requestedAt + 1 days)
        );
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
        // Fulfilling it in the same rebalance clears the way.
        actions = _actions(_aave(WITHDRAW, usdc, 1_600_000 * USDC));
        vm.prank(keeper);
        vault.rebalance(actions, _ids(id));
        assertEq(vault.escrowedShares(), 0);
    }

    /// @dev The overdue clock is the queue head's own request time (kept in the packed head slot): after the head is
    ///      paid it moves to the next request's time, and a request queued after the queue emptied starts its own.
    function testRebalanceOverdueClockFollowsTheQueueHead() public {
        IHedgedVault.Action[] memory actions = _actions(_aave(SUPPLY, usdc, 10 * USDC));
        uint256 tenth = vault.balanceOf(alice) / 10;
        vm.prank(alice);
        uint256 first = vault.requestRedeem(tenth, alice, alice);
        uint256 firstAt = block.timestamp;
        _advance(12 hours);
        vm.prank(alice);
        uint256 second = vault.requestRedeem(tenth, alice, alice);
        uint256 secondAt = block.timestamp;
        vm.prank(keeper);
        vault.fulfilRedeems(_ids(first));
        assertEq(vault.firstPendingRedeem(), second);
        _advance(12 hours + 60); // the first request's deadline has passed, the second's has not
        assertGt(block.timestamp, firstAt + 1 days);
        _rebalance(actions);
        _advance(12 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.RedeemOverdue.selector, second, secondAt, secondAt + 1 days)
        );
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
        vm.prank(keeper);
        vault.fulfilRedeems(_ids(second));
        // The queue is empty; a new request starts its own clock, not the last head's.
        _rebalance(actions);
        vm.prank(alice);
        uint256 third = vault.requestRedeem(tenth, alice, alice);
        uint256 thirdAt = block.timestamp;
        _rebalance(actions);
        _advance(1 days + 60);
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.RedeemOverdue.selector, third, thirdAt, thirdAt + 1 days)
        );
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
    }

    function testRebalanceRevertsWithAdapterReason() public {
        // Borrowing without collateral: Aave's own revert reason, wrapped with the action index.
        bytes memory ret = _revertData(
            keeper, abi.encodeCall(vault.rebalance, (_actions(_aave(BORROW, weth, 1 * WETH)), _noIds()))
        );
        assertEq(_selector(ret), IHedgedVault.AdapterCallFailed.selector);
        (uint256 index, bytes memory reason) = abi.decode(_args(ret), (uint256, bytes));
        assertEq(index, 0);
        assertEq(reason, abi.encodeWithSignature("Error(string)", "34"), "Aave: COLLATERAL_BALANCE_IS_ZERO");
    }

    function testRebalanceFulfilsQueuedRedemption() public {
        _rebalance(_actions(_aave(SUPPLY, usdc, NAV - 100_000 * USDC)));
        uint256 shares = vault.balanceOf(alice) / 2;
        vm.prank(alice);
        uint256 id = vault.requestRedeem(shares, bob, alice);
        uint256 owed = vault.previewRedeem(shares);
        vm.prank(keeper);
        vault.rebalance(_actions(_aave(WITHDRAW, usdc, 1_500_000 * USDC)), _ids(id));
        assertApproxEqAbs(IERC20(usdc).balanceOf(bob), owed, 1);
        assertEq(vault.firstPendingRedeem(), 1);
    }

    /* EMERGENCY UNWIND */

    function testEmergencyUnwindRepaysDebtBackToCollateral() public {
        _rebalance(_hedge(2_000_000 * USDC, 200 * WETH));
        vm.prank(guardian);
        vault.pause();
        IHedgedVault.Action[] memory unwind = _actions(
            _swap(usdc, weth, 605_000 * USDC),
            _aave(REPAY, weth, type(uint256).max),
            _aave(WITHDRAW, usdc, type(uint256).max)
        );
        vm.prank(guardian);
        vault.emergencyUnwind(unwind);
        (uint256 collateralBase, uint256 debtBase,,,,) = aavePool.getUserAccountData(address(vault));
        assertEq(collateralBase, 0);
        assertEq(debtBase, 0);
        assertGt(IERC20(weth).balanceOf(address(vault)), 0, "surplus WETH stays tracked");
    }

    function testEmergencyUnwindRevertsWhenNotPaused() public {
        IHedgedVault.Action[] memory none;
        vm.expectRevert(Pausable.ExpectedPause.selector);
        vm.prank(guardian);
        vault.emergencyUnwind(none);
    }

    function testEmergencyUnwindRevertsForKeeper() public {
        vm.prank(guardian);
        vault.pause();
        IHedgedVault.Action[] memory none;
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.NotGuardianOrGovernance.selector, keeper));
        vm.prank(keeper);
        vault.emergencyUnwind(none);
    }

    function testEmergencyUnwindRevertsWhenDebtGrows() public {
        _rebalance(_hedge(2_000_000 * USDC, 200 * WETH));
        vm.prank(guardian);
        vault.pause();
        (, uint256 debtBefore,,,,) = aavePool.getUserAccountData(address(vault));
        bytes memory ret = _revertData(
            guardian, abi.encodeCall(vault.emergencyUnwind, (_actions(_aave(BORROW, weth, 10 * WETH))))
        );
        assertEq(_selector(ret), IHedgedVault.UnwindIncreasedDebt.selector);
        (uint256 before, uint256 afterwards) = abi.decode(_args(ret), (uint256, uint256));
        assertEq(before, debtBefore);
        assertApproxEqAbs(afterwards, debtBefore + 10 * 3000e8, 1);
    }

    function testEmergencyUnwindRevertsWhenHealthFactorFalls() public {
        _rebalance(_hedge(2_000_000 * USDC, 200 * WETH));
        vm.prank(guardian);
        vault.pause();
        (,,,,, uint256 hfBefore) = aavePool.getUserAccountData(address(vault));
        bytes memory ret = _revertData(
            guardian, abi.encodeCall(vault.emergencyUnwind, (_actions(_aave(WITHDRAW, usdc, 100_000 * USDC))))
        );
        assertEq(_selector(ret), IHedgedVault.UnwindLoweredHealthFactor.selector);
        (uint256 before, uint256 afterwards) = abi.decode(_args(ret), (uint256, uint256));
        assertEq(before, hfBefore);
        assertLt(afterwards, hfBefore);
    }

    /* ADAPTERS */

    function testAdaptersRevertWhenCalledDirectly() public {
        vm.expectRevert(AaveV3Adapter.DelegateCallOnly.selector);
        aaveAdapter.execute(abi.encode(SUPPLY, usdc, 1));
        vm.expectRevert(UniswapV3Adapter.DelegateCallOnly.selector);
        uniAdapter.execute(abi.encode(abi.encodePacked(usdc, uint24(500), weth), 1, 0));
    }

    function testUniswapAdapterRevertsOnMalformedPath(uint8 length) public {
        vm.assume(length < 43 || (uint256(length) - 20) % 23 != 0);
        bytes memory path = new bytes(length);
        IHedgedVault.Action[] memory actions =
            _actions(IHedgedVault.Action(address(uniAdapter), abi.encode(path, uint256(1), uint256(0))));
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (actions, _noIds())));
        (, bytes memory reason) = abi.decode(_args(ret), (uint256, bytes));
        assertEq(reason, abi.encodeWithSelector(UniswapV3Adapter.MalformedPath.selector, uint256(length)));
    }

    function testUniswapAdapterSwapsMultiHopThroughTrackedTokens() public {
        // USDC → WETH → USDC → WBTC is not a valid chain here; WETH → USDC → WBTC is (both pools are real).
        _mint(weth, address(vault), 10 * WETH);
        bytes memory path = abi.encodePacked(weth, uint24(500), usdc, uint24(3000), wbtc);
        IHedgedVault.Action[] memory actions =
            _actions(IHedgedVault.Action(address(uniAdapter), abi.encode(path, 10 * WETH, uint256(0))));
        _rebalance(actions);
        assertEq(IERC20(weth).balanceOf(address(vault)), 0);
        assertApproxEqRel(IERC20(wbtc).balanceOf(address(vault)), 0.5e8, 0.005e18, "30k USDC of WBTC at 60k");
    }
}
