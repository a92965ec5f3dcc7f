// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

import {PriceFeed} from "../../feeds/PriceFeed.sol";
import {IAavePool} from "../../interfaces/aave/IAavePool.sol";
import {IUniswapV3Pool} from "../../interfaces/uniswap/IUniswapV3.sol";
import {IMintableERC20, ISwapRouterSingle, IUniswapV3PoolSlot0, IWETH9} from "./DevnetInterfaces.sol";

/// @notice The devnet in-process: the real Aave v3 and Uniswap v3 (npm bytecode, as deployed by keeper/devnet), its
///         feeds and tokens, loaded with `vm.loadAllocs` from `var/devnet/forge/` (written by
///         `contracts/test/utils/devnet_allocs.py`, which `make forge-test` runs first). Prices move only through the
///         real `PriceFeed.submit` and real swaps through the SwapRouter.
abstract contract DevnetFixture is Test {
    string internal constant DEVNET_DIR = "/var/devnet/forge/";
    uint256 internal constant BLOCK_SECONDS = 12;

    address internal usdc;
    address internal weth;
    address internal wbtc;
    PriceFeed internal usdcFeed;
    PriceFeed internal wethFeed;
    PriceFeed internal wbtcFeed;
    IAavePool internal aavePool;
    address internal swapRouter;
    address internal feeder; // the devnet admin: FEEDER_ROLE on every feed
    address internal wethPool;
    address internal wbtcPool;
    address internal maker = makeAddr("marketMaker");
    mapping(address token => address pool) internal poolOf;
    mapping(address token => PriceFeed feed) internal feedOf;
    mapping(address token => uint8 decimals) internal decimalsOf;

    /// @dev Loads the devnet and moves time 15 minutes past the dump (so Uniswap TWAP windows are filled).
    function _loadDevnet() internal {
        string memory json = _readDevnet();
        vm.loadAllocs(string.concat(vm.projectRoot(), DEVNET_DIR, "allocs.json"));
        vm.warp(vm.parseJsonUint(json, ".forge.timestamp") + 900);
        vm.roll(vm.parseJsonUint(json, ".forge.block_number") + 75);
        _refreshFeeds();
    }

    /// @dev The devnet's addresses from its deployment record (no state loaded: for handlers of a loaded test).
    function _readDevnet() internal returns (string memory json) {
        string memory recordPath = string.concat(vm.projectRoot(), DEVNET_DIR, "deployment.json");
        if (!vm.exists(recordPath)) {
            revert(
                "devnet allocs missing: run `make forge-test` (or python contracts/test/utils/devnet_allocs.py)"
            );
        }
        json = vm.readFile(recordPath);
        usdc = vm.parseJsonAddress(json, ".tokens.USDC.address");
        weth = vm.parseJsonAddress(json, ".tokens.WETH.address");
        wbtc = vm.parseJsonAddress(json, ".tokens.WBTC.address");
        usdcFeed = PriceFeed(vm.parseJsonAddress(json, ".feeds.USDC"));
        wethFeed = PriceFeed(vm.parseJsonAddress(json, ".feeds.WETH"));
        wbtcFeed = PriceFeed(vm.parseJsonAddress(json, ".feeds.WBTC"));
        aavePool = IAavePool(vm.parseJsonAddress(json, ".aave.Pool"));
        swapRouter = vm.parseJsonAddress(json, ".uniswap.SwapRouter");
        wethPool = vm.parseJsonAddress(json, ".uniswap.pools['WETH/USDC'].address");
        wbtcPool = vm.parseJsonAddress(json, ".uniswap.pools['WBTC/USDC'].address");
        feeder = vm.parseJsonAddress(json, ".accounts.admin");
        (poolOf[weth], poolOf[wbtc]) = (wethPool, wbtcPool);
        (feedOf[usdc], feedOf[weth], feedOf[wbtc]) = (usdcFeed, wethFeed, wbtcFeed);
        (decimalsOf[usdc], decimalsOf[weth], decimalsOf[wbtc]) = (6, 18, 8);
        vm.label(usdc, "USDC");
        vm.label(weth, "WETH");
        vm.label(wbtc, "WBTC");
        vm.label(address(aavePool), "AavePool");
        vm.label(swapRouter, "SwapRouter");
        vm.label(wethPool, "WETH/USDC pool");
        vm.label(wbtcPool, "WBTC/USDC pool");
    }

    /* TOKENS */

    /// @dev Real mints: Aave's MintableERC20 has an open `mint`; WETH is wrapped from dealt ETH.
    function _mint(address token, address to, uint256 amount) internal {
        if (token == weth) {
            vm.deal(to, to.balance + amount);
            vm.prank(to);
            IWETH9(weth).deposit{value: amount}();
        } else {
            IMintableERC20(token).mint(to, amount);
        }
    }

    /* ORACLE */

    function _priceE8(address token) internal view returns (uint256) {
        return uint256(feedOf[token].latestAnswer());
    }

    function _setPrice(address token, uint256 priceE8) internal {
        vm.prank(feeder);
        feedOf[token].submit(int256(priceE8));
    }

    /// @dev A new round with the same answer on every feed (as a live feed's heartbeat would write).
    function _refreshFeeds() internal {
        _setPrice(usdc, _priceE8(usdc));
        _setPrice(weth, _priceE8(weth));
        _setPrice(wbtc, _priceE8(wbtc));
    }

    /* UNISWAP */

    /// @dev Pool sqrtPriceX96 at `priceE8` USDC per whole token (raw price = token1 raw per token0 raw).
    function _sqrtPriceX96(address token, uint256 priceE8) internal view returns (uint160) {
        // raw·2^192 = 10^dec·1e8/(priceE8·1e6)·2^192 when USDC is token0, its inverse otherwise.
        uint256 unit = 10 ** (uint256(decimalsOf[token]) + 2);
        uint256 rawX192 = usdc < token
            ? FixedPointMathLib.fullMulDiv(unit, 1 << 192, priceE8)
            : FixedPointMathLib.fullMulDiv(priceE8, 1 << 192, unit);
        return uint160(FixedPointMathLib.sqrt(rawX192));
    }

    function _poolPriceE8(address token) internal view returns (uint256) {
        (uint160 sqrtP,,,,,,) = IUniswapV3PoolSlot0(poolOf[token]).slot0();
        uint256 rawX192 = uint256(sqrtP) * uint256(sqrtP);
        uint256 unit = 10 ** (uint256(decimalsOf[token]) + 2);
        return usdc < token
            ? FixedPointMathLib.fullMulDiv(unit, 1 << 192, rawX192)
            : FixedPointMathLib.fullMulDiv(rawX192, unit, 1 << 192);
    }

    /// @dev A real arbitrage swap by the market maker through the SwapRouter, stopping exactly at `priceE8`.
    function _movePool(address token, uint256 priceE8) internal {
        address pool = poolOf[token];
        uint160 target = _sqrtPriceX96(token, priceE8);
        (uint160 current,,,,,,) = IUniswapV3PoolSlot0(pool).slot0();
        if (current == target) return;
        bool zeroForOne = target < current; // selling token0 lowers token1-per-token0
        (address token0, address token1) = usdc < token ? (usdc, token) : (token, usdc);
        address tokenIn = zeroForOne ? token0 : token1;
        uint256 amountIn = 1e30; // the router pulls only what reaching `target` needs
        _mint(tokenIn, maker, amountIn);
        vm.startPrank(maker);
        (bool ok,) = tokenIn.call(abi.encodeWithSignature("approve(address,uint256)", swapRouter, amountIn));
        require(ok, "approve");
        ISwapRouterSingle(swapRouter)
            .exactInputSingle(
                ISwapRouterSingle.ExactInputSingleParams({
                tokenIn: tokenIn,
                tokenOut: zeroForOne ? token1 : token0,
                fee: IUniswapV3PoolSlot0(pool).fee(),
                recipient: maker,
                deadline: block.timestamp,
                amountIn: amountIn,
                amountOutMinimum: 0,
                sqrtPriceLimitX96: target
            })
            );
        vm.stopPrank();
    }

    /// @dev Oracle and pool together, as arbitrage keeps them.
    function _setMarketPrice(address token, uint256 priceE8) internal {
        _setPrice(token, priceE8);
        _movePool(token, priceE8);
    }

    /// @dev Uniswap TWAP tick over `window` seconds (rounded toward −∞, as OracleLibrary does).
    function _twapTick(address token, uint32 window) internal view returns (int256 tick) {
        uint32[] memory ago = new uint32[](2);
        ago[0] = window;
        (int56[] memory cumulatives,) = IUniswapV3Pool(poolOf[token]).observe(ago);
        int56 delta = cumulatives[1] - cumulatives[0];
        tick = int256(delta) / int256(uint256(window));
        if (delta < 0 && int256(delta) % int256(uint256(window)) != 0) tick--;
    }

    /* TIME */

    /// @dev Move chain time (and blocks, 12 s each) without touching the feeds.
    function _warp(uint256 seconds_) internal {
        vm.warp(block.timestamp + seconds_);
        vm.roll(block.number + (seconds_ + BLOCK_SECONDS - 1) / BLOCK_SECONDS);
    }

    /// @dev Move time, then write fresh rounds on every feed (prices unchanged).
    function _advance(uint256 seconds_) internal {
        _warp(seconds_);
        _refreshFeeds();
    }
}
