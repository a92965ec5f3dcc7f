// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketErrors} from "../../interfaces/options/IOptionMarketErrors.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {OptionMarketFixture} from "./OptionMarketFixture.sol";
import {console2} from "forge-std/Test.sol";

/// @notice Cash settlement: one price per (underlying, expiry) from the first round at/after expiry; ITM/OTM/ATM
///         payouts; expired positions leave the margin.
contract SettlementTest is OptionMarketFixture {
    uint256 internal longAcct;
    uint256 internal shortAcct;

    function setUp() public override {
        super.setUp();
        longAcct = _open(alice, 100_000e6);
        shortAcct = _open(bob, 100_000e6);
    }

    /// @dev Moves past expiry 0 and writes `priceE8` as the first round after it; returns that round.
    function _expireAt(uint256 priceE8) internal returns (uint80 roundId) {
        vm.warp(expiries[0] + 30);
        vm.prank(admin);
        roundId = ethFeed.submit(int256(priceE8));
    }

    function _settle(uint80 roundId) internal {
        market.settleExpiry(ETH, expiries[0], roundId);
    }

    /// @notice ITM, OTM and ATM calls and puts pay max(±(P − K), 0) per unit, long credited and short debited.
    function testSettleAccountPaysPayoff(uint256 priceE8, uint256 k, bool isCall, uint256 sizeWad) public {
        priceE8 = bound(priceE8, 1500e8, 4500e8);
        k = bound(k, 0, 4);
        sizeWad = bound(sizeWad, 1e16, 10e18);
        uint256 s = _sid(0, k, isCall);
        _buy(alice, longAcct, s, sizeWad);
        _sell(bob, shortAcct, s, sizeWad);
        int256 longColl = market.accountState(longAcct).collateralE6;
        int256 shortColl = market.accountState(shortAcct).collateralE6;
        IOptionMarketTypes.PoolState memory pool0 = market.poolState();
        _settle(_expireAt(priceE8));

        uint256 p = priceE8 * 1e10;
        uint256 strike = ethStrikes[k];
        uint256 payoff = isCall ? (p > strike ? p - strike : 0) : (strike > p ? strike - p : 0);
        int256 longPayout = int256(sizeWad * payoff / 1e30);
        int256 shortPayout = -int256((sizeWad * payoff + 1e30 - 1) / 1e30);
        assertEq(market.settleAccount(longAcct), longPayout);
        assertEq(market.settleAccount(shortAcct), shortPayout);
        assertEq(market.accountState(longAcct).collateralE6, longColl + longPayout);
        assertEq(market.accountState(shortAcct).collateralE6, shortColl + shortPayout);
        assertEq(market.accountState(longAcct).positions.length, 0);
        // The pool held +size − size = 0 of the series: its cash does not move.
        assertEq(market.poolState().cashE6, pool0.cashE6);
        assertEq(market.settlementPrice(ETH, expiries[0]), p);
    }

    function testSettleAccountPaysNothingAtTheMoney(uint256 sizeWad, bool isCall) public {
        sizeWad = bound(sizeWad, 1e16, 10e18);
        uint256 s = _sid(0, 2, isCall); // strike 3000
        _buy(alice, longAcct, s, sizeWad);
        int256 coll = market.accountState(longAcct).collateralE6;
        _settle(_expireAt(3000e8));
        assertEq(market.settleAccount(longAcct), 0);
        assertEq(market.accountState(longAcct).collateralE6, coll);
    }

    /// @notice The pool, counterparty of a long call, pays it at settlement.
    function testSettleExpiryCreditsPoolPayout(uint256 priceE8) public {
        priceE8 = bound(priceE8, 3000e8, 4000e8);
        uint256 s = _sid(0, 1, true); // 2700 call
        _buy(alice, longAcct, s, 5e18);
        int256 cash = market.poolState().cashE6;
        _settle(_expireAt(priceE8));
        int256 owed = int256(5e18 * (priceE8 * 1e10 - 2700e18) / 1e30);
        assertApproxEqAbs(market.poolState().cashE6, cash - owed, 1);
        assertEq(market.settleAccount(longAcct), owed);
        // Claimable: the long withdraws everything.
        int256 coll = market.accountState(longAcct).collateralE6;
        vm.prank(alice);
        market.withdraw(longAcct, uint256(coll), alice);
        assertEq(usdc.balanceOf(alice), uint256(coll));
    }

    function testSettleExpiryRevertsBeforeExpiry() public {
        vm.prank(admin);
        uint80 r = ethFeed.submit(3000e8);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.ExpiryNotReached.selector, expiries[0], T0)
        );
        market.settleExpiry(ETH, expiries[0], r);
    }

    /// @notice Only the first round at/after expiry settles: neither an earlier nor a later one.
    function testSettleExpiryRevertsForAnyOtherRound(uint256 later) public {
        later = bound(later, 1, 5);
        vm.warp(expiries[0] - 60);
        vm.prank(admin);
        uint80 before = ethFeed.submit(2900e8);
        uint80 first = _expireAt(3100e8);
        for (uint256 i; i < later; ++i) {
            vm.warp(block.timestamp + 60);
            vm.prank(admin);
            ethFeed.submit(int256(3200e8 + i * 1e8));
        }
        uint80 wrong = uint80(first + later);
        (,,, uint256 wrongAt,) = ethFeed.getRoundData(wrong);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptionMarketErrors.InvalidSettlementRound.selector, wrong, wrongAt, expiries[0]
            )
        );
        market.settleExpiry(ETH, expiries[0], wrong);
        (,,, uint256 beforeAt,) = ethFeed.getRoundData(before);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOptionMarketErrors.InvalidSettlementRound.selector, before, beforeAt, expiries[0]
            )
        );
        market.settleExpiry(ETH, expiries[0], before);
        market.settleExpiry(ETH, expiries[0], first);
        assertEq(market.settlementPrice(ETH, expiries[0]), 3100e18);
    }

    function testSettleExpiryRevertsTwice() public {
        uint80 r = _expireAt(3000e8);
        _settle(r);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.ExpiryAlreadySettled.selector, ETH, expiries[0])
        );
        _settle(r);
    }

    /// @notice Expired positions block margin until settled, then stop counting: margin is that of the rest.
    function testMarginExcludesExpiredPositions() public {
        _sell(bob, shortAcct, _sid(0, 2, true), 5e18); // expires first
        _sell(bob, shortAcct, _sid(4, 2, true), 1e18);
        uint80 r = _expireAt(3000e8);
        _postVols();
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.ExpiryNotSettled.selector, ETH, expiries[0])
        );
        market.marginOf(shortAcct);
        IOptionMarketTypes.AccountState memory st = market.accountState(shortAcct);
        assertFalse(st.fresh);
        _settle(r);
        (, uint256 im,) = market.marginOf(shortAcct);
        uint256 fresh = _open(alice, 100_000e6);
        _sell(alice, fresh, _sid(4, 2, true), 1e18);
        (, uint256 imOnlyLive,) = market.marginOf(fresh);
        assertEq(im, imOnlyLive);
        assertTrue(market.accountState(shortAcct).fresh);
    }

    function testGasSettle() public {
        for (uint256 k; k < 5; ++k) {
            _buy(alice, longAcct, _sid(0, k, true), 1e18);
            _sell(bob, shortAcct, _sid(0, k, false), 1e18);
        }
        uint80 r = _expireAt(3100e8);
        uint256 g = gasleft();
        _settle(r);
        console2.log("settleExpiry gas (10 series of the expiry, 50 live)", g - gasleft());
        g = gasleft();
        market.settleAccount(longAcct);
        console2.log("settleAccount gas (5 positions)", g - gasleft());
    }

    /// @notice Issue 19, finding 1: before settleExpiry runs, an expired position is already valued at the price
    ///         it will fix (the first round at or after expiry, found among any number of rounds before and after
    ///         it), so settling steps no one's equity; with no round after expiry yet, it is valued at spot.
    function testEquityBeforeSettlementIsTheSettlementValue(
        uint256 roundsBefore,
        uint256 roundsAfter,
        uint256 settleE8,
        uint256 laterE8,
        bool isCall
    ) public {
        roundsBefore = bound(roundsBefore, 0, 40);
        roundsAfter = bound(roundsAfter, 0, 40);
        settleE8 = bound(settleE8, 1500e8, 4500e8);
        laterE8 = bound(laterE8, 1500e8, 4500e8);
        uint256 s = _sid(0, 2, isCall);
        _buy(alice, longAcct, s, 3e18);
        _sell(bob, shortAcct, s, 2e18);
        vm.warp(expiries[0] - roundsBefore - 1);
        for (uint256 i; i < roundsBefore; ++i) {
            vm.prank(admin);
            ethFeed.submit(int256(laterE8 + i));
            vm.warp(block.timestamp + 1);
        }
        // No round after expiry yet: valued at spot (what the newest round says).
        vm.warp(expiries[0] + 10);
        uint256 k = 3000e8;
        uint256 spotE8 = uint256(ethFeed.latestAnswer());
        uint256 spotPayoff = isCall ? (spotE8 > k ? spotE8 - k : 0) : (k > spotE8 ? k - spotE8 : 0);
        assertEq(
            market.accountState(longAcct).collateralE6 + int256(3 * spotPayoff / 100), _equityNow(longAcct)
        );
        vm.prank(admin);
        uint80 first = ethFeed.submit(int256(settleE8));
        for (uint256 i; i < roundsAfter; ++i) {
            vm.warp(block.timestamp + 1);
            vm.prank(admin);
            ethFeed.submit(int256(laterE8 - i));
        }
        (int256 longBefore, int256 shortBefore) = (_equityNow(longAcct), _equityNow(shortAcct));
        _settle(first);
        assertEq(_equityNow(longAcct), longBefore);
        assertEq(_equityNow(shortAcct), shortBefore);
        market.settleAccount(longAcct);
        market.settleAccount(shortAcct);
        assertEq(_equityNow(longAcct), longBefore);
        assertEq(_equityNow(shortAcct), shortBefore);
    }

    /// @dev Equity as the vault reads it (equityOf: never reverts, expired positions included).
    function _equityNow(uint256 accountId) internal view returns (int256 equityE6) {
        (equityE6,) = market.equityOf(accountId);
    }
}
