// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title VaultMath
/// @notice The vault's pure arithmetic: share price, fee shares (management + performance above a high-water
///         mark) and the linear profit lock. Every rounding favours the vault's depositors: fee shares and
///         released profit round down, locked profit rounds up.
library VaultMath {
    using Math for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant YEAR = 365 days;

    /// @notice Inputs of a fee accrual.
    struct FeeInput {
        uint256 assets; // totalAssets (NAV less locked profit), asset units
        uint256 supply; // share supply before the fee mint
        uint256 virtualShares; // 10 ** decimals offset
        uint256 elapsedSeconds; // since the last accrual
        uint256 highWaterMarkWad; // share price of the last performance fee
        uint256 managementFeeBps; // per year, on assets
        uint256 performanceFeeBps; // on the gain above the high-water mark
        bool hasRecipient; // no recipient: nothing is minted, but the high-water mark still ratchets
    }

    /// @notice Asset units per `virtualShares` shares (one asset unit's worth at the start), in WAD; the price
    ///         ERC-4626's virtual-share conversion implies, so 1e18 on an empty vault. Saturates at
    ///         type(uint256).max instead of overflowing (≥ ~1e53 assets per share): every exit prices fees with it,
    ///         and ERC-4626's max*/convert*/preview* and exits must not revert.
    function sharePriceWad(uint256 assets, uint256 supply, uint256 virtualShares)
        internal
        pure
        returns (uint256)
    {
        uint256 scale = WAD * virtualShares;
        if ((assets + 1) / (supply + virtualShares) >= type(uint256).max / scale) return type(uint256).max;
        return (assets + 1).mulDiv(scale, supply + virtualShares);
    }

    /// @notice Shares to mint for the fees due, split by kind, and the new high-water mark.
    /// @dev Fee assets F = management (assets × bps × t / year) + performance (bps × gain above the mark); the
    ///      minted shares s are worth F after the mint: s = F × (supply + virtual) / (assets + 1 − F), rounded
    ///      down. The mark moves to the post-fee price, never down; on an empty vault it resets to the current
    ///      price (a pre-deposit donation is not a gain of the first depositor's).
    function accruedFees(FeeInput memory x)
        internal
        pure
        returns (uint256 managementShares, uint256 performanceShares, uint256 highWaterMarkWad)
    {
        uint256 price = sharePriceWad(x.assets, x.supply, x.virtualShares);
        if (x.supply == 0) return (0, 0, price);
        highWaterMarkWad = x.highWaterMarkWad;
        if (!x.hasRecipient) return (0, 0, Math.max(highWaterMarkWad, price));
        uint256 managementAssets = x.assets.mulDiv(x.managementFeeBps * x.elapsedSeconds, BPS * YEAR);
        uint256 performanceAssets = 0;
        if (price > highWaterMarkWad) {
            // Full precision throughout: the gain in assets (≤ assets) first, then the fee's share of it.
            performanceAssets = (price - highWaterMarkWad).mulDiv(x.supply, WAD * x.virtualShares)
                .mulDiv(x.performanceFeeBps, BPS);
        }
        uint256 feeAssets = managementAssets + performanceAssets;
        if (feeAssets == 0) return (0, 0, Math.max(highWaterMarkWad, price));
        // Unreachable within the fee bounds short of decades without an accrual; caps rather than reverts,
        // because every exit path accrues first.
        if (feeAssets > x.assets / 2) {
            performanceAssets = performanceAssets.mulDiv(x.assets / 2, feeAssets);
            feeAssets = x.assets / 2;
        }
        uint256 shares = feeAssets.mulDiv(x.supply + x.virtualShares, x.assets + 1 - feeAssets);
        performanceShares = shares.mulDiv(performanceAssets, feeAssets);
        managementShares = shares - performanceShares;
        if (price > highWaterMarkWad) {
            highWaterMarkWad =
                Math.max(highWaterMarkWad, sharePriceWad(x.assets, x.supply + shares, x.virtualShares));
        }
    }

    /// @notice Profit still locked at `nowSeconds` of `locked` checkpointed at `start`, released linearly until
    ///         `end` (rounded up: the locked part is kept out of totalAssets).
    function lockedProfitAt(uint256 locked, uint256 start, uint256 end, uint256 nowSeconds)
        internal
        pure
        returns (uint256)
    {
        if (nowSeconds >= end) return 0;
        return locked.mulDiv(end - nowSeconds, end - start, Math.Rounding.Ceil);
    }

    /// @notice Lock a new gain on top of what is still locked. The unlock end becomes the amount-weighted average
    ///         of the old remaining time and a full `durationSeconds` for the gain (as Yearn v3 does), so a small
    ///         gain cannot restart the release of an earlier large one.
    /// @return locked the new locked amount (checkpointed now)
    /// @return newEnd the new unlock end
    function lockGain(
        uint256 lockedNow,
        uint256 end,
        uint256 gain,
        uint256 durationSeconds,
        uint256 nowSeconds
    ) internal pure returns (uint256 locked, uint256 newEnd) {
        if (durationSeconds == 0) return (lockedNow, end); // no lock: the gain shows at once
        locked = lockedNow + gain;
        uint256 remaining = end > nowSeconds ? end - nowSeconds : 0;
        newEnd = nowSeconds + (lockedNow * remaining + gain * durationSeconds).ceilDiv(locked);
    }
}
