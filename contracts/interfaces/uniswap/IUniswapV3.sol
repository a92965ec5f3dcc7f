// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IUniswapV3SwapRouter
/// @notice The SwapRouter (v3-periphery 1.x) calls the vault's Uniswap adapter makes.
interface IUniswapV3SwapRouter {
    struct ExactInputParams {
        bytes path;
        address recipient;
        uint256 deadline;
        uint256 amountIn;
        uint256 amountOutMinimum;
    }

    function exactInput(ExactInputParams calldata params) external payable returns (uint256 amountOut);
}

/// @title IUniswapV3Pool
/// @notice Pool reads for TWAP checks.
interface IUniswapV3Pool {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function observe(uint32[] calldata secondsAgos)
        external
        view
        returns (int56[] memory tickCumulatives, uint160[] memory secondsPerLiquidityCumulativeX128s);
}
