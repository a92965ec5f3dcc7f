// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "./IAggregatorV3.sol";
import {IAavePool} from "./aave/IAavePool.sol";

/// @title IHedgedVault
/// @notice Types, errors, events and the keeper/governance/guardian surface of HedgedVault (the ERC-4626 surface is
///         the standard's). Units are in the names: *Wad = 1e18, *Bps = 1e4, *E8 = USD with 8 decimals, *Seconds.
interface IHedgedVault {
    /* TYPES */

    /// @notice Risk bounds enforced after every rebalance.
    struct RiskParams {
        uint256 healthFactorFloorWad; // Aave HF after a rebalance must be ≥ this (when there is debt)
        uint16 maxLossBps; // NAV drop allowed by one rebalance
        uint16 maxSlippageBps; // per swap: value out ≥ value in × (1 − this), at oracle prices
        uint32 turnoverBudgetBps; // value traded at market prices (swaps, option premiums) per period, bps of NAV
        uint16 lossBudgetBps; // cumulative rebalance loss per period, in bps of NAV
        uint32 periodSeconds; // budget period
        uint32 heartbeatSeconds; // oracle answer older than this stops rebalancing and deposits
        uint16 maxOracleDeviationBps; // |oracle − Uniswap TWAP| allowed, in ticks (1 tick ≈ 1 bp)
        uint32 twapWindowSeconds; // TWAP window
    }

    /// @notice Fee parameters (fees are minted as shares to feeRecipient).
    struct FeeParams {
        address feeRecipient; // address(0): no fees minted (the high-water mark still follows the price)
        uint16 managementFeeBps; // per year on assets
        uint16 performanceFeeBps; // on gains above the high-water mark
        uint32 profitUnlockSeconds; // rebalance gains are released linearly over this
    }

    /// @notice A token the vault may hold outside Aave, valued at its oracle.
    struct TrackedToken {
        address token;
        address feed; // AggregatorV3, USD, any decimals
        address twapPool; // Uniswap v3 pool of token against the vault asset (address(0): no TWAP check)
        uint8 decimals; // must equal the token's decimals()
    }

    /// @notice One rebalance action: calldata for a whitelisted adapter.
    struct Action {
        address adapter;
        bytes data;
    }

    /// @notice A queued redemption (withdrawals beyond the liquid buffer).
    struct RedeemRequest {
        address owner;
        address receiver;
        uint128 shares;
        uint64 requestedAt;
        bool fulfilled; // paid, cancelled by its owner, or bounced back (payout transfer failed)
    }

    /* ERRORS */

    /// @notice Thrown when a parameter is outside its hard bound.
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    /// @notice Thrown when the guardian tries to loosen a risk parameter or the deposit cap.
    error OnlyTightening(bytes32 name, uint256 current, uint256 proposed);
    /// @notice Thrown when an action names an adapter governance has not allowed.
    error AdapterNotAllowed(address adapter);
    /// @notice Thrown when an adapter call reverts; `reason` is its revert data.
    error AdapterCallFailed(uint256 index, bytes reason);
    /// @notice Thrown when the Aave health factor after a rebalance is below the floor.
    error HealthFactorBelowFloor(uint256 healthFactorWad, uint256 floorWad);
    /// @notice Thrown when one rebalance loses more NAV than allowed.
    error MaxLossExceeded(uint256 navBefore, uint256 navAfter, uint256 maxLossBps);
    /// @notice Thrown when a swap returns less oracle value than allowed.
    /// @notice Thrown when a SWAP action spent no priced token (the asset or a tracked token): what it spent is
    ///         invisible to the slippage check (e.g. the vault's aTokens), so it is refused.
    error SwapSpentNothingPriced(uint256 index);
    error SlippageExceeded(uint256 index, uint256 valueInE8, uint256 valueOutE8, uint256 maxSlippageBps);
    /// @notice Thrown when the period's turnover budget would be exceeded.
    error TurnoverBudgetExceeded(uint256 turnoverE8, uint256 budgetE8);
    /// @notice Thrown when the period's cumulative loss budget (rebalances, or emergency unwinds) would be exceeded.
    error LossBudgetExceeded(uint256 lossE8, uint256 budgetE8);
    /// @notice Thrown when an oracle answer is older than the heartbeat or not positive.
    error StalePrice(address feed, uint256 updatedAt, uint256 heartbeatSeconds);
    /// @notice Thrown when an oracle price deviates from the Uniswap TWAP by more than allowed.
    error OracleDeviation(address token, uint256 oraclePriceE8, uint256 twapPriceE8, uint256 maxDeviationBps);
    /// @notice Thrown when a redeem request is past its deadline and the keeper tries anything else.
    error RedeemOverdue(uint256 requestId, uint256 requestedAt, uint256 deadline);
    /// @notice Thrown for a redeem request that does not exist, is not the caller's, or is already fulfilled.
    error InvalidRedeemRequest(uint256 requestId);
    /// @notice Thrown when the vault's liquid assets cannot pay a fulfilment.
    error InsufficientLiquidity(uint256 needed, uint256 available);
    /// @notice Thrown when a token is tracked twice.
    error TokenAlreadyTracked(address token);
    /// @notice Thrown when a token to re-point or retire is not tracked.
    error TokenNotTracked(address token);
    /// @notice Thrown when a token to retire is still owed to Aave (NAV would stop counting the debt): repay it first
    ///         (re-point a dead feed with setTrackedTokenFeed so that batches run again).
    error TrackedTokenOwed(address token, uint256 debt);
    /// @notice Thrown when a tracked token is the asset, its decimals disagree with the token's, its feed gives no
    ///         price, or its TWAP pool does not pair it with the asset.
    error InvalidTrackedToken(address token);
    /// @notice Thrown when a list governance extends is full.
    error ListFull(uint256 max);
    /// @notice Thrown for a zero address where one is required.
    error ZeroAddress();
    /// @notice Thrown at construction when the logic factory returns a VaultLogic that does not serve this vault.
    error InvalidLogic(address logic);
    /// @notice Thrown for a redeem request of zero shares, or a deposit too small to buy one share unit.
    error ZeroShares();
    /// @notice Thrown when the fee recipient would be the vault itself (its own shares are escrow).
    error InvalidFeeRecipient(address recipient);
    /// @notice Thrown when a deposit delivers fewer assets than it names (fee-on-transfer assets are refused).
    error AssetsNotReceived(uint256 expected, uint256 received);
    /// @notice Thrown when the caller holds neither the guardian nor the governance role.
    error NotGuardianOrGovernance(address caller);
    /// @notice Thrown when an emergency unwind increases Aave debt (base currency, 8 decimals).
    error UnwindIncreasedDebt(uint256 debtBeforeE8, uint256 debtAfterE8);
    /// @notice Thrown when an emergency unwind lowers the Aave health factor.
    error UnwindLoweredHealthFactor(uint256 healthFactorBeforeWad, uint256 healthFactorAfterWad);

