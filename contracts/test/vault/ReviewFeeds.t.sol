// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultLogic} from "../../vault/VaultLogic.sol";
import {VaultLogicFactory} from "../../vault/VaultLogicFactory.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Review findings 6 and 7 (issue 19): a feed that reverts, or the asset feed answering ≤ 0, must not stop
///         exits; governance (through the timelock) re-points or retires the feed, and full value comes back.
contract ReviewFeedsTest is VaultFixture {
    uint256 internal constant NAV = 3_000_000 * USDC;
    uint256 internal constant WETH = 1e18;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, NAV);
        // A position, so that NAV depends on the feeds: 2M USDC on Aave, 200 WETH borrowed and sold.
        _rebalance(_hedge(2_000_000 * USDC, 200 * WETH));
    }

    function _killFeed(address feed) internal {
        vm.mockCallRevert(feed, abi.encodeWithSelector(IAggregatorV3.latestRoundData.selector), "dead");
    }

    /// @dev Finding 6 PoC: WBTC's feed reverts (the vault holds no WBTC); alice still exits, 30 days later too.
    function testExitsWorkWhenTrackedFeedReverts() public {
        _killFeed(address(wbtcFeed));
        uint256 total = vault.totalAssets();
        assertGt(total, 2_900_000 * USDC, "a feed of a token not held moves no value");
        _warp(30 days);
        vm.prank(alice);
        vault.withdraw(100_000 * USDC, alice, alice);
        assertEq(IERC20(usdc).balanceOf(alice), 100_000 * USDC);
        uint256 shares = vault.maxRedeem(alice);
        vm.prank(alice);
        vault.redeem(shares, alice, alice);
        assertEq(vault.maxDeposit(alice), 0, "no entry on a dead feed");
    }

    /// @dev A dead WETH feed while the vault owes WETH on Aave: exits use Aave's oracle for WETH (the price Aave
    ///      values the debt with), so the exit price is unchanged.
    function testExitPricesDeadTokenFeedWithAaveOracle() public {
        uint256 before = vault.totalAssets();
        _killFeed(address(wethFeed));
        // Same NAV through the fallback, up to the worse-of-TWAP rule for a token without a fresh price (issue 19
        // item 7: Aave's price or the pool's TWAP, whichever pays an exit less; the TWAP's tick is 1 bp): never more.
        assertLe(vault.totalAssets(), before + 1, "never more than at the feed");
        assertApproxEqRel(vault.totalAssets(), before, 0.00001e18, "same NAV through the fallback, to 1e-5");
        vm.prank(alice);
        vault.withdraw(50_000 * USDC, alice, alice);
        // Keeper batches and entries still demand the feed itself.
        bytes memory ret = _revertData(
            keeper, abi.encodeCall(vault.rebalance, (_actions(_aave(SUPPLY, usdc, USDC)), _noIds()))
        );
        assertEq(_selector(ret), IHedgedVault.StalePrice.selector);
    }

    /// @dev Finding 7 PoC: the USDC feed answers 0 (then −1) with a position open: withdraw(1 USDC) worked never.
    function testExitsWorkWhenAssetFeedAnswersZeroOrNegative() public {
        uint256 before = vault.totalAssets();
        vm.mockCall(
            address(usdcFeed),
            abi.encodeWithSelector(IAggregatorV3.latestRoundData.selector),
            abi.encode(uint80(1), int256(0), block.timestamp, block.timestamp, uint80(1))
        );
        vm.prank(alice);
        vault.withdraw(USDC, alice, alice);
        assertApproxEqRel(vault.totalAssets(), before, 1e15, "Aave's USDC price stands in");
        vm.mockCall(
            address(usdcFeed),
            abi.encodeWithSelector(IAggregatorV3.latestRoundData.selector),
            abi.encode(uint80(1), int256(-1), block.timestamp, block.timestamp, uint80(1))
        );
        vm.prank(alice);
        vault.withdraw(USDC, alice, alice);
        assertEq(IERC20(usdc).balanceOf(alice), 2 * USDC);
    }

    /// @dev Both the feed and Aave's oracle dead for the asset: positions count as nothing, exits still pay (less).
    function testExitsWorkWhenAssetHasNoPriceAnywhere() public {
        _killFeed(address(usdcFeed));
        vm.mockCallRevert(address(aavePool), abi.encodeWithSignature("ADDRESSES_PROVIDER()"), "dead");
        assertEq(vault.totalAssets(), vault.idleAssets(), "positions written down to zero for exits");
        uint256 max = vault.maxWithdraw(alice);
        assertGt(max, 0);
        vm.prank(alice);
        vault.withdraw(max, alice, alice);
    }

    /// @dev Fee changes (which accrue first) go through on a dead feed too.
    function testSetFeeParamsWorksWhenFeedReverts() public {
        _killFeed(address(wbtcFeed));
        _timelocked(abi.encodeCall(vault.setFeeParams, (_defaultFees())));
    }

    /* GOVERNANCE PATH */

    function testGovernanceRepointsAssetFeed() public {
        _killFeed(address(usdcFeed));
        address fresh = address(wethFeed); // any live feed answers; a real replacement would be a new USDC feed
        _timelocked(abi.encodeCall(vault.setAssetFeed, (IAggregatorV3(fresh))));
        assertEq(address(vault.assetFeed()), fresh);
    }

    function testSetAssetFeedRefusesDeadFeed() public {
        _killFeed(address(wbtcFeed));
        vm.prank(address(timelock));
        vm.expectRevert();
        vault.setAssetFeed(IAggregatorV3(address(wbtcFeed)));
    }

    function testGovernanceRepointsTrackedTokenFeedAndEntriesResume() public {
        _killFeed(address(wbtcFeed));
        assertEq(vault.maxDeposit(bob), 0);
        // A replacement feed: a fresh PriceFeed would do; here the live WETH feed's address stands in only for
        // liveness, so it is then mocked at WBTC's price.
        address replacement = makeAddr("newWbtcFeed");
        vm.etch(replacement, address(wbtcFeed).code);
        vm.mockCall(
            replacement,
            abi.encodeWithSelector(IAggregatorV3.latestRoundData.selector),
            abi.encode(uint80(1), int256(_priceE8(wbtc)), block.timestamp, block.timestamp, uint80(1))
        );
        vm.mockCall(
            replacement, abi.encodeWithSelector(IAggregatorV3.decimals.selector), abi.encode(uint8(8))
        );
        vm.prank(address(timelock));
        vault.setTrackedTokenFeed(IHedgedVault.TrackedToken(wbtc, replacement, wbtcPool, 8));
        assertEq(vault.trackedTokens()[1].feed, replacement);
        assertGt(vault.maxDeposit(bob), 0, "entries resume on the new feed");
    }

    function testGovernanceRetiresTrackedToken() public {
        _killFeed(address(wbtcFeed));
        vm.expectEmit(address(vault));
        emit IHedgedVault.TokenRetired(wbtc, 0);
        vm.prank(address(timelock));
        vault.removeTrackedToken(wbtc);
        IHedgedVault.TrackedToken[] memory list = vault.trackedTokens();
        assertEq(list.length, 1);
        assertEq(list[0].token, weth);
        assertGt(vault.maxDeposit(bob), 0, "entries resume without the dead token");
        _rebalance(_actions(_aave(SUPPLY, usdc, USDC)));
    }

    function testRetireAndRepointRefuseUntrackedToken() public {
        vm.startPrank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.TokenNotTracked.selector, usdc));
        vault.removeTrackedToken(usdc);
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.TokenNotTracked.selector, alice));
        vault.setTrackedTokenFeed(IHedgedVault.TrackedToken(alice, address(wethFeed), address(0), 18));
        vm.stopPrank();
    }

    function testFeedSettersAreGovernanceOnly() public {
        vm.startPrank(keeper);
        vm.expectRevert();
        vault.setAssetFeed(IAggregatorV3(address(wethFeed)));
        vm.expectRevert();
        vault.removeTrackedToken(wbtc);
        vm.stopPrank();
    }

    /// @dev The split for EIP-3860: a VaultLogic is bound to whoever asked the factory for it, and a vault refuses a
    ///      factory that hands it a logic serving someone else.
    function testVaultRefusesLogicNotBoundToIt() public {
        VaultLogicFactory factory = VaultLogicFactory(logicFactory);
        VaultLogic mine = factory.create(address(usdc), IAggregatorV3(address(usdcFeed)));
        assertEq(mine.vault(), address(this));
        assertEq(address(mine.aavePool()), address(aavePool));
        LyingFactory liar = new LyingFactory(mine);
        bytes memory args = abi.encode(
            usdc,
            "x",
            "x",
            IAggregatorV3(address(usdcFeed)),
            address(timelock),
            guardian,
            keeper,
            _defaultRisk(),
            _defaultFees(),
            type(uint256).max,
            address(liar)
        );
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidLogic.selector, address(mine)));
        this.deployVault(args);
    }

    function deployVault(bytes memory args) external returns (address) {
        return vm.deployCode("contracts/vault/HedgedVault.sol:HedgedVault", args);
    }
}

/// @dev A factory that returns an existing logic (bound to another caller) instead of creating one.
contract LyingFactory {
    VaultLogic internal immutable _logic;

    constructor(VaultLogic logic_) {
        _logic = logic_;
    }

    function create(address, IAggregatorV3) external view returns (VaultLogic) {
        return _logic;
    }
}
