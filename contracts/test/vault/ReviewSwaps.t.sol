// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {UniswapV3Adapter} from "../../adapters/UniswapV3Adapter.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IVaultAdapter} from "../../interfaces/IVaultAdapter.sol";
import {IUniswapV3SwapRouter} from "../../interfaces/uniswap/IUniswapV3.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

interface IFactoryLike {
    function createPool(address tokenA, address tokenB, uint24 fee) external returns (address pool);
}

interface IPoolInit {
    function initialize(uint160 sqrtPriceX96) external;
}

interface INpmLike {
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

/// @dev The attacker's worthless token.
contract JunkToken is ERC20 {
    constructor() ERC20("Junk", "JUNK") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @dev A SWAP adapter that trusts its path (what UniswapV3Adapter did before finding 5): for the vault-side check.
contract TrustingSwapAdapter is IVaultAdapter {
    IUniswapV3SwapRouter public immutable router;

    constructor(IUniswapV3SwapRouter router_) {
        router = router_;
    }

    function kind() external pure returns (Kind) {
        return Kind.SWAP;
    }

    function execute(bytes calldata data) external returns (uint256) {
        (bytes memory path, uint256 amountIn) = abi.decode(data, (bytes, uint256));
        IERC20(address(bytes20(path))).approve(address(router), amountIn);
        router.exactInput(
            IUniswapV3SwapRouter.ExactInputParams(path, address(this), block.timestamp, amountIn, 0)
        );
    }
}

/// @notice Review finding 5 (issue 19): the per-swap slippage check saw only USDC and tracked tokens, so a hostile
///         keeper could "swap" the vault's aUSDC into a pool it owns: spent 0, received 0, the check passed, and the
///         vault lost 49 bp of NAV per batch (just under maxLossBps) with 100 % captured by the keeper.
contract ReviewSwapsTest is VaultFixture {
    uint256 internal constant NAV = 3_000_000 * USDC;

    address internal aUsdc;
    JunkToken internal junk;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, NAV);
        _rebalance(_actions(_aave(SUPPLY, usdc, 2_000_000 * USDC)));
        aUsdc = aavePool.getReserveData(usdc).aTokenAddress;
        junk = new JunkToken();
        _ownedPool(); // the keeper's aUSDC/JUNK pool at 1:1, full range
    }

    /// @dev The keeper's pool: 1M aUSDC (supplied to Aave by the keeper) against 1M JUNK, full range.
    function _ownedPool() internal {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), DEVNET_DIR, "deployment.json"));
        address factory = vm.parseJsonAddress(json, ".uniswap.UniswapV3Factory");
        address npm = vm.parseJsonAddress(json, ".uniswap.NonfungiblePositionManager");
        address pool = IFactoryLike(factory).createPool(aUsdc, address(junk), 3000);
        IPoolInit(pool).initialize(uint160(1 << 96));
        _mint(usdc, address(this), 1_000_000 * USDC);
        IERC20(usdc).approve(address(aavePool), type(uint256).max);
        aavePool.supply(usdc, 1_000_000 * USDC, address(this), 0);
        junk.mint(address(this), 1_000_000 * USDC);
        IERC20(aUsdc).approve(npm, type(uint256).max);
        junk.approve(npm, type(uint256).max);
        (address token0, address token1) =
            aUsdc < address(junk) ? (aUsdc, address(junk)) : (address(junk), aUsdc);
        INpmLike(npm)
            .mint(
                INpmLike.MintParams(
                    token0,
                    token1,
                    3000,
                    -887_220,
                    887_220,
                    999_000 * USDC,
                    999_000 * USDC,
                    0,
                    0,
                    keeper,
                    block.timestamp
                )
            );
    }

    function _junkSwap(address adapter, uint256 amount) internal view returns (IHedgedVault.Action memory) {
        bytes memory path = abi.encodePacked(aUsdc, uint24(3000), address(junk));
        return IHedgedVault.Action(adapter, abi.encode(path, amount, uint256(0)));
    }

    /// @dev Finding 5 PoC: 49 bp of NAV in aUSDC swapped for JUNK through the Uniswap adapter must be refused.
    function testSwapOfUnpricedATokenRefused() public {
        uint256 amount = NAV * 49 / 10_000;
        uint256 navBefore = vault.totalAssets();
        vm.prank(keeper);
        try vault.rebalance(_actions(_junkSwap(address(uniAdapter), amount)), _noIds()) {
            assertTrue(false, "aUSDC swapped into the keeper's pool: NAV lost unseen by the slippage check");
        } catch (bytes memory reason) {
            bytes memory expected = abi.encodeWithSelector(
                IHedgedVault.AdapterCallFailed.selector,
                0,
                abi.encodeWithSelector(UniswapV3Adapter.UnpricedToken.selector, aUsdc)
            );
            assertEq(reason, expected);
        }
        assertEq(vault.totalAssets(), navBefore);
        assertEq(junk.balanceOf(address(vault)), 0);
    }

    /// @dev An unpriced output (USDC → JUNK) is refused by the adapter too (before: the slippage check caught it).
    function testSwapIntoUnpricedTokenRefusedByAdapter() public {
        bytes memory path = abi.encodePacked(usdc, uint24(3000), address(junk));
        IHedgedVault.Action memory a =
            IHedgedVault.Action(address(uniAdapter), abi.encode(path, 1000 * USDC, 0));
        vm.prank(keeper);
        vm.expectRevert(
            abi.encodeWithSelector(
                IHedgedVault.AdapterCallFailed.selector,
                0,
                abi.encodeWithSelector(UniswapV3Adapter.UnpricedToken.selector, address(junk))
            )
        );
        vault.rebalance(_actions(a), _noIds());
    }

    /// @dev The vault's own backstop, whatever the SWAP adapter: a swap must spend a priced token (spent > 0).
    function testSwapSpendingNothingPricedRefusedByVault() public {
        TrustingSwapAdapter trusting = new TrustingSwapAdapter(IUniswapV3SwapRouter(swapRouter));
        _timelocked(abi.encodeCall(IHedgedVault.setAdapter, (address(trusting), true)));
        uint256 amount = NAV * 49 / 10_000;
        IHedgedVault.Action memory a = _junkSwap(address(trusting), amount);
        a.data = abi.encode(abi.encodePacked(aUsdc, uint24(3000), address(junk)), amount);
        vm.prank(keeper);
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.SwapSpentNothingPriced.selector, 0));
        vault.rebalance(_actions(a), _noIds());
    }

    /// @dev Legitimate swaps are unaffected: USDC → WETH through the devnet pool.
    function testPricedSwapStillWorks() public {
        _rebalance(_actions(_swap(usdc, weth, 10_000 * USDC)));
        assertGt(IERC20(weth).balanceOf(address(vault)), 0);
    }
}
