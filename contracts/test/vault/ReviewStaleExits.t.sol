// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Issue 19, item 7: exits ignore oracle freshness (they move no risk), so a redeemer can exit at a
///         stale-high NAV. Measured here, not fixed: what the redeemer takes from the holders who stay is exactly
///         (their share of the supply) × (the vault's exposure to the stale-priced token) × (the price error), and
///         nothing can buy at the stale price (deposits and batches require fresh feeds).
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
        // (The market is at `fair`; the vault only sees its stale feed, and exits never read the pool.)
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
}
