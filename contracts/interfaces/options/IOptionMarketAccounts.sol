// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketTypes} from "./IOptionMarketTypes.sol";

/// @title IOptionMarketAccounts
/// @notice Sub-accounts, trading against the pool, liquidation and per-account settlement (OptionMarket core).
///         Units and conventions: see IOptionMarket.
interface IOptionMarketAccounts is IOptionMarketTypes {
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
    /// @dev The part that closes the account's long (up to its size) is a claim on the pool: while the pool is
    ///      insolvent it is paid bid × (1 − h), h = `poolHaircutWad` on the state before the sale (the cut rounded
    ///      up), so the haircut of the pool's remaining creditors does not rise. The part that opens a short is paid
    ///      the full bid: it gives the pool a margined debt worth the mark for the bid (the pool's equity rises by
    ///      the spread), no claim on it.
    /// @return proceedsE6 Premium received (rounded down), net of the haircut on the closed part.
    function sell(uint256 accountId, uint256 seriesId, uint256 sizeWad, uint256 minProceedsE6)
        external
        returns (uint256 proceedsE6);

    /* LIQUIDATION */

    /// @notice Closes up to `maxSizeWad` of an account's position in `seriesId` against the pool (at the ask for
    ///         a short, the bid for a long: × (1 − `poolHaircutWad`) before the close while the pool is insolvent,
    ///         as `sell` pays a close) when the account's equity is below maintenance margin. Anyone but the
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

    /* SETTLEMENT (per account) */

    /// @notice Cashes every position of the account whose expiry is settled into its collateral (claimable by
    ///         `withdraw`). Anyone may call; it moves value only between the account and the pool.
    /// @return payoutE6 Signed total credited to the account.
    function settleAccount(uint256 accountId) external returns (int256 payoutE6);

    /// @notice Quote for buying `sizeWad` from the pool (reverts like `buy` on stale inputs or a closed series).
    function quoteBuy(uint256 seriesId, uint256 sizeWad) external view returns (Quote memory);

    /// @notice Quote for selling `sizeWad` to the pool as a close of a long of at least that size: what `sell`
    ///         pays for it now (net of the pool's haircut while it is insolvent). A sale that opens a short is
    ///         paid `sizeWad` × `tradePriceWad` (the full bid), ≥ this quote.
    function quoteSell(uint256 seriesId, uint256 sizeWad) external view returns (Quote memory);
}
