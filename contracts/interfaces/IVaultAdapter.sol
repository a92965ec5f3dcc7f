// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IVaultAdapter
/// @notice An on-chain adapter: stateless code the vault DELEGATECALLs for one protocol's actions. Adapters hold no
///         storage (only immutables), are whitelisted by governance through the timelock, and are judged by the
///         vault's post-checks on measured state, never by what they return.
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
    function execute(bytes calldata data) external;
}
