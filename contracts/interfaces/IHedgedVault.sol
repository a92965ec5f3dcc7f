// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IHedgedVault
/// @notice Errors, events and the keeper/governance surface of HedgedVault. Units are in the names: *Wad = 1e18,
///         *Bps = 1e4, *E8 = USD with 8 decimals, *Seconds.
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
        uint32 heartbeatSeconds; // oracle answer older than this stops rebalancing
        uint16 maxOracleDeviationBps; // |oracle − Uniswap TWAP| allowed
        uint32 twapWindowSeconds; // TWAP window
    }

    /// @notice Fee parameters (fees are minted as shares to feeRecipient).
    struct FeeParams {
        address feeRecipient;
        uint16 managementFeeBps; // per year on assets
        uint16 performanceFeeBps; // on gains above the high-water mark
        uint32 profitUnlockSeconds; // rebalance gains are released linearly over this
    }

    /// @notice A token the vault may hold outside Aave, valued at its oracle.
    struct TrackedToken {
        address token;
        address feed; // AggregatorV3, USD, any decimals
        address twapPool; // Uniswap v3 pool of token against the vault asset (address(0): no TWAP check)
        uint8 decimals;
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
        bool fulfilled;
    }

    /* ERRORS */

    /// @notice Thrown when a parameter is outside its hard bound.
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    /// @notice Thrown when the guardian tries to loosen a risk parameter.
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
    error SlippageExceeded(uint256 index, uint256 valueInE8, uint256 valueOutE8, uint256 maxSlippageBps);
    /// @notice Thrown when the period's turnover budget would be exceeded.
    error TurnoverBudgetExceeded(uint256 turnoverE8, uint256 budgetE8);
    /// @notice Thrown when the period's cumulative loss budget would be exceeded.
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
    /// @notice Thrown when a token is tracked twice or is the vault asset.
    error TokenAlreadyTracked(address token);
    /// @notice Thrown for a zero address where one is required.
    error ZeroAddress();
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
    /// @notice Emitted when the deposit cap changes.
    event DepositCapSet(uint256 depositCap);
    /// @notice Emitted when fees are minted as shares.
    event FeesMinted(address indexed recipient, uint256 managementShares, uint256 performanceShares);
    /// @notice Emitted when a redeem is queued.
    event RedeemRequested(uint256 indexed requestId, address indexed owner, address receiver, uint256 shares);
    /// @notice Emitted when the keeper fulfils a redeem request.
    event RedeemFulfilled(
        uint256 indexed requestId, address indexed receiver, uint256 shares, uint256 assets
    );
}
