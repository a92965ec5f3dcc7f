// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {OptionMarketAdapter} from "../../adapters/OptionMarketAdapter.sol";
import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {VenueVaultFixture} from "../utils/VenueVaultFixture.sol";

/// @notice Review findings 1 and 2 of issue 19, on the devnet's real option venue: (1) settling an expiry must not
///         step the vault's NAV (an expired, unsettled series was valued at the payoff at *current* spot, then at
///         the settlement round: a known step, taken riskless by deposit → settleExpiry → redeem in one
///         transaction); (2) venue accounts per vault are capped, so the NAV read's loop over them stays bounded.
contract ReviewVenueTest is VenueVaultFixture {
    address internal attacker = makeAddr("attacker");

    function setUp() public {
        _setUpVenueVault();
    }

    /// @dev The review's book: a venue account long `contracts` WETH calls of the first expiry at `strikeUsd`.
    function _buyCalls(uint256 strikeUsd, uint256 contracts) internal returns (uint256 series) {
        series = market.seriesIdOf(0, uint64(expiries[0]), uint128(strikeUsd * 1e18), true);
        assertGt(series, 0, "series listed");
        _buyInNewAccount(series, contracts * 1e18);
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
        uint256 account = _buyInNewAccount(series, 50e18);
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

    /* FINDING 2: venue accounts per vault are capped */

    function _openAccounts(uint256 n) internal returns (uint256 first) {
        first = market.accountCount() + 1;
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](n);
        for (uint256 i; i < n; ++i) {
            a[i] = _op(OPEN, 0, 0, 0, 0);
        }
        _rebalance(a);
    }

    /// @notice The review opened 1,176 accounts in 59 batches; now OPEN_ACCOUNT past `maxAccounts` reverts, named.
    function testOpenAccountPastCapReverts() public {
        assertEq(options.maxAccounts(), 4);
        _openAccounts(3);
        _openAccounts(1);
        assertEq(market.accountsOf(address(vault)).length, 4);
        IHedgedVault.Action[] memory a = _actions(_op(OPEN, 0, 0, 0, 0));
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (a, _noIds())));
        assertEq(_selector(ret), IHedgedVault.AdapterCallFailed.selector);
        (, bytes memory reason) = abi.decode(_args(ret), (uint256, bytes));
        assertEq(reason, abi.encodeWithSelector(OptionMarketAdapter.VenueAccountLimit.selector, 4, 4));
    }

    /// @notice A second adapter on the same venue counts the accounts opened through the first (one list per vault).
    function testCapCountsAccountsOpenedThroughAnyAdapter() public {
        _openAccounts(4);
        OptionMarketAdapter other =
            new OptionMarketAdapter(market, IAggregatorV3(address(usdcFeed)), 1.5e18, 5);
        _timelocked(abi.encodeCall(vault.setAdapter, (address(other), true)));
        _postSurfaces();
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](2);
        a[0] = IHedgedVault.Action(address(other), abi.encode(OPEN, 0, 0, 0, 0));
        a[1] = IHedgedVault.Action(address(other), abi.encode(OPEN, 0, 0, 0, 0));
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (a, _noIds())));
        (uint256 index, bytes memory reason) = abi.decode(_args(ret), (uint256, bytes));
        assertEq(index, 1);
        assertEq(reason, abi.encodeWithSelector(OptionMarketAdapter.VenueAccountLimit.selector, 5, 5));
    }

    function testConstructorRevertsWhenMaxAccountsOutOfBounds(uint256 n) public {
        vm.assume(n == 0 || n > 8);
        vm.expectRevert(abi.encodeWithSelector(OptionMarketAdapter.MaxAccountsOutOfBounds.selector, n, 8));
        new OptionMarketAdapter(market, IAggregatorV3(address(usdcFeed)), 1.5e18, n);
    }

    /// @notice Gas at the hard bound (8 accounts, each long and short options of two expiries: every NAV read values
    ///         every account): a user's withdraw, a one-action venue batch and an emergency unwind, against the
    ///         review's 16.26M / 29.78M / 23.0M at 1,176 empty accounts.
    function testGasBoundedAtAccountCap() public {
        OptionMarketAdapter wide =
            new OptionMarketAdapter(market, IAggregatorV3(address(usdcFeed)), 1.5e18, 8);
        _timelocked(abi.encodeCall(vault.setAdapter, (address(wide), true)));
        _postSurfaces();
        options = wide;
        uint256 first = _openAccounts(8);
        uint256 call = market.seriesIdOf(0, uint64(expiries[1]), uint128(3000e18), true);
        uint256 put = market.seriesIdOf(0, uint64(expiries[1]), uint128(3000e18), false);
        for (uint256 i; i < 8; ++i) {
            IHedgedVault.Action[] memory a = new IHedgedVault.Action[](3);
            a[0] = _op(DEPOSIT, first + i, 0, 50_000 * USDC, 0);
            a[1] = _op(BUY, first + i, call, 1e18, type(uint256).max);
            a[2] = _op(4, first + i, put, 1e18, 0);
            _rebalance(a);
        }
        _advance(60);
        _postSurfaces();
        uint256 g = gasleft();
        vm.prank(alice);
        vault.withdraw(1000 * USDC, alice, alice);
        uint256 withdrawGas = g - gasleft();
        g = gasleft();
        options.valueE8(address(vault)); // what the withdraw's bounded valuation call needed
        uint256 valuationGas = g - gasleft();
        IHedgedVault.Action[] memory one = _actions(_op(DEPOSIT, first, 0, 1 * USDC, 0));
        g = gasleft();
        _rebalance(one);
        uint256 batchGas = g - gasleft();
        vm.prank(guardian);
        vault.pause();
        g = gasleft();
        vm.prank(guardian);
        vault.emergencyUnwind(_actions(_op(2, first, 0, 1 * USDC, 0)));
        uint256 unwindGas = g - gasleft();
        emit log_named_uint("venue valuation (valueE8) gas at 8 accounts", valuationGas);
        emit log_named_uint("withdraw gas at 8 accounts", withdrawGas);
        emit log_named_uint("1-action venue batch gas at 8 accounts", batchGas);
        emit log_named_uint("emergencyUnwind gas at 8 accounts", unwindGas);
        assertLt(withdrawGas, 1_000_000);
        assertLt(batchGas, 4_000_000);
        assertLt(unwindGas, 2_000_000);
    }

    /* FINDING 3: option premiums are turnover */

    /// @notice The review's PoC: a buy and a sell of 500 ITM calls (≈ 324k USDC premium each way) were charged 0
    ///         turnover while a 2M margin deposit was charged 2M. Now each premium is charged (as the adapter reads
    ///         it from the venue, at the USDC feed) and margin moves are free, like lending moves.
    function testPremiumsAreChargedAsTurnoverAndMarginMovesAreNot() public {
        uint256 series = market.seriesIdOf(0, uint64(expiries[1]), uint128(2400e18), true);
        assertGt(series, 0);
        uint256 account = market.accountCount() + 1;
        uint256 t0 = _turnoverUsedE8();
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](2);
        a[0] = _op(OPEN, 0, 0, 0, 0);
        a[1] = _op(DEPOSIT, account, 0, 2_000_000 * USDC, 0);
        _rebalance(a);
        assertEq(_turnoverUsedE8(), t0, "margin deposit charged as turnover");
        IOptionMarketTypes.Quote memory qb = market.quoteBuy(series, 500e18);
        IOptionMarketTypes.Quote memory qs = market.quoteSell(series, 500e18);
        assertGt(qb.premiumE6, 300_000 * USDC);
        a[0] = _op(BUY, account, series, 500e18, qb.premiumE6);
        a[1] = _op(4, account, series, 500e18, qs.premiumE6);
        _rebalance(a);
        uint256 usdcE8 = _priceE8(usdc);
        uint256 expected = (qb.premiumE6 * usdcE8 + 1e6 - 1) / 1e6 + (qs.premiumE6 * usdcE8 + 1e6 - 1) / 1e6;
        emit log_named_uint("turnover charged for buy + sell of 500 calls (USD E8)", _turnoverUsedE8() - t0);
        assertEq(_turnoverUsedE8() - t0, expected, "premiums not charged as turnover");
    }

    /// @notice Premium churn now runs into the turnover budget (the review's keeper could churn without limit).
    function testPremiumChurnHitsTurnoverBudget() public {
        uint256 series = market.seriesIdOf(0, uint64(expiries[1]), uint128(2400e18), true);
        uint256 account = market.accountCount() + 1;
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](2);
        a[0] = _op(OPEN, 0, 0, 0, 0);
        a[1] = _op(DEPOSIT, account, 0, 1_000_000 * USDC, 0);
        _rebalance(a);
        // A turnover budget of 0.5x NAV per period (1.5M): each round trip of 500 calls is ~604k.
        IHedgedVault.RiskParams memory r = _defaultRisk();
        r.turnoverBudgetBps = 5000;
        _timelocked(abi.encodeCall(vault.setRiskParams, (r)));
        _postSurfaces();
        for (uint256 i; i < 4; ++i) {
            a[0] = _op(BUY, account, series, 500e18, type(uint256).max);
            a[1] = _op(4, account, series, 500e18, 0);
            vm.prank(keeper);
            try vault.rebalance(a, _noIds()) {}
            catch (bytes memory ret) {
                assertEq(_selector(ret), IHedgedVault.TurnoverBudgetExceeded.selector);
                return;
            }
        }
        revert("premium churn never hit the turnover budget");
    }
}