    /* EVENTS */

    /// @notice Emitted after a successful rebalance, with measured NAV before and after (asset units).
    event Rebalanced(
        address indexed keeper, uint256 actions, uint256 navBefore, uint256 navAfter, uint256 turnoverE8
    );
    /// @notice Emitted after an emergency unwind (while paused), with measured NAV before and after.
    event Unwound(address indexed by, uint256 actions, uint256 navBefore, uint256 navAfter);
    /// @notice Emitted when risk parameters change (governance or guardian).
    event RiskParamsSet(address indexed by, RiskParams params);
    /// @notice Emitted when fee parameters change.
    event FeeParamsSet(FeeParams params);
    /// @notice Emitted when an adapter is allowed or disallowed.
    event AdapterSet(address indexed adapter, bool allowed);
    /// @notice Emitted when a token is added to the tracked set.
    event TokenTracked(address indexed token, address feed, address twapPool);
    /// @notice Emitted when a tracked token's feed or TWAP pool is re-pointed.
    event TrackedTokenFeedSet(address indexed token, address feed, address twapPool);
    /// @notice Emitted when a token stops being tracked; `balanceWrittenOff` left NAV with it.
    event TokenRetired(address indexed token, uint256 balanceWrittenOff);
    /// @notice Emitted when the asset's USD feed is re-pointed.
    event AssetFeedSet(address feed);
    /// @notice Emitted when the deposit cap changes (governance, or the guardian lowering it).
    event DepositCapSet(uint256 depositCap);
    /// @notice Emitted when the fulfilment deadline of queued redemptions changes.
    event MaxFulfilDelaySet(uint256 maxFulfilDelaySeconds);
    /// @notice Emitted when fees are minted as shares.
    event FeesMinted(address indexed recipient, uint256 managementShares, uint256 performanceShares);
    /// @notice Emitted when a redeem is queued.
    event RedeemRequested(uint256 indexed requestId, address indexed owner, address receiver, uint256 shares);
    /// @notice Emitted when the keeper fulfils a redeem request.
    event RedeemFulfilled(
        uint256 indexed requestId, address indexed receiver, uint256 shares, uint256 assets
    );
    /// @notice Emitted when a request ends unpaid and its shares go back to the owner: cancelled by the owner, or
    ///         bounced because the payout transfer to the receiver failed (`bounced`).
    event RedeemCancelled(uint256 indexed requestId, address indexed owner, uint256 shares, bool bounced);

    /* IMMUTABLES */

    /// @notice The Aave v3 Pool whose account of the vault is part of NAV.
    function aavePool() external view returns (IAavePool);
    /// @notice USD feed of the asset (values Aave and tracked tokens in asset units); governance may re-point it.
    function assetFeed() external view returns (IAggregatorV3);
    /// @notice The stateless VaultLogic the vault created (prices, TWAP checks, NAV, parameter rules).
    function logic() external view returns (address);
    /// @notice Decimals of the asset (the shares have 6 more: the virtual-share offset).
    function assetDecimals() external view returns (uint8);

