// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";
import {VaultLogic} from "./VaultLogic.sol";

/// @title VaultLogicFactory
/// @notice Creates a HedgedVault's VaultLogic, bound to the caller: the vault's constructor calls `create`, so the
///         logic's `vault` is the vault under construction. It exists so the vault's initcode does not embed
///         VaultLogic's creation code (together they exceed EIP-3860's 49,152-byte initcode limit). Anyone may
///         call it; a VaultLogic created by anyone else serves only that caller.
contract VaultLogicFactory {
    /// @notice The Aave v3 pool every VaultLogic of this factory values (one factory per Aave market).
    IAavePool public immutable aavePool;

    /// @notice Emitted for every VaultLogic created.
    event LogicCreated(address indexed vault, address logic);

    constructor(IAavePool aavePool_) {
        if (address(aavePool_) == address(0)) revert IHedgedVault.ZeroAddress();
        aavePool = aavePool_;
    }

    /// @notice A new VaultLogic serving `msg.sender`, which then sets its risk and fee parameters (setRisk, setFees).
    function create(address asset, IAggregatorV3 assetFeed) external returns (VaultLogic logic) {
        logic = new VaultLogic(msg.sender, asset, assetFeed, aavePool);
        emit LogicCreated(msg.sender, address(logic));
    }
}
