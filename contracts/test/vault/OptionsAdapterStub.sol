// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IVaultAdapter} from "../../interfaces/IVaultAdapter.sol";

/// @notice A controlled OPTIONS adapter for the vault's bookkeeping tests: a fixed venue mark for NAV, no venue
///         behind it, no margin requirement. It executes nothing (OptionMarketAdapter.t.sol tests the real one).
contract OptionsAdapterStub is IVaultAdapter {
    int256 public immutable markE8;

    error NotImplemented();

    constructor(int256 markE8_) {
        markE8 = markE8_;
    }

    function kind() external pure returns (Kind) {
        return Kind.OPTIONS;
    }

    function execute(bytes calldata) external pure returns (uint256) {
        revert NotImplemented();
    }

    function valueE8(address) external view virtual returns (int256) {
        return markE8;
    }

    function checkMargin(address) external pure {}
}
