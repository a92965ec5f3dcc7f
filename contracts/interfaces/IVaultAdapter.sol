// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev What a LENDING adapter's `execute` returns for an action that can only raise the vault's Aave health factor.
uint256 constant RAISES_HEALTH_FACTOR_ONLY = 1;

/// @title IVaultAdapter
/// @notice An on-chain adapter: stateless code the vault DELEGATECALLs for one protocol's actions. Adapters hold no
///         storage (only immutables), are whitelisted by governance through the timelock, and are judged by the
///         vault's post-checks on measured state; the only value the vault takes from one is an OPTIONS action's
///         premium (`execute`), which its wallet cannot see.
interface IVaultAdapter {
    /// @notice What the vault checks after each action of this adapter: SWAP actions get a per-action check of
    ///         the oracle value of tokens out against tokens in (max slippage); others only the batch checks.
    enum Kind {
        LENDING,
        SWAP,
        OPTIONS
    }

    /// @notice The adapter's kind (a property of the whitelisted code).
    function kind() external view returns (Kind);

    /// @notice Executes one encoded action in the vault's context (called by DELEGATECALL only).
    /// @return premiumE8 what an OPTIONS action traded at a market price that the vault's wallet cannot see (the
    ///         option premium paid or received out of venue collateral, USD 1e8): the vault charges it to the
    ///         turnover budget. Computed by the whitelisted adapter code from the venue, never from the keeper's
    ///         data. SWAP adapters return 0 (the vault measures their wallet deltas itself). A LENDING adapter
    ///         returns RAISES_HEALTH_FACTOR_ONLY when the action can only raise the vault's Aave health factor
    ///         (supply, repay), anything else otherwise: the vault reads the health factor after a batch unless
    ///         every lending action in it returned RAISES_HEALTH_FACTOR_ONLY (SWAP and OPTIONS code does not touch
    ///         the vault's Aave position).
    function execute(bytes calldata data) external returns (uint256 premiumE8);
}
