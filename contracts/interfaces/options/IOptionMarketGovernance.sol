// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketTypes} from "./IOptionMarketTypes.sol";

/// @title IOptionMarketGovernance
/// @notice Underlyings, listing, vol feed, parameters and pause (served by the OptionMarketGovernance facet).
///         Units and conventions: see IOptionMarket.
interface IOptionMarketGovernance is IOptionMarketTypes {
    /// @notice Account ids owned by `owner`, in opening order (an account read, served by this facet for the
    ///         core's code room).
    function accountsOf(address owner) external view returns (uint256[] memory);

    /// @notice Owner of an account (address(0) if it does not exist).
    function ownerOf(uint256 accountId) external view returns (address);

    /// @notice Adds an underlying (DEFAULT_ADMIN_ROLE).
    function addUnderlying(address asset, address feed, uint32 maxPriceAgeSeconds)
        external
        returns (uint256 underlyingId);

    /// @notice Changes an underlying's maximum spot age (DEFAULT_ADMIN_ROLE).
    function setMaxPriceAge(uint256 underlyingId, uint32 maxPriceAgeSeconds) external;

    /// @notice Lists a series (LISTER_ROLE). Strike within [MIN_STRIKE_RATIO, MAX_STRIKE_RATIO] × spot; expiry within
    ///         [now + MIN_LISTING_SECONDS, now + MAX_EXPIRY_SECONDS]; at most MAX_LIVE_SERIES unsettled series.
    function listSeries(uint256 underlyingId, uint64 expiry, uint128 strikeWad, bool isCall)
        external
        returns (uint256 seriesId);

    /// @notice Posts the vol surface of (underlying, expiry), stamped now (VOL_FEEDER_ROLE). Bounds: atmVol within
    ///         [MIN_VOL_WAD, MAX_VOL_WAD], |skew| ≤ MAX_SKEW_WAD, 0 ≤ smile ≤ MAX_SMILE_WAD.
    function postVolSurface(
        uint256 underlyingId,
        uint64 expiry,
        uint256 atmVolWad,
        int256 skewWad,
        int256 smileWad
    ) external;

    /// @notice Sets the margin and liquidation parameters (DEFAULT_ADMIN_ROLE), each within its hard bound.
    function setRiskParams(RiskParams calldata params) external;

    /// @notice Sets rate, fees, vol staleness and trading cutoff (DEFAULT_ADMIN_ROLE), each within its hard bound.
    function setMarketParams(MarketParams calldata params) external;

    /// @notice Stops trading, liquidation, withdrawals, LP flows and listing (GUARDIAN_ROLE).
    function pause() external;

    /// @notice Resumes (DEFAULT_ADMIN_ROLE).
    function unpause() external;
}
