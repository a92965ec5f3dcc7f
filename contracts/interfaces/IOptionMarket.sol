// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketErrors} from "./options/IOptionMarketErrors.sol";
import {IOptionMarketEvents} from "./options/IOptionMarketEvents.sol";

/// @title IOptionMarket
/// @notice A cash-settled European option venue. Quotes are on-chain Black-Scholes prices from a spot feed and an
///         implied-vol surface per (underlying, expiry); a liquidity pool funded by LPs is the counterparty of
///         every trade; accounts are margined on their whole portfolio by revaluation over a spot × vol scenario
///         grid (Derive-style portfolio margin); under-margined accounts are liquidated partially by anyone; at
///         expiry one settlement price per (underlying, expiry) is fixed from the feed and positions are cashed.
///
/// Units (in every name): collateral and cash are USDC, 6 decimals (`*E6`). Prices are USD per unit of underlying
/// and sizes are units of underlying, both 1e18 (`*Wad`); vols and ratios are decimals × 1e18 (0.5e18 = 50 %).
/// Sizes are signed: long > 0, short < 0. Time to expiry τ = seconds / 365 days.
///
/// Accounts are sub-accounts: `openAccount` returns a new id owned by `msg.sender`; one owner may hold many;
/// only the owner deposits, withdraws and trades. Nothing assumes an EOA: a contract (e.g. a vault whose adapter
/// runs by DELEGATECALL, so `msg.sender` is the vault) owns accounts the same way. An account holds at most
/// `MAX_POSITIONS` open series, which bounds the gas of its margin check.
///
/// Margin: equity = collateral + marks (Black-Scholes mid). MM = worst scenario loss + a minimum per short unit;
/// IM = imFactor × MM (see `RiskParams`). Trades and withdrawals must leave equity ≥ IM, unless they reduce the
/// IM shortfall (IM − equity) of an account that already had one. The pool is margined the same way on every
/// trade and LP withdrawal. Below MM an account can be liquidated.
///
/// Freshness: trades, withdrawals, liquidations and `marginOf` revert when a spot is older than the underlying's
/// `maxPriceAgeSeconds` (`StalePrice`), a needed vol surface is older than `volMaxAgeSeconds` (`StaleVolSurface`),
/// or an expired position awaits its settlement price (`ExpiryNotSettled`). `accountState`, `equityOf` and
/// `poolState` never revert for staleness: they compute with the inputs at hand and return `fresh = false`.
///
/// Roles (OpenZeppelin AccessControl): DEFAULT_ADMIN_ROLE (governance: parameters, underlyings, unpause),
/// LISTER_ROLE (lists series), VOL_FEEDER_ROLE (posts vol surfaces), GUARDIAN_ROLE (pauses). While paused, trades,
/// liquidations, withdrawals, LP flows and listings stop; deposits, settlement and vol posting stay open.
interface IOptionMarket is IOptionMarketErrors, IOptionMarketEvents {
    /* ACCOUNTS */

    /// @notice Opens a sub-account owned by `msg.sender`.
    /// @return accountId The new id (ids start at 1).
    function openAccount() external returns (uint256 accountId);

    /// @notice Moves `amountE6` USDC from `msg.sender` (owner; needs an allowance) into the account's collateral.
    /// @dev Realises payouts of settled positions first. Open while paused.
    function deposit(uint256 accountId, uint256 amountE6) external;

    /// @notice Sends `amountE6` of the account's collateral to `to`; the account must keep equity ≥ IM (or reduce
    ///         its shortfall) and collateral ≥ 0. Realises payouts of settled positions first.
    function withdraw(uint256 accountId, uint256 amountE6, address to) external;

    /* TRADING (against the pool) */

    /// @notice Buys `sizeWad` (> 0) of a series at the ask; reverts if the premium exceeds `maxCostE6`.
    /// @dev The premium is paid from collateral (which must cover it). Account and pool are margin-checked after.
    /// @return costE6 Premium paid (rounded up).
    function buy(uint256 accountId, uint256 seriesId, uint256 sizeWad, uint256 maxCostE6)
        external
        returns (uint256 costE6);

