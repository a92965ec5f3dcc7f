// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IVaultAdapter, RAISES_HEALTH_FACTOR_ONLY} from "../interfaces/IVaultAdapter.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";

/// @title AaveV3Adapter
/// @notice Supply, withdraw, borrow (variable) and repay on an Aave v3 Pool, for the vault (DELEGATECALL only:
///         `address(this)` is the vault). Stateless: the pool is an immutable.
/// @dev data = abi.encode(Op op, address asset, uint256 amount); amount type(uint256).max = "all" for
///      withdraw and repay, as Aave defines it.
contract AaveV3Adapter is IVaultAdapter {
    using SafeERC20 for IERC20;

    enum Op {
        SUPPLY,
        WITHDRAW,
        BORROW,
        REPAY
    }

    /// @notice Thrown when the adapter is called directly instead of by DELEGATECALL from a vault.
    error DelegateCallOnly();

    IAavePool public immutable pool;
    address private immutable _self;

    constructor(IAavePool pool_) {
        pool = pool_;
        _self = address(this);
    }

    /// @inheritdoc IVaultAdapter
    function kind() external pure returns (Kind) {
        return Kind.LENDING;
    }

    /// @inheritdoc IVaultAdapter
    /// @dev Returns RAISES_HEALTH_FACTOR_ONLY for a supply or a repay (more collateral, less debt: the vault's Aave
    ///      health factor cannot fall), 0 for a withdraw or a borrow.
    function execute(bytes calldata data) external returns (uint256) {
        if (address(this) == _self) revert DelegateCallOnly();
        (Op op, address asset, uint256 amount) = abi.decode(data, (Op, address, uint256));
        if (op == Op.SUPPLY) {
            IERC20(asset).forceApprove(address(pool), amount);
            pool.supply(asset, amount, address(this), 0);
            return RAISES_HEALTH_FACTOR_ONLY;
        } else if (op == Op.WITHDRAW) {
            // The vault judges the outcome from measured balances, never from what the pool returns.
            // slither-disable-next-line unused-return
            pool.withdraw(asset, amount, address(this));
        } else if (op == Op.BORROW) {
            pool.borrow(asset, amount, 2, 0, address(this));
        } else {
            IERC20(asset).forceApprove(address(pool), amount);
            // slither-disable-next-line unused-return
            pool.repay(asset, amount, 2, address(this));
            IERC20(asset).forceApprove(address(pool), 0);
            return RAISES_HEALTH_FACTOR_ONLY;
        }
    }
}
