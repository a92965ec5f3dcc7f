// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AaveV3Adapter} from "../../../adapters/AaveV3Adapter.sol";
import {UniswapV3Adapter} from "../../../adapters/UniswapV3Adapter.sol";
import {Timelock} from "../../../governance/Timelock.sol";
import {HedgedVault} from "../../../vault/HedgedVault.sol";
import {VaultFixture} from "../../utils/VaultFixture.sol";

/// @notice Shared by the invariant handlers: the devnet addresses (read from the record; the state is the test's),
///         the deployed vault stack, the fixture's named actors, and per-function call counters.
abstract contract HandlerBase is VaultFixture {
    mapping(bytes32 => uint256) public calls;

    constructor(HedgedVault vault_, Timelock timelock_, AaveV3Adapter aave_, UniswapV3Adapter uni_) {
        _readDevnet();
        (vault, timelock, aaveAdapter, uniAdapter) = (vault_, timelock_, aave_, uni_);
    }

    modifier counted(bytes32 key) {
        ++calls[key];
        _;
    }

    function _skip(bytes32 key) internal {
        ++calls[key];
    }
}
