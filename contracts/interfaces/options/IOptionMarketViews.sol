// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketTypes} from "./IOptionMarketTypes.sol";

/// @title IOptionMarketViews
/// @notice Every read the keeper, the vault and its lens need, each in one call (served by the
///         OptionMarketViews facet).
///         Units and conventions: see IOptionMarket.
interface IOptionMarketViews is IOptionMarketTypes {
    /* ACCOUNTS */

    /// @notice The collateral token (USDC, 6 decimals).
    function usdc() external view returns (address);

    /// @notice An account's full state: positions with series parameters and marks, collateral, equity, IM, MM.
    ///         Never reverts for staleness (see `fresh`).
    function accountState(uint256 accountId) external view returns (AccountState memory);

    /// @notice An account's equity and margins with fresh inputs only (reverts as a trade would: StalePrice,
    ///         StaleVolSurface, ExpiryNotSettled). The check a vault runs after rebalancing.
    function marginOf(uint256 accountId)
        external
        view
        returns (int256 equityE6, uint256 initialMarginE6, uint256 maintenanceMarginE6);

    /// @notice An account's equity (collateral + marks), cheap (no scenario grid); never reverts for staleness.
    ///         What the account can recover: its longs are valued net of the pool's haircut (`poolHaircutWad`,
    ///         or the one fixed at a settled expiry), so it is below `marginOf`'s equity only while the pool is
    ///         insolvent (or a settled long it has not cashed was paid short).
    function equityOf(uint256 accountId) external view returns (int256 equityE6, bool fresh);

    /// @notice Σ `equityOf` over `accountIds` (each must exist), the pool's haircut computed once: what a holder
    ///         of several accounts (the vault, through its adapter) reads for its NAV.
    function equitiesOf(uint256[] calldata accountIds) external view returns (int256 equityE6, bool fresh);

    /// @notice The share of every long's value the pool cannot pay now (WAD, rounded up, ≤ 1e18): 0 while the pool's
    ///         equity is ≥ 0, else its shortfall over the accounts' longs of the live series at the marks. Fixed
    ///         per expiry at settlement (the longs of it are paid net of it). Never reverts for staleness.
    function poolHaircutWad() external view returns (uint256);

    /// @notice Number of accounts opened.
    function accountCount() external view returns (uint256);

    /// @notice An account's signed position in a series (0 if none).
    function positionOf(uint256 accountId, uint256 seriesId) external view returns (int256 sizeWad);

    /// @notice An account's raw holdings, without pricing (cheap: storage reads only): its collateral and every
    ///         open position's series id, signed size and series, in the account's order. What a keeper that
    ///         values the book off-chain (with the venue's own formulas) reads every block.
    function holdingsOf(uint256 accountId)
        external
        view
        returns (
            int256 collateralE6,
            uint256[] memory seriesIds,
            int256[] memory sizesWad,
            Series[] memory seriesParams
        );

    /* MARKET DATA */

    /// @notice Number of underlyings; ids are 0 … count − 1.
    function underlyingCount() external view returns (uint256);

    /// @notice One underlying's configuration.
    function underlying(uint256 underlyingId) external view returns (Underlying memory);

    /// @notice Spot used by the venue: the feed's latest answer in USD 1e18, and when it was written. Never
    ///         reverts for staleness.
    function spot(uint256 underlyingId) external view returns (uint256 spotWad, uint256 updatedAt);

    /// @notice Number of series ever listed; ids are 1 … count.
    function seriesCount() external view returns (uint256);

    /// @notice One series.
    function series(uint256 seriesId) external view returns (Series memory);

    /// @notice The id of a listed series, 0 if not listed.
    function seriesIdOf(uint256 underlyingId, uint64 expiry, uint128 strikeWad, bool isCall)
        external
        view
        returns (uint256 seriesId);

    /// @notice Ids of listed series whose expiry is not settled yet.
    function liveSeries() external view returns (uint256[] memory);

    /// @notice The posted vol surface of (underlying, expiry), with its timestamp.
    function volSurface(uint256 underlyingId, uint64 expiry) external view returns (VolSurface memory);

    /// @notice A series' surface vol at the current forward.
    function volOf(uint256 seriesId) external view returns (uint256 volWad);

    /// @notice A series' Black-Scholes mid per unit with the current spot, surface and rate.
    function markPrice(uint256 seriesId) external view returns (uint256 markPriceWad);

    /// @notice Fixed settlement price of (underlying, expiry), 0 if not settled.
    function settlementPrice(uint256 underlyingId, uint64 expiry) external view returns (uint256 priceWad);

    /// @notice Current risk parameters.
    function riskParams() external view returns (RiskParams memory);

    /// @notice Current market parameters (the rate is `rateWad`).
    function marketParams() external view returns (MarketParams memory);

    /* POOL */

    /// @notice The pool's cash, equity, margins, shares and absorbed bad debt; never reverts for staleness.
    function poolState() external view returns (PoolState memory);

    /// @notice The pool's signed position in a series (the negative of all accounts' positions).
    function poolPositionOf(uint256 seriesId) external view returns (int256 sizeWad);

    /// @notice Pool shares held by `provider`.
    function sharesOf(address provider) external view returns (uint256);
}