    /* DEPOSITOR ACTIONS (beyond ERC-4626) */

    /// @notice Queue a redemption larger than the liquid buffer: the shares move to escrow now and are paid at the
    ///         share price of fulfilment, which the keeper must do within `maxFulfilDelaySeconds`.
    /// @param shares shares to redeem (> 0); `msg.sender` needs an allowance unless it is `owner`.
    /// @return requestId the id to cancel or fulfil it by.
    function requestRedeem(uint256 shares, address receiver, address owner)
        external
        returns (uint256 requestId);

    /// @notice Cancel one's own pending request; the shares come back.
    function cancelRedeem(uint256 requestId) external;

    /* KEEPER ACTIONS */

    /// @notice Pay queued redemptions from idle assets (allowed while paused: it only pays out). A request whose
    ///         payout transfer fails is bounced: its shares go back to its owner.
    function fulfilRedeems(uint256[] calldata requestIds) external;

    /// @notice Run `actions` through whitelisted adapters, then fulfil `fulfilIds`; reverts unless every bound
    ///         holds on measured state: oracles fresh and near their TWAP, per-swap slippage, health factor floor,
    ///         max loss, period turnover and loss budgets, no overdue redeem request left.
    function rebalance(Action[] calldata actions, uint256[] calldata fulfilIds) external;

    /* GUARDIAN (or governance) */

    /// @notice Emergency unwind toward collateral, only while paused, by the guardian or governance. Same
    ///         adapters and per-swap slippage bound; after the batch Aave debt must not have grown, the health
    ///         factor must not have fallen, NAV may not drop by more than `maxLossBps`, and unwind losses are
    ///         bounded per period by `lossBudgetBps` (their own budget: a keeper's losses cannot block them).
    function emergencyUnwind(Action[] calldata actions) external;

    /// @notice Stop deposits and rebalances (withdrawals, redemptions, queue fulfilment stay open).
    function pause() external;

    /// @notice Tighten risk: every field must be at least as strict as now (and within bounds).
    function tightenRiskParams(RiskParams calldata params) external;

    /// @notice Lower the deposit cap (the guardian may only lower it).
    function lowerDepositCap(uint256 cap) external;

    /* GOVERNANCE (the timelock) */

    /// @notice Replace the risk parameters (each within its hard bound).
    function setRiskParams(RiskParams calldata params) external;

    /// @notice Replace the fee parameters; fees due so far accrue under the old ones, and profit already locked
    ///         keeps its release schedule.
    function setFeeParams(FeeParams calldata params) external;

    /// @notice Allow or disallow an adapter (idempotent); OPTIONS adapters enter or leave NAV with it.
    function setAdapter(address adapter, bool allowed) external;

    /// @notice Track a token valued at its oracle (at most 8; see TrackedToken for the checks).
    function addTrackedToken(TrackedToken calldata token) external;

    /// @notice Re-point a tracked token's feed and TWAP pool (the checks of addTrackedToken; same decimals).
    function setTrackedTokenFeed(TrackedToken calldata token) external;

    /// @notice Stop tracking `token`: its balance leaves NAV (for a token whose feed or contract is dead for good).
    function removeTrackedToken(address token) external;

    /// @notice Re-point the asset's USD feed (must answer a positive price).
    function setAssetFeed(IAggregatorV3 feed) external;

    /// @notice Set the deposit cap on totalAssets (asset units; type(uint256).max for none).
    function setDepositCap(uint256 cap) external;

    /// @notice Set the fulfilment deadline of queued redemptions (1 s … 3 days).
    function setMaxFulfilDelay(uint256 maxFulfilDelaySeconds) external;

    /// @notice Resume deposits and rebalances.
    function unpause() external;

    /* VIEWS */

    /// @notice The current risk parameters.
    function riskParams() external view returns (RiskParams memory);
    /// @notice The current fee parameters.
    function feeParams() external view returns (FeeParams memory);
    /// @notice Tokens valued at their oracle.
    function trackedTokens() external view returns (TrackedToken[] memory);
    /// @notice Allowed OPTIONS adapters (their venue marks are part of NAV).
    function optionsAdapters() external view returns (address[] memory);
    /// @notice Whether `adapter` is allowed.
    function adapterAllowed(address adapter) external view returns (bool);
    /// @notice One queued redemption.
    function redeemRequest(uint256 requestId) external view returns (RedeemRequest memory);
    /// @notice Number of redemption requests ever made (ids are 0 … count − 1).
    function redeemRequestCount() external view returns (uint256);
    /// @notice Oldest request id that may still be pending (all before it are done).
    function firstPendingRedeem() external view returns (uint256);
    /// @notice Shares held in escrow for pending requests.
    function escrowedShares() external view returns (uint256);
    /// @notice Asset units held idle (withdrawals and fulfilments are paid from these).
    function idleAssets() external view returns (uint256);
    /// @notice Profit still locked now (excluded from totalAssets until released).
    function lockedProfitNow() external view returns (uint256);
}