    /// @notice Sells `sizeWad` (> 0) of a series at the bid (closing a long or opening a short); reverts if the
    ///         proceeds are below `minProceedsE6`. Account and pool are margin-checked after.
    /// @return proceedsE6 Premium received (rounded down).
    function sell(uint256 accountId, uint256 seriesId, uint256 sizeWad, uint256 minProceedsE6)
        external
        returns (uint256 proceedsE6);

    /* LIQUIDATION */

    /// @notice Closes up to `maxSizeWad` of an account's position in `seriesId` against the pool (at the ask for
    ///         a short, the bid for a long) when the account's equity is below maintenance margin. Anyone but the
    ///         owner may call. The account pays the liquidator a bonus of liquidationPenaltyWad × spot per unit
    ///         closed (in USDC, to `msg.sender`).
    /// @dev Partial: the close must reduce the account's IM shortfall (`LiquidationDidNotImprove`) and must not
    ///      leave equity above IM (`OverLiquidation`): a liquidator closes only as much as restores margin. If the
    ///      account ends with no positions and negative collateral, the deficit is bad debt absorbed by the pool.
    /// @return closedSizeWad Magnitude closed.
    /// @return bonusE6 Paid to the liquidator.
    function liquidate(uint256 accountId, uint256 seriesId, uint256 maxSizeWad)
        external
        returns (uint256 closedSizeWad, uint256 bonusE6);

    /* SETTLEMENT */

    /// @notice Fixes the settlement price of (underlying, expiry) from the feed's first round at or after expiry,
    ///         cashes the pool's positions in it and retires its series. Anyone may call, once.
    /// @param roundId The feed's first round with updatedAt ≥ expiry (its previous round must be before expiry).
    function settleExpiry(uint256 underlyingId, uint64 expiry, uint80 roundId) external;

    /// @notice Cashes every position of the account whose expiry is settled into its collateral (claimable by
    ///         `withdraw`). Anyone may call; it moves value only between the account and the pool.
    /// @return payoutE6 Signed total credited to the account.
    function settleAccount(uint256 accountId) external returns (int256 payoutE6);

    /* LIQUIDITY POOL */

    /// @notice Adds `amountE6` USDC to the pool for shares at the pool's equity per share (marks at mid).
    function provideLiquidity(uint256 amountE6) external returns (uint256 shares);

    /// @notice Burns `shares` for their USDC value, sent to `to`; reverts if the pool's cash cannot pay or the
    ///         pool would be left below initial margin.
    function withdrawLiquidity(uint256 shares, address to) external returns (uint256 amountE6);

    /* LISTING, VOL FEED, GOVERNANCE, GUARDIAN */

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

    /* VIEWS: ACCOUNTS */

    /// @notice The collateral token (USDC, 6 decimals).
    function usdc() external view returns (address);

    /// @notice Account ids owned by `owner`, in opening order.
    function accountsOf(address owner) external view returns (uint256[] memory);

    /// @notice Owner of an account (address(0) if it does not exist).
    function ownerOf(uint256 accountId) external view returns (address);

    /// @notice Number of accounts opened.
    function accountCount() external view returns (uint256);

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
    function equityOf(uint256 accountId) external view returns (int256 equityE6, bool fresh);

    /// @notice An account's signed position in a series (0 if none).
    function positionOf(uint256 accountId, uint256 seriesId) external view returns (int256 sizeWad);

    /* VIEWS: MARKET DATA */

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

    /// @notice Quote for buying `sizeWad` from the pool (reverts like `buy` on stale inputs or a closed series).
    function quoteBuy(uint256 seriesId, uint256 sizeWad) external view returns (Quote memory);

    /// @notice Quote for selling `sizeWad` to the pool.
    function quoteSell(uint256 seriesId, uint256 sizeWad) external view returns (Quote memory);

    /* VIEWS: POOL */

    /// @notice The pool's cash, equity, margins, shares and absorbed bad debt; never reverts for staleness.
    function poolState() external view returns (PoolState memory);

    /// @notice The pool's signed position in a series (the negative of all accounts' positions).
    function poolPositionOf(uint256 seriesId) external view returns (int256 sizeWad);

    /// @notice Pool shares held by `provider`.
    function sharesOf(address provider) external view returns (uint256);
}
