// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOptionMarketConstants
/// @notice The venue's roles and hard bounds (served by the OptionMarketViews facet alone: constants a facet
///         exposes cost code in every contract that declares them, and the core is at the EIP-170 limit).
///         Units and conventions: see IOptionMarket.
interface IOptionMarketConstants {
    /// @notice Role that lists series.
    function LISTER_ROLE() external pure returns (bytes32);

    /// @notice Role that posts vol surfaces.
    function VOL_FEEDER_ROLE() external pure returns (bytes32);

    /// @notice Role that pauses.
    function GUARDIAN_ROLE() external pure returns (bytes32);

    /// @notice Open positions per account (bounds the margin check's gas).
    function MAX_POSITIONS() external pure returns (uint256);

    /// @notice Listed, unsettled series (the pool holds all of them; bounds the pool's margin check).
    function MAX_LIVE_SERIES() external pure returns (uint256);

    /// @notice Underlyings the venue can list.
    function MAX_UNDERLYINGS() external pure returns (uint256);

    /// @notice Largest size of one trade (1e24 = 1e6 units).
    function MAX_TRADE_SIZE_WAD() external pure returns (uint256);

    /// @notice Largest |size| of any account's or the pool's position (1e27 = 1e9 units).
    function MAX_POSITION_SIZE_WAD() external pure returns (uint256);

    /// @notice Shortest time from listing to expiry.
    function MIN_LISTING_SECONDS() external pure returns (uint256);

    /// @notice Longest time from listing to expiry.
    function MAX_EXPIRY_SECONDS() external pure returns (uint256);

    /// @notice Lowest strike at listing, as a ratio of spot.
    function MIN_STRIKE_RATIO_WAD() external pure returns (uint256);

    /// @notice Highest strike at listing, as a ratio of spot.
    function MAX_STRIKE_RATIO_WAD() external pure returns (uint256);

    /// @notice Highest strike at listing.
    function MAX_STRIKE_WAD() external pure returns (uint256);

    /// @notice Lowest vol (surface ATM vol and every strike's vol).
    function MIN_VOL_WAD() external pure returns (uint256);

    /// @notice Highest vol (surface ATM vol and every strike's vol).
    function MAX_VOL_WAD() external pure returns (uint256);

    /// @notice Largest |skew| of a posted surface.
    function MAX_SKEW_WAD() external pure returns (uint256);

    /// @notice Largest smile of a posted surface.
    function MAX_SMILE_WAD() external pure returns (uint256);

    /// @notice Floor of the "vol down" scenario multiplier.
    function MIN_VOL_MULTIPLIER_WAD() external pure returns (uint256);

    /// @notice τ at which vol shocks equal their parameter (they scale with √(30 days / τ)).
    function VOL_SHOCK_REFERENCE_SECONDS() external pure returns (uint256);

    /// @notice Lowest per-underlying maximum spot age.
    function MIN_PRICE_AGE_SECONDS() external pure returns (uint256);

    /// @notice Highest per-underlying maximum spot age.
    function MAX_PRICE_AGE_SECONDS() external pure returns (uint256);
}
