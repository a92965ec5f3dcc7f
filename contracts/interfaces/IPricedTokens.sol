// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPricedTokens
/// @notice The tokens a vault values in its wallet (implemented by VaultLogic): a SWAP adapter spends and receives
///         only these, so the vault's per-swap slippage check sees both sides.
interface IPricedTokens {
    /// @notice Whether `token` is the vault's asset or one of its tracked tokens.
    function isPriced(address token) external view returns (bool);
}
