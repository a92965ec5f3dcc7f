// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketErrors} from "../../interfaces/options/IOptionMarketErrors.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {OptionMarketFixture} from "./OptionMarketFixture.sol";
import {console2} from "forge-std/Test.sol";

/// @notice Accounts, trading and margin of the OptionMarket.
contract OptionMarketTest is OptionMarketFixture {
    function testOpenAccountOwnedByCallerAndListed() public {
        uint256 a1 = _open(alice, 0);
        uint256 a2 = _open(alice, 0);
        uint256 b1 = _open(bob, 0);
        assertEq(market.ownerOf(a1), alice);
        assertEq(market.ownerOf(b1), bob);
        uint256[] memory ids = market.accountsOf(alice);
        assertEq(ids.length, 2);
        assertEq(ids[0], a1);
        assertEq(ids[1], a2);
        assertEq(market.accountCount(), 3);
    }

    function testDepositRevertsForNonOwner(uint256 amountE6) public {
        amountE6 = bound(amountE6, 1, 1e12);
        uint256 id = _open(alice, 0);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarketErrors.NotAccountOwner.selector, id, bob));
        market.deposit(id, amountE6);
    }

    function testWithdrawReturnsFreeCollateral(uint256 amountE6) public {
        amountE6 = bound(amountE6, 1, 1e12);
        uint256 id = _open(alice, amountE6);
        vm.prank(alice);
        market.withdraw(id, amountE6, bob);
        assertEq(usdc.balanceOf(bob), amountE6);
        (int256 equity,,) = market.marginOf(id);
        assertEq(equity, 0);
    }

    function testBuyChargesAskAndRecordsBothSides(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 1e15, 100e18);
        uint256 id = _open(alice, 1_000_000e6);
        uint256 s = _sid(1, 3, true);
        IOptionMarketTypes.Quote memory q = market.quoteBuy(s, sizeWad);
        uint256 cost = _buy(alice, id, s, sizeWad);
        assertEq(cost, q.premiumE6);
        assertGe(q.tradePriceWad, q.markPriceWad);
        assertEq(market.positionOf(id, s), int256(sizeWad));
        assertEq(market.poolPositionOf(s), -int256(sizeWad));
        IOptionMarketTypes.AccountState memory st = market.accountState(id);
        assertEq(st.collateralE6, int256(1_000_000e6 - cost));
        assertEq(st.positions.length, 1);
        assertEq(st.positions[0].strikeWad, 3300e18);
        assertTrue(st.positions[0].isCall);
        assertTrue(st.fresh);
    }

    function testBuyRevertsAboveMaxCost(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 1e16, 100e18);
        uint256 id = _open(alice, 1_000_000e6);
        uint256 s = _sid(0, 2, false);
        uint256 cost = market.quoteBuy(s, sizeWad).premiumE6;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarketErrors.CostAboveMax.selector, cost, cost - 1));
        market.buy(id, s, sizeWad, cost - 1);
    }

    function testSellRevertsBelowMinProceeds(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 1e16, 10e18);
        uint256 id = _open(alice, 1_000_000e6);
        uint256 s = _sid(0, 2, false);
        uint256 proceeds = market.quoteSell(s, sizeWad).premiumE6;
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.ProceedsBelowMin.selector, proceeds, proceeds + 1)
        );
        market.sell(id, s, sizeWad, proceeds + 1);
    }

    /// @notice No free option: buying then selling at once never returns more than was paid, and equity falls.
    function testBuyThenSellNeverProfits(uint256 sizeWad, uint256 e, uint256 k, bool isCall) public {
        sizeWad = bound(sizeWad, 1, 50e18);
        uint256 s = _sid(bound(e, 0, 4), bound(k, 0, 4), isCall);
        uint256 id = _open(alice, 1_000_000e6);
        int256 before = _equity(id);
        uint256 cost = _buy(alice, id, s, sizeWad);
        uint256 proceeds = _sell(alice, id, s, sizeWad);
        assertLe(proceeds, cost);
        assertEq(market.positionOf(id, s), 0);
        assertLe(_equity(id), before);
    }

    /// @notice Selling more than margin allows reverts with the account's equity and IM.
    function testSellRevertsWhenBreachingInitialMargin(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 50e18, 1000e18);
        uint256 id = _open(alice, 10_000e6); // a naked ATM call short needs ≳ 600 USDC per unit here
        uint256 s = _sid(2, 2, true);
        vm.prank(alice);
        vm.expectPartialRevert(IOptionMarketErrors.InitialMarginBreached.selector);
        market.sell(id, s, sizeWad, 0);
    }

    function testSellWithinInitialMarginOpensShort(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 1e16, 5e18);
        uint256 id = _open(alice, 10_000e6);
        uint256 s = _sid(2, 2, true);
        _sell(alice, id, s, sizeWad);
        (int256 equity, uint256 im, uint256 mm) = market.marginOf(id);
        assertEq(market.positionOf(id, s), -int256(sizeWad));
        assertGe(equity, int256(im));
        assertGt(im, mm);
    }

    /// @notice Margin is monotone in the size of a naked short, and IM = imFactor × MM (rounded up).
    function testMarginMonotoneInShortSize(uint256 a, uint256 b) public {
        a = bound(a, 1e16, 5e18);
        b = bound(b, 1e16, 5e18);
        (a, b) = a < b ? (a, b) : (b, a);
        uint256 s = _sid(1, 1, false);
        uint256 idA = _open(alice, 100_000e6);
        uint256 idB = _open(bob, 100_000e6);
        _sell(alice, idA, s, a);
        _sell(bob, idB, s, b);
        (, uint256 imA, uint256 mmA) = market.marginOf(idA);
        (, uint256 imB, uint256 mmB) = market.marginOf(idB);
        assertLe(mmA, mmB);
        assertLe(imA, imB);
        assertApproxEqAbs(imA, mmA * 125 / 100, 2);
    }

    /// @notice A hedged position (short call + long call spread) needs less margin than the naked short.
    function testMarginRecognisesSpreads(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 1e17, 5e18);
        uint256 naked = _open(alice, 100_000e6);
        uint256 spread = _open(bob, 100_000e6);
        _sell(alice, naked, _sid(1, 2, true), sizeWad);
        _sell(bob, spread, _sid(1, 2, true), sizeWad);
        _buy(bob, spread, _sid(1, 3, true), sizeWad);
        (,, uint256 mmNaked) = market.marginOf(naked);
        (,, uint256 mmSpread) = market.marginOf(spread);
        assertLt(mmSpread, mmNaked);
        // A call spread's loss is bounded by the strike width: 300 per unit, plus the minimum per short.
        assertLe(mmSpread, sizeWad * 300 / 1e12 + sizeWad * 3000 * 1 / 100 / 1e12 + 1);
    }

    function testWithdrawRevertsWhenBelowInitialMargin(uint256 sizeWad) public {
        sizeWad = bound(sizeWad, 1e17, 5e18);
        uint256 id = _open(alice, 10_000e6);
        _sell(alice, id, _sid(2, 2, false), sizeWad);
        (int256 equity, uint256 im,) = market.marginOf(id);
        uint256 free = uint256(equity) - im;
        vm.prank(alice);
        vm.expectPartialRevert(IOptionMarketErrors.InitialMarginBreached.selector);
        market.withdraw(id, free + 2, alice);
        vm.prank(alice);
        market.withdraw(id, free, alice);
    }

    function testBuyRevertsWhenSpotStale(uint256 dt) public {
        dt = bound(dt, 1 hours + 1, 6 hours);
        uint256 id = _open(alice, 100_000e6);
        uint256 s = _sid(0, 2, true);
        vm.warp(block.timestamp + dt);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.StalePrice.selector, address(ethFeed), T0, 1 hours)
        );
        market.buy(id, s, 1e18, type(uint256).max);
    }

    function testBuyRevertsWhenVolSurfaceStale(uint256 dt) public {
        dt = bound(dt, 1 days + 1, 2 days);
        uint256 id = _open(alice, 100_000e6);
        uint256 s = _sid(0, 2, true);
        vm.warp(block.timestamp + dt);
        _setEth(3000e8);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.StaleVolSurface.selector, ETH, expiries[0], T0, 1 days)
        );
        market.buy(id, s, 1e18, type(uint256).max);
    }

    function testBuyRevertsInsideTradingCutoff(uint256 before) public {
        before = bound(before, 0, 1 hours);
        uint256 id = _open(alice, 100_000e6);
        _warp(expiries[0] - before - block.timestamp);
        uint256 s = _sid(0, 2, true);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.TradingClosed.selector, s, expiries[0], 1 hours)
        );
        market.buy(id, s, 1e18, type(uint256).max);
    }

    function testTradeRevertsWhenPoolMarginBreached() public {
        // A pool of 10M cannot sell 100,000 ETH of calls (300M notional).
        uint256 id = _open(alice, 1_000_000_000e6);
        uint256 s = _sid(4, 4, true);
        vm.prank(alice);
        vm.expectPartialRevert(IOptionMarketErrors.PoolMarginBreached.selector);
        market.buy(id, s, 100_000e18, type(uint256).max);
    }

    function testBuyRevertsWhenPaused() public {
        uint256 id = _open(alice, 100_000e6);
        uint256 s = _sid(0, 2, true);
        vm.prank(guardian);
        market.pause();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSignature("EnforcedPause()"));
        market.buy(id, s, 1e18, type(uint256).max);
        // Deposits stay open while paused.
        usdc.mint(alice, 1e6);
        vm.startPrank(alice);
        usdc.approve(address(market), 1e6);
        market.deposit(id, 1e6);
        vm.stopPrank();
    }

    function testBuyRevertsAtPositionCap() public {
        uint256 id = _open(alice, 10_000_000e6);
        vm.startPrank(lister);
        for (uint256 i; i < 15; ++i) {
            market.listSeries(ETH, expiries[4], uint128(2025e18 + i * 50e18), true);
        }
        vm.stopPrank();
        uint256[] memory live = market.liveSeries();
        for (uint256 i; i < 64; ++i) {
            _buy(alice, id, live[i], 1e16);
        }
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IOptionMarketErrors.TooManyPositions.selector, id, 64));
        market.buy(id, live[64], 1e16, type(uint256).max);
    }

    /* GAS (figures for docs/option-market.md: forge test --match-test testGas -vv) */

    function testGasMarginCheck() public {
        uint256 id = _open(alice, 10_000_000e6);
        uint256[3] memory counts = [uint256(1), 10, 50];
        uint256 held;
        for (uint256 c; c < 3; ++c) {
            for (; held < counts[c]; ++held) {
                // 5 expiries × 5 strikes × call/put: alternate long and short.
                uint256 s = _sid(held / 10, (held / 2) % 5, held % 2 == 0);
                if (held % 3 == 0) _sell(alice, id, s, 1e17);
                else _buy(alice, id, s, 1e17);
            }
            uint256 g = gasleft();
            market.marginOf(id);
            g -= gasleft();
            console2.log("marginOf gas, positions:", held, g);
        }
    }

    function testGasTrades() public {
        uint256 id = _open(alice, 10_000_000e6);
        uint256 s = _sid(1, 2, true);
        uint256 g = gasleft();
        market.quoteBuy(s, 1e18);
        console2.log("quoteBuy gas", g - gasleft());
        vm.prank(alice);
        g = gasleft();
        market.buy(id, s, 1e18, type(uint256).max);
        console2.log("buy gas (first position, pool holds 1 series)", g - gasleft());
        uint256 put = _sid(1, 2, false);
        vm.prank(alice);
        g = gasleft();
        market.sell(id, put, 1e18, 0);
        console2.log("sell gas (2nd position)", g - gasleft());
    }
}
