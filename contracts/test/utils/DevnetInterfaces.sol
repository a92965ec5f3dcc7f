// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-side views of the devnet's npm-deployed contracts (Aave's MintableERC20 and WETH9, the Uniswap v3
///         SwapRouter and pool): only the calls the forge tests make.
interface IMintableERC20 {
    function mint(address account, uint256 value) external returns (bool);
}

interface IWETH9 {
    function deposit() external payable;
}

interface ISwapRouterSingle {
    struct ExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address recipient;
        uint256 deadline;
        uint256 amountIn;
        uint256 amountOutMinimum;
        uint160 sqrtPriceLimitX96;
    }

    function exactInputSingle(ExactInputSingleParams calldata params)
        external
        payable
        returns (uint256 amountOut);
}

interface IUniswapV3PoolSlot0 {
    function slot0()
        external
        view
        returns (
            uint160 sqrtPriceX96,
            int24 tick,
            uint16 observationIndex,
            uint16 observationCardinality,
            uint16 observationCardinalityNext,
            uint8 feeProtocol,
            bool unlocked
        );
    function fee() external view returns (uint24);
}
