// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title VaultBounds
/// @notice Hard bounds on every governance-set parameter of HedgedVault (governance and guardian alike stay
///         inside them). Units are in the names.
library VaultBounds {
    uint256 internal constant MIN_HEALTH_FACTOR_FLOOR_WAD = 1.05e18;
    uint256 internal constant MAX_HEALTH_FACTOR_FLOOR_WAD = 5e18;
    uint256 internal constant MAX_LOSS_BPS = 500;
    uint256 internal constant MAX_SLIPPAGE_BPS = 300;
    uint256 internal constant MAX_TURNOVER_BUDGET_BPS = 100_000;
    uint256 internal constant MAX_LOSS_BUDGET_BPS = 1000;
    uint256 internal constant MIN_PERIOD_SECONDS = 1 hours;
    uint256 internal constant MAX_PERIOD_SECONDS = 7 days;
    uint256 internal constant MIN_HEARTBEAT_SECONDS = 60;
    uint256 internal constant MAX_HEARTBEAT_SECONDS = 2 days;
    uint256 internal constant MAX_ORACLE_DEVIATION_BPS = 1000;
    uint256 internal constant MIN_TWAP_WINDOW_SECONDS = 60;
    uint256 internal constant MAX_TWAP_WINDOW_SECONDS = 2 hours;
    uint256 internal constant MAX_MANAGEMENT_FEE_BPS = 200;
    uint256 internal constant MAX_PERFORMANCE_FEE_BPS = 3000;
    uint256 internal constant MAX_PROFIT_UNLOCK_SECONDS = 14 days;
    uint256 internal constant MAX_FULFIL_DELAY_SECONDS = 3 days;
    uint256 internal constant MAX_TRACKED_TOKENS = 8;
    uint256 internal constant MAX_OPTIONS_ADAPTERS = 4;
    /// @dev Venue accounts per vault (OptionMarketAdapter's `maxAccounts` is at most this): every NAV read values
    ///      each account, so their number bounds the gas of every exit and batch (issue 19, finding 2).
    uint256 internal constant MAX_VENUE_ACCOUNTS = 8;
    /// @dev Not a bound: the vault's ERC-4626 decimals offset (virtual shares = 10 ** this), shared with VaultLogic's
    ///      fee maths.
    uint8 internal constant DECIMALS_OFFSET = 6;
}
