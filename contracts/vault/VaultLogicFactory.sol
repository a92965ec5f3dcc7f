// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SSTORE2} from "solady/utils/SSTORE2.sol";

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";
import {VaultLogic} from "./VaultLogic.sol";

/// @title VaultLogicFactory
/// @notice Creates a HedgedVault's VaultLogic, bound to the caller: the vault's constructor calls `create`, so the
///         logic's `vault` is the vault under construction. It exists so the vault's initcode does not embed
///         VaultLogic's creation code (together they exceed EIP-3860's 49,152-byte initcode limit). Anyone may
///         call it; a VaultLogic created by anyone else serves only that caller.
/// @dev VaultLogic's creation code is not part of this contract's runtime (it would leave VaultLogic itself only
///      what the factory's own EIP-170 limit allows): the constructor stores it in two data contracts (SSTORE2, each
///      under 24,576 bytes), and `create` concatenates them with the constructor arguments and CREATEs. VaultLogic's
///      runtime is then bounded by EIP-170 alone, its creation code by EIP-3860.
contract VaultLogicFactory {
    /// @notice The Aave v3 pool every VaultLogic of this factory values (one factory per Aave market).
    IAavePool public immutable aavePool;

    /// @dev The two halves of VaultLogic's creation code.
    address internal immutable _code0;
    address internal immutable _code1;

    /// @notice Emitted for every VaultLogic created.
    event LogicCreated(address indexed vault, address logic);

    constructor(IAavePool aavePool_) {
        if (address(aavePool_) == address(0)) revert IHedgedVault.ZeroAddress();
        aavePool = aavePool_;
        bytes memory code = type(VaultLogic).creationCode;
        uint256 half = code.length / 2;
        bytes memory head = new bytes(half);
        bytes memory tail = new bytes(code.length - half);
        assembly ("memory-safe") {
            mcopy(add(head, 32), add(code, 32), half)
            mcopy(add(tail, 32), add(add(code, 32), half), mload(tail))
        }
        _code0 = SSTORE2.write(head);
        _code1 = SSTORE2.write(tail);
    }

    /// @notice A new VaultLogic serving `msg.sender`, which then sets its risk and fee parameters (setRisk, setFees).
    /// @dev A reverting VaultLogic constructor (e.g. an asset without `decimals()`) reverts with its own data.
    function create(address asset, IAggregatorV3 assetFeed) external returns (VaultLogic logic) {
        bytes memory init = bytes.concat(
            SSTORE2.read(_code0), SSTORE2.read(_code1), abi.encode(msg.sender, asset, assetFeed, aavePool)
        );
        assembly ("memory-safe") {
            logic := create(0, add(init, 32), mload(init))
            if iszero(logic) {
                returndatacopy(0, 0, returndatasize())
                revert(0, returndatasize())
            }
        }
        emit LogicCreated(msg.sender, address(logic));
    }
}
