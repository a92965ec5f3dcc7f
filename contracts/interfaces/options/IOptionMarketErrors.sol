// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOptionMarketErrors
/// @notice Every custom error the OptionMarket reverts with (one ABI for `keeper.chain.revert.RevertDecoder`).
///         Units are in the argument names: *E6 = USDC (6 decimals), *Wad = 1e18, *Seconds, timestamps in seconds.
interface IOptionMarketErrors {
    /* ACCESS AND INPUT */

    /// @notice Thrown when the caller does not own the account it acts on.
    error NotAccountOwner(uint256 accountId, address caller);
    /// @notice Thrown for an account id that was never opened.
    error AccountNotFound(uint256 accountId);
    /// @notice Thrown for an underlying id that was never added.
    error UnderlyingNotFound(uint256 underlyingId);
    /// @notice Thrown for a series id that was never listed.
    error SeriesNotFound(uint256 seriesId);
    /// @notice Thrown when listing a series that already exists.
    error SeriesExists(uint256 seriesId);
    /// @notice Thrown for a zero amount or size where a positive one is required.
    error ZeroAmount();
    /// @notice Thrown for a zero address where one is required.
    error ZeroAddress();
    /// @notice Thrown when a parameter is outside its hard bound (`name` is the field, e.g. "spotShockWad").
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    /// @notice Thrown when the market is built with an extension for another collateral token.
    error ExtensionMismatch(address extension);
    /// @notice Thrown when a trade size exceeds the per-trade bound.
    error SizeOutOfBounds(uint256 sizeWad, uint256 maxSizeWad);

    /* ORACLES */

    /// @notice Thrown when a spot answer is older than the underlying's maximum age.
    error StalePrice(address feed, uint256 updatedAt, uint256 maxAgeSeconds);
    /// @notice Thrown when a spot answer is not strictly positive.
    error InvalidPrice(address feed, int256 answer);
    /// @notice Thrown when the vol surface of an expiry is missing (updatedAt 0) or older than `volMaxAgeSeconds`.
    error StaleVolSurface(uint256 underlyingId, uint256 expiry, uint256 updatedAt, uint256 maxAgeSeconds);

    /* LISTING AND TRADING */

    /// @notice Thrown when a series' expiry is outside [now + MIN_LISTING_SECONDS, now + MAX_EXPIRY_SECONDS].
    error ExpiryOutOfBounds(uint256 expiry, uint256 earliest, uint256 latest);
    /// @notice Thrown when a strike is outside [MIN_STRIKE_RATIO, MAX_STRIKE_RATIO] × spot at listing.
    error StrikeOutOfBounds(uint256 strikeWad, uint256 minStrikeWad, uint256 maxStrikeWad);
    /// @notice Thrown when listing would exceed the number of live (unsettled) series the pool can be margined on.
    error TooManyLiveSeries(uint256 maxLiveSeries);
    /// @notice Thrown when trading a series inside its trading cutoff (or after expiry).
    error TradingClosed(uint256 seriesId, uint256 expiry, uint256 cutoffSeconds);
    /// @notice Thrown when a buy would cost more than the caller's bound.
    error CostAboveMax(uint256 costE6, uint256 maxCostE6);
    /// @notice Thrown when a sell would pay less than the caller's bound.
    error ProceedsBelowMin(uint256 proceedsE6, uint256 minProceedsE6);
    /// @notice Thrown when an account's collateral cannot pay an amount (premium or withdrawal).
    error InsufficientCollateral(uint256 accountId, int256 collateralE6, uint256 neededE6);
    /// @notice Thrown when an account would hold more than MAX_POSITIONS open positions.
    error TooManyPositions(uint256 accountId, uint256 maxPositions);
    /// @notice Thrown when a trade or withdrawal leaves an account's equity below its initial margin (and the
    ///         change did not reduce the shortfall).
    error InitialMarginBreached(uint256 accountId, int256 equityE6, uint256 initialMarginE6);
    /// @notice Thrown when a trade or LP withdrawal leaves the pool's equity below its initial margin (and the
    ///         change did not reduce the pool's shortfall).
    error PoolMarginBreached(int256 equityE6, uint256 initialMarginE6);
    /// @notice Thrown when the pool's cash cannot pay an amount (sale proceeds or an LP withdrawal).
    error InsufficientPoolCash(int256 cashE6, uint256 neededE6);

    /* LIQUIDATION */

    /// @notice Thrown when liquidating an account whose equity is at or above maintenance margin.
    error AccountNotLiquidatable(uint256 accountId, int256 equityE6, uint256 maintenanceMarginE6);
    /// @notice Thrown when an account's owner tries to liquidate it.
    error SelfLiquidation(uint256 accountId);
    /// @notice Thrown when a liquidation would leave equity above initial margin (it closed more than needed).
    error OverLiquidation(uint256 accountId, int256 equityAfterE6, uint256 initialMarginAfterE6);
    /// @notice Thrown when a liquidation does not reduce the account's initial-margin shortfall (IM − equity).
    error LiquidationDidNotImprove(uint256 accountId, int256 shortfallBeforeE6, int256 shortfallAfterE6);
    /// @notice Thrown when an account has no position in the series.
    error NoPosition(uint256 accountId, uint256 seriesId);

    /* SETTLEMENT */

    /// @notice Thrown when settling an expiry that has not been reached.
    error ExpiryNotReached(uint256 expiry, uint256 timestamp);
    /// @notice Thrown when an expiry is settled twice.
    error ExpiryAlreadySettled(uint256 underlyingId, uint256 expiry);
    /// @notice Thrown when an operation needs an expired expiry's settlement price that is not fixed yet
    ///         (call `settleExpiry` first).
    error ExpiryNotSettled(uint256 underlyingId, uint256 expiry);
    /// @notice Thrown when the round given to `settleExpiry` is not the feed's first round at or after expiry.
    error InvalidSettlementRound(uint80 roundId, uint256 updatedAt, uint256 expiry);
    /// @notice Thrown when no series was ever listed for the (underlying, expiry).
    error ExpiryNotListed(uint256 underlyingId, uint256 expiry);

    /* LIQUIDITY POOL */

    /// @notice Thrown when burning more pool shares than held.
    error InsufficientShares(uint256 balance, uint256 needed);
    /// @notice Thrown when the pool's equity is not positive (shares cannot be priced).
    error PoolInsolvent(int256 equityE6);
}
