// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketErrors} from "../../interfaces/options/IOptionMarketErrors.sol";
import {IOptionMarketEvents} from "../../interfaces/options/IOptionMarketEvents.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {OptionMarketFixture} from "./OptionMarketFixture.sol";
import {console2} from "forge-std/Test.sol";

/// @notice Partial liquidation: happy path, bonus, bad debt, and the adversarial paths the issue lists.
contract LiquidationTest is OptionMarketFixture {
    uint256 internal account;
    uint256 internal putSeries;

    /// @dev Alice shorts 20 14-day ATM puts with collateral just above their initial margin.
    function setUp() public override {
        super.setUp();
        account = _open(alice, 40_000e6);
        putSeries = _sid(1, 2, false);
        _sell(alice, account, putSeries, 20e18);
        (int256 equity, uint256 im,) = market.marginOf(account);
        vm.prank(alice);
        market.withdraw(account, uint256(equity) - im, alice);
    }

    /// @dev Spot falls in 0.5 % steps until the account is below maintenance (and still solvent).
    function _underwater() internal {
        int256 equity;
        uint256 mm;
        for (uint256 p = 3000e8; p > 2000e8; p -= 15e8) {
            _setEth(p);
            (equity,, mm) = market.marginOf(account);
            if (equity < int256(mm)) break;
        }
        assertLt(equity, int256(mm), "setup: account should be below MM");
        assertGt(equity, 0, "setup: account should be solvent");
    }

    /// @dev The largest size (to 1e15) a liquidator may close now, by bisection on the contract's own checks.
    function _maxLiquidatable() internal returns (uint256 lo) {
        uint256 hi = uint256(-market.positionOf(account, putSeries));
        for (uint256 i; i < 40 && hi - lo > 1e15; ++i) {
            uint256 mid = (lo + hi) / 2;
            uint256 snap = vm.snapshotState();
            vm.prank(liquidator);
            (bool ok,) = address(market).call(abi.encodeCall(market.liquidate, (account, putSeries, mid)));
            vm.revertToState(snap);
            if (ok) lo = mid;
            else hi = mid;
        }
    }

    function testLiquidateRestoresMarginAndPaysBonus() public {
        _underwater();
        (int256 equityBefore, uint256 imBefore,) = market.marginOf(account);
        uint256 size = _maxLiquidatable();
        assertGt(size, 0);
        assertLt(size, 20e18, "a partial close should suffice");
        vm.prank(liquidator);
        (uint256 closed, uint256 bonus) = market.liquidate(account, putSeries, size);
        assertEq(closed, size);
        assertEq(usdc.balanceOf(liquidator), bonus);
        (uint256 spotWad,) = market.spot(ETH);
        assertEq(bonus, size * spotWad * 0.002e18 / 1e48); // 0.2 % of spot per unit, rounded down once
        (int256 equity, uint256 im, uint256 mm) = market.marginOf(account);
        assertGe(equity, int256(mm), "maintenance restored");
        assertLe(equity, int256(im), "not beyond initial");
        assertLt(int256(im) - equity, int256(imBefore) - equityBefore, "IM shortfall reduced");
        assertEq(market.positionOf(account, putSeries), -int256(20e18 - size));
        console2.log(
            "closed (1e-18 units), equity before/after", size, uint256(equityBefore), uint256(equity)
        );
    }

    /// @notice Over-liquidation: closing more than restores margin reverts with the equity and IM it would leave.
    /// forge-config: default.fuzz.runs = 32
    /// forge-config: slow.fuzz.runs = 256
    function testLiquidateRevertsWhenOverLiquidating(uint256 extra) public {
        _underwater();
        uint256 size = _maxLiquidatable();
        extra = bound(extra, 2e15, 20e18 - size);
        vm.prank(liquidator);
        vm.expectPartialRevert(IOptionMarketErrors.OverLiquidation.selector);
        market.liquidate(account, putSeries, size + extra);
    }

    function testLiquidateRevertsForSelfLiquidation() public {
        _underwater();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarketErrors.SelfLiquidation.selector, account));
        market.liquidate(account, putSeries, 1e18);
    }

    function testLiquidateRevertsWhenHealthy(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 1, 20e18);
        (int256 equity,, uint256 mm) = market.marginOf(account);
        vm.prank(liquidator);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.AccountNotLiquidatable.selector, account, equity, mm)
        );
        market.liquidate(account, putSeries, sizeWad);
    }

    /// forge-config: slow.fuzz.runs = 1000
    function testLiquidateRevertsWhenPriceStale(uint256 dt) public {
        _underwater();
        dt = bound(dt, 1 hours + 1, 1 days);
        vm.warp(block.timestamp + dt);
        (,,, uint256 updatedAt,) = ethFeed.latestRoundData();
        vm.prank(liquidator);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptionMarketErrors.StalePrice.selector, address(ethFeed), updatedAt, 1 hours
            )
        );
        market.liquidate(account, putSeries, 1e18);
    }

    /// @notice Closing a hedge does not help the account: a liquidator may not strip its protective long.
    /// forge-config: slow.fuzz.runs = 1000
    function testLiquidateRevertsWhenClosingHedge(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 1e17, 5e18);
        uint256 longPut = _sid(1, 0, false); // the 2400 put caps the short 3000 puts' loss below 2400
        _buy(alice, account, longPut, sizeWad);
        _underwater();
        vm.prank(liquidator);
        vm.expectPartialRevert(IOptionMarketErrors.LiquidationDidNotImprove.selector);
        market.liquidate(account, longPut, sizeWad);
    }

    /// @notice An account driven below zero is closed out entirely; the deficit is recorded and the pool absorbs it.
    function testLiquidateAbsorbsBadDebt() public {
        _setEth(1500e8);
        (int256 equity,,) = market.marginOf(account);
        assertLt(equity, 0, "setup: insolvent");
        IOptionMarketTypes.PoolState memory before = market.poolState();
        vm.prank(liquidator);
        vm.expectEmit(true, false, false, false, address(market));
        emit IOptionMarketEvents.BadDebtAbsorbed(account, 0);
        market.liquidate(account, putSeries, 20e18);
        IOptionMarketTypes.AccountState memory st = market.accountState(account);
        assertEq(st.positions.length, 0);
        assertEq(st.collateralE6, 0);
        IOptionMarketTypes.PoolState memory afterwards = market.poolState();
        assertGt(afterwards.badDebtE6, 0);
        assertEq(afterwards.badDebtE6 - before.badDebtE6, afterwards.badDebtE6);
        // The venue still holds every USDC it owes: pool cash + collateral = balance (no dust lost here).
        assertEq(int256(usdc.balanceOf(address(market))), afterwards.cashE6);
    }

    function testGasLiquidate() public {
        _underwater();
        uint256 size = _maxLiquidatable();
        vm.prank(liquidator);
        uint256 g = gasleft();
        market.liquidate(account, putSeries, size);
        console2.log("liquidate gas (1 position)", g - gasleft());
    }
}
