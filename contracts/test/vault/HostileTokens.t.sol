// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {PriceFeed} from "../../feeds/PriceFeed.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {
    BlocklistERC20,
    FeeOnTransferERC20,
    HostileERC20Base,
    MissingReturnERC20,
    ReturnsFalseERC20
} from "../mocks/HostileERC20.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

interface IUniswapV3FactoryLike {
    function createPool(address tokenA, address tokenB, uint24 fee) external returns (address pool);
}

interface IUniswapV3PoolInit {
    function initialize(uint160 sqrtPriceX96) external;
    function increaseObservationCardinalityNext(uint16 observationCardinalityNext) external;
}

interface INonfungiblePositionManagerLike {
    struct MintParams {
        address token0;
        address token1;
        uint24 fee;
        int24 tickLower;
        int24 tickUpper;
        uint256 amount0Desired;
        uint256 amount1Desired;
        uint256 amount0Min;
        uint256 amount1Min;
        address recipient;
        uint256 deadline;
    }

    function mint(MintParams calldata params)
        external
        payable
        returns (uint256 tokenId, uint128 liquidity, uint256 amount0, uint256 amount1);
}

/// @notice Hostile ERC-20s as the vault asset (missing return values, `false` returns, fee on transfer, a
///         blocklist) and as a tracked token swapped through a real Uniswap v3 pool: handled or refused, never a
///         silent loss.
contract HostileTokensTest is VaultFixture {
    function setUp() public {
        _loadDevnet();
    }

    function _vaultOver(HostileERC20Base token) internal {
        _deployVault(IERC20Metadata(address(token)), _defaultRisk(), _defaultFees(), type(uint256).max, false);
    }

    function testMissingReturnAssetWorksEndToEnd(uint256 assets) public {
        assets = bound(assets, 2, 1e15);
        MissingReturnERC20 token = new MissingReturnERC20();
        _vaultOver(token);
        token.mint(alice, assets);
        vm.startPrank(alice);
        token.approve(address(vault), assets);
        uint256 shares = vault.deposit(assets, alice);
        vault.withdraw(assets / 2, alice, alice);
        uint256 id = vault.requestRedeem(vault.balanceOf(alice), alice, alice);
        vm.stopPrank();
        vm.prank(keeper);
        vault.fulfilRedeems(_ids(id));
        assertGt(shares, 0);
        assertApproxEqAbs(token.balanceOf(alice), assets, 1, "everything back, to rounding");
        assertEq(vault.totalSupply(), 0);
    }

    function testReturnsFalseAssetRefusesFailedPull() public {
        ReturnsFalseERC20 token = new ReturnsFalseERC20();
        _vaultOver(token);
        token.mint(alice, 1000 * USDC); // no allowance: transferFrom returns false
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        vm.prank(alice);
        vault.deposit(1000 * USDC, alice);
    }

    function testReturnsFalseAssetWithdrawToBlockedReceiverReverts() public {
        ReturnsFalseERC20 token = new ReturnsFalseERC20();
        _vaultOver(token);
        _deposit(alice, 1000 * USDC);
        token.setBlocked(bob, true);
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        vm.prank(alice);
        vault.withdraw(100 * USDC, bob, alice);
    }

    function testReturnsFalseAssetFulfilBouncesBlockedReceiver() public {
        ReturnsFalseERC20 token = new ReturnsFalseERC20();
        _vaultOver(token);
        uint256 shares = _deposit(alice, 1000 * USDC);
        token.setBlocked(bob, true);
        vm.prank(alice);
        uint256 id = vault.requestRedeem(shares, bob, alice);
        vm.expectEmit(address(vault));
        emit IHedgedVault.RedeemCancelled(id, alice, shares, true);
        vm.prank(keeper);
        vault.fulfilRedeems(_ids(id));
        assertEq(vault.balanceOf(alice), shares, "shares back to the owner");
        assertEq(token.balanceOf(address(vault)), 1000 * USDC, "nothing left the vault");
    }

    function testBlocklistAssetFulfilBouncesAndOthersArePaid() public {
        BlocklistERC20 token = new BlocklistERC20();
        _vaultOver(token);
        uint256 aliceShares = _deposit(alice, 1000 * USDC);
        uint256 bobShares = _deposit(bob, 1000 * USDC);
        address blocked = makeAddr("blocked");
        token.setBlocked(blocked, true);
        vm.prank(alice);
        uint256 first = vault.requestRedeem(aliceShares, blocked, alice);
        vm.prank(bob);
        uint256 second = vault.requestRedeem(bobShares, bob, bob);
        uint256[] memory ids = new uint256[](2);
        (ids[0], ids[1]) = (first, second);
        vm.prank(keeper);
        vault.fulfilRedeems(ids);
        assertEq(vault.balanceOf(alice), aliceShares);
        assertApproxEqAbs(token.balanceOf(bob), 1000 * USDC, 1);
        assertEq(vault.firstPendingRedeem(), 2);
        assertEq(vault.escrowedShares(), 0);
    }

    function testFeeOnTransferAssetRefused(uint256 assets) public {
        assets = bound(assets, 100, 1e15);
        FeeOnTransferERC20 token = new FeeOnTransferERC20(100); // 1 %
        _vaultOver(token);
        token.mint(alice, assets);
        vm.startPrank(alice);
        token.approve(address(vault), assets);
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.AssetsNotReceived.selector, assets, assets - assets / 100)
        );
        vault.deposit(assets, alice);
        vm.stopPrank();
    }

    /// @dev A USDT-like tracked token (no return values, approve-race guard) sold through a real Uniswap v3 pool
    ///      by the vault's adapter: forceApprove handles it and the allowance is spent exactly.
    function testMissingReturnTrackedTokenSwapsThroughRealPool() public {
        _deployVault();
        _deposit(alice, 1_000_000 * USDC);
        MissingReturnERC20 token = new MissingReturnERC20();
        address pool = _dollarPool(address(token));
        PriceFeed feed = new PriceFeed(8, "MISSING / USD", 1e8, feeder);
        feedOf[address(token)] = feed;
        vm.prank(address(timelock));
        vault.addTrackedToken(IHedgedVault.TrackedToken(address(token), address(feed), pool, 6));
        _advance(700); // the new pool's TWAP window
        vm.prank(feeder);
        feed.submit(1e8);
        token.mint(address(vault), 20_000 * USDC);
        for (uint256 i; i < 2; ++i) {
            // twice: the second approve would hit the race guard if an allowance were left over
            bytes memory path = abi.encodePacked(address(token), uint24(3000), usdc);
            _rebalance(
                _actions(
                    IHedgedVault.Action(address(uniAdapter), abi.encode(path, 10_000 * USDC, uint256(0)))
                )
            );
        }
        assertEq(token.balanceOf(address(vault)), 0);
        assertEq(token.allowance(address(vault), swapRouter), 0);
        assertGe(IERC20(usdc).balanceOf(address(vault)), 1_000_000 * USDC + 19_900 * USDC);
    }

    /// @dev A $1 pool of `token` against USDC (fee 0.3 %, full range, 10M each side), by the real factory and NPM.
    function _dollarPool(address token) internal returns (address pool) {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), DEVNET_DIR, "deployment.json"));
        address factory = vm.parseJsonAddress(json, ".uniswap.UniswapV3Factory");
        address npm = vm.parseJsonAddress(json, ".uniswap.NonfungiblePositionManager");
        pool = IUniswapV3FactoryLike(factory).createPool(token, usdc, 3000);
        IUniswapV3PoolInit(pool).initialize(uint160(1 << 96)); // raw price 1: both tokens have 6 decimals
        IUniswapV3PoolInit(pool).increaseObservationCardinalityNext(50); // TWAP history beyond the last swap
        (address token0, address token1) = token < usdc ? (token, usdc) : (usdc, token);
        MissingReturnERC20(token).mint(address(this), 10_000_000 * USDC);
        _mint(usdc, address(this), 10_000_000 * USDC);
        MissingReturnERC20(token).approve(npm, type(uint256).max);
        IERC20(usdc).approve(npm, type(uint256).max);
        INonfungiblePositionManagerLike(npm)
            .mint(
                INonfungiblePositionManagerLike.MintParams({
                token0: token0,
                token1: token1,
                fee: 3000,
                tickLower: -887_220,
                tickUpper: 887_220,
                amount0Desired: 10_000_000 * USDC,
                amount1Desired: 10_000_000 * USDC,
                amount0Min: 0,
                amount1Min: 0,
                recipient: address(this),
                deadline: block.timestamp
            })
            );
    }

    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC721Received.selector;
    }
}
