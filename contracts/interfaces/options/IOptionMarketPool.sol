// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketTypes} from "./IOptionMarketTypes.sol";

/// @title IOptionMarketPool
/// @notice Expiry settlement and the LP pool (served by the OptionMarketGovernance facet).
///         Units and conventions: see IOptionMarket.
interface IOptionMarketPool is IOptionMarketTypes {
    /* SETTLEMENT (per expiry) */

    /// @notice Fixes the settlement price of (underlying, expiry) from the feed's first round at or after expiry,
    ///         cashes the pool's positions in it and retires its series. Anyone may call, once.
    /// @param roundId The feed's first round with updatedAt ≥ expiry (its previous round must be before expiry).
    function settleExpiry(uint256 underlyingId, uint64 expiry, uint80 roundId) external;

    /* LIQUIDITY POOL */

    /// @notice Adds `amountE6` USDC to the pool for shares at the pool's equity per share (marks at mid).
    function provideLiquidity(uint256 amountE6) external returns (uint256 shares);

    /// @notice Burns `shares` for their USDC value, sent to `to`; reverts if the pool's cash cannot pay or the
    ///         pool would be left below initial margin.
    function withdrawLiquidity(uint256 shares, address to) external returns (uint256 amountE6);
}
