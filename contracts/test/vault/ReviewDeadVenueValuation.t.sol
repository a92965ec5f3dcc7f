// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IOptionsValuation} from "../../interfaces/IOptionsValuation.sol";
import {VaultLogic} from "../../vault/VaultLogic.sol";
import {VenueVaultFixture} from "../utils/VenueVaultFixture.sol";
import {OptionsAdapterStub} from "./OptionsAdapterStub.sol";

/// @notice An OPTIONS adapter whose valuation burns all the gas it is given (a griefing or broken venue).
contract GasBurningOptionsAdapter is OptionsAdapterStub(0) {
    function valueE8(address) external view override returns (int256) {
        uint256 x;
        while (gasleft() > 0) x = uint256(keccak256(abi.encode(x)));
        return int256(x);
    }
}

/// @notice An OPTIONS adapter whose valuation needs ~3M gas (a large option book), then answers a fixed mark.
contract HeavyOptionsAdapter is OptionsAdapterStub {
    constructor(int256 markE8_) OptionsAdapterStub(markE8_) {}

    function valueE8(address) external view override returns (int256) {
        uint256 x;
        for (uint256 i; i < 25_000; ++i) {
            x = uint256(keccak256(abi.encode(x)));
        }
        return x == 0 ? int256(0) : markE8;
    }
}

