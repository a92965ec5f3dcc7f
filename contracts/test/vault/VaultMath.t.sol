// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Test} from "forge-std/Test.sol";

import {VaultMath} from "../../vault/libraries/VaultMath.sol";

/// @notice VaultMath in isolation: fee shares are worth what is due (never more), the high-water mark only
///         ratchets up, and the profit lock releases linearly and keeps earlier schedules.
contract VaultMathTest is Test {
    uint256 internal constant V = 1e6;

    function _input(uint256 assets, uint256 supply, uint256 elapsed, uint256 hwm, uint256 mBps, uint256 pBps)
        internal
        pure
        returns (VaultMath.FeeInput memory)
    {
        return VaultMath.FeeInput(assets, supply, V, elapsed, hwm, mBps, pBps, true);
    }

    function testSharePriceWadIsOneOnEmptyVault() public pure {
        assertEq(VaultMath.sharePriceWad(0, 0, V), 1e18);
    }

    function testSharePriceWadUnchangedByDeposit(uint256 assets, uint256 deposit) public pure {
        assets = bound(assets, 1e6, 1e18);
        deposit = bound(deposit, 1e6, 1e18);
        uint256 supply = assets * V; // a vault at price 1
        uint256 shares = deposit * (supply + V) / (assets + 1);
        uint256 before = VaultMath.sharePriceWad(assets, supply, V);
        uint256 afterwards = VaultMath.sharePriceWad(assets + deposit, supply + shares, V);
        assertApproxEqRel(afterwards, before, 1e6); // 1e-12 relative: rounding of one share unit
    }

    /// @dev The shares minted are worth at most the fee due at the post-mint price, and within rounding of it.
    function testAccruedFeesSharesWorthTheFeeDue(
        uint256 assets,
        uint256 elapsed,
        uint256 gainBps,
        uint256 mBps,
        uint256 pBps
    ) public pure {
        assets = bound(assets, 1e9, 1e18);
        elapsed = bound(elapsed, 0, 365 days);
        gainBps = bound(gainBps, 0, 5000);
        mBps = bound(mBps, 0, 200);
        pBps = bound(pBps, 0, 3000);
        uint256 supply = assets * V * 10_000 / (10_000 + gainBps); // the price rose by gainBps since the mark
        (uint256 m, uint256 p, uint256 hwm) =
            VaultMath.accruedFees(_input(assets, supply, elapsed, 1e18, mBps, pBps));
        uint256 price = VaultMath.sharePriceWad(assets, supply, V);
        uint256 due = assets * mBps * elapsed / (10_000 * 365 days);
        if (price > 1e18) due += (price - 1e18) * supply / V * pBps / 10_000 / 1e18;
        uint256 worth = (m + p) * (assets + 1) / (supply + m + p + V);
        assertLe(worth, due + 1, "never more than due");
        assertApproxEqAbs(worth, due, 2 + due / 1e9, "within rounding");
        assertGe(hwm, 1e18, "the mark never falls");
        if (p > 0) assertLe(hwm, price, "the mark moves to the post-fee price");
    }

    function testAccruedFeesNoPerformanceFeeAtOrBelowMark(uint256 assets, uint256 lossBps) public pure {
        assets = bound(assets, 1e9, 1e18);
        lossBps = bound(lossBps, 0, 9000);
        uint256 supply = assets * V * 10_000 / (10_000 - lossBps);
        (uint256 m, uint256 p, uint256 hwm) =
            VaultMath.accruedFees(_input(assets, supply, 0, 1e18, 100, 3000));
        assertEq(m + p, 0);
        assertEq(hwm, 1e18);
    }

    function testAccruedFeesWithoutRecipientMintsNothingAndRatchets(uint256 gainBps) public pure {
        gainBps = bound(gainBps, 1, 5000);
        uint256 assets = 1e12;
        uint256 supply = assets * V * 10_000 / (10_000 + gainBps);
        VaultMath.FeeInput memory x = _input(assets, supply, 30 days, 1e18, 100, 1000);
        x.hasRecipient = false;
        (uint256 m, uint256 p, uint256 hwm) = VaultMath.accruedFees(x);
        assertEq(m + p, 0);
        assertEq(hwm, VaultMath.sharePriceWad(assets, supply, V));
    }

    function testAccruedFeesResetsMarkOnEmptyVault(uint256 donation) public pure {
        donation = bound(donation, 0, 1e18);
        (uint256 m, uint256 p, uint256 hwm) =
            VaultMath.accruedFees(_input(donation, 0, 365 days, 5e18, 200, 3000));
        assertEq(m + p, 0);
        assertEq(hwm, (donation + 1) * 1e18, "the price a first depositor enters at");
    }

    function testAccruedFeesCappedAtHalfTheAssets() public pure {
        // 100 years without an accrual at 2 %: due would exceed the assets; capped instead of reverting.
        (uint256 m, uint256 p,) = VaultMath.accruedFees(_input(1e12, 1e18, 100 * 365 days, 1e18, 200, 0));
        uint256 worth = (m + p) * (1e12 + 1) / (1e18 + m + p + V);
        assertApproxEqRel(worth, 1e12 / 2, 1e12);
    }

    /* PROFIT LOCK */

    function testLockedProfitAtReleasesLinearly(uint256 locked, uint256 duration, uint256 t) public pure {
        locked = bound(locked, 0, 1e30);
        duration = bound(duration, 1, 14 days);
        t = bound(t, 0, 2 * duration);
        uint256 start = 1_000_000;
        uint256 left = VaultMath.lockedProfitAt(locked, start, start + duration, start + t);
        if (t >= duration) assertEq(left, 0);
        else assertEq(left, Math.mulDiv(locked, duration - t, duration, Math.Rounding.Ceil));
        assertEq(VaultMath.lockedProfitAt(locked, start, start + duration, start), locked);
    }

    function testLockGainWeightsTheUnlockEnd(uint256 lockedNow, uint256 remaining, uint256 gain) public pure {
        lockedNow = bound(lockedNow, 0, 1e24);
        remaining = bound(remaining, 0, 6 hours);
        gain = bound(gain, 1, 1e24);
        uint256 nowSeconds = 2_000_000;
        (uint256 locked, uint256 end) =
            VaultMath.lockGain(lockedNow, nowSeconds + remaining, gain, 6 hours, nowSeconds);
        assertEq(locked, lockedNow + gain);
        assertGe(end, nowSeconds + remaining, "never sooner than the old schedule");
        assertLe(end, nowSeconds + 6 hours, "never later than a full period");
        // The first gain's share is released by its own end: a dust gain barely moves it.
        if (gain * 1e6 <= lockedNow) assertLe(end, nowSeconds + remaining + 1);
    }

    function testLockGainWithoutDurationLocksNothing(uint256 lockedNow, uint256 gain) public pure {
        (uint256 locked, uint256 end) = VaultMath.lockGain(lockedNow % 1e30, 123, gain % 1e30, 0, 100);
        assertEq(locked, lockedNow % 1e30);
        assertEq(end, 123);
    }
}
