// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {OptionMarketAdapter} from "../../adapters/OptionMarketAdapter.sol";
import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IOptionMarket} from "../../interfaces/IOptionMarket.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Review findings 1 and 2 of issue 19, on the devnet's real option venue: (1) settling an expiry must not
///         step the vault's NAV (an expired, unsettled series was valued at the payoff at *current* spot, then at
///         the settlement round: a known step, taken riskless by deposit → settleExpiry → redeem in one
///         transaction); (2) venue accounts per vault are capped, so the NAV read's loop over them stays bounded.
contract ReviewVenueTest is VaultFixture {
    uint8 internal constant OPEN = 0;
    uint8 internal constant DEPOSIT = 1;
    uint8 internal constant BUY = 3;

    IOptionMarket internal market;
    OptionMarketAdapter internal options;
    uint256[] internal expiries;
    address internal attacker = makeAddr("attacker");

    function setUp() public {
        _loadDevnet();
        string memory json = _readDevnet();
        market = IOptionMarket(vm.parseJsonAddress(json, ".venue.OptionMarket"));
        expiries = vm.parseJsonUintArray(json, ".venue.expiries");
        _deployVault();
        options = new OptionMarketAdapter(market, IAggregatorV3(address(usdcFeed)), 1.5e18);
        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), true)));
        _postSurfaces();
        _deposit(alice, 3_000_000 * USDC);
    }

    function _postSurfaces() internal {
        for (uint256 u; u < 2; ++u) {
            for (uint256 i; i < expiries.length; ++i) {
                if (expiries[i] <= block.timestamp) continue;
                IOptionMarketTypes.VolSurface memory s = market.volSurface(u, uint64(expiries[i]));
                vm.prank(feeder);
                market.postVolSurface(u, uint64(expiries[i]), s.atmVolWad, s.skewWad, s.smileWad);
            }
        }
    }

    function _op(uint8 op, uint256 account, uint256 series, uint256 amount, uint256 limit)
        internal
        view
        returns (IHedgedVault.Action memory)
    {
        return IHedgedVault.Action(address(options), abi.encode(op, account, series, amount, limit));
    }

    /// @dev The review's book: a venue account long `contracts` WETH calls of the first expiry at `strikeUsd`.
    function _buyCalls(uint256 strikeUsd, uint256 contracts) internal returns (uint256 series) {
        series = market.seriesIdOf(0, uint64(expiries[0]), uint128(strikeUsd * 1e18), true);
        assertGt(series, 0, "series listed");
        uint256 account = market.accountCount() + 1;
        IOptionMarketTypes.Quote memory q = market.quoteBuy(series, contracts * 1e18);
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](3);
        a[0] = _op(OPEN, 0, 0, 0, 0);
        a[1] = _op(DEPOSIT, account, 0, q.premiumE6 + 10_000 * USDC, 0);
        a[2] = _op(BUY, account, series, contracts * 1e18, q.premiumE6);
        _rebalance(a);
    }

    /// @dev Past expiry: the first round at or after it answers `settleE8`, a later one `spotE8`; returns the first.
    function _expireAt(uint256 settleE8, uint256 spotE8) internal returns (uint80 settlementRound) {
        vm.warp(expiries[0] - 60);
        _refreshFeeds();
        vm.warp(expiries[0]);
        _setPrice(weth, settleE8);
        settlementRound = wethFeed.latestRoundId();
        _warp(300);
        _setPrice(weth, spotE8);
        _refreshFeeds();
    }

    /// @dev What `attacker` nets from deposit `assets` → settleExpiry → redeem everything, in one transaction.
    function _depositSettleRedeem(uint256 assets, uint80 round) internal returns (int256 gain) {
        _mint(usdc, attacker, assets);
        vm.startPrank(attacker);
        IERC20(usdc).approve(address(vault), assets);
        uint256 shares = vault.deposit(assets, attacker);
        market.settleExpiry(0, uint64(expiries[0]), round);
        uint256 out = vault.redeem(shares, attacker, attacker);
        vm.stopPrank();
        gain = int256(out) - int256(assets);
    }

    /* FINDING 1: settlement cannot step NAV */

    /// @notice The review's PoC: 3M vault long 100 WETH-3000 calls, settlement round 3,300, spot back at 3,000.
    ///         Before the fix the expired calls were worth payoff(3,000) = 0 until settled, then 30,000 USDC: the
    ///         attacker took +13,793 USDC. Now they are valued at the settlement round already, so the step is
    ///         nothing and the attacker loses the share rounding.
    function testSettleExpiryDoesNotStepNav() public {
        _buyCalls(3000, 100);
        uint80 round = _expireAt(3300e8, 3000e8);
        uint256 navBefore = vault.totalAssets();
        vm.prank(attacker);
        market.settleExpiry(0, uint64(expiries[0]), round);
        uint256 navAfter = vault.totalAssets();
        assertApproxEqAbs(navAfter, navBefore, 1, "settleExpiry moved NAV");
    }

    function testDepositSettleRedeemGainsNothing() public {
        _buyCalls(3000, 100);
        uint80 round = _expireAt(3300e8, 3000e8);
        int256 gain = _depositSettleRedeem(3_000_000 * USDC, round);
        emit log_named_int("attacker gain (USDC E6)", gain);
        assertLe(gain, 0, "riskless gain from settlement");
    }

    /// @notice The other direction (settlement below spot: a known negative step) and a put: an exit before the
    ///         settlement is paid at the settlement value too.
    function testSettlementBelowSpotStepsNothingForPuts(uint256 settleUsd, uint256 spotUsd) public {
        settleUsd = bound(settleUsd, 2000, 4000);
        spotUsd = bound(spotUsd, 2000, 4000);
        uint256 series = market.seriesIdOf(0, uint64(expiries[0]), uint128(3000e18), false);
        uint256 account = market.accountCount() + 1;
        IOptionMarketTypes.Quote memory q = market.quoteBuy(series, 50e18);
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](3);
        a[0] = _op(OPEN, 0, 0, 0, 0);
        a[1] = _op(DEPOSIT, account, 0, q.premiumE6 + 10_000 * USDC, 0);
        a[2] = _op(BUY, account, series, 50e18, q.premiumE6);
        _rebalance(a);
        uint80 round = _expireAt(settleUsd * 1e8, spotUsd * 1e8);
        uint256 navBefore = vault.totalAssets();
        market.settleExpiry(0, uint64(expiries[0]), round);
        assertApproxEqAbs(vault.totalAssets(), navBefore, 1, "settleExpiry moved NAV");
        // And the account's cash-in (the keeper's SETTLE) moves nothing either.
        _movePool(weth, spotUsd * 1e8);
        _advance(700); // the pool's TWAP window past the move
        uint256 afterSettle = vault.totalAssets();
        _rebalance(_actions(_op(5, account, 0, 0, 0)));
        assertApproxEqAbs(vault.totalAssets(), afterSettle, 1, "settleAccount moved NAV");
    }
}
