// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultLogic} from "../../vault/VaultLogic.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Issue 19, item 7: exits ignore oracle freshness (they move no risk), so a redeemer could exit at a
///         stale-high NAV: what they take from the holders who stay is (their share of the supply) × (the vault's
///         exposure to the stale-priced token) × (the price error), and nothing can buy at the stale price
///         (deposits and batches require fresh feeds). Bounded: while a tracked token's feed is stale, exits price
///         it at the worse, for the redeemer, of the stale answer and its pool's TWAP (VaultLogic.navNow), so the
///         error left is the one the pool shares (none when the pool follows the market).
contract ReviewStaleExitsTest is VaultFixture {
    uint256 internal constant WETH = 1e18;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, 3_000_000 * USDC);
        _deposit(bob, 1_000_000 * USDC);
        _rebalance(_actions(_swap(usdc, weth, 1_000_000 * USDC))); // the vault holds ~1M of WETH
    }

    function testRedeemAtStaleHighNavTakesShareTimesExposureTimesError(uint256 dropBps) public {
        dropBps = bound(dropBps, 100, 3000);
        uint256 wethHeld = IERC20(weth).balanceOf(address(vault));
        uint256 stale = _priceE8(weth);
        uint256 fair = stale * (10_000 - dropBps) / 10_000;
        // The WETH feed stops (no round for 2 h: stale), the market falls by dropBps; the other feeds keep writing.
        _warp(2 hours);
        _setPrice(usdc, _priceE8(usdc));
        _setPrice(wbtc, _priceE8(wbtc));
        // (The market is at `fair` but the pool has not followed it: its TWAP is the stale price too, the worst case.)
        // Nobody can buy at the stale price.
        _mint(usdc, address(this), 1000 * USDC);
        IERC20(usdc).approve(address(vault), 1000 * USDC);
        vm.expectRevert();
        vault.deposit(1000 * USDC, address(this));
        assertEq(vault.maxDeposit(address(this)), 0);
        // Bob exits at the stale NAV.
        uint256 shares = vault.balanceOf(bob);
        uint256 supply = vault.totalSupply();
        uint256 staleNav = vault.totalAssets();
        uint256 errorAssets = wethHeld * (stale - fair) / 1e8 * USDC / WETH; // exposure × error, USDC units
        assertEq(vault.maxRedeem(bob), shares, "bob's exit fits in idle");
        vm.prank(bob);
        uint256 paid = vault.redeem(shares, bob, bob);
        uint256 fairPay = shares * (staleNav - errorAssets) / supply;
        uint256 gain = paid - fairPay;
        uint256 bound_ = shares * errorAssets / supply;
        emit log_named_uint("redeemer's gain over the fair price (USDC)", gain / USDC);
        emit log_named_uint("share x exposure x error (USDC)", bound_ / USDC);
        assertApproxEqRel(gain, bound_, 0.02e18, "gain = share x exposure x error");
        assertLe(gain, bound_ * 1.02e18 / 1e18 + 10 * USDC);
    }

    /// @dev WETH's feed stops for 2 h while the market (and the pool, by arbitrage) falls `dropBps`: a redeemer is
    ///      paid at the TWAP (fair) price, not at the stale one. On the code before the bound: +34,021 USDC at 13.6 %.
    function testRedeemDuringStalenessPricedAtTheWorseOfFeedAndTwap(uint256 dropBps) public {
        dropBps = bound(dropBps, 100, 3000);
        uint256 wethHeld = IERC20(weth).balanceOf(address(vault));
        uint256 stale = _priceE8(weth);
        uint256 fair = stale * (10_000 - dropBps) / 10_000;
        _movePool(weth, fair); // the pool follows the market; the feed does not
        _warp(2 hours); // > heartbeat and > the TWAP window: the TWAP is at `fair`
        _setPrice(usdc, _priceE8(usdc));
        _setPrice(wbtc, _priceE8(wbtc));
        (, bool fresh) = VaultLogic(vault.logic()).navNow();
        assertFalse(fresh);
        uint256 shares = vault.balanceOf(bob);
        // NAV with WETH at the fair price (the stale NAV less exposure × error), bob's share of it.
        uint256 fairPay =
            shares * (_staleNav() - wethHeld * (stale - fair) / 1e8 * USDC / WETH) / vault.totalSupply();
        uint256 tolerance = wethHeld * fair / 1e8 * USDC / WETH / 10_000 / 4 + 10 * USDC;
        vm.prank(bob);
        uint256 paid = vault.redeem(shares, bob, bob);
        emit log_named_uint("paid (USDC)", paid / USDC);
        emit log_named_uint("fair (USDC)", fairPay / USDC);
        // Within the TWAP's tick rounding (1 bp of the WETH held, a 25 % share of it).
        assertApproxEqAbs(paid, fairPay, tolerance);
    }

    /// @dev The feed is stale LOW (the market rose): the redeemer is paid at the stale price, the worse for them.
    function testRedeemDuringStalenessAfterARiseKeepsTheStalePrice() public {
        uint256 stale = _priceE8(weth);
        _movePool(weth, stale * 11_000 / 10_000);
        _warp(2 hours);
        _setPrice(usdc, _priceE8(usdc));
        _setPrice(wbtc, _priceE8(wbtc));
        uint256 shares = vault.balanceOf(bob);
        uint256 expected = shares * _staleNav() / vault.totalSupply();
        vm.prank(bob);
        // (Up to the 2 h of management fee accrued at the exit; the TWAP price would pay ~25k more.)
        assertApproxEqRel(vault.redeem(shares, bob, bob), expected, 0.0001e18);
    }

    /// @dev NAV with every token at its feed's answer, stale or not (idle USDC + WETH held; no Aave position here).
    function _staleNav() internal view returns (uint256) {
        uint256 wethHeld = IERC20(weth).balanceOf(address(vault));
        return IERC20(usdc).balanceOf(address(vault)) + wethHeld * _priceE8(weth) / 1e8 * USDC / WETH;
    }
}
