// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IOptionsValuation} from "../../interfaces/IOptionsValuation.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
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
        uint256 series = market.seriesIdOf(0, uint64(expiries[0]), uint128(3000e18), true);
        account = market.accountCount() + 1;
        IOptionMarketTypes.Quote memory q = market.quoteBuy(series, 100e18);
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](3);
        a[0] = _op(OPEN, 0, 0, 0, 0);
        a[1] = _op(DEPOSIT, account, 0, q.premiumE6 + 10_000 * USDC, 0);
        a[2] = _op(BUY, account, series, 100e18, q.premiumE6);
        _rebalance(a);
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

    /// @notice A listed adapter whose valuation burns all gas cannot block exits: its call is bounded to 2M gas,
    ///         it counts as 0, and entries stay refused.
    function testGasBurningValuationCannotBlockExits() public {
        GasBurningOptionsAdapter burner = new GasBurningOptionsAdapter();
        _timelocked(abi.encodeCall(vault.setAdapter, (address(burner), true)));
        _refreshFeeds();
        _postSurfaces();
        uint256 g = gasleft();
        vm.prank(alice);
        vault.withdraw(1000 * USDC, alice, alice);
        uint256 used = g - gasleft();
        emit log_named_uint("withdraw gas with a gas-burning venue", used);
        assertLt(used, 2_600_000, "bounded by the valuation's 2M cap");
        assertEq(IERC20(usdc).balanceOf(alice), 1000 * USDC);
        _assertEntriesAndBatchesRefused();
    }

    /// @notice A caller that starves the bounded call (63/64 rule) is refused, not paid without the venue: a
    ///         relayer or keeper cannot shorten an exit's gas to drop the venue from its NAV.
    function testStarvedValuationReverts() public {
        _venueEquity();
        GasBurningOptionsAdapter burner = new GasBurningOptionsAdapter();
        _timelocked(abi.encodeCall(vault.setAdapter, (address(burner), true)));
        _refreshFeeds();
        _postSurfaces();
        vm.prank(alice);
        (bool ok,) =
            address(vault).call{gas: 1_500_000}(abi.encodeCall(vault.withdraw, (1000 * USDC, alice, alice)));
        assertFalse(ok, "a starved valuation reverts the exit");
        assertEq(IERC20(usdc).balanceOf(alice), 0);
        assertGt(options.valueE8(address(vault)), 0, "the real venue still counts");
        vm.prank(alice);
        vault.withdraw(1000 * USDC, alice, alice);
        assertEq(IERC20(usdc).balanceOf(alice), 1000 * USDC, "with the full gas it pays");
    }
}
