// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketErrors} from "../../interfaces/options/IOptionMarketErrors.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {OptionMarketFixture} from "./OptionMarketFixture.sol";

/// @notice LP shares priced at pool equity; the pool is margined on withdrawal.
contract LiquidityPoolTest is OptionMarketFixture {
    function testProvideLiquidityMintsAtEquityPerShare(uint256 amountE6) public {
        amountE6 = bound(amountE6, 1e6, 1e13);
        // The pool earns the spread on a round trip, so a share is worth more than at seeding.
        uint256 id = _open(alice, 1_000_000e6);
        _buy(alice, id, _sid(1, 2, true), 10e18);
        _sell(alice, id, _sid(1, 2, true), 10e18);
        IOptionMarketTypes.PoolState memory st = market.poolState();
        assertGt(st.equityE6, 10_000_000e6);
        uint256 expected = amountE6 * (st.totalShares + 1e18) / (uint256(st.equityE6) + 1e6);
        _provide(bob, amountE6);
        assertEq(market.sharesOf(bob), expected);
    }

    function testWithdrawLiquidityReturnsShareOfEquity(uint256 fraction) public {
        fraction = bound(fraction, 1, 1e18);
        uint256 shares = market.sharesOf(lp) * fraction / 1e18;
        if (shares == 0) shares = 1;
        vm.prank(lp);
        uint256 amount = market.withdrawLiquidity(shares, lp);
        assertEq(usdc.balanceOf(lp), amount);
        assertApproxEqAbs(amount, 10_000_000e6 * shares / 10_000_000e18, 1);
    }

    function testWithdrawLiquidityRevertsWhenPoolMarginBreached() public {
        uint256 id = _open(alice, 10_000_000e6);
        _buy(alice, id, _sid(4, 2, true), 2000e18); // the pool is short 2,000 calls
        uint256 shares = market.sharesOf(lp);
        vm.prank(lp);
        vm.expectPartialRevert(IOptionMarketErrors.PoolMarginBreached.selector);
        market.withdrawLiquidity(shares * 99 / 100, lp);
    }

    function testWithdrawLiquidityRevertsAboveBalance(uint256 extra) public {
        extra = bound(extra, 1, 1e30);
        uint256 shares = market.sharesOf(lp);
        vm.prank(lp);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.InsufficientShares.selector, shares, shares + extra)
        );
        market.withdrawLiquidity(shares + extra, lp);
    }
}
