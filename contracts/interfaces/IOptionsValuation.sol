// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOptionsValuation
/// @notice Valuation and margin surface of OPTIONS adapters (called with STATICCALL, not delegatecall).
interface IOptionsValuation {
    /// @notice Reverts unless every venue account of `vault` has equity ≥ the adapter's floor × maintenance
    ///         margin, computed with fresh venue inputs (stale inputs revert too: the check fails closed).
    function checkMargin(address vault) external view;

    /// @notice Mark value of `vault`'s venue account (collateral + option marks) in USD 1e8.
    function valueE8(address vault) external view returns (int256);
}
