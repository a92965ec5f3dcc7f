// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IPricedTokens} from "../interfaces/IPricedTokens.sol";
import {IVaultAdapter} from "../interfaces/IVaultAdapter.sol";
import {IUniswapV3SwapRouter} from "../interfaces/uniswap/IUniswapV3.sol";

/// @title UniswapV3Adapter
/// @notice exactInput swaps through the Uniswap v3 SwapRouter for the vault (DELEGATECALL only). The vault measures
///         each swap's output against the oracle (max slippage) whatever `amountOutMinimum` the keeper sets.
/// @dev data = abi.encode(bytes path, uint256 amountIn, uint256 amountOutMinimum); path = tokenIn, fee, tokenOut, ...
contract UniswapV3Adapter is IVaultAdapter {
    using SafeERC20 for IERC20;

    /// @notice Thrown when the adapter is called directly instead of by DELEGATECALL from a vault.
    error DelegateCallOnly();
    /// @notice Thrown when the path is not tokenIn (20 bytes) + n × (fee 3 bytes + token 20 bytes).
    error MalformedPath(uint256 length);
    /// @notice Thrown when the path starts or ends with a token the vault does not price (the asset or a tracked
    ///         token): the vault's slippage check could not see that side of the swap.
    error UnpricedToken(address token);

    IUniswapV3SwapRouter public immutable router;
    address private immutable _self;

    constructor(IUniswapV3SwapRouter router_) {
        router = router_;
        _self = address(this);
    }

    /// @inheritdoc IVaultAdapter
    function kind() external pure returns (Kind) {
        return Kind.SWAP;
    }

    /// @inheritdoc IVaultAdapter
    function execute(bytes calldata data) external returns (uint256) {
        if (address(this) == _self) revert DelegateCallOnly();
        (bytes memory path, uint256 amountIn, uint256 amountOutMinimum) =
            abi.decode(data, (bytes, uint256, uint256));
        if (path.length < 43 || (path.length - 20) % 23 != 0) revert MalformedPath(path.length);
        // The path starts with tokenIn's 20 bytes (length checked above): the intended truncation.
        // forge-lint: disable-next-line(unsafe-typecast)
        address tokenIn = address(bytes20(path));
        _requirePriced(tokenIn);
        _requirePriced(_lastToken(path));
        IERC20(tokenIn).forceApprove(address(router), amountIn);
        // The vault measures the swap's output from balances (slippage at the oracle), not from this return.
        // slither-disable-next-line unused-return
        router.exactInput(
            IUniswapV3SwapRouter.ExactInputParams({
                path: path,
                recipient: address(this),
                deadline: block.timestamp,
                amountIn: amountIn,
                amountOutMinimum: amountOutMinimum
            })
        );
    }

    /// @dev Run in the vault's context: asks the vault's VaultLogic (review finding 5, issue 19).
    function _requirePriced(address token) internal view {
        if (!IPricedTokens(IHedgedVault(address(this)).logic()).isPriced(token)) revert UnpricedToken(token);
    }

    function _lastToken(bytes memory path) internal pure returns (address token) {
        // The last 20 bytes of a well-formed path (length checked by the caller).
        assembly ("memory-safe") {
            token := shr(96, mload(add(add(path, 32), sub(mload(path), 20))))
        }
    }
}

