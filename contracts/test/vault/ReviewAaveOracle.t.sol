// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IAaveAddressesProvider, IAaveOracle} from "../../interfaces/aave/IAaveOracle.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Issue 19 item 6a: the vault valued its Aave account with Aave's oracle (getUserAccountData) and the
///         rest with its own feeds, so Aave's oracle diverging from the vault's feeds was a NAV error of divergence ×
///         the Aave position (the NAV invariant measured 303 USDC against a 3 USDC rounding tolerance). Each reserve
///         is now valued at the vault's feeds (aToken / variable-debt balances × feed); the health factor guard stays
///         on Aave's own numbers, which are what liquidates.
contract ReviewAaveOracleTest is VaultFixture {
    uint256 internal constant NAV = 3_000_000 * USDC;
    uint256 internal constant WETH = 1e18;

    address internal aaveOracle;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, NAV);
        aaveOracle = IAaveAddressesProvider(aavePool.ADDRESSES_PROVIDER()).getPriceOracle();
        // The hedge: 2M USDC supplied, 300 WETH (900k USDC) borrowed and sold.
        _rebalance(_hedge(2_000_000 * USDC, 300 * WETH));
    }

    /// @dev Aave's oracle answers WETH `bps` away from the vault's feed (the feed itself does not move).
    function _divergeAaveWeth(uint256 bps, bool up) internal {
        uint256 feed = _priceE8(weth);
        uint256 aave = up ? feed * (10_000 + bps) / 10_000 : feed * (10_000 - bps) / 10_000;
        vm.mockCall(aaveOracle, abi.encodeCall(IAaveOracle.getAssetPrice, (weth)), abi.encode(aave));
    }

    /// @dev The PoC: ±300 bp of divergence on the 900k WETH debt moved NAV by ∓27,000 USDC before the fix; the
    ///      vault's feeds did not move, so NAV must not either (1 unit of Aave index rounding).
    function testNavIgnoresAaveOracleDivergence(uint256 bps, bool up) public {
        bps = bound(bps, 1, 300);
        uint256 before = vault.totalAssets();
        _divergeAaveWeth(bps, up);
        assertApproxEqAbs(vault.totalAssets(), before, 1, "NAV at the vault's feeds, not Aave's oracle");
    }

    /// @dev The NAV is each reserve at the vault's feed: aUSDC − USDC debt + (aWETH − WETH debt) × WETH feed + idle.
    function testNavIsEachReserveAtTheVaultsFeeds() public view {
        (address aUsdc,, address dUsdc) = _reserveTokens(usdc);
        (address aWeth,, address dWeth) = _reserveTokens(weth);
        uint256 usdcUnits = IERC20(usdc).balanceOf(address(vault)) + IERC20(aUsdc).balanceOf(address(vault))
            - IERC20(dUsdc).balanceOf(address(vault));
        uint256 wethDebtUsdc =
            (IERC20(dWeth).balanceOf(address(vault)) - IERC20(aWeth).balanceOf(address(vault)))
                * _priceE8(weth) / 1e8 * USDC / WETH;
        assertApproxEqAbs(vault.totalAssets(), usdcUnits - wethDebtUsdc, 2);
    }

    /// @dev The health factor guard uses Aave's numbers: with Aave's WETH price 5 % up, a borrow whose health factor
    ///      is 1.33 at the vault's feed (above the 1.3 floor) is 1.27 on Aave's numbers, and refused.
    function testHealthFactorGuardUsesAavesOracle() public {
        // 2M USDC at LT 0.8 = 1.6M; debt 300 WETH + 101 more = 401 WETH = 1.203M at the feed: HF 1.33.
        IHedgedVault.Action[] memory more = _actions(_aave(BORROW, weth, 101 * WETH));
        uint256 snap = vm.snapshotState();
        _rebalance(more); // passes at the feed's price
        vm.revertToState(snap);
        _divergeAaveWeth(500, true);
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (more, _noIds())));
        assertEq(_selector(ret), IHedgedVault.HealthFactorBelowFloor.selector);
    }

    /// @dev Retiring a token the vault still owes on Aave would drop the debt from NAV: refused, naming the debt.
    function testRemoveTrackedTokenRefusedWhileOwedOnAave() public {
        (,, address dWeth) = _reserveTokens(weth);
        uint256 owed = IERC20(dWeth).balanceOf(address(vault));
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.TrackedTokenOwed.selector, weth, owed));
        vault.removeTrackedToken(weth);
    }

    function _reserveTokens(address token) internal view returns (address a, address s, address d) {
        (a, s, d) =
        (
            aavePool.getReserveData(token).aTokenAddress,
            aavePool.getReserveData(token).stableDebtTokenAddress,
            aavePool.getReserveData(token).variableDebtTokenAddress
        );
    }
}
