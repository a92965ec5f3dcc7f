// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {VenueVaultFixture} from "../utils/VenueVaultFixture.sol";

/// @notice Issue 19, item 6b: the venue's pool insolvent. The vault is long calls from the pool; the LP withdraws
///         all the pool's margin rules let it; WETH then doubles (past the venue's ±20 % scenario grid), so the pool
///         owes the calls' value and holds far less. The vault's NAV must count only what the pool can pay: before
///         the fix it counted the calls at their full mark, and a holder who redeemed took that unpayable value
///         from the holders who stayed. The fair value here is computed independently from raw venue balances
///         (pool cash, every account's positions, the marks): the pool's shortfall is shared by its creditors
///         (the accounts' longs) pro rata to their value.
contract ReviewPoolInsolvencyTest is VenueVaultFixture {
    address internal lp;
    uint256 internal account;
    uint256 internal series;

    function setUp() public {
        _setUpVenueVault();
        lp = vm.parseJsonAddress(_readDevnet(), ".venue.lp");
        _deposit(bob, 1_000_000 * USDC);
    }

    /// @dev The vault buys `contracts` WETH-3000 calls of the second expiry into a new account (70 % of the premium as spare margin: the 1.5 × MM floor).
    function _buyCalls(uint256 contracts) internal {
        series = market.seriesIdOf(0, uint64(expiries[1]), uint128(3000e18), true);
        account = market.accountCount() + 1;
        IOptionMarketTypes.Quote memory q = market.quoteBuy(series, contracts * 1e18);
        IHedgedVault.Action[] memory a = new IHedgedVault.Action[](3);
        a[0] = _op(OPEN, 0, 0, 0, 0);
        a[1] = _op(DEPOSIT, account, 0, q.premiumE6 * 17 / 10, 0);
        a[2] = _op(BUY, account, series, contracts * 1e18, q.premiumE6);
        _rebalance(a);
    }

    /// @dev The LP takes out the largest share of its liquidity the pool's IM check allows (to 1 %).
    function _lpWithdrawsAllItCan() internal returns (uint256 withdrawn) {
        uint256 shares = market.sharesOf(lp);
        for (uint256 pct = 99; pct > 0; --pct) {
            vm.prank(lp);
            try market.withdrawLiquidity(shares * pct / 100, lp) returns (uint256 out) {
                return out;
            } catch {}
        }
    }

    /// @dev WETH moves to `priceE8` on the feeds (fresh) and the venue gets fresh surfaces.
    function _spotTo(uint256 priceE8) internal {
        _warp(60);
        _setPrice(weth, priceE8);
        _refreshFeeds();
        _postSurfaces();
    }

    /// @dev The venue's pool as raw balances say: cash + Σ pool size × mark over the live series, and what the
    ///      accounts' longs are worth (Σ over every account's positive sizes × mark). Independent of the venue's
    ///      margin loader and of its long-interest bookkeeping.
    function _poolBooks() internal view returns (int256 poolEquityE6, int256 longsE6) {
        poolEquityE6 = market.poolState().cashE6;
        uint256[] memory live = market.liveSeries();
        for (uint256 i; i < live.length; ++i) {
            int256 mark = int256(market.markPrice(live[i]));
            poolEquityE6 += market.poolPositionOf(live[i]) * mark / 1e30;
            for (uint256 id = 1; id <= market.accountCount(); ++id) {
                int256 size = market.positionOf(id, live[i]);
                if (size > 0) longsE6 += size * mark / 1e30;
            }
        }
    }

    /// @dev What the vault's venue account can recover: collateral + its longs less their share of the shortfall.
    function _recoverableE6() internal view returns (int256) {
        (int256 poolEquityE6, int256 longsE6) = _poolBooks();
        (int256 collateralE6,,,) = market.holdingsOf(account);
        int256 mine = market.positionOf(account, series) * int256(market.markPrice(series)) / 1e30;
        if (poolEquityE6 >= 0) return collateralE6 + mine;
        int256 shortfall = -poolEquityE6 > longsE6 ? longsE6 : -poolEquityE6;
        return collateralE6 + mine - mine * shortfall / longsE6;
    }

    /// @dev The scenario: 1,000 calls bought, the LP out to the IM floor, WETH 3,000 → 6,000.
    function _insolventPool() internal {
        _buyCalls(1000);
        uint256 out = _lpWithdrawsAllItCan();
        assertGt(out, 0, "the LP could withdraw");
        emit log_named_decimal_uint("LP withdrew (USDC)", out, 6);
        _spotTo(6000e8);
        (int256 poolEquityE6,) = _poolBooks();
        emit log_named_decimal_int("pool equity after the rally (USDC)", poolEquityE6, 6);
        assertLt(poolEquityE6, 0, "pool insolvent");
    }

    /// @notice The vault's NAV counts the venue account at what it can recover, not at the full mark.
    function testNavCountsOnlyWhatThePoolCanPay() public {
        _insolventPool();
        int256 counted = options.valueE8(address(vault)) / 100; // USDC at $1
        int256 recoverable = _recoverableE6();
        (int256 collateralE6,,,) = market.holdingsOf(account);
        int256 full =
            collateralE6 + market.positionOf(account, series) * int256(market.markPrice(series)) / 1e30;
        emit log_named_decimal_int("venue account at full marks (USDC)", full, 6);
        emit log_named_decimal_int("venue account counted in NAV (USDC)", counted, 6);
        emit log_named_decimal_int("venue account recoverable (USDC)", recoverable, 6);
        assertApproxEqAbs(counted, recoverable, 3, "NAV counts venue value the pool cannot pay");
    }

    /// @notice The review's exit: bob (25 % of the shares) redeems while the pool is insolvent. He must be paid his
    ///         share of what the vault can recover, not of the unpayable marks (the holders who stay ate that).
    function testRedeemerDoesNotExitAtUnpayableNav() public {
        _insolventPool();
        // One share first: the fees due on the rally are minted, so the supply below is the one bob is priced at.
        vm.prank(bob);
        vault.redeem(1, bob, bob);
        uint256 shares = vault.balanceOf(bob);
        uint256 supply = vault.totalSupply();
        int256 idle = int256(IERC20(usdc).balanceOf(address(vault)));
        int256 fairNav = idle + _recoverableE6() - int256(vault.lockedProfitNow());
        int256 fair = fairNav * int256(shares) / int256(supply);
        vm.prank(bob);
        uint256 paid = vault.redeem(shares, bob, bob);
        int256 gain = int256(paid) - fair;
        emit log_named_decimal_int("bob's gain over his fair share (USDC)", gain, 6);
        assertApproxEqAbs(gain, 0, 10, "the redeemer took unpayable value from the holders who stay");
    }

    /// @notice At expiry the vault recovers exactly what NAV counted: settlement pays the longs net of the pool's
    ///         haircut, the vault cashes and withdraws all its collateral (the venue has it), and NAV does not step.
    function testSettledInsolventPoolPaysWhatNavCounted() public {
        _insolventPool();
        uint256 expiry = expiries[1];
        vm.warp(expiry - 60);
        _refreshFeeds();
        vm.warp(expiry);
        _setPrice(weth, 6000e8);
        uint80 round = wethFeed.latestRoundId();
        _warp(60);
        _refreshFeeds();
        uint256 navBefore = vault.totalAssets();
        market.settleExpiry(0, uint64(expiry), round);
        assertApproxEqAbs(vault.totalAssets(), navBefore, 2, "settleExpiry stepped NAV");
        _movePool(weth, 6000e8);
        _advance(700);
        _rebalance(_actions(_op(SETTLE, account, 0, 0, 0)));
        (int256 collateralE6,,,) = market.holdingsOf(account);
        assertApproxEqAbs(vault.totalAssets(), navBefore, 2, "settleAccount stepped NAV");
        assertLe(
            uint256(collateralE6), IERC20(usdc).balanceOf(address(market)), "venue cannot pay the collateral"
        );
        _rebalance(_actions(_op(WITHDRAW_MARGIN, account, 0, uint256(collateralE6), 0)));
        assertApproxEqAbs(vault.totalAssets(), navBefore, 2, "withdrawing the collateral stepped NAV");
    }
}
