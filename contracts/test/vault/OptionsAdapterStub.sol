// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IVaultAdapter} from "../../interfaces/IVaultAdapter.sol";

/// @notice Stand-in for the OPTIONS adapter until the option venue exists: only what the vault's adapter
///         bookkeeping reads (kind, and a venue mark for NAV). It executes nothing.
contract OptionsAdapterStub is IVaultAdapter {
    int256 public immutable markE8;

    error NotImplemented();

    constructor(int256 markE8_) {
        markE8 = markE8_;
    }

    function kind() external pure returns (Kind) {
        return Kind.OPTIONS;
    }

    function execute(bytes calldata) external pure {
        revert NotImplemented();
    }

    function valueE8(address) external view returns (int256) {
        return markE8;
    }
}
