// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OptionMarketAdapter} from "../../adapters/OptionMarketAdapter.sol";
import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IOptionMarket} from "../../interfaces/IOptionMarket.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {VaultFixture} from "./VaultFixture.sol";
import {repostSurfaces} from "./VenueSurfaces.sol";

/// @notice The vault of VaultFixture trading on the devnet's real option venue through an OptionMarketAdapter
///         (margin floor 1.5 × MM, 4 accounts), allowed through the timelock, every live vol surface re-posted
///         (the timelock delay moved time) and 3M USDC deposited by alice.
abstract contract VenueVaultFixture is VaultFixture {
    // OptionMarketAdapter's operations (the first word of an action's data).
    uint8 internal constant OPEN = 0;
    uint8 internal constant DEPOSIT = 1;
    uint8 internal constant WITHDRAW_MARGIN = 2;
    uint8 internal constant BUY = 3;
    uint8 internal constant SELL = 4;
    uint8 internal constant SETTLE = 5;

    IOptionMarket internal market;
    OptionMarketAdapter internal options;
    uint256[] internal expiries;

    function _setUpVenueVault() internal {
        _loadDevnet();
        string memory json = _readDevnet();
        market = IOptionMarket(vm.parseJsonAddress(json, ".venue.OptionMarket"));
        expiries = vm.parseJsonUintArray(json, ".venue.expiries");
        _deployVault();
        options = new OptionMarketAdapter(market, IAggregatorV3(address(usdcFeed)), 1.5e18, 4);
        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), true)));
        _postSurfaces();
        _deposit(alice, 3_000_000 * USDC);
    }

    /// @dev The venue's vol feeder re-posts every live surface unchanged (they are fresh again).
    function _postSurfaces() internal {
        repostSurfaces(market, expiries, feeder);
    }

    /// @dev One vault batch: a new venue account, margin of the premium + 10k USDC, and a buy of `sizeWad` of
    ///      `series` at its quote.
    function _buyInNewAccount(uint256 series, uint256 sizeWad) internal returns (uint256 account) {
        account = market.accountCount() + 1;
        IOptionMarketTypes.Quote memory q = market.quoteBuy(series, sizeWad);
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](3);
        a[0] = _op(OPEN, 0, 0, 0, 0);
        a[1] = _op(DEPOSIT, account, 0, q.premiumE6 + 10_000 * USDC, 0);
        a[2] = _op(BUY, account, series, sizeWad, q.premiumE6);
        _rebalance(a);
    }

    /// @dev One OptionMarketAdapter action of the vault.
    function _op(uint8 op, uint256 account, uint256 series, uint256 amount, uint256 limit)
        internal
        view
        returns (IHedgedVault.Action memory)
    {
        return IHedgedVault.Action(address(options), abi.encode(op, account, series, amount, limit));
    }
}