/// @notice Issue 19 finding 6, its residual: a venue valuation that reverts (the venue's own spot feed dead, or the
///         venue reverting for any reason) reverted navNow, so every withdraw, redeem and fulfil reverted for good.
///         Now exits value the venue at 0 (the floor of the vault's claim on it) and the NAV is not fresh, so
///         entries and keeper batches stay refused; governance delists the adapter, or the venue comes back.
contract ReviewDeadVenueValuationTest is VenueVaultFixture {
    function setUp() public {
        _setUpVenueVault();
    }

    /// @dev A venue account long 100 WETH-3000 calls of the first expiry with 10k USDC of spare margin.
    function _venueEquity() internal returns (uint256 account) {
        account = _buyInNewAccount(market.seriesIdOf(0, uint64(expiries[0]), uint128(3000e18), true), 100e18);
    }

    function _killVenueFeed() internal {
        address feed = market.underlying(0).feed;
        vm.mockCallRevert(feed, abi.encodeWithSelector(IAggregatorV3.latestRoundData.selector), "dead");
    }

    function _killValuation() internal {
        vm.mockCallRevert(
            address(options), abi.encodeWithSelector(IOptionsValuation.valueE8.selector), "venue down"
        );
    }

    /// @dev The vault's venue value in USDC units (the USDC feed at 1e8 on the devnet).
    function _venueAssets() internal view returns (uint256) {
        int256 e8 = options.valueE8(address(vault));
        assertGt(e8, 0, "venue equity held");
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint256(e8) / 100;
    }

    /// @dev Governance lists or delists `adapter` through the timelock; feeds and surfaces re-posted after its delay.
    function _setAdapterTimelocked(address adapter, bool allowed) internal {
        _timelocked(abi.encodeCall(vault.setAdapter, (adapter, allowed)));
        _refreshFeeds();
        _postSurfaces();
    }

    function _assertEntriesAndBatchesRefused() internal {
        assertEq(vault.maxDeposit(alice), 0, "no entry on a NAV without the venue");
        assertEq(vault.maxMint(alice), 0, "no mint either");
        _mint(usdc, alice, 1000 * USDC);
        vm.startPrank(alice);
        IERC20(usdc).approve(address(vault), type(uint256).max);
        vm.expectRevert();
        vault.deposit(1000 * USDC, alice);
        vm.expectRevert();
        vault.mint(1e6, alice);
        vm.stopPrank();
        vm.prank(keeper);
        vm.expectRevert();
        vault.rebalance(_actions(_aave(SUPPLY, usdc, USDC)), _noIds());
    }

    /// @notice The PoC: the venue's WETH spot feed reverts; before the fix this withdraw reverted (navNow called
    ///         valueE8 directly, and the venue's equity view reverts on a dead feed). Exits now work.
    function testExitsWorkWhenVenueFeedReverts() public {
        _venueEquity();
        _killVenueFeed();
        vm.expectRevert();
        options.valueE8(address(vault));
        _warp(30 days);
        vm.prank(alice);
        vault.withdraw(100_000 * USDC, alice, alice);
        assertEq(IERC20(usdc).balanceOf(alice), 100_000 * USDC);
        uint256 shares = vault.balanceOf(alice) / 2;
        uint256 preview = vault.previewRedeem(shares);
        vm.prank(alice);
        assertEq(vault.redeem(shares, alice, alice), preview);
        _assertEntriesAndBatchesRefused();
    }

    /// @notice An exit is paid its share of NAV without the venue (never the venue's equity), every other
    ///         position still counted; the valuation coming back restores the same NAV and entries.
    function testExitPaysShareOfNavWithoutVenueAndRecovers() public {
        _venueEquity();
        uint256 before = vault.totalAssets();
        uint256 venue = _venueAssets();
        assertGt(venue, 10_000 * USDC, "a real venue position");
        _killValuation();
        uint256 dead = vault.totalAssets();
        assertLe(dead, before - venue + 1, "the venue is not in exits");
        assertApproxEqAbs(dead, before - venue, 2, "and nothing else is lost");
        uint256 shares = vault.balanceOf(alice) / 4;
        uint256 supply = vault.totalSupply();
        vm.prank(alice);
        uint256 paid = vault.redeem(shares, alice, alice);
        assertLe(paid, shares * (before - venue + 1) / supply, "at most its share of NAV without the venue");
        assertLt(paid, shares * before / supply, "less than with the venue counted");
        _assertEntriesAndBatchesRefused();
        vm.clearMockedCalls();
        assertApproxEqAbs(vault.totalAssets(), before - paid, 2, "the venue counts again");
        assertGt(vault.maxDeposit(alice), 0, "entries resume");
        _deposit(alice, 1000 * USDC);
    }

    /// @notice Governance delists the dead venue's adapter through the timelock: NAV is fresh again without it
    ///         (the venue equity is left out of NAV until the adapter is listed again and can value it).
    function testGovernanceDelistsDeadVenueAndEntriesResume() public {
        _venueEquity();
        uint256 before = vault.totalAssets();
        uint256 venue = _venueAssets();
        _killVenueFeed();
        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), false)));
        assertEq(vault.optionsAdapters().length, 0);
        vm.clearMockedCalls();
        _refreshFeeds();
        assertApproxEqAbs(vault.totalAssets(), before - venue, 2, "fresh NAV without the venue");
        assertGt(vault.maxDeposit(alice), 0, "entries resume");
        _deposit(alice, 1000 * USDC);
    }

    /// @notice A listed adapter whose valuation burns all the gas it is given does not get an exit paid without
    ///         it: the exit reverts `OptionsValuationOutOfGas` whatever gas it is sent, nothing moves, and
    ///         governance delists the adapter through the timelock, after which exits pay again.
    function testGasBurningValuationRevertsExitsUntilDelisted() public {
        GasBurningOptionsAdapter burner = new GasBurningOptionsAdapter();
        _setAdapterTimelocked(address(burner), true);
        uint256 supply = vault.totalSupply();
        vm.prank(alice);
        (bool ok, bytes memory data) =
            address(vault).call{gas: 5_000_000}(abi.encodeCall(vault.withdraw, (1000 * USDC, alice, alice)));
        assertFalse(ok, "no exit without the venue that could not be valued");
        assertEq(data, abi.encodeWithSelector(VaultLogic.OptionsValuationOutOfGas.selector, address(burner)));
        assertEq(IERC20(usdc).balanceOf(alice), 0);
        assertEq(vault.totalSupply(), supply, "nothing moved");
        _setAdapterTimelocked(address(burner), false);
        vm.prank(alice);
        vault.withdraw(1000 * USDC, alice, alice);
        assertEq(IERC20(usdc).balanceOf(alice), 1000 * USDC, "delisted: exits pay");
    }

    /// @notice A valuation that needs millions of gas (a large option book) counts in exits and in a fresh NAV:
    ///         the call is sent all the gas at hand, not a fixed bound (with a 2M bound this NAV dropped the book).
    function testHeavyValuationCountsInExits() public {
        HeavyOptionsAdapter heavy = new HeavyOptionsAdapter(50_000e8);
        uint256 g = gasleft();
        heavy.valueE8(address(vault));
        uint256 needed = g - gasleft();
        emit log_named_uint("heavy valuation gas", needed);
        assertGt(needed, 2_500_000, "needs more than the old 2M bound");
        uint256 before = vault.totalAssets();
        _setAdapterTimelocked(address(heavy), true);
        assertApproxEqAbs(vault.totalAssets(), before + 50_000 * USDC, 2, "the book counts");
        assertGt(vault.maxDeposit(alice), 0, "a fresh NAV: entries open");
        uint256 shares = vault.balanceOf(alice) / 4;
        uint256 preview = vault.previewRedeem(shares);
        vm.prank(alice);
        assertEq(vault.redeem(shares, alice, alice), preview, "paid with the book counted");
    }

    /// @notice A caller that sends too little gas for the valuation is refused, not paid without the venue: a
    ///         relayer or keeper cannot shorten an exit's gas to drop the venue from its NAV.
    function testStarvedValuationReverts() public {
        HeavyOptionsAdapter heavy = new HeavyOptionsAdapter(50_000e8);
        _setAdapterTimelocked(address(heavy), true);
        vm.prank(alice);
        (bool ok, bytes memory data) =
            address(vault).call{gas: 1_500_000}(abi.encodeCall(vault.withdraw, (1000 * USDC, alice, alice)));
        assertFalse(ok, "a starved valuation reverts the exit");
        assertEq(data, abi.encodeWithSelector(VaultLogic.OptionsValuationOutOfGas.selector, address(heavy)));
        assertEq(IERC20(usdc).balanceOf(alice), 0);
        vm.prank(alice);
        vault.withdraw(1000 * USDC, alice, alice);
        assertEq(IERC20(usdc).balanceOf(alice), 1000 * USDC, "with the full gas it pays");
    }
}
