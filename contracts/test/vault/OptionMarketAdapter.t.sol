// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {OptionMarketAdapter} from "../../adapters/OptionMarketAdapter.sol";
import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {VenueVaultFixture} from "../utils/VenueVaultFixture.sol";

/// @notice The vault trading on the real option venue (the devnet's, loaded in-process) through its
///         OptionMarketAdapter: accounts owned by the vault, venue equity in NAV, the venue-margin floor after
///         every batch that trades there, and what the adapter refuses.
contract OptionMarketAdapterTest is VenueVaultFixture {
    uint256 internal call3300; // the first monthly expiry's 3,300 WETH call

    function setUp() public {
        _setUpVenueVault();
        call3300 = market.seriesIdOf(0, uint64(expiries[2]), 3300e18, true);
        assertGt(call3300, 0);
    }

    function _openShortCalls(uint256 marginUsdc, uint256 contracts) internal returns (uint256 account) {
        account = market.accountCount() + 1;
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](3);
        a[0] = _op(OPEN, 0, 0, 0, 0);
        a[1] = _op(DEPOSIT, account, 0, marginUsdc * USDC, 0);
        a[2] = _op(SELL, account, call3300, contracts * 1e18, 0);
        _rebalance(a);
    }

    function testExecuteRevertsWhenCalledDirectly() public {
        vm.expectRevert(OptionMarketAdapter.DelegateCallOnly.selector);
        options.execute(abi.encode(OPEN, 0, 0, 0, 0));
    }

    function testConstructorRevertsWhenFloorOutOfBounds(uint256 floorWad) public {
        vm.assume(floorWad < 1e18 || floorWad > 10e18);
        vm.expectRevert(abi.encodeWithSelector(OptionMarketAdapter.MarginFloorOutOfBounds.selector, floorWad));
        new OptionMarketAdapter(market, IAggregatorV3(address(usdcFeed)), floorWad, 4);
    }

    function testRebalanceOpensVaultOwnedAccountAndNavIncludesVenueEquity(uint256 contracts) public {
        contracts = bound(contracts, 1, 300);
        uint256 navBefore = vault.totalAssets();
        uint256 account = _openShortCalls(500_000, contracts);
        assertEq(market.ownerOf(account), address(vault));
        uint256[] memory owned = market.accountsOf(address(vault));
        assertEq(owned.length, 1);
        (int256 equityE6,) = market.equityOf(account);
        // Idle USDC moved to the venue (margin + premium received − the short's mark): NAV loses only the spread.
        uint256 navAfter = vault.totalAssets();
        assertLe(navAfter, navBefore);
        assertApproxEqRel(navAfter, navBefore, 0.001e18);
        assertEq(options.valueE8(address(vault)), equityE6 * 100); // USDC at $1.00: E6 → E8
    }

    function testRebalanceRevertsWhenVenueMarginBelowFloor() public {
        uint256 account = _openShortCalls(400_000, 300);
        (int256 equity,, uint256 mm) = market.marginOf(account);
        // Sell more until equity sits between the venue's IM (1.25 × MM) and the vault's floor (1.5 × MM).
        uint256 more = 300e18 * (uint256(equity) * 1e18 / mm - 1.35e18) / 1.35e18;
        IHedgedVault.Action[] memory a = _actions(_op(SELL, account, call3300, more, 0));
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (a, _noIds())));
        assertEq(_selector(ret), OptionMarketAdapter.VenueMarginBelowFloor.selector);
        (uint256 id, int256 equityAfter, uint256 mmAfter, uint256 floor) =
            abi.decode(_args(ret), (uint256, int256, uint256, uint256));
        assertEq(id, account);
        assertEq(floor, 1.5e18);
        assertLt(uint256(equityAfter) * 1e18, mmAfter * floor);
        assertGe(uint256(equityAfter) * 1e18, mmAfter * 1.25e18); // the venue itself accepted it (≥ IM)
    }

    function testRebalanceRevertsWhenAccountIsNotTheVaults() public {
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        uint256 theirs = market.openAccount();
        IHedgedVault.Action[] memory a = _actions(_op(WITHDRAW_MARGIN, theirs, 0, 1, 0));
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (a, _noIds())));
        assertEq(_selector(ret), IHedgedVault.AdapterCallFailed.selector);
        (, bytes memory reason) = abi.decode(_args(ret), (uint256, bytes));
        assertEq(
            reason, abi.encodeWithSelector(OptionMarketAdapter.NotVaultAccount.selector, theirs, stranger)
        );
    }

    function testRebalanceWithdrawsMarginBackToIdle() public {
        uint256 account = _openShortCalls(500_000, 10);
        uint256 idle = IERC20(usdc).balanceOf(address(vault));
        _rebalance(_actions(_op(WITHDRAW_MARGIN, account, 0, 100_000 * USDC, 0)));
        assertEq(IERC20(usdc).balanceOf(address(vault)), idle + 100_000 * USDC);
    }

    function testRebalanceBuyRespectsMaxCost() public {
        uint256 account = _openShortCalls(500_000, 10);
        IOptionMarketTypes.Quote memory q = market.quoteBuy(call3300, 5e18);
        IHedgedVault.Action[] memory a = _actions(_op(BUY, account, call3300, 5e18, q.premiumE6 - 1));
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (a, _noIds())));
        assertEq(_selector(ret), IHedgedVault.AdapterCallFailed.selector);
        _rebalance(_actions(_op(BUY, account, call3300, 5e18, q.premiumE6)));
        assertEq(market.positionOf(account, call3300), -5e18);
    }
}
