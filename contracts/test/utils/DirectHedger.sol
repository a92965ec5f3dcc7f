// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IAavePool} from "../../interfaces/aave/IAavePool.sol";
import {IUniswapV3SwapRouter} from "../../interfaces/uniswap/IUniswapV3.sol";

/// @notice The gas baseline: the same Aave v3 and Uniswap v3 calls the vault's adapters make (same approvals,
///         same parameters), from a plain contract with no checks at all. The vault's overhead is measured
///         against this.
contract DirectHedger {
    using SafeERC20 for IERC20;

    struct Step {
        uint8 kind; // 0 supply, 1 withdraw, 2 borrow, 3 repay, 4 swap (exactInput)
        address asset;
        uint256 amount;
        bytes path;
    }

    IAavePool public immutable pool;
    IUniswapV3SwapRouter public immutable router;

    constructor(IAavePool pool_, IUniswapV3SwapRouter router_) {
        (pool, router) = (pool_, router_);
    }

    function run(Step[] calldata steps) external {
        for (uint256 i; i < steps.length; ++i) {
            Step calldata s = steps[i];
            if (s.kind == 0) {
                IERC20(s.asset).forceApprove(address(pool), s.amount);
                pool.supply(s.asset, s.amount, address(this), 0);
            } else if (s.kind == 1) {
                pool.withdraw(s.asset, s.amount, address(this));
            } else if (s.kind == 2) {
                pool.borrow(s.asset, s.amount, 2, 0, address(this));
            } else if (s.kind == 3) {
                IERC20(s.asset).forceApprove(address(pool), s.amount);
                pool.repay(s.asset, s.amount, 2, address(this));
                IERC20(s.asset).forceApprove(address(pool), 0);
            } else {
                IERC20(s.asset).forceApprove(address(router), s.amount);
                router.exactInput(
                    IUniswapV3SwapRouter.ExactInputParams({
                        path: s.path,
                        recipient: address(this),
                        deadline: block.timestamp,
                        amountIn: s.amount,
                        amountOutMinimum: 0
                    })
                );
            }
        }
    }
}
