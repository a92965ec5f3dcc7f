// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketTypes} from "./IOptionMarketTypes.sol";

/// @title IOptionMarketEvents
/// @notice One past-tense event per state change of the OptionMarket. Units are in the names.
interface IOptionMarketEvents is IOptionMarketTypes {
    /* ACCOUNTS */

    /// @notice Emitted when `owner` opens sub-account `accountId`.
    event AccountOpened(uint256 indexed accountId, address indexed owner);
    /// @notice Emitted when USDC is deposited to an account's collateral.
    event Deposited(uint256 indexed accountId, address indexed from, uint256 amountE6);
    /// @notice Emitted when USDC leaves an account's collateral to `to`.
    event Withdrawn(uint256 indexed accountId, address indexed to, uint256 amountE6);

    /* TRADING */

    /// @notice Emitted for every trade against the pool.
    /// @param sizeWad Signed change of the account's position (+ bought, − sold), 1e18 = one unit of underlying.
    /// @param premiumE6 Signed cash paid by the account (+ it paid on a buy, − it received on a sell).
    /// @param feeE6 The spread part of the premium (kept by the pool).
    /// @param markPriceWad Mid (Black-Scholes) price per unit, USD 1e18.
    /// @param spotWad Spot used, USD 1e18.
    /// @param volWad Implied vol used, 1e18 = 100 %.
    event Traded(
        uint256 indexed accountId,
        uint256 indexed seriesId,
        int256 sizeWad,
        int256 premiumE6,
        uint256 feeE6,
        uint256 markPriceWad,
        uint256 spotWad,
        uint256 volWad
    );

    /* LIQUIDATION */

    /// @notice Emitted when a liquidator closes part of an account's position against the pool.
    /// @param closedSizeWad Signed change of the account's position (toward zero).
    /// @param premiumE6 Signed cash paid by the account for the close (as in `Traded`).
    /// @param bonusE6 Paid by the account to the liquidator.
    /// @param equityBeforeE6 Account equity before the liquidation.
    /// @param maintenanceMarginBeforeE6 Maintenance margin before the liquidation.
    event Liquidated(
        uint256 indexed accountId,
        uint256 indexed seriesId,
        address indexed liquidator,
        int256 closedSizeWad,
        int256 premiumE6,
        uint256 bonusE6,
        int256 equityBeforeE6,
        uint256 maintenanceMarginBeforeE6
    );
    /// @notice Emitted when an account ends with negative collateral and no open positions: the deficit is
    ///         taken from the pool's cash and added to `badDebtE6`.
    event BadDebtAbsorbed(uint256 indexed accountId, uint256 amountE6);

    /* SETTLEMENT */

    /// @notice Emitted once per (underlying, expiry) when the settlement price is fixed.
    /// @param poolPayoutE6 Signed payout of the pool's positions in the expiry, credited to its cash.
    event ExpirySettled(
        uint256 indexed underlyingId,
        uint256 indexed expiry,
        uint256 priceWad,
        uint80 roundId,
        int256 poolPayoutE6
    );
    /// @notice Emitted when an account's expired position is cashed at the settlement price.
    /// @param payoutE6 Signed cash credited to (+) or debited from (−) the account's collateral.
    event PositionSettled(
        uint256 indexed accountId, uint256 indexed seriesId, int256 sizeWad, int256 payoutE6
    );

    /* LIQUIDITY POOL */

    /// @notice Emitted when an LP adds USDC to the pool.
    event LiquidityProvided(address indexed provider, uint256 amountE6, uint256 shares);
    /// @notice Emitted when an LP burns pool shares for USDC.
    event LiquidityWithdrawn(address indexed provider, address indexed to, uint256 shares, uint256 amountE6);

    /* CONFIGURATION */

    /// @notice Emitted when an underlying is added.
    event UnderlyingAdded(
        uint256 indexed underlyingId, address indexed asset, address feed, uint32 maxPriceAgeSeconds
    );
    /// @notice Emitted when an underlying's maximum spot age changes.
    event MaxPriceAgeSet(uint256 indexed underlyingId, uint32 maxPriceAgeSeconds);
    /// @notice Emitted when a series is listed.
    event SeriesListed(
        uint256 indexed seriesId, uint256 indexed underlyingId, uint256 expiry, uint256 strikeWad, bool isCall
    );
    /// @notice Emitted when the vol feeder posts an expiry's surface.
    event VolSurfacePosted(
        uint256 indexed underlyingId,
        uint256 indexed expiry,
        uint256 atmVolWad,
        int256 skewWad,
        int256 smileWad
    );
    /// @notice Emitted when the risk (margin and liquidation) parameters change.
    event RiskParamsSet(RiskParams params);
    /// @notice Emitted when the market (rate, fees, staleness) parameters change.
    event MarketParamsSet(MarketParams params);
}
